"""The explorer's sidebar filters and ICB panel, kept out of the page so it reads top to bottom."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import evidence_view, filters, metrics, readable
from geo.analysis.pipeline import Analysis
from geo.io import exports
from geo.maps import build as maps
from geo.model.evidence import (
    EVIDENCE_STATUS,
    EVIDENCE_SUMMARY,
    PLANNING_BASIS,
    PLANNING_STATUS_WORDS,
    PLANNING_STATUSES,
)
from geo.model.sectors import SECTOR_COLOURS, SECTORS, sector_slug
from geo.model.text import counted
from pages import _tables, _text
from pages._flows_panel import flows_panel
from pages._per_head_panel import per_head_panel

SHARE_LABEL = "Share of I+V capacity outside NHS planning"
PANEL_COLUMNS = [
    "site_name", "provider_name", "sector", "service_type", "capacity", "postcode",
    "planning_status", PLANNING_BASIS, EVIDENCE_SUMMARY, EVIDENCE_STATUS, "assignment",
    "official_icb_agrees", "border_distance_m", "site_id",
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
    choices = maps.metric_choices(analysis.per_head is not None)
    if st.session_state.get("f-metric") not in choices:  # a per-head link, no populations now
        st.session_state["f-metric"] = "iv_outside_share"
    metric = side.selectbox("Colour ICBs by", list(choices), key="f-metric",
                            format_func=lambda name: choices[name].label)  # fmt: skip
    region_names = analysis.region_names()
    regions = side.multiselect("NHS region", list(region_names), key="f-regions",
                               format_func=region_names.get)  # fmt: skip
    icb_names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    icbs = side.multiselect("ICB", sorted(icb_names, key=icb_names.get), key="f-icbs",
                            format_func=icb_names.get)  # fmt: skip
    sectors = side.multiselect("Sector", list(SECTORS), key="f-sectors")
    services = side.multiselect("Service type", _services(sites), key="f-services")
    statuses = side.multiselect("Planning status", list(PLANNING_STATUSES), key="f-statuses",
                                format_func=PLANNING_STATUS_WORDS.get)  # fmt: skip
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
    """One ICB's figures, sector mix, evidence, and its I+V sites outside NHS planning."""
    row = analysis.metrics.set_index("icb_code").loc[icb_code]
    st.subheader(_text.plain(row["icb_name"]))
    area_figures(row, ranked_among=counted(int(analysis.metrics["rank"].notna().sum()), "ICB"))
    st.caption(_text.plain(f"{SHARE_LABEL}: {basis_words(row, analysis)}."))
    sector_chart(row)
    per_head_panel(analysis, icb_code)
    flows_panel(analysis, icb_code)
    evidence_panel(analysis, icb_code, row)
    gaps = filters.iv_outside(analysis.sites_in(icb_code, PANEL_COLUMNS))
    st.markdown(f"**Independent and voluntary sites outside NHS planning: {len(gaps):,}**")
    if gaps.empty:
        st.info("None here: every independent and voluntary site is engaged, NHS-commissioned "
                "by this ICB, or of unknown status.")  # fmt: skip
    _tables.show_table(gaps)
    downloads(gaps, f"iv_outside_nhs_planning_{icb_code}_{analysis.vintage}",
              sheet_name="I+V outside NHS planning")  # fmt: skip


def basis_words(row: pd.Series, analysis: Analysis) -> str:
    """What an area's planning statuses rest on, in words (the list, which open data, none)."""
    return evidence_view.basis_words(row["status_basis"], analysis.evidence)


def area_figures(row: pd.Series, *, ranked_among: str) -> None:
    """An area's four headline figures (a metrics row); 'not known', with why, never 0."""
    share, reason = row["iv_outside_share"], row["share_not_known_reason"]
    status_known = reason != metrics.NO_STATUS_KNOWN
    cells = st.columns(4)
    cells[0].metric("Provider sites", f"{int(row['sites_total']):,}")
    cells[1].metric("I+V sites", f"{int(row['iv_sites']):,}")
    cells[2].metric("I+V sites outside NHS planning",
                    f"{metrics.iv_sites_outside(row):,}" if status_known else maps.NOT_KNOWN)  # fmt: skip
    if pd.isna(share):
        cells[3].metric(
            SHARE_LABEL,
            maps.NOT_KNOWN,
            help=_text.plain(f"Not known, so not ranked: {reason}."),
        )
    else:
        cells[3].metric(SHARE_LABEL, f"{share:.0%}", help=_text.plain(f"Of I+V {row['share_basis']}; "
                        f"rank {row['rank']} of the {ranked_among} ranked"))  # fmt: skip


