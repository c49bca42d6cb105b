"""Tests for geo/io/recognise.py: one look at a file says what it holds and where its table is."""

from __future__ import annotations

import csv
import shutil
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.io import opendocument, recognise
from geo.model.errors import InputError
from geo.testing import activity_files
from geo.testing.publisher_files import (
    CQC_HSCA_COLUMNS,
    CQC_HSCA_SHEET,
    make_cqc_hsca_rows,
    ods_report_row,
    write_cqc_hsca_csv,
    write_cqc_hsca_ods,
    write_cqc_hsca_xlsx,
    write_ods,
    write_ods_report_csv,
)

CQC_CSV = "01_November_2026_HSCA_Active_Locations.csv"
DIRECTORY_CSV = "01_November_2020_CQC_directory.csv"


@pytest.fixture
def polygons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"geometry": [box(-1, 51, 0, 52), box(0, 51, 1, 52)]}, crs="EPSG:4326")


def _csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


# --- boundaries, lookups and other geo files ----------------------------------------------


def test_an_ons_icb_layer_is_recognised_with_its_vintage(polygons, tmp_path):
    path = tmp_path / "icbs.geojson"
    polygons.assign(ICB23CD=["E54000001", "E54000002"], ICB23NM=["A", "B"]).to_file(path)

    found = recognise.sniff(path)

    assert (found.container, found.holds, found.kind) == ("geo", "icb", "icb")
    assert (found.vintages, found.publisher, found.rows) == (("2023",), recognise.ONS, 2)


def test_a_zipped_shapefile_of_sub_icbs_is_recognised(polygons, tmp_path):
    polygons.assign(SICBL23CD=["E38000001", "E38000002"]).to_file(tmp_path / "sicbl.shp")
    archive = tmp_path / "sicbl.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in tmp_path.glob("sicbl.*"):
            if part.suffix != ".zip":
                zipped.write(part, part.name)

    found = recognise.sniff(archive)

    assert (found.container, found.kind) == ("geo", "sicbl")


def test_polygons_of_other_areas_are_not_used_and_the_area_is_named(polygons, tmp_path):
    path = tmp_path / "areas.gpkg"
    polygons.assign(LSOA21CD=["E01000001", "E01000002"]).to_file(path)

    found = recognise.sniff(path)

    assert (found.holds, found.kind) == ("unknown", None)
    assert found.reason == "LSOA boundaries are not used by the app"


@pytest.mark.parametrize(
    ("columns", "vintages"),
    [
        (["SICBL24CD", "SICBL24NM", "ICB24CD", "ICB24NM", "NHSER24CD"], ("2024",)),
        (["lsoa11_code", "sicbl22_code", "icb22_code", "icb22_name"], ("2022",)),
        (["lsoa21_code", "sicbl24_code", "icb24_code", "icb26_code"], ("2024", "2026")),
    ],
)
def test_a_table_with_sub_icb_and_icb_codes_is_a_lookup_for_each_icb_vintage(
    columns, vintages, tmp_path
):
    path = tmp_path / "lookup.csv"
    pd.DataFrame([["x"] * len(columns)], columns=columns).to_csv(path, index=False)

    found = recognise.sniff(path)

    assert (found.holds, found.vintages, found.rows) == ("sicbl_lookup", vintages, 1)
    assert found.publisher == recognise.ONS


def test_a_table_with_icb_codes_but_no_sub_icb_codes_is_not_a_lookup(tmp_path):
    path = tmp_path / "shares.csv"
    pd.DataFrame({"trust_code": ["R0A"], "icb22_code": ["E54000008"]}).to_csv(path, index=False)

    found = recognise.sniff(path)

    assert found.holds == "unknown"
    assert "no sub-ICB codes" in found.reason


def test_points_of_trust_headquarters_are_not_sites(tmp_path):
    path = tmp_path / "trusts.geojson"
    gpd.GeoDataFrame(
        {"nhs_trust22_name": ["A"], "nhs_trust22_code": ["R0A"], "geometry": [Point(-1, 52)]},
        crs="EPSG:4326",
    ).to_file(path)

    found = recognise.sniff(path)

    assert found.kind is None
    assert "trust headquarters" in found.reason


def test_an_engagement_list_is_recognised_by_its_planning_status_column(tmp_path):
    path = _csv(tmp_path / "engaged.csv", [["provider", "planning_status"], ["Ash Care", "yes"]])

    assert recognise.sniff(path).kind == "engagement"


# --- generic provider lists ----------------------------------------------------------------


