"""Briefings made from an analysis carry the same numbers as the metrics, through the CLI too."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader

from geo import workspace
from geo.analysis.pipeline import Analysis
from geo.briefing import documents as reports
from geo.fetch import sources
from geo.model.errors import InputError
from tests.factories import feature_table, run_cli


@pytest.fixture(scope="module")
def cached_dir(shared_data, tmp_path_factory):
    """A data folder loaded as an offline user would, shared by this module's tests."""
    folder = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ICS_DATA_DIR", str(folder))
        patch.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
    return folder


@pytest.fixture(scope="module")
def analysis(cached_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ICS_DATA_DIR", str(cached_dir))
        return workspace.analyse("2024", None)


def test_areas_are_england_then_the_seven_regions_then_every_icb(analysis, shared_data):
    regions = feature_table(shared_data / "nhs_england_regions_2024_01_bgc.geojson")
    icbs = feature_table(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    choices = reports.area_choices(analysis)
    codes = list(choices)
    assert codes[0] == "england"
    assert sorted(code for code in codes if code.startswith("E40")) == sorted(regions["NHSER24CD"])
    assert sorted(code for code in codes if code.startswith("E54")) == sorted(icbs["ICB24CD"])


def test_an_icb_pdf_states_the_sites_the_metrics_count(analysis):
    row = analysis.metrics.set_index("icb_code").loc["E54000008"]
    text = "".join(
        page.extract_text()
        for page in PdfReader(
            io.BytesIO(reports.briefing_document(analysis, "E54000008", "pdf"))
        ).pages
    )
    assert "NHS Cheshire and Merseyside" in text
    assert f"{int(row['sites_total'])} provider sites" in text
    assert f"{int(row['sites_nhs'])} NHS" in text


def test_the_dataset_version_is_read_from_the_provenance_row_of_the_sites():
    provenance = pd.DataFrame(
        {
            "data": ["Provider sites and their planning (engagement)", "Care providers"],
            "version": ["engagement v4", "sites v7"],
            "dataset": ["engagement", "sites"],
        }
    )
    analysis = Analysis(icbs=None, assigned=None, metrics=None, provenance=provenance, notes=())

    assert reports.dataset_version(analysis) == "sites v7"


def test_an_unknown_area_is_refused_with_examples(analysis):
    with pytest.raises(InputError, match="no area 'E54999999' in the 2024 ICBs"):
        reports.area_briefing(analysis, "E54999999")


def test_the_cli_writes_the_national_deck_with_one_slide_per_icb_and_a_summary(
    cached_dir, shared_data, tmp_path
):
    out = tmp_path / "england.pptx"
    env = {"ICS_DATA_DIR": str(cached_dir), "PATH": "/usr/bin:/bin"}
    result = run_cli(
        "briefing", "--icb", "england", "--vintage", "2026", "--out", str(out), env=env
    )
    assert result.returncode == 0, result.stderr
    slides = Presentation(str(out)).slides
    icbs = feature_table(shared_data / "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson")
    assert len(slides) == len(icbs) + 1
    first = " ".join(shape.text_frame.text for shape in slides[0].shapes if shape.has_text_frame)
    assert "England" in first


def test_the_cli_refuses_a_format_it_cannot_write(cached_dir, tmp_path):
    env = {"ICS_DATA_DIR": str(cached_dir), "PATH": "/usr/bin:/bin"}
    result = run_cli("briefing", "--icb", "england", "--out", str(tmp_path / "b.docx"), env=env)
    assert result.returncode == 2
    assert "b.docx" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_offers_exactly_the_formats_briefings_can_be_written_in():
    from geo import cli

    assert cli.BRIEFING_FORMATS == reports.FORMATS
