"""Home: each ICB's share of independent and voluntary capacity outside NHS planning."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import evidence_view, readable
from geo.analysis.metrics import MAX_UNKNOWN_SHARE
from geo.fetch import catalogue
from geo.io import exports
from geo.maps import build as maps
from geo.maps.assets import asset_mode_from_settings, tiles_from_settings
from geo.model import problems
from pages import _frame, _setup, _state, _tables, _text

_frame.require_frame()

st.title("Where independent and voluntary capacity sits outside ICS planning")

data = _state.current_data()  # read once a run: it asks the store what is published
analysis = _state.load_analysis(data)
if analysis is None:
    _setup.offer_data()
    st.stop()

vintage = analysis.vintage
metrics = analysis.metrics
table = metrics if analysis.per_head is None else analysis.per_head  # with figures per head

for note in analysis.notes:  # what changes what the figures mean, in the open
    if note.level == problems.WARNING:
        st.info(_text.plain(note.text))

st.subheader("Share of I+V capacity outside NHS planning, by ICB")
has_list = metrics["status_basis"].astype("str").str.contains("engagement list").any()
st.caption(_text.plain(evidence_view.limits_sentence(analysis.evidence, bool(has_list))))
with st.expander("What the evidence covers"):
    for limit in evidence_view.source_limits(analysis.evidence) or ["No open data was loaded."]:
        st.markdown(f"- {_text.plain(limit)}")
assets, asset_warning = asset_mode_from_settings()
if asset_warning:
    st.warning(_text.plain(asset_warning))
metric = "iv_outside_share"
if analysis.per_head is not None:  # figures per head of population can colour the map too
    choices = maps.metric_choices(True)
    metric = st.selectbox("Colour ICBs by", list(choices), key="home-metric",
                          format_func=lambda name: choices[name].label)  # fmt: skip
st_folium(
    _state.home_map(data, metric, assets, tiles_from_settings()),
    key=f"home-map-{vintage}",
    returned_objects=[],
    height=560,
    use_container_width=True,
)

for note in analysis.notes:  # where every figure below comes from
    if note.level != problems.WARNING:
        st.caption(_text.plain(note.text))

st.subheader("Per-ICB metrics, highest share outside NHS planning first")
ranked = readable.by_share(table)
_tables.show_table(ranked)
st.caption(
    _text.plain(
        f"An empty {readable.label(readable.SHARE_COLUMN)} (and rank) is not known, never 0: "
        f"{readable.label('share_not_known_reason')} says why (no engagement list and no "
        "open-data evidence, or planning status unknown for more than "
        f"{MAX_UNKNOWN_SHARE:.0%} of the I+V capacity); "
        f"{readable.label('status_basis')} names what each ICB's statuses rest on (engagement "
        "list, open data, or none). The CSV has the same rows under the columns' machine names."
    )
)
if analysis.per_head is not None:
    st.caption(
        "Figures per 100,000 people (care-home beds per 100,000 aged 65+) are empty where the "
        "population or the numerator is not known (the CSV names them *_per_100k). "
        "Population basis: "
        + _text.plain(str(analysis.per_head["population_basis"].dropna().iloc[0]))
        + "."
    )
st.download_button(
    "Download the metrics (CSV)",
    exports.csv_bytes(ranked),
    file_name=f"ics_gap_metrics_{vintage}.csv",
    mime="text/csv",
)

st.subheader("Where the data comes from")
st.dataframe(analysis.provenance, hide_index=True, width="stretch", column_config={"dataset": None})
st.caption(_text.plain(catalogue.attribution_text()))