def test_a_generic_site_list_needs_a_name_a_location_and_a_sector(tmp_path):
    sites = pd.DataFrame(
        {"name": ["A", "B"], "lat": [51.5, 52.1], "long": [-0.1, -1.2], "sector": ["NHS", "x"]}
    )
    with_sector, without = tmp_path / "sites.csv", tmp_path / "places.csv"
    sites.to_csv(with_sector, index=False)
    sites.drop(columns="sector").to_csv(without, index=False)

    listed, unlisted = recognise.sniff(with_sector), recognise.sniff(without)

    assert (listed.holds, listed.kind, listed.publisher) == (
        "generic",
        "sites",
        recognise.UNKNOWN_PUBLISHER,
    )
    assert (unlisted.kind, unlisted.site_format) == (None, "generic")  # still readable as a list
    assert "no sector column" in unlisted.reason


def test_an_xlsx_site_list_is_recognised_on_its_sheet_with_its_size(tmp_path):
    path = tmp_path / "sites.xlsx"
    pd.DataFrame(
        {"Site name": ["A", "B", "C"], "Postcode": ["NT1 1AA"] * 3, "Sector": ["NHS"] * 3}
    ).to_excel(path, index=False, sheet_name="My sites")

    found = recognise.sniff(path)

    assert (found.container, found.holds, found.sheet, found.header_row) == (
        "xlsx",
        "generic",
        "My sites",
        0,
    )
    assert (found.columns, found.rows) == (("Site name", "Postcode", "Sector"), 3)


def test_an_analysts_list_with_a_location_id_column_is_not_taken_for_cqcs(tmp_path):
    path = tmp_path / "our_sites.xlsx"
    pd.DataFrame(
        {"Location ID": ["1-1"], "Name": ["Ash House"], "Postcode": ["BB1 9QT"], "Sector": ["NHS"]}
    ).to_excel(path, index=False)

    found = recognise.sniff(path)

    assert (found.holds, found.publisher) == ("generic", recognise.UNKNOWN_PUBLISHER)


def test_location_id_beside_another_of_cqcs_columns_is_cqcs_header(tmp_path):
    path = _csv(tmp_path / "extract.csv", [["Location ID", "Location Name"], ["1-1", "Ash"]])

    found = recognise.sniff(path)

    assert (found.holds, found.publisher, found.header_row) == ("cqc", recognise.CQC, 0)


def test_a_generic_spreadsheet_is_read_from_its_first_filled_sheet_after_a_readme(tmp_path):
    path = write_ods(
        tmp_path / "sites.ods",
        {
            "README": [["How this list was made"]],
            "Empty": [],
            "Sites": [[], ["Name", "Postcode", "Sector"], ["Ash House", "BB1 9QT", "NHS"]],
        },
    )

    found = recognise.sniff(path)

    assert (found.container, found.holds, found.sheet, found.header_row) == (
        "odf",
        "generic",
        "Sites",
        1,
    )


# --- CQC -----------------------------------------------------------------------------------


def test_the_cqc_ods_is_recognised_from_its_locations_sheet_with_the_as_at_date(tmp_path):
    path = write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", make_cqc_hsca_rows(3))

    found = recognise.sniff(path)

    assert (found.container, found.holds, found.kind, found.publisher) == (
        "odf",
        "cqc",
        "sites",
        recognise.CQC,
    )
    assert (found.sheet, found.header_row) == (CQC_HSCA_SHEET, 0)  # not the README before it
    assert found.published == "2026-11-01"  # README: 'Source: CQC database as at 01 November 2026'
    assert found.vintages == ("2026-11-01",)
    assert found.columns == CQC_HSCA_COLUMNS


def test_an_older_cqc_xlsx_with_preamble_rows_is_recognised(tmp_path):
    path = write_cqc_hsca_xlsx(tmp_path / "HSCA_Active_Locations.xlsx", make_cqc_hsca_rows(4))

    found = recognise.sniff(path)

    assert (found.holds, found.sheet, found.header_row) == ("cqc", "HSCA Active Locations", 6)
    assert found.published == "2026-11-01"
    assert found.columns[:2] == ("Location ID", "Location HSCA start date")


def test_a_cqc_csv_with_a_preamble_has_its_header_found_below_it(tmp_path):
    body = tmp_path / "body.csv"
    write_cqc_hsca_csv(body, make_cqc_hsca_rows(5))
    path = tmp_path / "HSCA_Active_Locations.csv"
    path.write_text(
        "CQC care directory\nSource: CQC database as at 05 May 2026\n\n" + body.read_text(),
        encoding="utf-8",
    )

    found = recognise.sniff(path)

    assert (found.holds, found.header_row, found.rows) == ("cqc", 3, 5)
    assert (found.published, found.vintages) == ("2026-05-05", ("2026-05-05",))


