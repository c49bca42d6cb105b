"""The national sanity table (geo/analysis/sanity.py): care-home beds by sector from a CQC file."""

from __future__ import annotations

import pytest

from geo import cli
from geo.analysis import sanity
from geo.bench.sanity import write_sanity_doc
from geo.model.errors import InputError
from geo.model.sectors import INDEPENDENT, LOCAL_AUTHORITY, VOLUNTARY
from geo.testing.publisher_files import make_cqc_national_rows, write_cqc_hsca_csv

# The sector each care-home owner of make_cqc_national_rows is, by CQC's own columns.
OWNER_SECTORS = {
    "Meadowbank Care Ltd": INDEPENDENT,
    "Abbeyfield Northshire Society": VOLUNTARY,
    "Northshire County Council": LOCAL_AUTHORITY,
}


@pytest.fixture
def cqc_rows() -> list[dict]:
    return list(make_cqc_national_rows(400))


@pytest.fixture
def cqc_file(tmp_path, cqc_rows):
    return write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", cqc_rows)


def written_totals(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """(care homes, beds) per sector, straight from the rows as written."""
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row["Care home?"] == "Y":
            homes, beds = totals.get(OWNER_SECTORS[row["Provider Name"]], (0, 0))
            totals[OWNER_SECTORS[row["Provider Name"]]] = (homes + 1, beds + row["Care homes beds"])
    return totals


def test_table_counts_exactly_the_care_homes_and_beds_the_rows_were_written_with(
    cqc_file, cqc_rows
):
    table = sanity.care_home_beds(cqc_file).set_index("sector")

    expected = written_totals(cqc_rows)
    for sector, (homes, beds) in expected.items():
        assert (table.loc[sector, "care_homes"], table.loc[sector, "beds"]) == (homes, beds)
    all_beds = sum(beds for _, beds in expected.values())
    assert table.loc["All", "beds"] == all_beds
    assert table.loc["All", "care_homes"] == 100  # every fourth of 400 rows
    assert table.loc[VOLUNTARY, "share_of_beds"] == pytest.approx(expected[VOLUNTARY][1] / all_beds)
    assert table.loc["NHS", "care_homes"] == 0


def test_table_sets_the_published_national_shares_beside_each_sector(cqc_file):
    table = sanity.care_home_beds(cqc_file).set_index("sector")

    assert table.loc[INDEPENDENT, "published_share"] == pytest.approx(0.836)
    assert table.loc[VOLUNTARY, "published_share"] == pytest.approx(0.13)
    assert table.loc[LOCAL_AUTHORITY, "published_share"] == pytest.approx(0.03)
    assert table["published_share"].isna().tolist() == [True, False, False, False, True, True]


def test_a_file_that_is_not_cqcs_is_named_and_refused(shared_data):
    with pytest.raises(InputError, match=r"hospitals_england_2020_05_nhs_website\.csv: not a CQC"):
        sanity.care_home_beds(shared_data / "hospitals_england_2020_05_nhs_website.csv")


def test_the_command_prints_the_table_and_its_source(cqc_file, capsys):
    code = cli.main(["sanity", str(cqc_file)])

    printed = capsys.readouterr().out
    assert code == 0
    assert "| sector | care homes | beds | share of beds | published share (IPPR 2019) |" in printed
    assert "| All | 100 |" in printed
    assert "Published shares: IPPR (2019)" in printed


def test_the_page_says_its_rows_are_synthetic_and_how_to_run_the_real_file(tmp_path):
    page = write_sanity_doc(tmp_path / "sanity.md", rows=200).read_text(encoding="utf-8")

    assert "**These figures come from synthetic rows, not from CQC's register.**" in page
    assert "python -m geo sanity 01_May_2026_HSCA_Active_Locations.ods" in page
    assert "| All | 50 |" in page
