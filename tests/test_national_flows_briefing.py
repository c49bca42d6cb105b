"""England's briefing carries a national flows table: the ICBs with most patients waiting at
independent providers outside their borders, reconciled with each ICB's flow totals, on
screen, in the PDF and in the PowerPoint. Built from open data in the publishers' formats."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pptx import Presentation
from pypdf import PdfReader

from geo import workspace
from geo.analysis import pipeline
from geo.analysis.flows import flow_totals
from geo.analysis.national_flows import national_flows
from geo.briefing import documents
from geo.briefing.facts import ENGLAND_AREA
from geo.briefing.images import briefing_html
from geo.model.evidence import PATIENTS_WAITING
from tests.factories import open_data_folder, using_data_folder


@pytest.fixture(scope="module")
def analysis(shared_data, tmp_path_factory) -> pipeline.Analysis:
    """The analysis of a data folder holding the boundaries, hospitals and open data only."""
    folder = open_data_folder(shared_data, tmp_path_factory.mktemp("open"))
    with using_data_folder(folder):
        return pipeline.analyse(workspace.load_frames("2024", None))


@pytest.fixture(scope="module")
def names(analysis) -> dict[str, str]:
    return dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))


def test_each_icbs_row_is_what_it_commissions_at_independent_providers(analysis, names):
    national = national_flows(analysis.flows, names, top=100)
    totals = flow_totals(analysis.flows)
    month = totals[totals["measure"].eq(PATIENTS_WAITING) & totals["period"].eq(national.period)]
    expected = month.groupby("icb_code")["commissioned"].sum()
    table = national.table.set_index("icb_code")
    assert len(table) == len(expected) == national.icbs
    assert table["commissioned"].to_dict() == pytest.approx(expected.to_dict())
    assert national.totals["commissioned"] == pytest.approx(expected.sum())
    assert (table["elsewhere"] == table["commissioned"] - table["within"]).all()
    assert table["elsewhere"].is_monotonic_decreasing


def test_the_top_destination_is_another_icb_with_the_most_of_its_patients(analysis, names):
    national = national_flows(analysis.flows, names, top=100)
    month = analysis.flows[
        analysis.flows["measure"].eq(PATIENTS_WAITING)
        & analysis.flows["period"].eq(national.period)
    ]
    row = national.table.dropna(subset=["top_destination_code"]).iloc[0]
    theirs = month[month["from_icb"].eq(row["icb_code"]) & month["to_icb"].ne(row["icb_code"])]
    by_icb = theirs.groupby("to_icb")["value"].sum()
    assert row["top_destination_code"] == by_icb.idxmax() != row["icb_code"]
    assert row["top_destination_patients"] == pytest.approx(by_icb.max())


@pytest.fixture(scope="module")
def england(analysis):
    layers = documents.briefing_layers(analysis)
    return documents.illustrated_briefing(analysis, ENGLAND_AREA, layers)


def test_the_england_briefing_shows_the_table_with_its_month_and_what_it_leaves_out(
    england, analysis, names
):
    national = national_flows(analysis.flows, names)
    facts = england.facts
    assert national.period in facts.flows_title
    assert "providers not on the map" in facts.flows_note
    assert "commissioners with no ICB" in facts.flows_note
    first = national.table.iloc[0]
    assert facts.flows_table.iloc[0, 1] == f"{round(first['commissioned']):,}"
    assert facts.flows_table.iloc[-1, 0].startswith("All ")
    page = briefing_html(england)
    assert facts.flows_title in page
    assert f"{round(national.totals['commissioned']):,}" in page


def test_the_pdf_and_the_national_slide_carry_the_table(england):
    facts = england.facts
    total = facts.flows_table.iloc[-1, 1]
    pdf = documents.render_document(england, "pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Patients crossing ICB borders" in text
    assert total in text
    deck = Presentation(io.BytesIO(documents.render_document(england, "pptx")))
    slide = deck.slides[0]
    shown = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert facts.flows_title in shown
    assert f"{total} waiting" in shown


def test_an_icb_briefing_has_no_national_table(analysis):
    code = str(analysis.icbs["code"].iloc[0])
    assert documents.area_briefing(analysis, code).flows_table is None


def test_no_flows_no_table(analysis):

    quiet = replace(analysis, flows=None)
    assert documents.area_briefing(quiet, ENGLAND_AREA).flows_table is None