def test_cqc_header_spellings_that_drift_are_still_cqcs(tmp_path):
    path = _csv(tmp_path / "drifted.csv", [["  location id ", "LOCATION NAME"], ["1-1", "Ash"]])

    assert recognise.sniff(path).holds == "cqc"


def test_the_older_cqc_directory_is_recognised_below_its_preamble(fixtures_dir):
    found = recognise.sniff(fixtures_dir / DIRECTORY_CSV)

    assert (found.holds, found.publisher, found.header_row, found.rows) == (
        "cqc_directory",
        recognise.CQC,
        4,
        5,
    )
    assert found.published == "2020-11-01"  # 'This data was produced on 01 November 2020'


# --- NHS ODS reports -----------------------------------------------------------------------


def test_a_headerless_nhs_ods_report_of_27_fields_is_recognised_with_its_report(tmp_path):
    rows = [ods_report_row("RXX01", "A HOSPITAL", "NT1 1AA"), ods_report_row("RXX02", "B", "")]
    path = write_ods_report_csv(tmp_path / "ets.csv", rows, bom=True)

    found = recognise.sniff(path)

    assert len(rows[0]) == len(recognise.NHS_ODS_COLUMNS) == 27
    assert (found.container, found.holds, found.publisher) == ("csv", "nhs_ods", recognise.NHS_ODS)
    assert (found.columns, found.header_row, found.rows) == ((), None, 2)
    assert found.nhs_ods_report == "ets"


@pytest.mark.parametrize("width", [26, 28])
def test_headerless_rows_of_another_width_are_not_an_nhs_ods_report(tmp_path, width):
    row = [*ods_report_row("RXX01", "A HOSPITAL", "NT1 1AA"), "", ""][:width]
    path = write_ods_report_csv(tmp_path / "ets.csv", [row, row])

    assert recognise.sniff(path).holds == "unknown"


def test_the_report_comes_from_the_file_name_or_from_the_user(tmp_path, fixtures_dir):
    named = shutil.copy(fixtures_dir / "ephpsite.csv", tmp_path / "ephpsite (1).csv")
    unnamed = shutil.copy(fixtures_dir / "ephpsite.csv", tmp_path / "download.csv")

    assert recognise.sniff(named).nhs_ods_report == "ephpsite"
    assert recognise.sniff(unnamed).nhs_ods_report is None
    assert recognise.sniff(unnamed, nhs_ods_report="ephpsite").nhs_ods_report == "ephpsite"


def test_naming_a_report_says_the_file_is_one(tmp_path):
    path = _csv(tmp_path / "trusts.csv", [["RXR", "EAST LANCASHIRE HOSPITALS NHS TRUST"]])

    found = recognise.sniff(path, nhs_ods_report="etr")

    assert (found.holds, found.nhs_ods_report) == ("nhs_ods", "etr")


# --- every fixture, by content ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "holds"),
    [
        (CQC_CSV, "cqc"),
        (DIRECTORY_CSV, "cqc_directory"),
        ("ets.csv", "nhs_ods"),
        ("ephpsite.csv", "nhs_ods"),
        ("sources_ods_ets.csv", "nhs_ods"),
        ("validation_provider_list.csv", "generic"),
    ],
)
def test_each_fixture_is_recognised(fixtures_dir, name, holds):
    assert recognise.sniff(fixtures_dir / name).holds == holds


def test_formats_are_recognised_by_content_not_extension(tmp_path, fixtures_dir):
    cqc = shutil.copy(fixtures_dir / CQC_CSV, tmp_path / "export.txt")
    report = shutil.copy(fixtures_dir / "ets.csv", tmp_path / "download.dat")

    assert [recognise.sniff(p).holds for p in (cqc, report)] == ["cqc", "nhs_ods"]


# --- what the user says a file is -----------------------------------------------------------


def test_a_cqc_file_said_to_be_generic_keeps_its_first_row_as_the_header(fixtures_dir):
    found = recognise.sniff(fixtures_dir / CQC_CSV, "generic")

    assert (found.holds, found.site_format, found.header_row) == ("generic", "generic", 0)


def test_a_file_said_to_be_cqcs_needs_only_its_location_id_header(tmp_path):
    path = _csv(tmp_path / "cqc.csv", [["notes"], ["Location ID", "Name"], ["1-1", "Ash"]])

    judged = recognise.sniff(path)
    assert (judged.holds, judged.header_row) == ("unknown", 1)  # 'notes' is a title above it
    found = recognise.sniff(path, "cqc")
    assert (found.holds, found.header_row) == ("cqc", 1)


