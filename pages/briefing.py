"""Board briefing: one ICS (or England, or an NHS region) on one page, to read or take away."""

from __future__ import annotations

import streamlit as st

from geo.briefing import documents as reports
from geo.briefing.images import briefing_html, briefing_images
from pages import _frame, _setup, _state

_frame.require_frame()

st.title("Board briefing")

analysis = _state.load_analysis()
if analysis is None:
    _setup.offer_data()
    st.stop()


@st.cache_resource(show_spinner="Writing the briefing…")
def _briefing(_analysis, data: _state.DataView, area: str):
    """The briefing facts and its two images for one area (the analysis is keyed by vintage)."""
    briefing = reports.area_briefing(_analysis, area)
    return briefing, briefing_images(briefing, _analysis.icbs, _analysis.assigned)


@st.cache_data(show_spinner="Preparing the download…", max_entries=32)
def _document(_analysis, data: _state.DataView, area: str, fmt: str) -> bytes:
    """One area's briefing as PDF or PPTX bytes."""
    return reports.briefing_document(_analysis, area, fmt)


choices = reports.area_choices(analysis)
codes = list(choices)
wanted = st.query_params.get("area", reports.ENGLAND)
area = st.selectbox(
    "Area",
    codes,
    index=codes.index(wanted) if wanted in codes else 0,
    format_func=choices.get,
    key="briefing-area",
)
st.query_params["area"] = area

key = (analysis, _state.current_data(), area)
made = _state.guarded(_briefing, *key, failure="This briefing could not be written.")
if made is None:
    st.stop()
briefing, (map_png, chart_png) = made
st.html(briefing_html(briefing, map_png=map_png, chart_png=chart_png))

pdf, pptx = st.columns(2)
stem = f"briefing_{area}_{analysis.vintage}"
pdf.download_button(
    "Download PDF (A4)",
    _document(*key, "pdf"),
    file_name=f"{stem}.pdf",
    mime="application/pdf",
)
if area != reports.ENGLAND:
    pptx.download_button(
        "Download PowerPoint",
        _document(*key, "pptx"),
        file_name=f"{stem}.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )
deck = None
if area == reports.ENGLAND and pptx.button("Prepare the national deck (one slide per ICS)"):
    bar = pptx.progress(0.0, text="Writing slides…")
    deck = _state.guarded(
        reports.briefing_document,
        analysis,
        area,
        "pptx",
        failure="The national deck could not be written.",
        progress=lambda done, total: bar.progress(done / total, text=f"Slide {done} of {total}"),
    )
if deck is not None:
    pptx.download_button(
        "Download the national deck",
        deck,
        file_name=f"{stem}_national_deck.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )
