"""Sub-ICB → ICB and ICB → NHS region lookups from ONS lookup files and sub-ICB layers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from geo.io.lookups import (
    LOOKUP_COLUMNS,
    REGION_COLUMNS,
    ambiguous_sicbls,
    load_icb_to_region,
    load_sicbl_to_icb,
    sicbl_to_icb_map,
)
from geo.model.errors import InputError
from tests.factories import feature_table

LSOA21_LOOKUP = "lookup_lsoa21_sicbl24_icb24_icb26.csv"
LSOA11_LOOKUP = "lookup_lsoa11_sicbl22_icb22_lad22.csv"
SUB_ICBS_2024 = "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"
ICBS_2024 = "icb_2024_04_from_lsoa21_bsc.geojson"
REGIONS_2024 = "nhs_england_regions_2024_01_bgc.geojson"


@pytest.fixture(scope="module")
def lookup_2024_2026(shared_data) -> pd.DataFrame:
    return load_sicbl_to_icb(shared_data / LSOA21_LOOKUP)


@pytest.fixture(scope="module")
def lookup_2022(shared_data) -> pd.DataFrame:
    return load_sicbl_to_icb(shared_data / LSOA11_LOOKUP)


@pytest.fixture(scope="module")
def raw_2024_2026(shared_data) -> pd.DataFrame:
    """The LSOA21 lookup as pandas reads it, to derive what the loader must give."""
    return pd.read_csv(shared_data / LSOA21_LOOKUP, dtype="str")


@pytest.fixture(scope="module")
def ons_lookup_csv(shared_data, tmp_path_factory):
    """The official April 2024 SICBL → ICB → NHSER lookup's shape, built from the real layers.

    Sub-ICB names come from the 2024 sub-ICB layer, ICBs from the LSOA lookup and
    each ICB's region from where its polygon sits in the NHS England regions layer.
    """
    sub_icbs = gpd.read_file(shared_data / SUB_ICBS_2024)
    icbs = gpd.read_file(shared_data / ICBS_2024)
    regions = gpd.read_file(shared_data / REGIONS_2024)
    inside = icbs.set_geometry(icbs.representative_point())
    assert inside.crs == regions.crs
    icb_regions = gpd.sjoin(inside, regions, predicate="within")[
        ["ICB24CD", "NHSER24CD", "NHSER24NM"]
    ]
    assert len(icb_regions) == len(icbs)
    table = (
        sub_icbs[["SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD"]]
        .merge(icbs[["ICB24CD", "ICB24CDH", "ICB24NM"]], on="ICB24CD")
        .merge(icb_regions, on="ICB24CD")
        .assign(NHSER24CDH="", ObjectId=lambda frame: range(1, len(frame) + 1))
    )
    path = tmp_path_factory.mktemp("ons") / (
        "Sub_ICB_Locations_to_Integrated_Care_Boards_to_NHS_England_(Region)_(April_2024)_Lookup_in_EN.csv"
    )
    order = ["SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD", "ICB24CDH", "ICB24NM"]
    table[[*order, "NHSER24CD", "NHSER24CDH", "NHSER24NM", "ObjectId"]].to_csv(
        path, index=False, encoding="utf-8-sig"
    )
    return path


def _write_csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# The LSOA lookups: one row per sub-ICB and ICB vintage


def test_2024_lookup_maps_every_sub_icb_onto_its_icb(lookup_2024_2026, raw_2024_2026):
    mapping = sicbl_to_icb_map(lookup_2024_2026, "2024")

    assert list(lookup_2024_2026.columns) == list(LOOKUP_COLUMNS)
    raw = raw_2024_2026
    assert mapping == dict(zip(raw["sicbl24_code"], raw["icb24_code"], strict=True))
    assert all(code.startswith("E38") for code in mapping)
    assert ambiguous_sicbls(lookup_2024_2026, "2024") == {}


def test_lsoa_lookup_gives_rows_for_each_icb_vintage_it_holds(lookup_2024_2026, raw_2024_2026):
    per_vintage = lookup_2024_2026.groupby("vintage")["sicbl_code"].nunique().to_dict()

    sub_icbs = raw_2024_2026["sicbl24_code"].nunique()
    assert per_vintage == {"2024": sub_icbs, "2026": sub_icbs}


def test_frimley_split_across_three_2026_icbs_is_ambiguous(shared_data, lookup_2024_2026):
    raw = pd.read_csv(shared_data / LSOA21_LOOKUP, dtype="str")
    frimley = raw.loc[raw["sicbl24_code_nhs"] == "D4U1Y", "sicbl24_code"].unique()
    assert len(frimley) == 1

    ambiguous = ambiguous_sicbls(lookup_2024_2026, "2026")
    mapping = sicbl_to_icb_map(lookup_2024_2026, "2026")

    assert ambiguous == {frimley[0]: ["E54000067", "E54000069", "E54000070"]}
    assert frimley[0] not in mapping
    assert len(mapping) == raw["sicbl24_code"].nunique() - 1
    assert set(mapping.values()) == set(raw["icb26_code"])


def test_icb_names_come_with_the_codes(shared_data, lookup_2024_2026):
    raw = pd.read_csv(shared_data / LSOA21_LOOKUP, dtype="str")
    expected = dict(zip(raw["icb24_code"], raw["icb24_name"], strict=True))

    rows = lookup_2024_2026[lookup_2024_2026["vintage"] == "2024"]

    assert dict(zip(rows["icb_code"], rows["icb_name"], strict=True)) == expected


def test_2022_lookup_carries_the_old_surrey_and_sussex_codes(shared_data, lookup_2022):
    mapping = sicbl_to_icb_map(lookup_2022, "2022")
    raw = pd.read_csv(shared_data / LSOA11_LOOKUP, dtype="str")

    assert set(lookup_2022["vintage"]) == {"2022"}
    assert mapping == dict(zip(raw["sicbl22_code"], raw["icb22_code"], strict=True))
    assert {"E54000052", "E54000053"} <= set(mapping.values())
    assert not {"E54000063", "E54000064"} & set(mapping.values())


def test_2023_is_served_from_2024_rows_because_the_icb_codes_are_the_same(lookup_2024_2026):
    assert "2023" not in set(lookup_2024_2026["vintage"])

    assert sicbl_to_icb_map(lookup_2024_2026, "2023") == sicbl_to_icb_map(lookup_2024_2026, "2024")


def test_a_vintage_the_lookup_lacks_is_refused_with_what_it_covers(lookup_2022):
    with pytest.raises(InputError) as raised:
        sicbl_to_icb_map(lookup_2022, "2023")

    assert str(raised.value) == (
        f"lookup file {LSOA11_LOOKUP}: has no sub-ICB → ICB rows for vintage 2023; it covers 2022"
    )


# The official ONS lookup shape, and regions


def test_ons_lookup_csv_gives_the_same_mapping_as_the_lsoa_lookup(ons_lookup_csv, lookup_2024_2026):
    lookup = load_sicbl_to_icb(ons_lookup_csv)
    from_lsoas = lookup_2024_2026[lookup_2024_2026["vintage"] == "2024"]

    assert set(lookup["vintage"]) == {"2024"}
    pd.testing.assert_frame_equal(lookup, from_lsoas.reset_index(drop=True), check_like=True)


def test_ons_lookup_csv_gives_each_icb_its_nhs_region(shared_data, ons_lookup_csv):
    regions = load_icb_to_region(ons_lookup_csv)
    raw = pd.read_csv(ons_lookup_csv, dtype="str", encoding="utf-8-sig")

    assert list(regions.columns) == list(REGION_COLUMNS)
    assert sorted(regions["icb_code"]) == sorted(feature_table(shared_data / ICBS_2024)["ICB24CD"])
    assert regions["region_code"].nunique() == len(feature_table(shared_data / REGIONS_2024))
    assert regions["region_code"].str.startswith("E40").all()
    assert set(regions["vintage"]) == {"2024"}
    london = regions.loc[regions["region_name"] == "London", "icb_code"]
    assert set(london) == set(raw.loc[raw["NHSER24NM"] == "London", "ICB24CD"])


def test_lookup_without_region_columns_is_refused_for_regions(shared_data):
    with pytest.raises(
        InputError, match=r"lookup_lsoa21.*expected ICB and NHS region code columns"
    ):
        load_icb_to_region(shared_data / LSOA21_LOOKUP)


# A sub-ICB boundary layer as the lookup


def test_sub_icb_layer_with_icb_codes_serves_as_a_lookup(shared_data, lookup_2024_2026):
    lookup = load_sicbl_to_icb(shared_data / SUB_ICBS_2024)

    assert sicbl_to_icb_map(lookup, "2024") == sicbl_to_icb_map(lookup_2024_2026, "2024")
    assert lookup["icb_name"].isna().all()


def test_sub_icb_layer_without_icb_codes_is_refused(shared_data):
    with pytest.raises(
        InputError, match=r"sub_icb_locations_2023_04_bsc\.geojson: a sicbl boundary"
    ):
        load_sicbl_to_icb(shared_data / "sub_icb_locations_2023_04_bsc.geojson")


# Bad input


def test_a_file_that_is_not_a_lookup_lists_the_code_columns_it_has(shared_data):
    with pytest.raises(InputError) as raised:
        load_sicbl_to_icb(shared_data / "hospitals_england_2020_05_nhs_website.csv")

    assert str(raised.value) == (
        "lookup file hospitals_england_2020_05_nhs_website.csv: expected sub-ICB and ICB code "
        "columns (SICBL24CD and ICB24CD, or sicbl24_code and icb24_code); found code columns: "
        "icb24_code, icb24_name, icb26_code, icb26_name"
    )


def test_a_blank_icb_code_is_reported_by_line(tmp_path):
    path = _write_csv(
        tmp_path / "lookup.csv",
        "SICBL24CD,SICBL24NM,ICB24CD,ICB24NM\n"
        "E38000001,First,E54000001,North\n"
        "E38000002,Second,,North\n",
    )

    with pytest.raises(InputError) as raised:
        load_sicbl_to_icb(path)

    assert str(raised.value) == (
        "lookup file lookup.csv: column ICB24CD is empty on 1 line(s): 3; "
        "expected a code on every line"
    )


def test_repeated_lsoa_rows_collapse_and_a_split_sub_icb_keeps_both_icbs(tmp_path):
    path = _write_csv(
        tmp_path / "lsoa_lookup.csv",
        "lsoa21_code,sicbl24_code,icb24_code,icb24_name\n"
        "E01000001,E38000001,E54000001,North\n"
        "E01000002,E38000001,E54000001,North\n"
        "E01000003,E38000002,E54000001,North\n"
        "E01000004,E38000002,E54000002,South\n",
    )

    lookup = load_sicbl_to_icb(path)

    assert lookup[["sicbl_code", "icb_code"]].values.tolist() == [
        ["E38000001", "E54000001"],
        ["E38000002", "E54000001"],
        ["E38000002", "E54000002"],
    ]
    assert sicbl_to_icb_map(lookup, "2024") == {"E38000001": "E54000001"}
    assert ambiguous_sicbls(lookup, "2024") == {"E38000002": ["E54000001", "E54000002"]}


def test_a_lookup_built_in_memory_names_itself_in_errors():
    lookup = pd.DataFrame(
        {
            "sicbl_code": ["E38000001"],
            "icb_code": ["E54000001"],
            "icb_name": ["North"],
            "vintage": ["2022"],
        }
    )

    with pytest.raises(
        InputError, match=r"^sub-ICB lookup: has no .* vintage 2026; it covers 2022$"
    ):
        sicbl_to_icb_map(lookup, "2026")