def test_a_file_said_to_be_cqcs_without_its_header_has_no_header_row(tmp_path):
    path = _csv(tmp_path / "cqc.csv", [["name", "postcode"], ["Ash", "BB1 9QT"]])

    found = recognise.sniff(path, "cqc")

    assert (found.holds, found.header_row) == ("cqc", None)


def test_a_format_nobody_knows_is_an_input_error(fixtures_dir):
    with pytest.raises(InputError, match="format 'cqc_2030' is not one of cqc, cqc_directory"):
        recognise.sniff(fixtures_dir / CQC_CSV, "cqc_2030")


# --- files the app cannot use ----------------------------------------------------------------


def test_a_table_the_app_has_no_use_for_says_why(tmp_path):
    path = _csv(tmp_path / "other.csv", [["colour", "size"], ["red", "3"]])

    found = recognise.sniff(path)

    assert (found.holds, found.kind) == ("unknown", None)
    assert "match no file the app uses" in found.reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.geojson", b'{"type": "FeatureCo', "could not be read"),
        ("empty.csv", b"", "is empty"),
        ("sites.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel (.xls)"),
        ("locations.ods", b"Location ID,Location Name\n", "is not a .ods spreadsheet"),
        ("sites.xlsx", b"PK\x03\x04 not really a zip", "is not a .xlsx spreadsheet"),
    ],
)
def test_files_that_cannot_be_read_are_refused_naming_them(name, content, reason, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(recognise.NotUsedError) as raised:
        recognise.sniff(path)

    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{name}: ")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        recognise.sniff(tmp_path / "nowhere.csv")


# --- one look: each spreadsheet is opened once ------------------------------------------------


def test_an_ods_file_is_opened_once_to_recognise_it(tmp_path, monkeypatch):
    path = write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", make_cqc_hsca_rows(3))
    opened = []
    open_content = opendocument._open_content
    monkeypatch.setattr(
        opendocument, "_open_content", lambda p, *rest: opened.append(p) or open_content(p, *rest)
    )

    recognise.sniff(path)

    assert opened == [path]


def test_an_xlsx_workbook_is_opened_once_to_recognise_it(tmp_path, monkeypatch):
    path = write_cqc_hsca_xlsx(tmp_path / "HSCA_Active_Locations.xlsx", make_cqc_hsca_rows(2))
    opened = []
    load_workbook = openpyxl.load_workbook
    monkeypatch.setattr(
        openpyxl, "load_workbook", lambda p, **kw: opened.append(p) or load_workbook(p, **kw)
    )

    recognise.sniff(path)

    assert opened == [path]


# --- NHS England's activity extracts and the DSPT export --------------------------------------


def _activity_world():
    from tests.factories import SHARED_DATA, require

    require(SHARED_DATA.is_dir(), f"needs the real open data in {SHARED_DATA}")
    return activity_files.ActivityWorld.load(SHARED_DATA)


def test_an_rtt_zip_is_recognised_with_its_month_as_vintage(tmp_path):
    world = _activity_world()
    path = activity_files.write_rtt_zip(
        tmp_path / "Full-CSV-data-file-Jun26-ZIP-4M-Dc1i9U.zip",
        activity_files.example_rtt_rows(world),
        2026,
        6,
    )

    found = recognise.sniff(path)

    assert (found.container, found.kind, found.vintages) == ("zip", "rtt", ("2026-06",))
    assert found.publisher == recognise.NHS_ENGLAND


def test_an_older_rtt_csv_with_a_preamble_is_recognised_below_it(tmp_path):
    world = _activity_world()
    path = tmp_path / "rtt.csv"
    rows = activity_files.example_rtt_rows(world)
    path.write_text(activity_files.rtt_csv_text(rows, "RTT-May-2019", older=True), "utf-8")

    found = recognise.sniff(path)

    assert (found.kind, found.header_row, found.vintages) == ("rtt", 3, ("2019-05",))
    assert found.rows == len(rows)


def test_a_dspt_export_is_recognised_and_dated_by_its_saved_name(tmp_path):
    world = _activity_world()
    path = tmp_path / "DSPT search results 16_11_2023 11_17_41.csv"
    path.write_text(activity_files.dspt_csv_text(activity_files.example_dspt_rows(world)), "utf-8")

    found = recognise.sniff(path)

    assert (found.kind, found.published, found.publisher) == (
        "dspt",
        "2023-11-16",
        recognise.DSPT_PUBLISHER,
    )


def test_a_zip_of_a_csv_that_is_no_extract_says_why_it_is_not_used(tmp_path):
    path = activity_files.write_zip(tmp_path / "other.zip", {"other.csv": "a,b\n1,2\n"})

    found = recognise.sniff(path)

    assert found.kind is None
    assert "match no file the app uses" in found.reason
