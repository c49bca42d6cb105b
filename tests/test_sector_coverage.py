"""What the sector rules could not decide is said: per row in `sector_rule`, per file in a note."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.io.readers import read_sites
from geo.model import problems, sector_coverage, sectors
from geo.model.errors import InputError
from geo.model.providers import ProviderList
from geo.model.sector_coverage import (
    NO_SECTOR_COLUMN,
    SET_FOR_FILE,
    classify_with_coverage,
    rules_without_columns,
    sector_notes,
    set_sector_for_file,
)
from geo.publish import publishing
from tests.factories import undecided_by_elimination

UNDECIDED_SOCIAL_CARE = undecided_by_elimination("Location Type/Sector")


def _hsca(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="string")


def test_a_file_with_every_rule_column_is_classified_as_before():
    raw = _hsca(
        **{
            "Provider Ownership Type": ["Organisation", "NHS Body"],
            "Location Type/Sector": ["Social Care Org", "NHS Healthcare Organisation"],
            "Provider Name": ["Meadowbank Care Ltd", "Northshire NHS Trust"],
            "Provider Charity Number": ["", ""],
            "Provider Companies House Number": ["", ""],
        }
    )

    pd.testing.assert_frame_equal(classify_with_coverage(raw), sectors.classify_sectors(raw))


def test_independent_by_elimination_needs_the_rules_that_could_say_otherwise():
    raw = _hsca(**{"Location Type/Sector": ["Social Care Org", "NHS Healthcare Organisation"]})

    classified = classify_with_coverage(raw)

    assert classified.loc[0].tolist() == [sectors.UNKNOWN, UNDECIDED_SOCIAL_CARE]
    assert classified.loc[1].tolist() == [sectors.NHS, "nhs_healthcare_organisation"]


def test_direct_evidence_still_decides_when_other_columns_are_missing():
    raw = _hsca(**{"Provider Name": ["Devon County Council", "Rose Care Ltd"]})

    classified = classify_with_coverage(raw)

    assert classified.loc[0, "sector"] == sectors.LOCAL_AUTHORITY
    assert classified.loc[1, "sector"] == sectors.UNKNOWN
    assert classified.loc[1, "sector_rule"].startswith("undecided: nhs_body needs")
    assert "independent_type needs Location Type/Sector" in classified.loc[1, "sector_rule"]


def test_with_no_rule_column_at_all_every_row_is_undecided_not_refused():
    classified = classify_with_coverage(_hsca(Name=["A", "B"]))

    assert set(classified["sector"]) == {sectors.UNKNOWN}
    every_rule = len(sectors.DEFAULT_CQC_RULES)
    assert classified["sector_rule"].str.count("needs").tolist() == [every_rule, every_rule]


def test_missing_rule_columns_are_matched_as_the_rules_match_them():
    columns = pd.Index(["provider name", "LOCATION TYPE / SECTOR"])

    missing = rules_without_columns(columns, sectors.DEFAULT_CQC_RULES)

    assert [rule.name for rule in missing] == [
        "nhs_body",  # Provider Ownership Type
        "charity_number",  # Provider Charity Number
        "charity_register_company",  # Provider Companies House Number
        "society_or_cio_prefix",  # Provider Companies House Number
    ]


def test_the_note_says_which_rules_could_not_run_and_for_how_many_rows():
    sites = pd.DataFrame(
        {
            "sector": ["Unknown", "Unknown", "NHS"],
            "sector_rule": [UNDECIDED_SOCIAL_CARE, UNDECIDED_SOCIAL_CARE, "gp_practice"],
        }
    )

    [(text, level)] = sector_notes(sites)

    assert level == problems.WARNING
    assert text.startswith("2 of 3 rows have no sector (Unknown)")
    assert "nhs_body needs column Provider Ownership Type (2 rows)" in text
    assert "charity_number needs column Provider Charity Number (2 rows)" in text


def test_a_list_without_a_sector_column_says_so_and_how_to_set_one(tmp_path):
    path = tmp_path / "homes.csv"
    path.write_text("name,postcode\nRose House,EX1 1AA\nIvy House,EX1 1AB\n", encoding="utf-8")

    sites = read_sites(path).sites

    assert set(sites["sector_rule"]) == {NO_SECTOR_COLUMN}
    [(text, level)] = sector_notes(sites)
    assert level == problems.WARNING
    assert "no sector column, so 2 rows are counted as Unknown" in text
    assert "choose one sector for every row" in text


def test_a_list_with_a_sector_column_has_no_note(tmp_path):
    path = tmp_path / "homes.csv"
    path.write_text("name,postcode,sector\nRose House,EX1 1AA,charity\n", encoding="utf-8")

    sites = read_sites(path).sites

    assert sites["sector_rule"].isna().all()  # no rule ran, none was needed: the file says
    assert sector_notes(sites) == []


def test_one_sector_for_the_whole_file_replaces_the_labels_and_their_problems():
    sites = pd.DataFrame({"site_name": ["A", "B"], "sector": ["Unknown", "Unknown"]})
    found = problems.found(
        pd.Series([True, False]), problems.UNKNOWN_SECTOR, "sector", pd.Series(["?", ""]), "warning"
    )

    listed = set_sector_for_file(ProviderList(sites, found), sectors.VOLUNTARY)

    assert listed.sites["sector"].tolist() == [sectors.VOLUNTARY] * 2
    assert listed.sites["sector_rule"].tolist() == [SET_FOR_FILE] * 2
    assert listed.problems.empty
    assert sector_notes(listed.sites) == [
        (
            "Sector set to Voluntary for every row of the file (2 rows; sector_rule set_for_file).",
            problems.NOTE,
        )
    ]


def test_a_sector_that_is_not_one_of_the_five_is_refused():
    listed = ProviderList(pd.DataFrame({"sector": ["Unknown"]}), problems.empty())

    with pytest.raises(InputError, match="'Charity' is not one of NHS"):
        set_sector_for_file(listed, "Charity")


# Publishing says it, and applies one sector for the file


def test_publishing_a_list_without_sectors_notes_it_and_can_set_one(tmp_path):
    path = tmp_path / "homes.csv"
    path.write_text("name,lat,lon\nRose House,50.7,-3.5\nIvy House,50.8,-3.6\n", encoding="utf-8")

    plain = publishing.prepare(path, "sites")
    chosen = publishing.prepare(path, "sites", sector_for_file=sectors.VOLUNTARY)

    assert any("no sector column" in note for note in plain.notes)
    assert set(chosen.table["sector"]) == {sectors.VOLUNTARY}
    assert set(chosen.table["sector_rule"]) == {SET_FOR_FILE}
    assert any("Sector set to Voluntary" in note for note in chosen.notes)
    assert not any("no sector column" in note for note in chosen.notes)


def test_the_analysis_notes_say_which_rules_could_not_run(shared_data, fixtures_dir):
    from geo.analysis import pipeline

    files = pipeline.InputFiles(
        boundaries=shared_data / "icb_2024_04_from_lsoa21_bsc.geojson",
        sites=fixtures_dir / "cqc_api_locations.json",
    )

    analysis = pipeline.analyse(pipeline.load_files(files))

    warnings = [note.text for note in analysis.notes if note.level == problems.WARNING]
    assert any(text.startswith("4 of 6 rows have no sector (Unknown)") for text in warnings)
    assert sector_coverage.UNDECIDED_PREFIX in analysis.assigned["sector_rule"].iloc[0]
