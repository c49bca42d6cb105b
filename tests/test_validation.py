"""Validation report: every rule on a real-looking row, counts that add up, the rejected
rows as a safe CSV, text encodings, and the upload size limit."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest

from geo.geocode import offline as geocode
from geo.io import readers
from geo.model import problems, providers
from geo.model.errors import InputError
from geo.model.providers import ProviderList
from geo.publish import validation
from geo.testing.postcodes_server import BY_POSTCODE, write_onspd_csv

FIXTURE = "validation_provider_list.csv"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """The sample postcodes as ONSPD May 2026."""
    folder = tmp_path_factory.mktemp("onspd")
    return geocode.load_postcode_index(write_onspd_csv(folder / "ONSPD_MAY_2026_UK.csv"))


def _sites(rows: list[dict], index: pd.DataFrame | None = None) -> ProviderList:
    """A provider list as a reader makes it, geocoded against `index` when given."""
    listed = providers.to_canonical(pd.DataFrame(rows, dtype="string"), {}, source="test list")
    if index is None:
        return listed
    return replace(listed, sites=geocode.geocode_sites(listed.sites, index=index))


def _only(report: validation.ValidationReport) -> pd.Series:
    assert len(report.rows) == 1
    return report.rows.iloc[0]


LEEDS = {"site_id": "RR801", "site_name": "Leeds General Infirmary", "sector": "NHS"}


# --- one rule at a time -------------------------------------------------------------------


def test_a_site_with_coordinates_in_england_is_accepted():
    listed = _sites([{**LEEDS, "lat": "53.80146", "lon": "-1.552119"}])

    report = validation.validate_sites(listed, file_name="list.csv")

    row = _only(report)
    assert (row["status"], row["column"], row["reason"]) == ("accepted", "", "")
    assert report.accepted.index.tolist() == listed.sites.index.tolist()


def test_missing_coordinates_and_no_postcode_are_rejected(index):
    report = validation.validate_sites(_sites([LEEDS], index), file_name="list.csv")

    row = _only(report)
    assert (row["status"], row["column"]) == ("rejected", "lat/lon")
    assert row["reason"] == "lat/lon: missing and no postcode"


def test_a_postcode_not_in_onspd_is_rejected_naming_the_edition(index):
    report = validation.validate_sites(
        _sites([{**LEEDS, "postcode": "LS99 9ZZ"}], index), file_name="list.csv"
    )

    assert _only(report)["reason"] == "postcode: LS99 9ZZ not found in ONSPD May 2026"


def test_a_postcode_without_a_grid_reference_is_rejected(index):
    report = validation.validate_sites(
        _sites([{**LEEDS, "postcode": "BX1 1LT"}], index), file_name="list.csv"
    )

    assert _only(report)["reason"] == "postcode: BX1 1LT has no grid reference in ONSPD May 2026"


def test_a_malformed_postcode_on_a_site_without_coordinates_is_rejected(index):
    report = validation.validate_sites(
        _sites([{**LEEDS, "postcode": "LS1"}], index), file_name="list.csv"
    )

    row = _only(report)
    assert (row["status"], row["column"]) == ("rejected", "postcode")
    assert row["reason"] == 'lat/lon: missing and postcode "LS1" is not a UK postcode'


def test_a_failed_online_lookup_is_rejected_with_its_reason():
    listed = _sites([{**LEEDS, "postcode": "LS1 3EX"}])
    listed.sites["geocode_status"] = (
        "lookup failed: HTTP 500 (Internal server error) after 4 attempts"
    )
    listed.sites["geocode_source"] = "postcodes.io"

    report = validation.validate_sites(listed, file_name="list.csv")

    assert _only(report)["reason"] == (
        "postcode: LS1 3EX could not be looked up "
        "(lookup failed: HTTP 500 (Internal server error) after 4 attempts)"
    )


def test_coordinates_that_are_not_numbers_are_rejected():
    report = validation.validate_sites(
        _sites([{**LEEDS, "lat": "fifty-three", "lon": "-1.55"}]), file_name="list.csv"
    )

    row = _only(report)
    assert (row["status"], row["column"]) == ("rejected", "lat")
    assert row["reason"] == 'lat: "fifty-three" is not a number'


def test_text_coordinates_are_only_a_warning_when_the_postcode_placed_the_site(index):
    listed = _sites([{**LEEDS, "lat": "53.8", "lon": "west", "postcode": "LS1 3EX"}], index)

    report = validation.validate_sites(listed, file_name="list.csv")

    row = _only(report)
    assert row["status"] == "warning"
    assert row["reason"] == 'lon: "west" is not a number; placed by its postcode LS1 3EX instead'
    assert report.accepted["lon"].iloc[0] == pytest.approx(BY_POSTCODE["LS1 3EX"].lon)


def test_swapped_latitude_and_longitude_are_rejected_with_both_values():
    report = validation.validate_sites(
        _sites([{**LEEDS, "lat": "-1.55", "lon": "53.8"}]), file_name="list.csv"
    )

    row = _only(report)
    assert row["status"] == "rejected"
    assert row["reason"] == "lat/lon look swapped: lat -1.55, lon 53.80"


def test_coordinates_outside_england_are_rejected_with_the_box_used():
    aberdeen = {"site_name": "Aberdeen Royal Infirmary", "lat": "57.154", "lon": "-2.135"}

    report = validation.validate_sites(_sites([aberdeen]), file_name="list.csv")

    assert _only(report)["reason"] == (
        "lat/lon: lat 57.154, lon -2.135 is outside England (lat 49.8 to 55.9, lon -6.5 to 1.8)"
    )


def test_a_postcode_placing_a_site_outside_england_is_named(index):
    listed = _sites([{**LEEDS, "postcode": "AB1 0AA"}], index)

    reason = _only(validation.validate_sites(listed, file_name="list.csv"))["reason"]

    assert "is outside England" in reason
    assert ", from postcode AB1 0AA" in reason


def test_later_duplicate_site_ids_are_rejected_naming_the_first_row():
    here = {"lat": "53.80146", "lon": "-1.552119"}
    listed = _sites(
        [
            {**LEEDS, **here},
            {"site_id": "RR813", "site_name": "St James's University Hospital", **here},
            {**LEEDS, "site_name": "Leeds General Infirmary (Gledhow Wing)", **here},
            {**LEEDS, "site_name": "Leeds General Infirmary (Jubilee Wing)", **here},
        ]
    )

    report = validation.validate_sites(listed, file_name="list.csv")

    assert report.rows["status"].tolist() == ["accepted", "accepted", "rejected", "rejected"]
    assert report.rows["reason"].iloc[2] == 'site_id: "RR801" repeats row 1 (first kept)'
    assert report.rows["reason"].iloc[3] == 'site_id: "RR801" repeats row 1 (first kept)'


def test_site_ids_that_differ_only_by_invisible_characters_are_duplicates():
    here = {"lat": "53.80146", "lon": "-1.552119"}
    listed = _sites(
        [
            {"site_id": "S0001", "site_name": "Oak House", **here},
            {"site_id": "S0001\u200b", "site_name": "Oak House again", **here},
            {"site_id": "\u202eS0001", "site_name": "Oak House once more", **here},
        ]
    )

    report = validation.validate_sites(listed, file_name="list.csv")

    assert report.rows["status"].tolist() == ["accepted", "rejected", "rejected"]
    assert report.rows["reason"].iloc[1] == 'site_id: "S0001" repeats row 1 (first kept)'


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d", "\u202e", "\x0b"])
def test_a_name_of_only_invisible_characters_is_missing(name):
    listed = _sites([{"site_id": "RR801", "site_name": name, "lat": "53.8", "lon": "-1.55"}])

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert (row["status"], row["reason"]) == ("rejected", "site_name: missing")


def test_a_site_without_a_name_is_rejected():
    listed = _sites([{"site_id": "RR801", "site_name": "  ", "lat": "53.8", "lon": "-1.55"}])

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert (row["status"], row["column"], row["reason"]) == (
        "rejected",
        "site_name",
        "site_name: missing",
    )


def test_an_unrecognised_sector_is_a_warning_and_the_site_counts_as_unknown():
    listed = _sites([{**LEEDS, "sector": "Private-ish", "lat": "53.8", "lon": "-1.55"}])

    report = validation.validate_sites(listed, file_name="list.csv")

    row = _only(report)
    assert row["status"] == "warning"
    assert row["reason"] == 'sector: "Private-ish" not recognised, counted as Unknown'
    assert report.accepted["sector"].tolist() == ["Unknown"]


@pytest.mark.parametrize(
    ("capacity", "reason"),
    [
        ("twelve", 'capacity: "twelve" is not a number; left empty'),
        ("-5", 'capacity: "-5" is negative; left empty'),
        (
            "1e308",
            'capacity: "1e308" is more than any one site plausibly has (over 5,000); left empty',
        ),
        (
            "5001",
            'capacity: "5001" is more than any one site plausibly has (over 5,000); left empty',
        ),
        ("inf", 'capacity: "inf" is not a number; left empty'),
    ],
)
def test_capacity_that_is_not_a_count_is_a_warning_and_left_empty(capacity, reason):
    listed = _sites([{**LEEDS, "capacity": capacity, "lat": "53.8", "lon": "-1.55"}])

    report = validation.validate_sites(listed, file_name="list.csv")

    assert (_only(report)["status"], _only(report)["reason"]) == ("warning", reason)
    assert report.accepted["capacity"].isna().all()


def test_capacity_up_to_the_plausible_bound_is_accepted():
    listed = _sites([{**LEEDS, "capacity": "5000", "lat": "53.8", "lon": "-1.55"}])

    report = validation.validate_sites(listed, file_name="list.csv")

    assert _only(report)["status"] == "accepted"
    assert report.accepted["capacity"].tolist() == [5000.0]


def test_infinite_coordinates_given_by_a_caller_are_missing_not_a_crash():
    listed = _sites([{**LEEDS, "lat": "53.8", "lon": "-1.55"}])
    sites = listed.sites.assign(lat=pd.array([float("inf")], dtype="Float64"))

    report = validation.validate_sites(replace(listed, sites=sites), file_name="list.csv")

    row = _only(report)
    assert (row["status"], row["reason"]) == ("rejected", "lat/lon: missing and no postcode")


def test_a_terminated_postcode_is_a_warning_saying_since_when(index):
    report = validation.validate_sites(
        _sites([{**LEEDS, "postcode": "NE1 4LP"}], index), file_name="list.csv"
    )

    row = _only(report)
    assert row["status"] == "warning"
    assert row["reason"] == (
        "postcode: NE1 4LP is terminated since 201108; its last known location is used"
    )


def test_a_malformed_postcode_on_a_site_with_coordinates_is_a_warning():
    listed = _sites([{**LEEDS, "postcode": "NE7 7D", "lat": "55.0", "lon": "-1.59"}])

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert (row["status"], row["reason"]) == ("warning", 'postcode: "NE7 7D" is not a UK postcode')


def test_an_unrecognised_planning_status_is_a_warning_naming_what_was_expected():
    listed = _sites([{**LEEDS, "planning_status": "maybe", "lat": "53.8", "lon": "-1.55"}])

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert row["status"] == "warning"
    assert row["column"] == "planning_status"
    assert row["reason"] == (
        'planning_status: "maybe" not recognised (expected engaged or not engaged)'
    )


def test_a_value_with_semicolons_and_quotes_is_quoted_whole_as_the_file_gave_it():
    sector = 'Martian; O\'Neill "unknown" Ltd'
    listed = _sites([{**LEEDS, "sector": sector, "lat": "53.8", "lon": "-1.55"}])

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert (row["status"], row["column"]) == ("warning", "sector")
    assert row["reason"] == f'sector: "{sector}" not recognised, counted as Unknown'


def test_the_verdict_comes_from_each_problems_kind_and_severity_not_its_words():
    listed = _sites([{**LEEDS, "lat": "53.8", "lon": "-1.55"}, {**LEEDS, "site_id": "RR813"}])
    noted = pd.DataFrame(
        {
            "row": [0, 1],
            "column": ["capacity", "sector"],
            "kind": [problems.NOT_A_NUMBER, problems.UNKNOWN_SECTOR],
            "value": ["lat 'x' is not a number", "sector 'y' not recognised"],
            "severity": [problems.ERROR, problems.WARNING],
        }
    ).astype(problems.DTYPES)
    listed = replace(listed, sites=listed.sites.assign(lat=53.8, lon=-1.55), problems=noted)

    report = validation.validate_sites(listed, file_name="list.csv")

    assert report.rows[["status", "column"]].values.tolist() == [
        ["rejected", "capacity"],
        ["warning", "sector"],
    ]
    assert report.rows["reason"].tolist() == [
        "capacity: \"lat 'x' is not a number\" is not a number",
        "sector: \"sector 'y' not recognised\" not recognised, counted as Unknown",
    ]


def test_several_issues_of_a_row_are_joined_and_the_worst_decides():
    listed = _sites(
        [{"site_name": "", "sector": "Private-ish", "capacity": "lots", "lat": "-1.5", "lon": "53"}]
    )

    row = _only(validation.validate_sites(listed, file_name="list.csv"))

    assert row["status"] == "rejected"
    assert row["column"] == "site_name; lat/lon; capacity; sector"
    assert row["reason"].split("; ")[0] == "site_name: missing"
    assert len(row["reason"].split("; ")) == 5  # the capacity reason has its own '; '


def test_row_numbers_come_from_the_reader_when_it_gives_them():
    listed = _sites([{**LEEDS}, {**LEEDS, "site_id": "RR813"}])
    listed.sites[validation.ROW_COLUMN] = [7, 9]

    report = validation.validate_sites(listed, file_name="list.csv")

    assert report.rows["row"].tolist() == [7, 9]
    assert report.rejected["row"].tolist() == [7, 9]


# --- whole files ----------------------------------------------------------------------------


@pytest.fixture
def mixed_report(fixtures_dir, index):
    listed = readers.read_sites(fixtures_dir / FIXTURE)
    placed = geocode.geocode_sites(listed.sites, index=index)
    return listed.sites, validation.validate_sites(replace(listed, sites=placed), file_name=FIXTURE)


def test_counts_add_up_to_the_input_on_a_mixed_file(fixtures_dir, mixed_report):
    sites, report = mixed_report
    lines = (fixtures_dir / FIXTURE).read_text(encoding="utf-8").splitlines()

    counts = report.counts
    assert counts["total"] == len(lines) - 1 == len(sites) == len(report.rows)
    assert counts["accepted"] + counts["warning"] + counts["rejected"] == counts["total"]
    assert len(report.accepted) == counts["accepted"] + counts["warning"]
    assert len(report.rejected) == counts["rejected"]
    assert sorted([*report.accepted.index, *report.rejected.index]) == list(sites.index)
    assert report.rows["status"].value_counts().to_dict() == {
        status: n for status, n in counts.items() if status != "total" and n
    }
    assert report.rows["status"].tolist() == [  # the file's rows 1 to 16, in order
        *["accepted"] * 2,
        *["rejected"] * 6,
        *["warning"] * 5,
        *["rejected"] * 2,
        "accepted",
    ]
    assert report.summary() == (
        f"{FIXTURE}: {counts['total']} rows: {counts['accepted']} accepted, "
        f"{counts['warning']} accepted with a warning, {counts['rejected']} rejected"
    )


def test_every_rejected_row_of_the_mixed_file_has_a_reason_naming_a_column(mixed_report):
    _, report = mixed_report
    rejected = report.rows[report.rows["status"] == "rejected"]

    assert (rejected["reason"].str.len() > 0).all()
    assert (rejected["column"].str.len() > 0).all()
    assert set(rejected["site_id"]) == {f"1-{n}" for n in (101, 103, 104, 105, 106, 108, 114, 115)}


def test_rejected_rows_download_as_an_excel_safe_csv_with_reasons(mixed_report):
    sites, report = mixed_report

    data = validation.rejected_csv(report)

    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert table.columns[:2].tolist() == ["row", "reason"]
    assert set(sites.columns) <= set(table.columns)
    assert table["reason"].tolist() == report.rejected["reason"].tolist()
    hyperlink = table.loc[table["site_id"] == "1-103", "site_name"].iloc[0]
    assert hyperlink.startswith("'=HYPERLINK(")


def test_a_windows_1252_file_and_a_utf8_bom_file_validate_identically(tmp_path):
    text = (
        "site_id,name,sector,beds,postcode,latitude,longitude\r\n"
        "1-201,Café Court Care Home,Independent,24,LS6 2AB,53.8201,-1.5763\r\n"
        "1-202,Rosé House,Voluntary,deux,LS6 3HG,53.8150,-1.5702\r\n"
        "1-203,Beck Côté Lodge,Private-ish,,,,\r\n"
    )
    excel = tmp_path / "excel.csv"
    excel.write_bytes(text.encode("cp1252"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(text.encode("utf-8-sig"))

    from_excel = validation.validate_sites(readers.read_sites(excel), file_name="list.csv")
    from_bom = validation.validate_sites(readers.read_sites(bom), file_name="list.csv")

    pd.testing.assert_frame_equal(from_excel.rows, from_bom.rows)
    assert (
        from_excel.counts
        == from_bom.counts
        == {
            "accepted": 1,
            "warning": 1,
            "rejected": 1,
            "total": 3,
        }
    )
    assert from_excel.rows["site_name"].tolist()[0] == "Café Court Care Home"


def test_an_empty_list_gives_an_empty_report_that_still_adds_up():
    listed = _sites([LEEDS])
    listed = replace(listed, sites=listed.sites.iloc[:0])

    report = validation.validate_sites(listed, file_name="empty.csv")

    assert report.counts == {"accepted": 0, "warning": 0, "rejected": 0, "total": 0}
    assert list(report.rows.columns) == list(validation.REPORT_COLUMNS)
    assert report.rejected.empty


def test_a_table_that_is_not_a_site_table_is_refused_in_one_line():
    with pytest.raises(
        InputError, match=r"^icbs\.csv: the site table has no column\(s\) site_name"
    ):
        validation.validate_sites(
            ProviderList(pd.DataFrame({"ICB23CD": ["E54000054"]}), problems.empty()),
            file_name="icbs.csv",
        )


def test_real_hospitals_with_faults_introduced_are_caught_row_by_row(shared_data, tmp_path):
    hospitals = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv", dtype=str)
    faulty = hospitals.copy()
    faulty.loc[10, ["lat", "long"]] = hospitals.loc[10, ["long", "lat"]].to_numpy()
    faulty.loc[20, ["lat", "long", "pcds"]] = None
    faulty.loc[30, "hospitalId"] = hospitals.loc[5, "hospitalId"]
    path = tmp_path / "hospitals.csv"
    faulty.to_csv(path, index=False)

    report = validation.validate_sites(readers.read_sites(path), file_name=path.name)

    rejected = report.rows[report.rows["status"] == "rejected"]
    assert rejected.index.tolist() == [10, 20, 30]
    assert rejected["reason"].iloc[0].startswith("lat/lon look swapped")
    assert rejected["reason"].iloc[1] == "lat/lon: missing and no postcode"
    assert rejected["reason"].iloc[2].endswith("repeats row 6 (first kept)")
    assert report.counts["accepted"] + report.counts["warning"] == len(hospitals) - 3
    # The only warnings: NHS trusts' sites the list calls independent.
    warned = report.rows[report.rows["status"] == "warning"]
    assert warned["reason"].str.contains("contradicts NHS trust code").all()
    # A bounding box, not a border: the three Welsh hospitals are left to spatial assignment.
    welsh = hospitals.index[hospitals["outside_england"] == "True"]
    assert len(welsh) == 3
    assert (report.rows.loc[welsh, "status"] != "rejected").all()


# --- upload size ----------------------------------------------------------------------------


def test_a_file_over_the_upload_limit_is_refused_saying_both_sizes(monkeypatch):
    monkeypatch.delenv("ICS_UPLOAD_LIMIT_MB", raising=False)

    with pytest.raises(InputError) as raised:
        validation.check_upload_size(250 * 1024 * 1024, "HSCA.ods")

    assert str(raised.value) == (
        "HSCA.ods is 250 MB; the upload limit is 200 MB (setting ICS_UPLOAD_LIMIT_MB)"
    )


def test_a_file_just_over_the_limit_does_not_claim_to_be_the_limit(monkeypatch):
    monkeypatch.setenv("ICS_UPLOAD_LIMIT_MB", "50")

    with pytest.raises(InputError, match=r"is 50\.1 MB; the upload limit is 50 MB"):
        validation.check_upload_size(50 * 1024 * 1024 + 100_000, "list.xlsx")
    validation.check_upload_size(50 * 1024 * 1024, "list.xlsx")  # exactly at the limit is fine


def test_an_unusable_upload_limit_setting_is_named(monkeypatch):
    monkeypatch.setenv("ICS_UPLOAD_LIMIT_MB", "lots")

    with pytest.raises(InputError, match='setting ICS_UPLOAD_LIMIT_MB is "lots"'):
        validation.check_upload_size(1, "list.csv")
