"""CQC Syndication API location records: recognised as JSON or flattened, and read.

The fixture `cqc_api_locations.json` holds six records in the API's shape (written by
geo.testing.cqc_api_records): three Devon care homes (a private one, a county council's
and a national charity's; the records cannot tell them apart), an NHS hospital, a
Somerset GP practice and a deregistered Somerset home.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.io import recognise
from geo.io.readers import read_sites
from geo.model import sector_coverage, sectors
from geo.testing.cqc_api_records import cqc_api_location, write_cqc_api_csv, write_cqc_api_json
from tests.factories import undecided_by_elimination

API_JSON = "cqc_api_locations.json"
HSCA_CSV = "01_November_2026_HSCA_Active_Locations.csv"
CARE_HOMES = ["1-125856395", "1-108765432", "1-117654321"]
HOSPITAL = "1-101234567"
GP = "1-199887766"


@pytest.fixture
def records(fixtures_dir) -> list[dict]:
    return json.loads((fixtures_dir / API_JSON).read_text(encoding="utf-8"))


@pytest.fixture
def api_sites(fixtures_dir) -> pd.DataFrame:
    return read_sites(fixtures_dir / API_JSON).sites.set_index("site_id")


# Recognition


def test_api_json_is_recognised_as_cqc_api_records(fixtures_dir):
    found = recognise.sniff(fixtures_dir / API_JSON)

    assert (found.container, found.holds, found.kind, found.publisher) == (
        "json",
        "cqc_api",
        "sites",
        recognise.CQC,
    )


def test_flattened_api_records_are_not_taken_for_the_hsca_file(records, tmp_path):
    found = recognise.sniff(write_cqc_api_csv(tmp_path / "devon_locations.csv", records))

    assert (found.container, found.holds, found.header_row) == ("csv", "cqc_api", 0)
    assert "onspdLatitude" in found.columns


def test_the_hsca_file_is_still_the_hsca_file(fixtures_dir):
    assert recognise.sniff(fixtures_dir / HSCA_CSV).holds == "cqc"


def test_a_table_with_locationid_and_no_other_api_key_is_not_the_apis(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("locationId,Home,Owner\n1-1,Rose House,Mine\n", encoding="utf-8")

    assert recognise.sniff(path).holds == "unknown"


def test_a_geojson_of_sites_with_location_ids_stays_a_geo_file(tmp_path):
    path = tmp_path / "sites.geojson"
    feature = {
        "type": "Feature",
        "properties": {"locationId": "1-1", "name": "A", "sector": "NHS"},
        "geometry": {"type": "Point", "coordinates": [-1.5, 53.8]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))

    assert recognise.sniff(path).container == "geo"


def test_api_json_said_to_be_another_format_is_refused_with_what_it_is(fixtures_dir):
    with pytest.raises(recognise.NotUsedError, match="read it as cqc_api, not generic"):
        recognise.sniff(fixtures_dir / API_JSON, "generic")


# Reading


def test_api_records_become_canonical_sites(api_sites):
    hospital = api_sites.loc[HOSPITAL]

    assert len(api_sites) == 6
    assert set(api_sites["source"]) == {f"CQC API locations ({API_JSON})"}
    assert hospital["site_name"] == "Royal Devon and Exeter Hospital (Wonford)"
    assert (hospital["lat"], hospital["lon"]) == (50.716, -3.507)
    assert hospital["postcode"] == "EX2 5DW"
    assert hospital["official_sicbl_code"] == "E38000230"
    assert hospital["service_type"] == "Acute hospital - NHS non-specialist"
    assert api_sites.loc[GP, "official_sicbl_code"] == "E38000150"


def test_beds_count_for_care_homes_only(api_sites):
    assert api_sites.loc[CARE_HOMES, "capacity"].tolist() == [75, 28, 22]
    assert pd.isna(api_sites.loc[HOSPITAL, "capacity"])


def test_care_homes_are_not_called_independent_without_provider_columns(api_sites):
    homes = api_sites.loc[CARE_HOMES]

    assert set(homes["sector"]) == {sectors.UNKNOWN}
    assert set(homes["sector_rule"]) == {undecided_by_elimination("Location Type/Sector")}


def test_what_the_type_shows_is_still_decided(api_sites):
    assert api_sites.loc[HOSPITAL, ["sector", "sector_rule"]].tolist() == [
        sectors.NHS,
        "nhs_healthcare_organisation",
    ]
    assert api_sites.loc[GP, ["sector", "sector_rule"]].tolist() == [sectors.NHS, "gp_practice"]


def test_the_flattened_csv_reads_as_the_json_does(records, api_sites, tmp_path):
    path = write_cqc_api_csv(tmp_path / "devon_locations.csv", records)

    flat = read_sites(path).sites.set_index("site_id")

    columns = ["site_name", "sector", "sector_rule", "capacity", "service_type", "lat", "lon"]
    pd.testing.assert_frame_equal(flat[columns], api_sites[columns])


def test_one_record_as_the_api_returns_it_is_read(tmp_path):
    record = cqc_api_location("1-125856395", "Lucerne House", numberOfBeds=75)
    path = write_cqc_api_json(tmp_path / "1-125856395.json", [record])

    sites = read_sites(path).sites

    assert sites[["site_id", "capacity"]].values.tolist() == [["1-125856395", 75.0]]


def test_a_page_of_the_locations_list_is_read_with_every_sector_undecided(tmp_path):
    page = {
        "total": 2,
        "locations": [
            {"locationId": "1-1", "locationName": "Rose House", "postalCode": "EX1 1AA"},
            {"locationId": "1-2", "locationName": "Ivy House", "postalCode": "EX1 1AB"},
        ],
    }
    path = tmp_path / "locations_page_1.json"
    path.write_text(json.dumps(page), encoding="utf-8")

    sites = read_sites(path).sites

    assert sites["site_name"].tolist() == ["Rose House", "Ivy House"]
    assert set(sites["sector"]) == {sectors.UNKNOWN}
    assert sites["sector_rule"].str.startswith(sector_coverage.UNDECIDED_PREFIX).all()


def test_provider_columns_joined_to_the_records_let_the_rules_run(tmp_path):
    council = cqc_api_location(
        "1-108765432", "Riverside House", providerName="Devon County Council"
    )
    private = cqc_api_location("1-125856395", "Lucerne House", providerName="Barchester Ltd")
    for record in (council, private):
        record.update(ownershipType="Organisation", charityNumber="", companiesHouseNumber="")
    path = write_cqc_api_json(tmp_path / "joined.json", [council, private])

    sites = read_sites(path).sites.set_index("site_id")

    assert sites.loc["1-108765432", "sector"] == sectors.LOCAL_AUTHORITY
    assert sites.loc["1-125856395", ["sector", "sector_rule"]].tolist() == [
        sectors.INDEPENDENT,
        "independent_type",
    ]
