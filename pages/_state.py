"""What every page shares: the sidebar, the store, the chosen vintage and the cached analysis.

Caching lives here, at the app's edge: analyses are keyed by small hashable values
(a vintage, the data's fingerprint, pinned versions), never by a GeoDataFrame.
"""

from __future__ import annotations

import gc
import logging
import traceback
from dataclasses import dataclass

import folium
import numpy as np
import streamlit as st

from geo import workspace
from geo.analysis import filters
from geo.analysis.pipeline import Analysis
from geo.maps import build as maps
from geo.maps import flows as flow_map
from geo.maps import layers, payload
from geo.model.errors import InputError
from geo.model.redaction import redact
from geo.model.settings import data_dir, get_setting
from geo.store.versions import Store, open_store
from pages import _served_sites, _text

_log = logging.getLogger(__name__)


def store() -> Store:
    """The shared store (SQLite under data/, or PostgreSQL when DATABASE_URL is set)."""
    return _open_store(str(data_dir()), get_setting("database_url"))


def store_problem() -> str | None:
    """Why the store cannot be opened now, in one line (never with a password); None if it can."""
    try:
        store()
    except InputError as error:
        return str(error)
    return None


@st.cache_resource
def _open_store(folder: str, database_url: str) -> Store:
    """One store per location, shared by every session (the arguments are the cache key)."""
    del folder  # part of the cache key: open_store reads the same settings
    return open_store(database_url or None)


def sidebar() -> None:
    """The shared sidebar: which boundary vintage and versions every page uses; a store
    fault met while drawing it is one message there, not a traceback."""
    try:
        _sidebar()
    except InputError as error:
        st.sidebar.error(_text.plain(error))


def _sidebar() -> None:
    vintages = workspace.vintages(store())
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
    sources = store().sources()
    for row in sources.itertuples():
        label = "Provider list" if len(sources) == 1 else f"Provider source {row.source}"
        _version_picker(row.dataset, label)
    _version_picker(workspace.ENGAGEMENT, "Engagement list")


def _version_picker(dataset: str, label: str) -> None:
    """Let the user look at an earlier published version of a dataset; the newest by default.

    The newest version's number is in the label, never in an option: a browser keeps a
    keyed selectbox's chosen option by its text, so an option 'Newest (v2)' would still
    show after v3 became current (a revert or a publish in another session).
    """
    current = store().current_version(dataset)
    if current is None:
        return
    log = store().versions(dataset).sort_values("version", ascending=False)
    described = {int(row.version): _version_label(row) for row in log.itertuples()}
    withdrawn = ", withdrawn" if "withdrawn" in described[current] else ""
    st.sidebar.selectbox(
        _text.plain(f"{label} version (newest v{current}{withdrawn})"),
        [NEWEST_VERSION, *described],
        format_func=lambda v: NEWEST if v == NEWEST_VERSION else described[v],
        key=f"pin-{dataset}",
        help="Every page uses the newest published version unless you pick an earlier one.",
    )


NEWEST = "Newest"
# The picker's option for 'the newest version', not None: Streamlit shows a keyed
# selectbox whose value is None as empty ('Choose an option').
NEWEST_VERSION = 0


def _version_label(row) -> str:
    """'v3 · cqc.csv · 02 Dec 2026', or 'v4 · withdrawn · …' for a version with no rows."""
    what = "withdrawn" if row.action == "withdraw" else row.file_name
    return f"v{row.version} · {what} · {row.published_at:%d %b %Y}"


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


@dataclass(frozen=True)
class DataView:
    """Which data a page shows: a vintage, the data's fingerprint and the pinned versions.

    Hashable, so it is the cache key of every loader below.
    """

    vintage: str
    fingerprint: str
    pins: workspace.Pins


def fingerprint() -> str:
    """Changes whenever cached or published data changes (or where they are kept), so
    analyses are recomputed."""
    return f"{data_dir()}|{store().location}|{workspace.fingerprint(store())}"


def current_pins() -> workspace.Pins:
    """The provider-list and engagement versions picked in the sidebar (None: the newest)."""
    pinned = {
        key.removeprefix("pin-"): version
        for key, version in st.session_state.items()
        if isinstance(key, str) and key.startswith(f"pin-{workspace.SITES}-") and version
    }
    return workspace.Pins(
        sites=st.session_state.get(f"pin-{workspace.SITES}") or None,
        engagement=st.session_state.get(f"pin-{workspace.ENGAGEMENT}") or None,
        sources=tuple(sorted(pinned.items())),
    )


def current_data() -> DataView | None:
    """The data the sidebar chose, or None when no boundaries are loaded."""
    vintage = current_vintage()
    return None if vintage is None else DataView(vintage, fingerprint(), current_pins())


def load_analysis(data: DataView | None = None) -> Analysis | None:
    """The analysis of `data` (by default the sidebar's choices, `current_data`), or None after
    telling the user what is missing."""
    data = data or current_data()
    if data is None:
        return None
    return guarded(analysis, data, failure="The data could not be analysed.")


