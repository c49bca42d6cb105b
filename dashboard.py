"""ICS Provider Map: the Streamlit frame: page config, the shared sidebar and navigation.

`streamlit run dashboard.py` imports this module once and serves `app`, whose
start-up (pages/_startup.py) imports the pages' modules and reads the stored
analyses before the first visitor arrives, and serves the map its sites
(pages/_served_sites.py); each session then runs this file as
its script (`__main__`), which draws the frame and the chosen page.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from pages import _frame, _served_sites, _startup

if __name__ == "__main__":
    _frame.run(_frame.frame())
else:
    app = st.App(
        __file__,
        lifespan=_startup.lifespan,
        routes=_served_sites.routes(st.get_option("server.baseUrlPath")),
        middleware=[Middleware(_startup.ReadyGate)],
    )
