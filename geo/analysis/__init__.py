"""From frames to figures: sites assigned to ICBs, engagement joined, gaps measured.

`spatial` places sites in ICBs (official codes first, then point-in-polygon in
EPSG:27700), `engagement` joins an engagement list, `metrics` computes the per-ICB,
regional and national figures, `filters` is the map view's filter state, and
`pipeline.analyse` is the one constructor of an `Analysis`, with its provenance.
"""
