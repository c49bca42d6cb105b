"""Tests for geo/recognise.py: telling boundaries, lookups and site lists apart by their columns."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.io import recognise
from geo.testing.publisher_files import (
    make_cqc_hsca_rows,
    ods_report_row,
    write_cqc_hsca_ods,
    write_cqc_hsca_xlsx,
    write_ods_report_csv,
)


@pytest.fixture
def polygons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"geometry": [box(-1, 51, 0, 52), box(0, 51, 1, 52)]}, crs="EPSG:4326")


def test_an_ons_icb_layer_is_recognised_with_its_vintage(polygons, tmp_path):
    path = tmp_path / "icbs.geojson"
    polygons.assign(ICB23CD=["E54000001", "E54000002"], ICB23NM=["A", "B"]).to_file(path)

    found = recognise.recognise_file(path)

    assert (found.kind, found.vintages, found.publisher, found.rows) == (
        "icb",
        ("2023",),
        recognise.ONS,
        2,
    )


def test_a_zipped_shapefile_of_sub_icbs_is_recognised(polygons, tmp_path):
    polygons.assign(SICBL23CD=["E38000001", "E38000002"]).to_file(tmp_path / "sicbl.shp")
    archive = tmp_path / "sicbl.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in tmp_path.glob("sicbl.*"):
            if part.suffix != ".zip":
                zipped.write(part, part.name)

    assert recognise.recognise_file(archive).kind == "sicbl"


def test_polygons_of_other_areas_are_not_used_and_the_area_is_named(polygons, tmp_path):
    path = tmp_path / "areas.gpkg"
    polygons.assign(LSOA21CD=["E01000001", "E01000002"]).to_file(path)

    with pytest.raises(recognise.NotUsedError) as raised:
        recognise.recognise_file(path)

    assert raised.value.reason == "LSOA boundaries are not used by the app"
    assert str(raised.value) == "areas.gpkg: LSOA boundaries are not used by the app"


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

    found = recognise.recognise_file(path)

    assert (found.kind, found.vintages, found.rows) == ("sicbl_lookup", vintages, 1)


def test_a_table_with_icb_codes_but_no_sub_icb_codes_is_not_a_lookup(tmp_path):
    path = tmp_path / "shares.csv"
    pd.DataFrame({"trust_code": ["R0A"], "icb22_code": ["E54000008"]}).to_csv(path, index=False)

    with pytest.raises(recognise.NotUsedError, match="no sub-ICB codes"):
        recognise.recognise_file(path)


def test_a_generic_site_list_needs_a_name_a_location_and_a_sector(tmp_path):
    sites = pd.DataFrame(
        {"name": ["A", "B"], "lat": [51.5, 52.1], "long": [-0.1, -1.2], "sector": ["NHS", "x"]}
    )
    with_sector, without = tmp_path / "sites.csv", tmp_path / "places.csv"
    sites.to_csv(with_sector, index=False)
    sites.drop(columns="sector").to_csv(without, index=False)

    assert recognise.recognise_file(with_sector).kind == "sites"
    with pytest.raises(recognise.NotUsedError, match="no sector column"):
        recognise.recognise_file(without)


def test_an_xlsx_site_list_with_postcodes_is_recognised(tmp_path):
    path = tmp_path / "sites.xlsx"
    pd.DataFrame(
        {"Site name": ["A", "B", "C"], "Postcode": ["NT1 1AA"] * 3, "Sector": ["NHS"] * 3}
    ).to_excel(path, index=False)

    found = recognise.recognise_file(path)

    assert (found.kind, found.rows, found.publisher) == ("sites", 3, recognise.UNKNOWN_PUBLISHER)


def test_points_of_trust_headquarters_are_not_sites(tmp_path):
    path = tmp_path / "trusts.geojson"
    gpd.GeoDataFrame(
        {"nhs_trust22_name": ["A"], "nhs_trust22_code": ["R0A"], "geometry": [Point(-1, 52)]},
        crs="EPSG:4326",
    ).to_file(path)

    with pytest.raises(recognise.NotUsedError, match="trust headquarters"):
        recognise.recognise_file(path)


def test_the_cqc_ods_is_recognised_from_its_second_sheet_with_the_as_at_date(tmp_path):
    path = write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", make_cqc_hsca_rows(3))

    found = recognise.recognise_file(path)

    assert (found.kind, found.publisher) == ("sites", recognise.CQC)
    assert found.published == "2026-11-01"  # README: 'Source: CQC database as at 01 November 2026'
    assert found.vintages == ("2026-11-01",)
    assert found.columns[0] == "Location ID"


def test_an_older_cqc_xlsx_with_preamble_rows_is_recognised(tmp_path):
    path = write_cqc_hsca_xlsx(tmp_path / "HSCA_Active_Locations.xlsx", make_cqc_hsca_rows(4))

    found = recognise.recognise_file(path)

    assert (found.kind, found.publisher, found.published) == ("sites", recognise.CQC, "2026-11-01")
    assert found.columns[:2] == ("Location ID", "Location HSCA start date")  # after 6 preamble rows


def test_a_headerless_nhs_ods_report_is_recognised(tmp_path):
    rows = [ods_report_row("RXX01", "A HOSPITAL", "NT1 1AA"), ods_report_row("RXX02", "B", "")]
    path = write_ods_report_csv(tmp_path / "ets.csv", rows, bom=True)

    found = recognise.recognise_file(path)

    assert (found.kind, found.publisher, found.rows) == ("sites", recognise.NHS_ODS, 2)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("README.md", b"# notes", "not a data file"),
        ("broken.geojson", b'{"type": "FeatureCo', "could not be read"),
        ("empty.csv", b"", "is empty"),
        ("other.csv", b"colour,size\nred,3\n", "match no file the app uses"),
    ],
)
def test_files_the_app_cannot_use_are_refused_with_a_reason(name, content, reason, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(recognise.NotUsedError) as raised:
        recognise.recognise_file(path)

    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{name}: ")
