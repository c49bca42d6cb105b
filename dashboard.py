"""ICS Provider Map: the Streamlit frame: page config, the shared sidebar and navigation."""

from __future__ import annotations

import streamlit as st

from pages import _state

st.set_page_config(page_title="ICS Provider Map", page_icon="🗺️", layout="wide")

_state.sidebar()

navigation = st.navigation(
    {
        "Overview": [
            st.Page("pages/home.py", title="ICS gaps", icon="🏠", default=True),
            st.Page("pages/briefing.py", title="Board briefing", icon="📄"),
        ],
    }
)
navigation.run()