def guarded(action, *args, failure: str, **kwargs):
    """The action's result, or None after an st.error: one line for bad input, never a traceback.

    Anything unexpected is logged in full on the server and shown as `failure` with a
    one-line detail, so a user can report it.
    """
    try:
        return action(*args, **kwargs)
    except InputError as error:
        st.error(_text.plain(error))
    except Exception as error:
        _log.error("%s\n%s", failure, redact(traceback.format_exc()))
        st.error(_text.plain(failure))
        with st.expander("Details"):
            st.code(redact(f"{type(error).__name__}: {error}"))
    return None


@st.cache_resource(show_spinner="Reading boundaries, assigning sites and computing the gaps…")
def analysis(data: DataView) -> Analysis:
    """The analysis of the chosen data (shared by every session and read-only).

    Kept for the process's life, so frozen out of the garbage collector's sight: Streamlit
    collects after every script run, and scanning an analysis's objects each time took
    0.2 s of every rerun (pages/_startup.py).
    """
    analysed = workspace.analyse(data.vintage, store(), data.pins)
    gc.freeze()
    return analysed


@st.cache_resource
def display_boundaries(data: DataView):
    """The simplified, shared-edge-preserving display copy of the chosen vintage's ICBs
    (kept in the store beside the analysis, so a cold server reads it)."""
    return workspace.display_layers(data.vintage, store(), data.pins)[0]


@st.cache_resource
def display_regions(data: DataView):
    """NHS regions simplified for display, shared edges kept; None when not loaded."""
    return workspace.display_layers(data.vintage, store(), data.pins)[1]


@st.cache_resource(max_entries=64)
def filtered_rows(data: DataView, site_filter: filters.SiteFilter) -> np.ndarray:
    """The positions of the sites a filter lets through (cached, read-only): pans and clicks
    rerun without refiltering. Positions, not the rows: a filtered copy of 100,000 sites
    is up to 77 MB, and every session's filter would keep one."""
    rows = filters.matching_rows(analysis(data).assigned, site_filter)
    rows.flags.writeable = False
    return rows


def filtered_sites(data: DataView, site_filter: filters.SiteFilter):
    """The sites a filter lets through, taken from the analysis by their cached positions."""
    return analysis(data).assigned.iloc[filtered_rows(data, site_filter)]


@st.cache_resource(max_entries=8)
def served_sites(data: DataView) -> _served_sites.ServedSites:
    """All the chosen data's sites as one payload the map fetches once (shared, read-only):
    filters only say which of them to show."""
    sites = analysis(data).assigned
    built, order = payload.ordered_site_payload(sites)
    return _served_sites.serve(built, order, len(sites))


def sites_layer(data: DataView, site_filter: filters.SiteFilter) -> folium.FeatureGroup:
    """The sites a filter lets through, as one canvas layer that st_folium swaps into the
    map without remounting it: the served payload (`served_sites`) and a mask of them.

    Built afresh on each run: st_folium renames and re-parents the FeatureGroup it is
    given, so it is never cached or shared between sessions.
    """
    served = served_sites(data)
    rows = filtered_rows(data, site_filter)
    mask, shown = payload.shown_mask(served.order, rows, served.total)
    return maps.served_layer(served.url, mask, shown=shown, unmapped=len(rows) - shown)


def home_map(data: DataView, metric: str, assets, tiles) -> folium.Map:
    """The home page's choropleth: built and rendered once, a copy per run (st_folium
    renames the map it is given)."""
    return layers.copy_map(_home_map(data, metric, assets, tiles))


@st.cache_resource(max_entries=16)
def _home_map(data: DataView, metric: str, assets, tiles) -> folium.Map:
    loaded = analysis(data)
    coloured_by = maps.metrics_for(metric, loaded.metrics, loaded.per_head)
    built = maps.build_map(
        display_boundaries(data), coloured_by, None, metric=metric, assets=assets, tiles=tiles
    )
    return layers.render_once(built)


def explorer_map(data: DataView, metric, center, zoom, assets, tiles, region=None, flows_icb=None):
    """The explorer's base map (ICB choropleth and regions, the outside of `region` greyed,
    the flows of patients of `flows_icb` when flows are loaded), without sites: a copy per run.

    st_folium renames the map's elements and adds `feature_group_to_add` to the map it
    is given, so a cached map handed to it twice sends the browser a broken script.
    """
    built = _explorer_map(data, metric, center, zoom, assets, tiles, region, flows_icb)
    return layers.copy_map(built)


@st.cache_resource(max_entries=16)
def _explorer_map(data: DataView, metric, center, zoom, assets, tiles, region, flows_icb):
    """The base map as built, never handed to st_folium itself."""
    loaded = analysis(data)
    lines = None
    if flows_icb and loaded.flows is not None:
        lines = flow_map.flow_lines(loaded.flows, flows_icb, loaded.icbs, loaded.assigned)
    return layers.render_once(
        maps.build_map(
            display_boundaries(data),
            maps.metrics_for(metric, loaded.metrics, loaded.per_head),
            None,
            metric=metric,
            regions=display_regions(data),
            selected_region=region,
            center=center,
            zoom=zoom,
            assets=assets,
            tiles=tiles,
            view_in_url=True,
            flow_lines=lines,
            flow_names=dict(zip(loaded.icbs["code"], loaded.icbs["name"], strict=True)),
        )
    )
