"""ICS Provider Map: the Streamlit frame: page config, the shared sidebar and navigation.

`streamlit run dashboard.py` imports this module once and serves `app`, whose
start-up (pages/_startup.py) imports the pages' modules and reads the stored
analyses before the first visitor arrives; each session then runs this file as
its script (`__main__`), which draws the frame and the chosen page.
"""

from __future__ import annotations

import streamlit as st

from pages import _frame, _startup

if __name__ == "__main__":
    _frame.run(_frame.frame())
else:
    app = st.App(__file__, lifespan=_startup.lifespan)
