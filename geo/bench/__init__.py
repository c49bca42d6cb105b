"""`python -m geo bench`: speed and memory as the user meets them, against targets, on this machine.

`run` drives the sections; `maps` measures map build and draw in headless
chromium against folium's own clustering, `files` uploads and geocoding in fresh
processes (`child`), `sites` places synthetic sites by population, `report` prints
the tables. The AppTest-driven explorer rerun lives in `pages/_bench_explorer.py`,
because only the Streamlit edge imports streamlit; it is run as a subprocess.
"""
