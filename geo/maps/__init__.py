"""The interactive map: folium boundaries and our own canvas layer of provider sites.

`build` assembles the folium map, `layers` holds our elements (library, site
canvas, legends, view in the URL), `payload` and `codec` pack sites compactly for
the browser (decoded by `static/ics_map.js`), `events` reads clicks back, and
`assets` pins Leaflet to local npm files or CDNs.
"""
