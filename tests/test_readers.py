"""Reading provider lists: CQC (ODS, XLSX, CSV), the CQC directory, NHS ODS reports, generic files."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from geo.io import recognise
from geo.io.readers import read_sites
from geo.model import problems, providers, sector_coverage, sectors
from geo.model.errors import InputError
from geo.testing.publisher_files import (
    CQC_HSCA_COLUMNS,
    cqc_directory_columns,
    ods_report_row,
    read_cqc_hsca_csv_rows,
    write_cqc_directory_csv,
    write_cqc_hsca_csv,
    write_cqc_hsca_ods,
    write_cqc_hsca_xlsx,
    write_ods,
    write_ods_report_csv,
)
from tests.factories import feature_table, hospital_sectors

CQC_CSV = "01_November_2026_HSCA_Active_Locations.csv"
DIRECTORY_CSV = "01_November_2020_CQC_directory.csv"
HOSPITALS = "hospitals_england_2020_05_nhs_website"


@pytest.fixture
def cqc_csv(fixtures_dir):
    return fixtures_dir / CQC_CSV


@pytest.fixture
def cqc(cqc_csv):
    return read_sites(cqc_csv).sites.set_index("site_id", drop=False)


# --- CQC HSCA Active Locations ---------------------------------------------------------


def test_cqc_file_keeps_every_row_with_a_source_naming_the_file(cqc_csv):
    sites = read_sites(cqc_csv).sites

    assert len(sites) == len(read_cqc_hsca_csv_rows(cqc_csv))
    assert list(sites.columns[: len(providers.CANONICAL_COLUMNS)]) == list(
        providers.CANONICAL_COLUMNS
    )
    assert set(sites["source"]) == {f"CQC HSCA Active Locations ({CQC_CSV})"}


@pytest.mark.parametrize(
    ("site_id", "sector", "rule"),
    [
        ("1-101234001", sectors.NHS, "nhs_body"),
        ("1-101234002", sectors.LOCAL_AUTHORITY, "council_name"),
        ("1-101234003", sectors.VOLUNTARY, "charity_number"),
        ("1-101234004", sectors.NHS, "gp_practice"),
        ("1-101234005", sectors.INDEPENDENT, "independent_type"),
        ("1-101234006", sectors.INDEPENDENT, "independent_type"),
        ("1-101234011", sectors.VOLUNTARY, "charity_number"),  # The Council of St Monica Trust
    ],
)
def test_cqc_sector_comes_with_the_rule_that_decided_it(cqc, site_id, sector, rule):
    assert cqc.loc[site_id, "sector"] == sector
    assert cqc.loc[site_id, "sector_rule"] == rule


def test_care_home_capacity_is_its_beds_and_otherwise_blank_never_zero(cqc):
    assert cqc.loc["1-101234006", "capacity"] == 42  # care home, 42 beds
    assert pd.isna(cqc.loc["1-101234007", "capacity"])  # care home, 0 beds
    assert pd.isna(cqc.loc["1-101234010", "capacity"])  # not a care home, 5 beds given
    assert not (cqc["capacity"] == 0).any()
    assert cqc.loc["1-101234007", "Care homes beds"] == "0"  # the publisher's value passes through


def test_service_type_is_the_primary_category_else_the_first_ticked_service_type(cqc):
    assert cqc.loc["1-101234004", "service_type"] == "GP Practices"
    # No primary category; 'Shared Lives' is ticked before 'Supported living service'.
    assert cqc.loc["1-101234010", "service_type"] == "Shared Lives"


def test_cqc_sub_icb_code_goes_to_official_sicbl_code_and_the_icb_is_left_for_later(cqc):
    assert cqc.loc["1-101234011", providers.SICBL_COLUMN] == "E38000222"
    assert cqc["official_icb_code"].isna().all()


def test_missing_and_swapped_coordinates_are_kept_as_given(cqc):
    assert pd.isna(cqc.loc["1-101234008", "lat"])
    assert pd.isna(cqc.loc["1-101234008", "lon"])
    assert cqc.loc["1-101234009", ["lat", "lon"]].tolist() == [-2.47961, 53.745102]


def test_cqc_postcodes_are_normalised_and_other_columns_pass_through(cqc):
    assert cqc.loc["1-101234004", "postcode"] == "BB3 1PD"  # 'bb3 1pd' in the file
    assert cqc.loc["1-101234001", "Location Latest Overall Rating"] == "Requires improvement"
    assert cqc.loc["1-101234005", "Service type - Dental service"] == "Y"
    assert "Location ID" not in cqc.columns  # it became site_id


def test_cqc_ods_xlsx_and_csv_editions_read_identically(tmp_path, cqc_csv):
    rows = read_cqc_hsca_csv_rows(cqc_csv)
    ods = write_cqc_hsca_ods(tmp_path / "01_November_2026_HSCA_Active_Locations.ods", rows)
    xlsx = write_cqc_hsca_xlsx(tmp_path / "01_December_2020_HSCA_Active_Locations.xlsx", rows)

    from_csv, from_ods, from_xlsx = (
        read_sites(p).sites.drop(columns="source") for p in (cqc_csv, ods, xlsx)
    )

    pd.testing.assert_frame_equal(from_ods, from_csv)
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


def test_cqc_ods_is_read_from_its_locations_sheet_not_readme_or_dual_registrations(tmp_path):
    path = write_cqc_hsca_ods(
        tmp_path / "cqc.ods", [{"Location ID": "1-1", "Location Name": "Ash House"}]
    )

    sites = read_sites(path).sites

    assert sites["site_id"].tolist() == ["1-1"]
    assert sites["site_name"].tolist() == ["Ash House"]


def test_cqc_header_name_drift_is_tolerated(tmp_path, cqc_csv):
    renames = {
        "Location ID": "  location id ",
        "Location Postal Code": "Location Post Code",
        "Care home?": "Care Home?",
        "Location Commissioning CCG": "Location Commissioning CCG Name",
        "Location Latitude": "LOCATION LATITUDE",
    }
    columns = [renames.get(c, c) for c in CQC_HSCA_COLUMNS]
    rows = [
        {renames.get(k, k): v for k, v in row.items()} for row in read_cqc_hsca_csv_rows(cqc_csv)
    ]
    drifted = write_cqc_hsca_csv(tmp_path / "drifted.csv", rows, columns)

    expected = read_sites(cqc_csv).sites
    sites = read_sites(drifted).sites

    canonical = [*providers.CANONICAL_COLUMNS[:-1], providers.SICBL_COLUMN, "sector_rule"]
    pd.testing.assert_frame_equal(sites[canonical], expected[canonical])
    assert "Location Commissioning CCG Name" in sites.columns


def test_cqc_file_without_a_name_column_is_an_input_error_listing_the_columns(tmp_path):
    path = tmp_path / "cqc.csv"
    path.write_text("Location ID,Provider Name\n1-1,Ash Care Ltd\n")

    with pytest.raises(InputError, match=r"cqc\.csv: missing column\(s\) site_name: Location Name"):
        read_sites(path)


def test_sector_rules_can_be_replaced(cqc_csv):
    rules = (
        sectors.SectorRule(
            name="all_social_care_is_voluntary",
            sector=sectors.VOLUNTARY,
            description="test rule",
            column="Location Type/Sector",
            values=frozenset({"Social Care Org"}),
        ),
    )

    sites = read_sites(cqc_csv, sector_rules=rules).sites.set_index("site_id")

    assert sites.loc["1-101234002", "sector"] == sectors.VOLUNTARY
    assert sites.loc["1-101234003", "sector"] == sectors.UNKNOWN
    assert sites.loc["1-101234003", "sector_rule"] == sectors.NO_RULE
    # No rule claims the NHS trust's hospital either, but its provider's code (RXR) does.
    assert sites.loc["1-101234001", "sector_rule"] == "nhs_trust_code"


# --- reading what recognise.sniff found -------------------------------------------------


def test_a_sniffed_file_is_read_without_being_sniffed_again(cqc_csv, monkeypatch):
    sniffed = recognise.sniff(cqc_csv)

    def sniff_again(*args, **kwargs):
        raise AssertionError("read_sites sniffed a file it was given the format of")

    monkeypatch.setattr(recognise, "sniff", sniff_again)
    sites = read_sites(cqc_csv, sniffed).sites

    assert len(sites) == len(read_cqc_hsca_csv_rows(cqc_csv))
    assert set(sites["sector_rule"]) != {sectors.NO_RULE}  # read as CQC's, with its rules


def test_a_cqc_file_said_to_be_generic_is_read_by_its_column_names(cqc_csv):
    told = recognise.sniff(cqc_csv, "generic")
    sites = read_sites(cqc_csv, told, columns={"postcode": "Location Postal Code"}).sites

    assert set(sites["source"]) == {f"provider list ({CQC_CSV})"}
    # No CQC sector rule ran: the list has no sector column, and only an NHS trust's
    # code (RXR) decided a sector.
    assert set(sites["sector_rule"]) == {sector_coverage.NO_SECTOR_COLUMN, "nhs_trust_code"}


# --- older CQC care directory -----------------------------------------------------------


def test_cqc_directory_reads_after_its_preamble_with_councils_as_local_authority(fixtures_dir):
    sites = read_sites(fixtures_dir / DIRECTORY_CSV).sites.set_index("site_id")

    assert len(sites) == 5
    assert sites.loc["1-101234002", "sector"] == sectors.LOCAL_AUTHORITY
    assert sites.loc["1-101234012", "sector"] == sectors.LOCAL_AUTHORITY  # London Borough of …
    others = sites.drop(index=["1-101234002", "1-101234012"])
    assert set(others["sector"]) == {sectors.UNKNOWN}
    assert sites["lat"].isna().all()
    assert sites.loc["1-101234006", "postcode"] == "BB1 9QT"
    assert sites.loc["1-101234006", "provider_id"] == "1-102643006"


def test_cqc_directory_2024_header_spellings_read_the_same(tmp_path, fixtures_dir):
    old = read_sites(fixtures_dir / DIRECTORY_CSV).sites
    rows = pd.read_csv(fixtures_dir / DIRECTORY_CSV, skiprows=4, dtype=str, keep_default_na=False)
    new = write_cqc_directory_csv(
        tmp_path / "01_May_2024_CQC_directory.csv",
        rows.itertuples(index=False),
        produced="01 May 2024",
        columns=cqc_directory_columns(2024),
    )

    sites = read_sites(new).sites

    assert sites["site_id"].tolist() == old["site_id"].tolist()
    assert "Local authority" in sites.columns
    assert sites["sector"].tolist() == old["sector"].tolist()


# --- NHS ODS reports --------------------------------------------------------------------


def test_ets_sites_are_nhs_with_their_trust_as_provider_and_closed_ones_flagged(fixtures_dir):
    sites = read_sites(fixtures_dir / "ets.csv").sites.set_index("site_id")

    assert len(sites) == 5
    assert set(sites["sector"]) == {sectors.NHS}
    assert sites.loc["RXN02", "provider_id"] == "RXN"
    assert (sites.loc["RXR03", "counted"], sites.loc["RXR03", "status"]) == (False, "closed")
    assert sites.loc["RXR03", "status_reason"] == (
        'Close Date: "20100331" marks it closed; kept, not counted'
    )
    assert sites.drop(index="RXR03")["counted"].all()
    assert sites.loc["RXR20", "postcode"] == "BB10 2PQ"
    assert sites.loc["RXR20", "Open Date"] == "20030401"


def test_ephpsite_sites_are_independent(fixtures_dir):
    sites = read_sites(fixtures_dir / "ephpsite.csv").sites

    assert set(sites["sector"]) == {sectors.INDEPENDENT}
    assert sites["provider_id"].tolist() == ["NVC", "NT3", "NVC", "8HV"]


def test_a_trust_file_gives_each_trust_as_its_own_provider(tmp_path):
    path = write_ods_report_csv(
        tmp_path / "etr.csv",
        [ods_report_row("RXR", "EAST LANCASHIRE HOSPITALS NHS TRUST", "BB2 3HH")],
    )

    site = read_sites(path).sites.iloc[0]

    assert (site["provider_id"], site["provider_name"]) == (
        "RXR",
        "EAST LANCASHIRE HOSPITALS NHS TRUST",
    )


def test_the_ods_report_can_be_named_when_the_file_name_does_not_say(tmp_path, fixtures_dir):
    path = shutil.copy(fixtures_dir / "ephpsite.csv", tmp_path / "download.csv")

    with pytest.raises(InputError, match=r"download\.csv: cannot tell the report .*--ods-report"):
        read_sites(path)
    sites = read_sites(path, ods_report="ephpsite").sites

    assert set(sites["sector"]) == {sectors.INDEPENDENT}
    assert set(sites["source"]) == {"NHS ODS ephpsite (download.csv)"}


# --- generic files ----------------------------------------------------------------------


def test_real_hospital_list_reads_as_generic_with_its_sectors(shared_data):
    listed = read_sites(shared_data / f"{HOSPITALS}.csv")
    sites = listed.sites

    raw = pd.read_csv(shared_data / f"{HOSPITALS}.csv")
    assert len(sites) == len(raw)
    assert sites["sector"].value_counts().to_dict() == hospital_sectors(shared_data)
    assert set(listed.problems["kind"]) == {problems.SECTOR_CONTRADICTS_CODE}
    assert sites["lat"].notna().all()
    assert sites["postcode"].notna().all()


def test_real_hospital_geojson_takes_coordinates_from_its_points(shared_data):
    from_csv = read_sites(shared_data / f"{HOSPITALS}.csv").sites.set_index("site_id")
    sites = read_sites(shared_data / f"{HOSPITALS}.geojson").sites.set_index("site_id")

    raw = feature_table(shared_data / f"{HOSPITALS}.geojson")
    assert len(sites) == len(raw)
    assert sites["sector"].value_counts().to_dict() == hospital_sectors(shared_data)
    lat = sites["lat"].astype(float) - from_csv.loc[sites.index, "lat"].astype(float)
    assert lat.abs().max() < 1e-6


def test_generic_csv_in_windows_1252_with_free_text_sectors(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(
        "Site,Post Code,Ownership,Beds\n"
        "Ty Gwyn Care – Annexe,bb1 9qt,Private,12\n"
        "Café Hospice,BB2 6AA,Charity,\n"
        "Mystery Place,BB3 1PD,Martian,\n".encode("cp1252")
    )

    listed = read_sites(path)
    sites = listed.sites

    assert sites["site_name"].tolist()[:2] == ["Ty Gwyn Care – Annexe", "Café Hospice"]
    assert sites["sector"].tolist() == [
        sectors.INDEPENDENT,
        sectors.VOLUNTARY,
        sectors.UNKNOWN,
    ]
    assert sites["capacity"].tolist()[0] == 12
    assert list(listed.problems.itertuples(index=False, name=None)) == [
        (2, "sector", "unknown_sector", "Martian", "warning"),
        (problems.FILE_ROW, "", "not_utf8", "2, 3", "note"),  # the lines with accents
    ]


def test_bad_capacity_coordinates_and_sectors_become_problem_rows_quoting_the_file(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,beds,sector,lat,lon\n"
        "Ash House,twelve,NHS,53.8,-1.55\n"
        "Beech Court,-4,Independent,53.8,-1.55\n"
        'Cedar Lodge,,"Martian; unknown",north,-1.55\n',
        encoding="utf-8",
    )

    listed = read_sites(path)

    assert list(listed.problems.itertuples(index=False, name=None)) == [
        (2, "sector", "unknown_sector", "Martian; unknown", "warning"),
        (0, "capacity", "not_a_number", "twelve", "warning"),
        (1, "capacity", "negative", "-4", "warning"),
        (2, "lat", "not_a_number", "north", "error"),
    ]
    assert listed.sites["capacity"].isna().tolist() == [True, True, True]
    assert listed.sites["lat"].isna().tolist() == [False, False, True]


def test_generic_csv_with_a_byte_order_mark_and_explicit_columns(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("Ref,Title,Where\nA1,Ash House,BB1 9QT\n", encoding="utf-8-sig")

    sites = read_sites(
        path, columns={"site_id": "Ref", "site_name": "Title", "postcode": "Where"}
    ).sites

    assert sites[["site_id", "site_name", "postcode"]].iloc[0].tolist() == [
        "A1",
        "Ash House",
        "BB1 9QT",
    ]


def test_generic_file_without_a_name_or_location_is_an_input_error_listing_columns(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("code,colour\nA1,red\n")

    with pytest.raises(InputError) as error:
        read_sites(path)

    message = str(error.value)
    assert "sites.csv" in message
    assert "a site name column" in message
    assert "postcode" in message
    assert "columns found: code, colour" in message


def test_generic_xlsx_is_read_from_its_first_sheet(tmp_path):
    path = tmp_path / "sites.xlsx"
    pd.DataFrame({"name": ["Ash House"], "latitude": [53.75], "longitude": [-2.48]}).to_excel(
        path, index=False
    )

    site = read_sites(path).sites.iloc[0]

    assert (site["site_name"], site["lat"], site["lon"]) == ("Ash House", 53.75, -2.48)


def test_generic_ods_and_zipped_shapefile_are_read(tmp_path):
    ods = write_ods(
        tmp_path / "sites.ods", {"Sites": [["Name", "Postcode"], ["Ash House", "bb1 9qt"]]}
    )
    shapefile = tmp_path / "shape" / "sites.shp"
    shapefile.parent.mkdir()
    gpd.GeoDataFrame({"name": ["Ash House"]}, geometry=[Point(-2.48, 53.75)], crs=4326).to_file(
        shapefile
    )
    zipped = shutil.make_archive(str(tmp_path / "sites"), "zip", shapefile.parent)

    from_ods = read_sites(ods).sites.iloc[0]
    from_zip = read_sites(zipped).sites.iloc[0]

    assert (from_ods["site_name"], from_ods["postcode"]) == ("Ash House", "BB1 9QT")
    assert (from_zip["site_name"], from_zip["lat"], from_zip["lon"]) == ("Ash House", 53.75, -2.48)


def test_geojson_in_british_national_grid_is_reprojected_to_wgs84(tmp_path):
    path = tmp_path / "sites.geojson"
    gpd.GeoDataFrame(
        {"name": ["Blackburn"]}, geometry=[Point(368000, 428000)], crs="EPSG:27700"
    ).to_file(path)

    site = read_sites(path).sites.iloc[0]

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(368000, 428000)
    assert (site["lat"], site["lon"]) == (
        pytest.approx(lat, abs=1e-6),
        pytest.approx(lon, abs=1e-6),
    )


def test_geojson_of_polygons_is_an_input_error(tmp_path):
    path = tmp_path / "areas.geojson"
    square = Polygon([(0, 51), (0, 52), (1, 52), (1, 51)])
    gpd.GeoDataFrame({"name": ["Area"]}, geometry=[square], crs="EPSG:4326").to_file(path)

    with pytest.raises(InputError, match=r"areas\.geojson: feature 1 is a Polygon"):
        read_sites(path)


# --- unreadable files -------------------------------------------------------------------


def test_an_ods_that_is_not_a_zip_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "locations.ods"
    path.write_text("Location ID,Location Name\n1-1,Ash House\n")

    with pytest.raises(InputError, match=r"locations\.ods: is not a \.ods spreadsheet"):
        read_sites(path)


@pytest.mark.parametrize(("content", "problem"), [(b"", "empty"), (b"\n\n", "no rows or columns")])
def test_an_empty_csv_is_an_input_error(tmp_path, content, problem):
    path = tmp_path / "sites.csv"
    path.write_bytes(content)

    with pytest.raises(InputError, match=rf"sites\.csv: .*{problem}"):
        read_sites(path)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        read_sites(tmp_path / "nowhere.csv")


def test_an_old_excel_file_is_an_input_error_saying_what_to_do(tmp_path):
    path = tmp_path / "sites.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

    with pytest.raises(InputError, match=r"sites\.xls: old Excel .* save it as \.xlsx or CSV"):
        read_sites(path)


# --- what is noticed about a file as a whole --------------------------------------------


def _file_problems(listed) -> list[tuple[str, str, str]]:
    found = problems.of_file(listed.problems)
    return list(zip(found["kind"], found["column"], found["value"], strict=True))


def test_a_title_merged_across_a_sheet_is_skipped_and_the_header_row_is_named(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Provider sites in West Yorkshire, March 2026"])
    sheet.merge_cells("A1:D1")
    sheet.append(["name", "sector", "postcode", "beds"])
    sheet.append(["Ash House", "Private", "LS1 4AP", 12])
    workbook.save(tmp_path / "sites.xlsx")

    listed = read_sites(tmp_path / "sites.xlsx")

    assert listed.sites["site_name"].tolist() == ["Ash House"]
    assert _file_problems(listed) == [("header_row", "", "2")]
    (note,) = problems.of_file(listed.problems).to_dict("records")
    assert problems.sentence(note) == (
        "the header was taken from row 2; the rows above it were skipped"
    )


def test_a_csv_title_line_is_skipped_the_same_way(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("Provider sites March 2026\nname,sector,postcode\nAsh House,NHS,LS1 4AP\n")

    listed = read_sites(path)

    assert listed.sites["site_name"].tolist() == ["Ash House"]
    assert _file_problems(listed) == [("header_row", "", "2")]


@pytest.mark.parametrize("suffix", [".csv", ".ods"])
def test_a_header_name_given_twice_is_kept_apart_with_a_suffix_and_named(tmp_path, suffix):
    rows = [["name", "sector", "postcode", "name"], ["Ash House", "NHS", "LS1 4AP", "Ash annexe"]]
    path = tmp_path / f"sites{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    else:
        write_ods(path, {"Sites": rows}, pad=False)

    listed = read_sites(path)

    assert listed.sites["site_name"].tolist() == ["Ash House"]
    assert listed.sites["name.1"].tolist() == ["Ash annexe"]
    assert _file_problems(listed) == [("duplicate_column", "name", "name.1")]
    (note,) = problems.of_file(listed.problems).to_dict("records")
    assert (
        problems.sentence(note)
        == 'the header has "name" more than once; the repeats are read as name.1'
    )


def test_a_header_name_like_a_renamed_one_is_not_taken_for_a_repeat(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,sector,postcode,name.1\nAsh House,NHS,LS1 4AP,x\n")

    assert _file_problems(read_sites(path)) == []
