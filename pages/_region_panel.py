"""The explorer's NHS region: the picker (the map fits the region and greys the rest) and its
panel: the region's figures, its ICBs side by side and its I+V sites not engaged, to download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import filters, population, regions
from geo.analysis.pipeline import Analysis
from geo.model.text import counted
from pages import _explorer_widgets, _tables, _text

_FITTED = "explorer-fitted-region"  # the region the map was last fitted to


def seed_from_url(view: filters.MapView) -> None:
    """Open the shared link's region, once per session; when the link also says where the
    map looks, keep that view rather than fitting the region again."""
    if st.session_state.get("region-seeded"):
        return
    st.session_state["region-seeded"] = True
    if view.selected_region:
        st.session_state["panel-region"] = view.selected_region
    if view.lat is not None and view.lon is not None:
        st.session_state[_FITTED] = view.selected_region


def region_picker(analysis: Analysis) -> str | None:
    """The NHS region chosen (None: all of England); no picker when no regions are loaded."""
    names = analysis.region_names()
    if not names:
        return None
    if st.session_state.get("panel-region") not in (None, *names):
        st.session_state["panel-region"] = None  # a link to a region of another vintage
    return st.selectbox(
        "NHS region (the map fits it and greys the rest)",
        [None, *names],
        format_func=lambda code: "All of England" if code is None else names[code],
        key="panel-region",
    )


def newly_chosen(region: str | None) -> bool:
    """Whether `region` differs from the one the map was last fitted to (and note it is now)."""
    changed = st.session_state.get(_FITTED, None) != region
    st.session_state[_FITTED] = region
    return changed


def _region_population(analysis: Analysis, code: str) -> None:
    """The region's population (its ICBs' sum) with its year, and its sites per 100,000."""
    if analysis.per_head is None or analysis.icb_regions is None:
        return
    table = population.region_per_head(analysis.per_head, analysis.icb_regions)
    row = table.set_index("icb_code").loc[code]
    if pd.isna(row["population"]):
        st.caption("Population not known: an ICB of the region has no population estimate.")
        return
    people = f"{round(float(row['population'])):,}"
    rate = "not known" if pd.isna(row["sites_per_100k"]) else f"{row['sites_per_100k']:,.1f}"
    st.markdown(
        f"**Population {_text.plain(people)}** (ONS mid-{_text.plain(row['population_year'])} "
        f"estimate, the sum of its ICBs'): {_text.plain(rate)} provider sites per 100,000 people"
    )


def region_panel(analysis: Analysis, code: str) -> None:
    """One region's figures, sector mix, ICBs side by side and I+V sites outside NHS planning."""
    summary = regions.region_summary(
        analysis.metrics, analysis.icb_regions, analysis.assigned, code
    )
    st.subheader(_text.plain(f"{summary.name} (NHS region)"))
    among = counted(summary.regions_ranked, "region")
    _explorer_widgets.area_figures(summary.figures, ranked_among=among)
    _region_population(analysis, code)
    _explorer_widgets.sector_chart(summary.figures)
    st.markdown(
        f"**{_text.plain(counted(len(summary.icbs), 'ICB'))} in the region, "
        "highest share outside NHS planning first**"
    )
    _tables.show_table(summary.icbs)
    sites = summary.outside
    st.markdown(
        "**Independent and voluntary sites outside NHS planning across the region: "
        f"{len(sites):,}**"
    )
    if sites.empty:
        st.info("None here: every independent and voluntary site is engaged, NHS-commissioned "
                "by its ICB, or of unknown status.")  # fmt: skip
    _tables.show_table(sites)
    _explorer_widgets.downloads(
        sites,
        f"iv_outside_nhs_planning_{code}_{analysis.vintage}",
        sheet_name="I+V outside NHS planning",
        what="the region's list",
    )