def sector_chart(row: pd.Series) -> None:
    """An area's sites by sector as bars in the map's sector colours and order, with the
    counts written out beneath (a chart alone is not read by everyone)."""
    mix = pd.DataFrame(
        {"sector": list(SECTORS), "sites": [int(row[f"sites_{sector_slug(s)}"]) for s in SECTORS]}
    )
    colours = {"domain": list(SECTORS), "range": [SECTOR_COLOURS[s] for s in SECTORS]}
    spec = {
        "mark": {"type": "bar"},
        "height": 180,
        "encoding": {
            "y": {"field": "sector", "type": "nominal", "sort": list(SECTORS), "title": None},
            "x": {"field": "sites", "type": "quantitative", "title": "Sites"},
            "color": {"field": "sector", "type": "nominal", "scale": colours, "legend": None},
            "tooltip": [{"field": "sector"}, {"field": "sites", "format": ","}],
        },
    }
    st.vega_lite_chart(mix, spec, width="stretch")
    st.caption(
        _text.plain(
            f"Sector mix: {', '.join(f'{s} {n:,}' for s, n in mix.itertuples(index=False))}."
        )
    )


def downloads(table: pd.DataFrame, name: str, *, sheet_name: str, what: str = "") -> None:
    """CSV (machine column names, for scripts) and XLSX (labelled, on a named sheet) buttons,
    labelled 'Download CSV' or, with `what`, 'Download what (CSV)'.

    The files are written when a button is clicked, not on every run: an ICB's workbook of
    2,000 sites took 1.4 s, and every panel run wrote it (pages/_bench_load.py found it).
    """
    csv_label, xlsx_label = (f"Download {what} ({kind})" if what else f"Download {kind}"
                             for kind in ("CSV", "XLSX"))  # fmt: skip
    csv, xlsx = st.columns(2)
    csv.download_button(_text.plain(csv_label), lambda: exports.csv_bytes(table), f"{name}.csv",
                        "text/csv", on_click="ignore")  # fmt: skip

    def workbook() -> bytes:
        return exports.xlsx_bytes(readable.labelled(table), sheet_name=sheet_name)

    xlsx.download_button(_text.plain(xlsx_label), workbook, f"{name}.xlsx", _tables.XLSX,
                         on_click="ignore")  # fmt: skip


def evidence_panel(analysis: Analysis, icb_code: str, row: pd.Series) -> None:
    """The ICB's evidence of NHS commissioning, the share with and without it, and where an
    engagement list disagrees with it; each downloadable."""
    st.markdown("**Evidence of NHS commissioning (open data)**")
    if analysis.evidence is None:
        st.info("No open-data evidence (RTT, DM01, contract awards, DSPT) was loaded.")
        return
    table = evidence_view.icb_evidence(analysis.evidence, icb_code)
    for line in evidence_view.icb_evidence_lines(table, icb_code) or [
        "No evidence rows for this ICB."
    ]:
        st.markdown(f"- {_text.plain(line)}")
    no_evidence = row["iv_no_evidence_share"]
    if not pd.isna(no_evidence):
        st.caption(_text.plain(
            f"From the open data alone: {no_evidence:.0%} of the I+V {row['share_basis']} whose "
            f"evidence was checked has no evidence of NHS commissioning by this ICB, "
            f"{1 - no_evidence:.0%} has ({int(row['iv_sites_evidence_checked']):,} sites checked)."
        ))  # fmt: skip
    stem = f"{icb_code}_{analysis.vintage}"
    st.download_button("Download this ICB's evidence (CSV)", lambda: exports.csv_bytes(table),
                       f"evidence_{stem}.csv", "text/csv", key=f"evidence-{stem}",
                       on_click="ignore")  # fmt: skip
    if (
        PLANNING_BASIS in analysis.assigned
        and analysis.assigned[PLANNING_BASIS].eq("engagement list").any()
    ):
        disagreeing = evidence_view.icb_disagreements(analysis, icb_code)
        st.markdown(
            f"**Where the engagement list and the evidence disagree: {len(disagreeing):,}**"
        )
        if len(disagreeing):
            st.dataframe(disagreeing, hide_index=True, width="stretch")
        st.download_button("Download the disagreements (CSV)",
                           lambda: exports.csv_bytes(disagreeing), f"disagreements_{stem}.csv",
                           "text/csv", key=f"disagree-{stem}", on_click="ignore")  # fmt: skip


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
