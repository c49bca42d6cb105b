"""Downloads from the publishers into the cache under `data/`, with provenance.

`http` is the one HTTP client and retry policy (honouring Retry-After), `arcgis`
pages through ONS ArcGIS FeatureServers, `sources` knows each publisher and where
its newest file is, and `catalogue` records what the cache holds and where every
file came from; `registers` loads the cached voluntary-sector registers for the
sector rules. `python -m geo fetch --from DIR` loads the same files offline.
"""
