"""What every page shares: the sidebar, the chosen vintage and the cached analysis.

Caching lives here, at the app's edge: loaders are keyed by small hashable values
(a vintage, the cache manifest's fingerprint), never by a GeoDataFrame.
"""

from __future__ import annotations

import streamlit as st

from geo import boundaries, catalogue, pipeline
from geo.errors import InputError


def sidebar() -> None:
    """The shared sidebar: which boundary vintage every page uses."""
    vintages = catalogue.vintages("icb")
    if not vintages:
        st.sidebar.info("No ICB boundaries loaded yet.")
        return
    wanted = st.query_params.get("vintage", vintages[-1])
    index = vintages.index(wanted) if wanted in vintages else len(vintages) - 1
    chosen = st.sidebar.selectbox(
        "ICB boundaries (vintage)",
        vintages,
        index=index,
        key="vintage",
        help="Every figure and map uses the ICBs of this vintage; 2026 has 36 merged ICBs.",
    )
    st.query_params["vintage"] = chosen


def current_vintage() -> str | None:
    """The vintage chosen in the sidebar, or None when nothing is loaded."""
    return st.session_state.get("vintage")


def cache_fingerprint() -> str:
    """Changes whenever the cache's contents change, so cached analyses are recomputed."""
    return "|".join(f"{entry.kind}:{entry.vintage}:{entry.sha256}" for entry in catalogue.entries())


@st.cache_resource(show_spinner="Reading boundaries, assigning sites and computing the gaps…")
def analysis(vintage: str, fingerprint: str) -> pipeline.Analysis:
    """The analysis of the cached data for one vintage (a shared, read-only resource)."""
    del fingerprint  # part of the cache key only
    return pipeline.analyse(pipeline.cached_inputs(vintage))


@st.cache_resource
def display_boundaries(vintage: str, fingerprint: str):
    """The simplified, shared-edge-preserving display copy of one vintage's ICBs."""
    return boundaries.display_boundaries(analysis(vintage, fingerprint).icbs)


def load_analysis() -> pipeline.Analysis | None:
    """The analysis for the sidebar's vintage, or None after telling the user what is missing."""
    vintage = current_vintage()
    if vintage is None:
        return None
    try:
        return analysis(vintage, cache_fingerprint())
    except InputError as error:
        st.error(str(error))
        return None
