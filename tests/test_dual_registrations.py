"""Tests for geo/model/dual_registrations.py and geo/io/cqc_registrations.py: each place counted once."""

from __future__ import annotations

import pytest

from geo.analysis import pipeline
from geo.io.readers import read_sites
from geo.model import dual_registrations, problems, status
from geo.publish import publishing
from geo.testing.publisher_files import (
    CQC_HSCA_COLUMNS,
    cqc_hsca_row,
    dual_registration_row,
    write_cqc_hsca_csv,
    write_cqc_hsca_ods,
    write_cqc_hsca_xlsx,
)

# CQC's 2026 layout ends with the two dual-registration columns; older editions lack them.
OLDER_COLUMNS = CQC_HSCA_COLUMNS[:-2]
OPERATOR, OWNER = "1-200000001", "1-200000002"


def _home(location, name, provider, provider_name, *, beds=40, postcode="B15 2TT", **more):
    """A Birmingham care home row of CQC's register."""
    return cqc_hsca_row(
        **{
            "Location ID": location,
            "Location Name": name,
            "Dormant (Y/N)": "N",
            "Care home?": "Y",
            "Care homes beds": beds,
            "Location Type/Sector": "Social Care Org",
            "Location Primary Inspection Category": "Residential social care",
            "Location Postal Code": postcode,
            "Location Latitude": 52.4676,
            "Location Longitude": -1.9291,
            "Provider ID": provider,
            "Provider Name": provider_name,
            "Provider Ownership Type": "Organisation",
            "Service type - Care home service with nursing": "Y",
            **more,
        }
    )


def _pair(marked: bool = True) -> list[dict]:
    """A home registered twice (operator, then the company owning the building), a home
    registered once, and a dormant home."""
    dual = (
        {"Location Dual Registered": "Dual Registration", "Primary ID (Dual registration locations)": "1-101"}
        if marked
        else {}
    )  # fmt: skip
    return [
        _home("1-101", "Edgbaston Manor", OPERATOR, "Edgbaston Care Ltd", **dual),
        _home("1-102", "Edgbaston Manor", OWNER, "Manor Properties Ltd", **dual),
        _home("1-103", "Harborne Lodge", "1-200000003", "Harborne Homes Ltd", postcode="B17 9QS"),
        _home(
            "1-104", "Selly Park House", "1-200000004", "Selly Care Ltd", **{"Dormant (Y/N)": "Y"}
        ),
    ]


def _sheet_rows(primary_flag: str = "Y", secondary_flag: str = "") -> list[dict]:
    common = {"Location Name": "Edgbaston Manor", "Location Type/Sector": "Social Care Org"}
    return [
        dual_registration_row(**{**common, "Location ID": "1-101", "Provider ID": OPERATOR,
            "Provider Name": "Edgbaston Care Ltd", "Linked Organisation ID": OWNER,
            "Linked Organisation Name": "Manor Properties Ltd", "Primary ID": primary_flag}),
        dual_registration_row(**{**common, "Location ID": "1-102", "Provider ID": OWNER,
            "Provider Name": "Manor Properties Ltd", "Linked Organisation ID": OPERATOR,
            "Linked Organisation Name": "Edgbaston Care Ltd", "Primary ID": secondary_flag}),
    ]  # fmt: skip


def _assert_counted_once(listed, method: str) -> None:
    sites = listed.sites.set_index("site_id")
    assert sites["counted"].to_dict() == {
        "1-101": True,
        "1-102": False,
        "1-103": True,
        "1-104": False,
    }
    assert sites["status"].to_dict() == {
        "1-101": status.OPEN,
        "1-102": status.MERGED,
        "1-103": status.OPEN,
        "1-104": status.DORMANT,
    }
    # Both providers are kept on the one site.
    assert sites.loc["1-101", dual_registrations.OTHER_PROVIDER_IDS] == OWNER
    assert sites.loc["1-101", dual_registrations.OTHER_PROVIDER_NAMES] == "Manor Properties Ltd"
    assert sites[dual_registrations.OTHER_PROVIDER_IDS].notna().sum() == 1
    assert sites.loc["1-102", "status_reason"] == (
        f'site_id: "1-102" is a dual registration of 1-101 ({method}); merged into it, counted once'
    )
    assert sites.loc["1-104", "status_reason"] == (
        'Dormant (Y/N): "Y" marks it dormant; kept, not counted'
    )


def test_the_2026_ods_pairs_by_its_primary_id_column(tmp_path):
    path = write_cqc_hsca_ods(
        tmp_path / "HSCA_Active_Locations.ods", _pair(), dual_rows=_sheet_rows()
    )

    _assert_counted_once(read_sites(path), dual_registrations.BY_PRIMARY_ID)


