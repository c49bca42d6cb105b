"""Board briefing: one ICS (or England, or an NHS region) on one page, to read or take away."""

from __future__ import annotations

import streamlit as st

from geo.briefing import documents as reports
from geo.briefing.facts import ENGLAND_AREA
from geo.briefing.images import IllustratedBriefing, MapLayers, briefing_html
from pages import _frame, _setup, _state

_frame.require_frame()

st.title("Board briefing")

data = _state.current_data()  # read once a run: it asks the store what is published
analysis = _state.load_analysis(data)
if analysis is None:
    _setup.offer_data()
    st.stop()


@st.cache_resource
def _layers(data: _state.DataView) -> MapLayers:
    """The analysis's ICBs and sites projected for drawing, once per analysis (read-only)."""
    return reports.briefing_layers(_state.analysis(data))


@st.cache_data(show_spinner="Writing the briefing…", max_entries=32)
def _briefing(data: _state.DataView, area: str) -> IllustratedBriefing:
    """One area's facts, map and chart: built once, shown and downloaded as PDF and PPTX."""
    return reports.illustrated_briefing(_state.analysis(data), area, _layers(data))


@st.cache_data(show_spinner="Preparing the download…", max_entries=32)
def _document(data: _state.DataView, area: str, fmt: str) -> bytes:
    """One area's briefing as PDF or PPTX bytes, from the briefing already built."""
    return reports.render_document(_briefing(data, area), fmt)


choices = reports.area_choices(analysis)
codes = list(choices)
wanted = st.query_params.get("area", ENGLAND_AREA)
area = st.selectbox(
    "Area",
    codes,
    index=codes.index(wanted) if wanted in codes else 0,
    format_func=choices.get,
    key="briefing-area",
)
st.query_params["area"] = area

briefing = _state.guarded(_briefing, data, area, failure="This briefing could not be written.")
if briefing is None:
    st.stop()
st.html(briefing_html(briefing))

pdf, pptx = st.columns(2)
stem = f"briefing_{area}_{analysis.vintage}"
pdf.download_button(
    "Download PDF (A4)",
    _document(data, area, "pdf"),
    file_name=f"{stem}.pdf",
    mime="application/pdf",
)
if area != ENGLAND_AREA:
    pptx.download_button(
        "Download PowerPoint",
        _document(data, area, "pptx"),
        file_name=f"{stem}.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )
deck = None
if area == ENGLAND_AREA and pptx.button("Prepare the national deck (one slide per ICS)"):
    bar = pptx.progress(0.0, text="Writing slides…")
    deck = _state.guarded(
        reports.national_deck,
        analysis,
        _layers(data),
        failure="The national deck could not be written.",
        progress=lambda done, total: bar.progress(
            done / total, text=f"Slide {done:d} of {total:d}"
        ),
    )
if deck is not None:
    pptx.download_button(
        "Download the national deck",
        deck,
        file_name=f"{stem}_national_deck.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )
