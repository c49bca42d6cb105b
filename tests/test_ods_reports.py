"""Tests for geo/io/ods_reports.py: NHS ODS rows that are closed, dormant, or not GP practices."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.analysis import pipeline
from geo.io import ods_reports
from geo.io.readers import read_sites
from geo.model import problems, sectors, status
from geo.publish import publishing
from geo.testing.publisher_files import ods_report_row, write_ods_report_csv

ICBS_2023 = "icb_2023_04_bgc.geojson"
TODAY = dt.date.today()
PAST = (TODAY - dt.timedelta(days=400)).strftime("%Y%m%d")
FUTURE = (TODAY + dt.timedelta(days=400)).strftime("%Y%m%d")


def _practice(code, name, setting, status_code="A", close_date=""):
    return ods_report_row(
        code, name, "TS18 1HU", parent="16C", status=status_code,
        prescribing_setting=setting, close_date=close_date,
    )  # fmt: skip


@pytest.fixture
def epraccur(tmp_path):
    """An epraccur in the legacy layout: practices, a hospice, a care home, a prison, a
    walk-in centre, one with no setting, and closed, dormant and proposed practices."""
    return write_ods_report_csv(
        tmp_path / "epraccur.csv",
        [
            _practice("A81001", "THE DENSHAM SURGERY", "4"),
            _practice("A81002", "QUEENS PARK MEDICAL CENTRE", "4"),
            _practice("Y00446", "ST TERESA'S HOSPICE", "13"),
            _practice("Y02625", "OAKLANDS CARE HOME", "14"),
            _practice("Y01069", "HMP DURHAM", "25"),
            _practice("Y02647", "HMYOI DEERBOLT", "16"),
            _practice("Y01280", "DARLINGTON WALK IN CENTRE", "1"),
            _practice("Y09999", "A COST CENTRE", ""),
            _practice("A81003", "VICTORIA MEDICAL PRACTICE", "4", "C", close_date=PAST),
            _practice("A81004", "BLUEBELL MEDICAL CENTRE", "4", "D"),
            _practice("A81005", "NEW SURGERY", "4", "P"),
        ],
    )


def test_epraccur_rows_are_what_their_prescribing_setting_says(epraccur):
    sites = read_sites(epraccur).sites.set_index("site_id")

    assert sites["service_type"].to_dict() == {
        "A81001": "GP practice",
        "A81002": "GP practice",
        "Y00446": "Hospice",
        "Y02625": "Care home / nursing home",
        "Y01069": "Prison",
        "Y02647": "Young offender institution",
        "Y01280": "Walk-in centre",
        "Y09999": ods_reports.NO_SETTING,
        "A81003": "GP practice",
        "A81004": "GP practice",
        "A81005": "GP practice",
    }
    gp = sites["service_type"] == "GP practice"
    assert set(sites.loc[gp, "sector"]) == {sectors.NHS}
    assert set(sites.loc[gp, "sector_rule"]) == {ods_reports.GP_PRACTICE_RULE}
    # A hospice (most are charities), care home or prison: the file does not say who runs it.
    assert set(sites.loc[~gp, "sector"]) == {sectors.UNKNOWN}
    assert set(sites.loc[~gp, "sector_rule"]) == {ods_reports.OPERATOR_UNKNOWN_RULE}


def test_closed_dormant_and_proposed_practices_are_kept_flagged_with_their_reason(epraccur):
    listed = read_sites(epraccur)
    sites = listed.sites.set_index("site_id")

    assert len(sites) == 11
    left_out = sites[~sites["counted"]]
    assert left_out["status"].to_dict() == {
        "A81003": status.CLOSED,
        "A81004": status.DORMANT,
        "A81005": status.PROPOSED,
    }
    assert left_out["status_reason"].tolist() == [
        f'Close Date: "{PAST}" marks it closed; kept, not counted',
        'Status Code: "D" marks it dormant; kept, not counted',
        'Status Code: "P" marks it proposed, not yet open; kept, not counted',
    ]
    assert set(sites.loc[sites["counted"], "status"]) == {status.OPEN}
    assert sites["status_reason"].isna().sum() == 8


def test_the_data_search_and_export_spellings_read_the_same(tmp_path):
    path = write_ods_report_csv(
        tmp_path / "epraccur.csv",
        [
            _practice("A81001", "THE DENSHAM SURGERY", "RO177|RO76", "ACTIVE"),
            _practice("Y00446", "ST TERESA'S HOSPICE", "RO177|RO249", "ACTIVE"),
            _practice("Y01069", "HMP DURHAM", "RO82", "ACTIVE"),
            _practice("Y01280", "WALK IN AND OUT OF HOURS", "RO177|RO87|RO80", "ACTIVE"),
            _practice("A81003", "VICTORIA MEDICAL PRACTICE", "RO76", "CLOSED"),
            _practice("A81004", "BLUEBELL MEDICAL CENTRE", "RO76", "DORMANT"),
            _practice("A81006", "ODD STATUS", "04", "X"),
        ],
    )

    listed = read_sites(path)
    sites = listed.sites.set_index("site_id")

    assert sites["service_type"].tolist() == [
        "GP practice",
        "Hospice",
        "Prison",
        "Walk-in centre and out-of-hours service",
        "GP practice",
        "GP practice",
        "GP practice",
    ]
    assert sites["status"].tolist() == [*[status.OPEN] * 4, status.CLOSED, status.DORMANT, "open"]
    odd = listed.problems[listed.problems["kind"] == problems.UNKNOWN_STATUS_CODE]
    assert problems.sentence(odd.iloc[0].to_dict()) == (
        'Status Code: "X" is not a known status code; counted as open'
    )


def test_a_close_date_still_to_come_does_not_close_a_trust(tmp_path):
    path = write_ods_report_csv(
        tmp_path / "etr.csv",
        [
            ods_report_row("RXR", "EAST LANCASHIRE HOSPITALS NHS TRUST", "BB2 3HH"),
            ods_report_row("RD3", "POOLE HOSPITAL NHS FOUNDATION TRUST", "BH15 2JB", close_date=PAST),
            ods_report_row("RA3", "WESTON AREA HEALTH NHS TRUST", "BS23 4TQ", close_date=FUTURE),
        ],
    )  # fmt: skip

    sites = read_sites(path).sites.set_index("site_id")

    assert sites["status"].to_dict() == {"RXR": "open", "RD3": "closed", "RA3": "open"}
    assert set(sites["sector_rule"]) == {"ods_report:etr"}


@pytest.fixture
def etr_with_closed_trusts(tmp_path):
    """Four trusts, two of them closed (an etr keeps closed trusts, with their Close Date)."""
    return write_ods_report_csv(
        tmp_path / "etr.csv",
        [
            ods_report_row("RXR", "EAST LANCASHIRE HOSPITALS NHS TRUST", "BB2 3HH"),
            ods_report_row("RXN", "LANCASHIRE TEACHING HOSPITALS NHS FOUNDATION TRUST", "PR2 9HT"),
            ods_report_row("RD3", "POOLE HOSPITAL NHS FOUNDATION TRUST", "BH15 2JB", close_date="20200331"),
            ods_report_row("RDZ", "THE ROYAL BOURNEMOUTH AND CHRISTCHURCH HOSPITALS", "BH7 7DW", close_date="20200331"),
        ],
    )  # fmt: skip


def test_closed_trusts_are_not_counted_in_sites_nhs(etr_with_closed_trusts, shared_data):
    files = pipeline.InputFiles(boundaries=shared_data / ICBS_2023, sites=etr_with_closed_trusts)

    analysis = pipeline.analyse(pipeline.load_files(files))

    assert analysis.metrics["sites_nhs"].sum() == 2
    assert analysis.metrics["sites_total"].sum() == 2
    assert sorted(analysis.assigned["site_id"]) == ["RXN", "RXR"]
    assert (
        pipeline.Note(
            "2 sites are kept in the table but not counted in any figure, chart, map or briefing: "
            "2 closed."
        )
        in analysis.notes
    )


def test_the_upload_report_says_how_many_are_kept_but_not_counted(epraccur):
    prepared = publishing.prepare(epraccur, "sites")

    assert (
        "3 sites are kept in the table but not counted in any figure, chart, map or briefing: "
        "1 closed, 1 dormant, 1 proposed." in prepared.notes
    )
