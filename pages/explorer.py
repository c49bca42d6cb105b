"""Map explorer: provider sites by sector over ICB shapes, filtered, drilled into and shared."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import filters
from geo.maps import events
from geo.maps.assets import asset_mode_from_settings, tiles_from_settings
from geo.model.text import counted
from pages import _explorer_widgets as _explorer
from pages import _frame, _region_panel, _setup, _state, _text

_frame.require_frame()

st.title("Map explorer")
data = _state.current_data()  # read once a run: it asks the store what is published
analysis = _state.load_analysis(data)
if analysis is None:
    _setup.offer_data()
    st.stop()

url_filter, url_view, ignored = filters.from_query_params(st.query_params.to_dict())
if ignored:
    st.caption(
        _text.plain(f"Not usable in this link, so left at their defaults: {', '.join(ignored)}.")
    )
_explorer.seed_from_url(url_filter, url_view)
_region_panel.seed_from_url(url_view)
site_filter, metric = _explorer.sidebar_filters(analysis)
vintage = data.vintage
shown_count = len(_state.filtered_rows(data, site_filter))
st.caption(
    f"{shown_count:,} of {_text.plain(counted(len(analysis.assigned), 'site'))} shown · {_text.plain(vintage)} ICBs"
)
if not shown_count:
    st.info("No sites match these filters.")

center = (
    (url_view.lat, url_view.lon) if url_view.lat is not None and url_view.lon is not None else None
)
zoom = url_view.zoom
region = _region_panel.region_picker(analysis)
if _region_panel.newly_chosen(region):
    center, zoom = None, None  # fit the map to the region (or to England when cleared)
postcode = filters.postcode_query(site_filter.search)
shown = _state.filtered_sites(data, site_filter) if postcode and shown_count else None
if shown is not None and shown["lat"].notna().any():
    first = shown[shown["lat"].notna()].iloc[0]
    center, zoom = (float(first["lat"]), float(first["lon"])), 14

assets, asset_warning = asset_mode_from_settings()
if asset_warning:
    st.warning(_text.plain(asset_warning))
flows_icb = st.session_state.get("panel-icb") if analysis.flows is not None else None
st.session_state["explorer-flows-icb"] = flows_icb  # whose flows the map draws
tiles = tiles_from_settings()
base = _state.explorer_map(data, metric, center, zoom, assets, tiles, region, flows_icb)
returned = st_folium(
    base,
    key="explorer-map",
    feature_group_to_add=_state.sites_layer(data, site_filter),
    center=center,
    zoom=zoom,
    returned_objects=["last_active_drawing", "last_object_clicked_tooltip"],
    height=620,
    use_container_width=True,
)
clicked = events.parse_map_event(returned).clicked_icb_code
if clicked and clicked != st.session_state.get("explorer-last-click"):
    st.session_state["explorer-last-click"] = clicked
    st.session_state["panel-icb"] = clicked


@st.fragment
def panel_and_link(
    analysis, site_filter: filters.SiteFilter, metric: str, center, zoom, region: str | None
) -> None:
    """The ICB and region panels and the shareable URL: choosing another ICB here reruns only
    this part, not the map (a click on the map reruns the whole page, which runs this too)."""
    icb_names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    selected = st.selectbox(
        "ICB panel (or click an ICB on the map)",
        [None, *sorted(icb_names, key=icb_names.get)],
        format_func=lambda code: "Choose an ICB…" if code is None else icb_names[code],
        key="panel-icb",
    )
    if analysis.flows is not None and selected != st.session_state.get("explorer-flows-icb"):
        st.rerun(scope="app")  # draw the newly chosen ICB's flows on the map
    if selected:
        _explorer.icb_panel(analysis, selected)
    if region:
        _region_panel.region_panel(analysis, region)
    view = filters.MapView(
        selected_icb=selected,
        selected_region=region,
        lat=center[0] if center else None,
        lon=center[1] if center else None,
        zoom=zoom,
        metric=None if metric == "iv_outside_share" else metric,
    )
    st.query_params.from_dict(
        {"vintage": analysis.vintage, **filters.to_query_params(site_filter, view)}
    )


panel_and_link(analysis, site_filter, metric, center, zoom, region)
