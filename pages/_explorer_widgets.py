"""The explorer's sidebar filters and ICB panel, kept out of the page so it reads top to bottom."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import filters, metrics
from geo.analysis.pipeline import Analysis
from geo.io import exports
from geo.maps import build as maps
from geo.model.evidence import PLANNING_STATUSES
from geo.model.sectors import SECTORS, sector_slug
from pages import _text
from pages._flows_panel import flows_panel
from pages._per_head_panel import per_head_panel

PANEL_COLUMNS = [
    "site_name", "provider_name", "sector", "service_type", "capacity", "postcode",
    "planning_status", "assignment", "official_icb_agrees", "border_distance_m", "site_id",
]  # fmt: skip


def seed_from_url(site_filter: filters.SiteFilter, view: filters.MapView) -> None:
    """Give each filter widget the value in the shared URL, once per session."""
    if st.session_state.get("explorer-seeded"):
        return
    st.session_state["explorer-seeded"] = True
    st.session_state["f-metric"] = view.metric or "iv_outside_share"
    for key, value in {
        "f-regions": site_filter.regions, "f-icbs": site_filter.icbs,
        "f-sectors": site_filter.sectors, "f-services": site_filter.services,
        "f-statuses": site_filter.statuses,
    }.items():  # fmt: skip
        st.session_state[key] = list(value)
    st.session_state["f-near-border"] = site_filter.near_border_km or 0.0
    st.session_state["f-search"] = site_filter.search
    if site_filter.capacity_min is not None or site_filter.capacity_max is not None:
        st.session_state["f-capacity"] = (site_filter.capacity_min, site_filter.capacity_max)
    if view.selected_icb:
        st.session_state["panel-icb"] = view.selected_icb


def sidebar_filters(analysis: Analysis) -> tuple[filters.SiteFilter, str]:
    """Read the sidebar's filter widgets into a SiteFilter, and the metric to map."""
    sites, side = analysis.assigned, st.sidebar
    metric = side.selectbox("Colour ICBs by", list(maps.METRICS), key="f-metric",
                            format_func=lambda name: maps.METRICS[name].label)  # fmt: skip
    region_names = analysis.region_names()
    regions = side.multiselect("NHS region", list(region_names), key="f-regions",
                               format_func=region_names.get)  # fmt: skip
    icb_names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    icbs = side.multiselect("ICB", sorted(icb_names, key=icb_names.get), key="f-icbs",
                            format_func=icb_names.get)  # fmt: skip
    sectors = side.multiselect("Sector", list(SECTORS), key="f-sectors")
    services = side.multiselect("Service type", _services(sites), key="f-services")
    statuses = side.multiselect("Planning status", list(PLANNING_STATUSES), key="f-statuses")
    low, high = _capacity_range(side, sites)
    near = side.number_input("Near another ICB's border (km; 0 = any distance)", 0.0, 100.0,
                             step=1.0, key="f-near-border")  # fmt: skip
    search = side.text_input("Search a site, provider or postcode", key="f-search")
    site_filter = filters.SiteFilter(
        regions=tuple(regions), icbs=tuple(icbs), sectors=tuple(sectors),
        services=tuple(services), statuses=tuple(statuses), capacity_min=low,
        capacity_max=high, near_border_km=near or None, search=search.strip(),
    )  # fmt: skip
    return site_filter, metric


def icb_panel(analysis: Analysis, icb_code: str) -> None:
    """One ICB's figures, sector mix and its independent and voluntary sites not engaged."""
    row = analysis.metrics.set_index("icb_code").loc[icb_code]
    st.subheader(_text.plain(row["icb_name"]))
    share, reason = row["iv_outside_share"], row["share_not_known_reason"]
    ranked = int(analysis.metrics["rank"].notna().sum())
    status_known = reason != metrics.NO_STATUS_KNOWN
    cells = st.columns(4)
    cells[0].metric("Provider sites", f"{int(row['sites_total']):,}")
    cells[1].metric("I+V sites", f"{int(row['iv_sites']):,}")
    cells[2].metric("I+V sites not engaged",
                    f"{int(row['iv_sites_not_engaged']):,}" if status_known else maps.NOT_KNOWN)  # fmt: skip
    if pd.isna(share):
        cells[3].metric(
            "Share not engaged",
            maps.NOT_KNOWN,
            help=_text.plain(f"Not known, so not ranked: {reason}."),
        )
    else:
        cells[3].metric("Share not engaged", f"{share:.0%}", help=_text.plain(f"Basis: {row['share_basis']}; "
                        f"rank {row['rank']} of the {ranked} ICBs ranked"))  # fmt: skip
    mix = pd.DataFrame(
        {"sites": [int(row[f"sites_{sector_slug(s)}"]) for s in SECTORS]},
        index=list(SECTORS),
    )
    st.bar_chart(mix, horizontal=True, height=220)
    st.caption(
        _text.plain("Sector mix: " + ", ".join(f"{s} {n}" for s, n in mix["sites"].items()) + ".")
    )
    per_head_panel(analysis, icb_code)
    flows_panel(analysis, icb_code)
    in_icb = analysis.assigned[analysis.assigned["icb_code"] == icb_code]
    gaps = filters.iv_not_engaged(in_icb)[PANEL_COLUMNS]
    st.markdown(f"**Independent and voluntary sites not engaged: {len(gaps):,}**")
    if gaps.empty:
        st.info("None here: every independent and voluntary site is engaged or of unknown status.")
    st.dataframe(gaps, hide_index=True, width="stretch")
    name = f"iv_not_engaged_{icb_code}_{analysis.vintage}"
    csv, xlsx = st.columns(2)
    csv.download_button("Download CSV", exports.csv_bytes(gaps), f"{name}.csv", "text/csv")
    xlsx.download_button("Download XLSX", exports.xlsx_bytes(gaps), f"{name}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip


def _services(sites: pd.DataFrame) -> list[str]:
    return sorted(sites["service_type"].dropna().astype(str).unique())


def _capacity_range(side, sites: pd.DataFrame) -> tuple[float | None, float | None]:
    top = pd.to_numeric(sites["capacity"], errors="coerce").max()
    if pd.isna(top) or top <= 0:
        return None, None
    top = float(top)
    chosen = st.session_state.get("f-capacity")
    if chosen is not None and (chosen[0] is None or chosen[1] is None):
        st.session_state["f-capacity"] = (chosen[0] or 0.0, chosen[1] or top)
    low, high = side.slider("Capacity (beds)", 0.0, top, (0.0, top), key="f-capacity")
    return (low or None, high if high < top else None)
