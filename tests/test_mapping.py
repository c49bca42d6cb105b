"""Column-mapping suggestions for provider lists in no known format, and file previews."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.io import readers, recognise
from geo.model.errors import InputError
from geo.publish import mapping
from geo.testing import publisher_files


def _frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="string")


def test_columns_are_suggested_by_their_names_whatever_the_case_and_spacing():
    raw = _frame(
        **{
            "SITE NAME": ["Leeds General Infirmary"],
            "Post Code": ["LS1 3EX"],
            "latitude": ["53.80146"],
            "Longitude ": ["-1.552119"],
            "ICB23CD": ["E54000054"],
        }
    )
    assert mapping.suggest_columns(raw) == {
        "site_name": "SITE NAME",
        "postcode": "Post Code",
        "lat": "latitude",
        "lon": "Longitude ",
        "official_icb_code": "ICB23CD",
    }
    assert mapping.explain_suggestions(raw)["postcode"] == 'postcode: column named "Post Code"'


def test_a_column_of_postcodes_is_found_by_its_content_and_the_share_is_given():
    postcodes = ["LS1 3EX", "m13 9wl", "SE1 7EH", "TR1 3LQ", "NE7 7DN"] * 7 + ["not known"]
    raw = _frame(where=postcodes, colour=["red"] * 36)
    assert mapping.suggest_columns(raw) == {"postcode": "where"}
    assert mapping.explain_suggestions(raw) == {
        "postcode": "postcode: 97% of values look like postcodes"
    }


def test_icb_codes_and_englands_latitudes_and_longitudes_are_found_by_content():
    raw = _frame(
        a=["E54000054", "E54000057", "E54000030"],
        b=["53.80146", "53.461674", "51.497959"],
        c=["-1.552119", "-2.224891", "-0.118891"],
    )
    assert mapping.suggest_columns(raw) == {"lat": "b", "lon": "c", "official_icb_code": "a"}
    reasons = mapping.explain_suggestions(raw)
    assert reasons["lat"].startswith("lat: 100% of values are latitudes in England's range")


def test_latitudes_outside_england_are_not_taken_for_latitude():
    raw = _frame(b=["40.7128", "48.8566", "35.6762"], c=["-74.0060", "2.3522", "139.6503"])
    assert mapping.suggest_columns(raw) == {}


def test_whole_numbers_are_capacity_only_when_the_name_says_beds_or_places():
    counts = ["12", "30", "0", "8"]
    assert mapping.suggest_columns(_frame(**{"No. of beds": counts})) == {"capacity": "No. of beds"}
    assert mapping.suggest_columns(_frame(**{"Ward number": counts})) == {}


def test_grid_references_are_found_as_eastings_and_northings_in_column_order():
    raw = _frame(Name=["A", "B"], c1=["430000", "384000"], c2=["434000", "397000"])
    assert mapping.suggest_columns(raw) == {"site_name": "Name", "easting": "c1", "northing": "c2"}


def test_x_and_y_holding_grid_metres_are_eastings_not_longitude_and_latitude():
    raw = _frame(Name=["A", "B"], Y=["434000", "397000"], X=["430000", "384000"])
    assert mapping.suggest_columns(raw) == {"site_name": "Name", "easting": "X", "northing": "Y"}


def test_grid_references_are_not_suggested_when_latitude_and_longitude_are_there():
    raw = _frame(lat=["53.8"], lon=["-1.55"], easting=["430000"], northing=["434000"])
    assert set(mapping.suggest_columns(raw)) == {"lat", "lon"}


def test_one_column_is_never_suggested_for_two_fields():
    raw = _frame(name=["A"], site=["B"], postcode=["LS1 3EX"], pc=["LS1 3EX"])
    suggested = mapping.suggest_columns(raw)
    assert len(set(suggested.values())) == len(suggested)


def test_the_suggestions_read_a_real_hospital_list_as_its_reader_does(shared_data):
    raw = mapping.preview(shared_data / "hospitals_england_2020_05_nhs_website.csv", rows=50)
    suggested = mapping.suggest_columns(raw)
    path = shared_data / "hospitals_england_2020_05_nhs_website.csv"
    sites = readers.read_sites(path, recognise.sniff(path, "generic"), columns=suggested).sites
    assert suggested["postcode"] == "pcds"
    assert {"site_name", "lat", "lon", "sector"} <= set(suggested)
    assert sites["lat"].notna().sum() == len(sites)


def test_the_preview_of_a_cqc_file_starts_at_its_header(fixtures_dir):
    table = mapping.preview(fixtures_dir / "01_November_2026_HSCA_Active_Locations.csv", rows=3)
    assert len(table) == 3
    assert table.columns[0] == "Location ID"
    assert table.shape[1] == len(publisher_files.CQC_HSCA_COLUMNS)


def test_the_preview_of_a_cqc_ods_shows_the_locations_sheet_not_the_readme(tmp_path):
    rows = list(publisher_files.make_cqc_hsca_rows(30))
    path = publisher_files.write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", rows)
    table = mapping.preview(path, rows=5)
    assert list(table["Location ID"]) == [row["Location ID"] for row in rows[:5]]


def test_the_preview_of_a_headerless_ods_report_names_its_fields(fixtures_dir):
    table = mapping.preview(fixtures_dir / "ets.csv", rows=2)
    assert list(table.columns[:2]) == ["Organisation Code", "Name"]
    assert len(table) == 2


def test_the_preview_of_the_cqc_directory_skips_its_preamble(fixtures_dir):
    table = mapping.preview(fixtures_dir / "01_November_2020_CQC_directory.csv")
    assert table.columns[0] == "Name"
    assert "Postcode" in table.columns


def test_the_preview_of_a_geojson_shows_its_attributes_and_geometry_type(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"Site {n}", "postcode": "LS1 3EX"},
            "geometry": {"type": "Point", "coordinates": [-1.55, 53.8]},
        }
        for n in range(4)
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    table = mapping.preview(path, rows=2)
    assert list(table["name"]) == ["Site 0", "Site 1"]
    assert set(table["geometry"]) == {"Point"}


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv"):
        mapping.preview(tmp_path / "nope.csv")
