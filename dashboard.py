"""ICS Provider Map: the Streamlit frame: page config, the shared sidebar and navigation."""

from __future__ import annotations

import streamlit as st

from geo import publishing
from pages import _state

st.set_page_config(page_title="ICS Provider Map", page_icon="🗺️", layout="wide")

_state.sidebar()

sections = {
    "Overview": [
        st.Page("pages/home.py", title="ICS gaps", icon="🏠", default=True),
        st.Page("pages/explorer.py", title="Map explorer", icon="🗺️"),
        st.Page("pages/briefing.py", title="Board briefing", icon="📄"),
    ],
}
if publishing.uploads_allowed():  # setting ICS_ALLOW_UPLOADS
    sections["Analysts"] = [
        st.Page("pages/upload.py", title="Upload data", icon="📤"),
        st.Page("pages/versions.py", title="Published versions", icon="🕘"),
    ]
navigation = st.navigation(sections)
navigation.run()