def test_a_csv_of_the_2026_sheet_pairs_by_its_primary_id_column_too(tmp_path):
    path = write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", _pair())

    _assert_counted_once(read_sites(path), dual_registrations.BY_PRIMARY_ID)


def test_an_older_xlsx_pairs_by_its_dual_registration_sheet(tmp_path):
    path = write_cqc_hsca_xlsx(
        tmp_path / "HSCA_Active_Locations.xlsx",
        _pair(marked=False),
        OLDER_COLUMNS,
        dual_rows=_sheet_rows(),
    )

    _assert_counted_once(read_sites(path), dual_registrations.BY_SHEET)


def test_an_older_ods_whose_sheet_names_the_primary_location_pairs_by_it(tmp_path):
    path = write_cqc_hsca_ods(
        tmp_path / "HSCA_Active_Locations.ods",
        _pair(marked=False),
        OLDER_COLUMNS,
        dual_rows=_sheet_rows(primary_flag="1-101", secondary_flag="1-101"),
    )

    _assert_counted_once(read_sites(path), dual_registrations.BY_SHEET)


def test_an_ods_whose_sheet_lists_no_pair_merges_nothing(tmp_path):
    rows = _pair(marked=False)
    path = write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", rows, OLDER_COLUMNS)

    sites = read_sites(path).sites

    assert sites["status"].tolist() == [status.OPEN, status.OPEN, status.OPEN, status.DORMANT]


def test_a_csv_without_cqc_marks_merges_the_same_name_postcode_and_beds(tmp_path):
    rows = [
        *_pair(marked=False),
        # Same place and beds, written differently, under a third provider: merged too.
        _home("1-105", "EDGBASTON  MANOR.", "1-200000005", "Manor Holdings Ltd"),
        # Same name and postcode, other beds: a different home.
        _home("1-106", "Harborne Lodge", "1-200000006", "Lodge Ltd", postcode="B17 9QS", beds=12),
        # The same provider twice is not a dual registration.
        _home("1-107", "Harborne Lodge", "1-200000003", "Harborne Homes Ltd", postcode="B17 9QS"),
    ]
    path = write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", rows, OLDER_COLUMNS)

    listed = read_sites(path)

    sites = listed.sites.set_index("site_id")
    assert sites["status"].to_dict() == {
        "1-101": status.OPEN,
        "1-102": status.MERGED,
        "1-103": status.OPEN,
        "1-104": status.DORMANT,
        "1-105": status.MERGED,
        "1-106": status.OPEN,
        "1-107": status.OPEN,
    }
    assert sites.loc["1-101", dual_registrations.OTHER_PROVIDER_IDS] == "1-200000002; 1-200000005"
    merged = listed.problems[listed.problems["kind"] == problems.DUAL_REGISTRATION]
    assert merged["severity"].unique().tolist() == [problems.NOTE]
    assert sites.loc["1-105", "status_reason"] == (
        'site_id: "1-105" is a dual registration of 1-101 (same name, postcode and beds); '
        "merged into it, counted once"
    )


@pytest.fixture
def birmingham_csv(tmp_path):
    return write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", _pair())


def test_a_dual_registered_home_counts_once_in_metrics_and_maps(birmingham_csv, shared_data):
    files = pipeline.InputFiles(
        boundaries=shared_data / "icb_2023_04_bgc.geojson", sites=birmingham_csv
    )

    analysis = pipeline.analyse(pipeline.load_files(files))

    assert sorted(analysis.assigned["site_id"]) == ["1-101", "1-103"]
    assert analysis.metrics["sites_total"].sum() == 2
    assert analysis.metrics["capacity_total"].sum() == 80  # 40 beds each, not 120 or 160
    assert (
        pipeline.Note(
            "2 sites are kept in the table but not counted in any figure, chart, map or briefing: "
            "1 dormant, 1 dual registration merged into the primary record."
        )
        in analysis.notes
    )


def test_the_upload_report_says_how_many_were_merged(birmingham_csv):
    prepared = publishing.prepare(birmingham_csv, "sites")

    assert prepared.counts == {"accepted": 2, "warned": 2, "rejected": 0}
    assert (
        "2 sites are kept in the table but not counted in any figure, chart, map or briefing: "
        "1 dormant, 1 dual registration merged into the primary record." in prepared.notes
    )
    merged = prepared.report.rows.set_index("site_id").loc["1-102"]
    assert merged["status"] == "warning"
    assert merged["reason"].startswith('site_id: "1-102" is a dual registration of 1-101')
    assert prepared.table.set_index("site_id").loc["1-102", "counted"] == False  # noqa: E712
