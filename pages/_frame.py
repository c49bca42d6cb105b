"""The app's navigation, and a guard against Streamlit's old multipage mode.

Streamlit treats a folder named `pages/` beside the main script as an old-style
multipage app until some session has called `st.navigation`. A shared link opened
as the first visit to a freshly started server would then run that page alone,
without dashboard.py's frame and sidebar, and list our helper modules as pages.
The server's start-up (pages/_startup.py) says so before anyone visits
(`use_navigation_from_the_start`); where a script runs without that start-up,
every page calls `require_frame()` first: in that mode it draws the frame itself
and hands Streamlit our navigation, so later visits go through dashboard.py.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from geo.model import access
from geo.model.errors import InputError
from geo.publish import publishing
from pages import _access, _state, _text


def sections(who: access.Identity) -> dict[str, list]:
    """The app's pages by section; the analysts' pages only where uploads are allowed, and
    out of the menu for a viewer (who is refused them by URL: `_access.require_analyst`)."""
    pages = {
        "Overview": [
            st.Page("pages/home.py", title="ICS gaps", icon="🏠", default=True),
            st.Page("pages/explorer.py", title="Map explorer", icon="🗺️"),
            st.Page("pages/briefing.py", title="Board briefing", icon="📄"),
        ],
    }
    if publishing.uploads_allowed():  # setting ICS_ALLOW_UPLOADS
        shown = "visible" if who.may(access.ANALYST) else "hidden"
        pages["Analysts"] = [
            st.Page("pages/upload.py", title="Upload data", icon="📤", visibility=shown),
            st.Page("pages/versions.py", title="Published versions", icon="🕘", visibility=shown),
        ]
    return pages


def frame():
    """Page config, the shared sidebar and the navigation; returns the page to run.

    When the store cannot be opened (unreachable, damaged, read-only), every page says
    why in one message and stops: the store is tried once per run, not by every widget.
    """
    st.set_page_config(page_title="ICS Provider Map", page_icon="🗺️", layout="wide")
    who = _access.admit()  # the sign-in page, for anyone not signed in, stops the run here
    problem = _state.store_problem()
    if problem is None:
        _state.sidebar()
    page = st.navigation(sections(who))  # also switches Streamlit off its old pages/ mode
    if problem is not None:
        st.error(
            _text.plain(f"The data store cannot be used, so no page can show its data. {problem}")
        )
        st.stop()
    return page


def run(page) -> None:
    """Run the page: a store fault or bad input met anywhere in it is one message, not a traceback."""
    try:
        page.run()
    except InputError as error:
        st.error(_text.plain(error))


def use_navigation_from_the_start() -> None:
    """Leave Streamlit's old pages/ mode before the first visit: this app navigates with
    st.navigation (`frame`), and a first request for /explorer or /upload must run
    dashboard.py like every later one, so its widgets keep their identities."""
    PagesManager.uses_pages_directory = False


def require_frame() -> None:
    """Draw the frame here when Streamlit ran this page without dashboard.py (old mode)."""
    if getattr(PagesManager, "uses_pages_directory", False):
        frame()
