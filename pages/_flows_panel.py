"""The ICB panel's flows: where its patients wait at independent providers, and who waits here."""

from __future__ import annotations

import streamlit as st

from geo.analysis.flows import flow_totals, flows_of
from geo.analysis.pipeline import Analysis
from geo.io import exports
from geo.model.evidence import PATIENTS_WAITING
from pages import _text


def flows_panel(analysis: Analysis, icb_code: str) -> None:
    """The ICB's patients waiting at independent providers, within, out and in, listed and
    downloadable; nothing when no RTT or DM01 rows are loaded."""
    if analysis.flows is None:
        return
    st.markdown("**Patients crossing ICB borders to independent providers**")
    totals = flow_totals(analysis.flows)
    mine = totals[totals["icb_code"].eq(icb_code) & totals["measure"].eq(PATIENTS_WAITING)]
    if mine.empty:
        st.info("No RTT patients waiting at independent providers for or in this ICB.")
    else:
        row = mine.sort_values("period").iloc[-1]
        cells = st.columns(4)
        cells[0].metric("Its patients waiting (RTT)", f"{row['commissioned']:,.0f}")
        cells[1].metric("Within the ICB", f"{row['within']:,.0f}")
        cells[2].metric("At other ICBs' sites", f"{row['out_to_other_icbs']:,.0f}")
        cells[3].metric("Others' patients here", f"{row['in_from_other_icbs']:,.0f}")
        st.caption(
            _text.plain(
                f"RTT {row['period']}. Provider not on the map: {row['provider_not_on_map']:,.0f}; "
                f"provider with sites in several ICBs: {row['provider_in_several_icbs']:,.0f}."
            )
        )
    names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    table = flows_of(analysis.flows, icb_code, names)
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        "Download flows (CSV)",
        lambda: exports.csv_bytes(table),  # written when clicked, not on every run
        f"flows_{icb_code}_{analysis.vintage}.csv",
        "text/csv",
        key="flows-download",
        on_click="ignore",
    )
