"""What tests and the benchmark share, the way `geopandas.testing` sits inside geopandas.

Writers of files in the publishers' real formats (`publisher_files`, and
`register_files` for the charity and social housing registers), local
stand-ins for their servers on 127.0.0.1 (`arcgis_server`, `postcodes_server`),
the app run on a free port (`app_server`) and Debian's headless chromium
(`headless`). Nothing here imports pytest at module level.
"""
