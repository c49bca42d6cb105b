"""What every page shares: the sidebar, the store, the chosen vintage and the cached analysis.

Caching lives here, at the app's edge: analyses are keyed by small hashable values
(a vintage, the data's fingerprint, pinned versions), never by a GeoDataFrame.
"""

from __future__ import annotations

import copy

import streamlit as st

from geo import boundaries, filters, maps, workspace
from geo.errors import InputError
from geo.pipeline import Analysis
from geo.settings import data_dir, get_setting
from geo.store import Store, open_store


def store() -> Store:
    """The shared store (SQLite under data/, or PostgreSQL when DATABASE_URL is set)."""
    return _open_store(str(data_dir()), get_setting("database_url"))


@st.cache_resource
def _open_store(folder: str, database_url: str) -> Store:
    """One store per location, shared by every session (the arguments are the cache key)."""
    del folder  # part of the cache key: open_store reads the same settings
    return open_store(database_url or None)


def sidebar() -> None:
    """The shared sidebar: which boundary vintage every page uses."""
    try:
        vintages = workspace.vintages(store())
    except InputError as error:
        st.sidebar.error(str(error))
        return
    if not vintages:
        st.sidebar.info("No ICB boundaries loaded yet.")
        return
    st.sidebar.selectbox(
        "ICB boundaries (vintage)",
        vintages,
        index=vintages.index(_wanted_vintage(vintages)),
        key="vintage",
        help="Every figure and map uses the ICBs of this vintage; 2026 has 36 merged ICBs.",
    )


def current_vintage() -> str | None:
    """The vintage chosen in the sidebar (or the URL, or the default); None when none is loaded."""
    chosen = st.session_state.get("vintage")
    if chosen is None:
        vintages = workspace.vintages(store())
        chosen = _wanted_vintage(vintages) if vintages else None
    if chosen is not None:
        st.query_params["vintage"] = chosen
    return chosen


def _wanted_vintage(vintages: list[str]) -> str:
    wanted = st.query_params.get("vintage")
    return wanted if wanted in vintages else workspace.newest_vintage(store())


def fingerprint() -> str:
    """Changes whenever cached or published data changes, so analyses are recomputed."""
    return workspace.fingerprint(store())


@st.cache_resource(show_spinner="Reading boundaries, assigning sites and computing the gaps…")
def analysis(vintage: str, data_fingerprint: str, pins: workspace.Pins) -> Analysis:
    """The analysis of the data everyone sees for one vintage (shared and read-only)."""
    del data_fingerprint  # part of the cache key only
    return workspace.analyse(vintage, store(), pins)


@st.cache_resource
def display_boundaries(vintage: str, data_fingerprint: str):
    """The simplified, shared-edge-preserving display copy of one vintage's ICBs."""
    return boundaries.display_boundaries(analysis(vintage, data_fingerprint, workspace.Pins()).icbs)


def load_analysis(pins: workspace.Pins | None = None) -> Analysis | None:
    """The analysis for the sidebar's vintage, or None after telling the user what is missing."""
    vintage = current_vintage()
    if vintage is None:
        return None
    try:
        return analysis(vintage, fingerprint(), pins or workspace.Pins())
    except InputError as error:
        st.error(str(error))
        return None


@st.cache_resource(max_entries=8)
def filtered_sites(vintage: str, data_fingerprint: str, site_filter):
    """The sites a filter lets through (cached: pans and clicks rerun without refiltering)."""
    assigned = analysis(vintage, data_fingerprint, workspace.Pins()).assigned
    return filters.filter_sites(assigned, site_filter)


@st.cache_resource(max_entries=8)
def sites_layer(vintage: str, data_fingerprint: str, site_filter):
    """The filtered sites as one canvas layer, swapped into the map without remounting it."""
    return maps.sites_layer(filtered_sites(vintage, data_fingerprint, site_filter))


@st.cache_resource
def display_regions(vintage: str, data_fingerprint: str):
    """NHS regions simplified for display, shared edges kept; None when not loaded."""
    regions = analysis(vintage, data_fingerprint, workspace.Pins()).regions
    return None if regions is None else boundaries.display_boundaries(regions)


def explorer_map(vintage, data_fingerprint, metric, center, zoom, assets, tiles):
    """The explorer's base map (ICB choropleth and regions), without sites: a copy per run.

    st_folium renames the map's elements and adds `feature_group_to_add` to the map it
    is given, so a cached map handed to it twice sends the browser a broken script.
    """
    return copy.deepcopy(
        _explorer_map(vintage, data_fingerprint, metric, center, zoom, assets, tiles)
    )


@st.cache_resource(max_entries=16)
def _explorer_map(vintage, data_fingerprint, metric, center, zoom, assets, tiles):
    """The base map as built, never handed to st_folium itself."""
    current = analysis(vintage, data_fingerprint, workspace.Pins())
    return maps.build_map(
        display_boundaries(vintage, data_fingerprint),
        current.metrics,
        None,
        metric=metric,
        regions=display_regions(vintage, data_fingerprint),
        center=center,
        zoom=zoom,
        assets=assets,
        tiles=tiles,
        view_in_url=True,
    )
