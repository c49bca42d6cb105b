"""Loading, validating and simplifying ICB, sub-ICB and NHS region boundaries."""

from __future__ import annotations

import itertools
import re
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.io.boundaries import (
    check_boundaries,
    detect_layer,
    display_boundaries,
    expected_count,
    gdal_source,
    load_boundaries,
)
from geo.model.errors import InputError
from geo.publish.publishing import recognise_upload
from tests.factories import (
    BOW_TIE,
    BOW_TIE_AREA_M2,
    EMPTY,
    LINE,
    MULTIPART,
    POINT,
    SQUARE,
    TOUCHING_LEFT,
    TOUCHING_RIGHT,
    WITH_HOLE,
    X0,
    Y0,
    boundary_frame,
    feature_table,
    hospitals_table,
    square,
    zigzag_neighbours,
)

ICB_FILES = [
    ("icb_2022_07_buc.geojson", "2022"),
    ("icb_2022_07_from_lsoa11_bsc.geojson", "2022"),
    ("icb_2023_04_bgc.geojson", "2023"),
    ("icb_2024_04_from_lsoa21_bsc.geojson", "2024"),
    ("icb_2026_04_reconstructed_from_lsoa21_bsc.geojson", "2026"),
]


@pytest.fixture(scope="module")
def icb_2023(shared_data) -> gpd.GeoDataFrame:
    """The most detailed real ICB layer (183k vertices), read once for the module."""
    return load_boundaries(shared_data / "icb_2023_04_bgc.geojson")


@pytest.fixture(scope="module")
def icb_2023_display(icb_2023) -> gpd.GeoDataFrame:
    return display_boundaries(icb_2023)


def _write(frame: gpd.GeoDataFrame, path) -> object:
    frame.to_file(path, engine="pyogrio")
    return path


def _metric_areas(frame: gpd.GeoDataFrame) -> pd.Series:
    return frame.to_crs("EPSG:27700").area


# Real ONS layers of every vintage


@pytest.mark.parametrize(("filename", "vintage"), ICB_FILES)
def test_every_icb_vintage_loads_to_standard_columns(shared_data, filename, vintage):
    icbs = load_boundaries(shared_data / filename)

    assert list(icbs.columns) == [
        "code",
        "name",
        "ods_code",
        "kind",
        "vintage",
        "repaired",
        "geometry",
    ]
    assert len(icbs) == len(feature_table(shared_data / filename))
    assert set(icbs["vintage"]) == {vintage}
    assert set(icbs["kind"]) == {"icb"}
    assert icbs.crs.to_epsg() == 4326
    assert icbs["code"].is_unique
    assert icbs["code"].is_monotonic_increasing
    assert icbs["code"].str.match(r"^E54\d{6}$").all()
    assert icbs["name"].notna().all()
    assert check_boundaries(icbs) == []


def test_ods_codes_come_from_the_cdh_column(shared_data):
    raw = gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    icbs = load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")

    expected = dict(zip(raw["ICB24CD"], raw["ICB24CDH"], strict=True))
    assert dict(zip(icbs["code"], icbs["ods_code"], strict=True)) == expected


def test_2022_and_2023_codes_differ_only_for_surrey_heartlands_and_sussex(shared_data):
    codes_2022 = set(load_boundaries(shared_data / "icb_2022_07_buc.geojson")["code"])
    codes_2024 = set(load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")["code"])

    assert codes_2022 - codes_2024 == {"E54000052", "E54000053"}
    assert codes_2024 - codes_2022 == {"E54000063", "E54000064"}


def test_sub_icb_layer_carries_its_parent_icb(shared_data):
    path = shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"
    sub_icbs = load_boundaries(path)
    raw = feature_table(path)

    assert len(sub_icbs) == len(raw)
    assert set(sub_icbs["kind"]) == {"sicbl"}
    assert set(sub_icbs["vintage"]) == {"2024"}
    assert sub_icbs["code"].str.startswith("E38").all()
    assert dict(zip(sub_icbs["code"], sub_icbs["parent_icb_code"], strict=True)) == dict(
        zip(raw["SICBL24CD"], raw["ICB24CD"], strict=True)
    )
    assert sub_icbs["parent_icb_code"].str.startswith("E54").all()


def test_sub_icb_layer_without_icb_column_has_no_parent_column(shared_data):
    path = shared_data / "sub_icb_locations_2023_04_bsc.geojson"
    sub_icbs = load_boundaries(path)

    assert len(sub_icbs) == len(feature_table(path))
    assert "parent_icb_code" not in sub_icbs.columns
    assert set(sub_icbs["vintage"]) == {"2023"}


def test_nhs_regions_load_as_kind_nhser(shared_data):
    path = shared_data / "nhs_england_regions_2024_01_bgc.geojson"
    regions = load_boundaries(path)

    assert len(regions) == len(feature_table(path))
    assert set(regions["kind"]) == {"nhser"}
    assert regions["code"].str.startswith("E40").all()
    assert regions["ods_code"].isna().all()


def test_explicit_vintage_overrides_the_one_in_column_names(shared_data):
    icbs = load_boundaries(shared_data / "icb_2022_07_buc.geojson", vintage="2023")

    assert set(icbs["vintage"]) == {"2023"}


def test_asking_for_the_wrong_kind_names_the_column(shared_data):
    path = shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"
    with pytest.raises(InputError, match=r"sub_icb_locations_2024.*SICBL24CD.*sicbl.*not the icb"):
        load_boundaries(path, kind="icb")


# Formats and coordinate systems


def test_british_national_grid_geopackage_loads_to_the_same_codes(shared_data, tmp_path):
    original = load_boundaries(shared_data / "icb_2022_07_buc.geojson")
    raw = gpd.read_file(shared_data / "icb_2022_07_buc.geojson").to_crs("EPSG:27700")
    path = _write(raw, tmp_path / "icbs_bng.gpkg")

    icbs = load_boundaries(path)

    assert icbs.crs.to_epsg() == 4326
    assert list(icbs["code"]) == list(original["code"])
    relative = (_metric_areas(icbs) - _metric_areas(original)).abs() / _metric_areas(original)
    assert relative.max() < 1e-6


def test_zipped_shapefile_in_a_subfolder_loads_to_the_same_codes(shared_data, tmp_path):
    original = load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    raw = gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson").to_crs("EPSG:27700")
    folder = tmp_path / "shp"
    folder.mkdir()
    _write(raw, folder / "ICB_APR_2024_EN_BSC.shp")
    archive = tmp_path / "icbs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.iterdir():
            zipped.write(part, f"ICB_APR_2024/{part.name}")

    icbs = load_boundaries(archive)

    assert list(icbs["code"]) == list(original["code"])
    assert icbs["ods_code"].tolist() == original["ods_code"].tolist()


def test_zip_without_a_shapefile_lists_what_it_holds(tmp_path):
    archive = tmp_path / "boundaries.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("README.txt", "nothing here")

    with pytest.raises(InputError, match=r"boundaries\.zip: expected one Shapefile.*README\.txt"):
        load_boundaries(archive)


def test_a_zip_is_read_in_place_at_its_one_dataset(tmp_path):
    archive = tmp_path / "icbs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("__MACOSX/ICB/._ICB_APR_2024.shp", b"")
        zipped.writestr("ICB/ICB_APR_2024.shp", b"")
        zipped.writestr("ICB/ICB_APR_2024.dbf", b"")

    assert gdal_source(archive) == f"/vsizip/{archive.resolve()}/ICB/ICB_APR_2024.shp"
    assert gdal_source(tmp_path / "icbs.geojson") == str(tmp_path / "icbs.geojson")


def test_recognising_an_uploaded_zip_refuses_one_without_a_geo_file(tmp_path):
    archive = tmp_path / "boundaries.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("README.txt", "nothing here")

    with pytest.raises(InputError, match=r"boundaries\.zip: is a zip file holding neither"):
        recognise_upload(archive, "boundaries")


def test_recognising_an_uploaded_zip_of_two_shapefiles_refuses_it_as_loading_would(tmp_path):
    archive = tmp_path / "boundaries.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ICB/A.shp", b"")
        zipped.writestr("ICB/B.shp", b"")

    with pytest.raises(InputError, match=r"boundaries\.zip.*expected one Shapefile.*found 2"):
        recognise_upload(archive, "boundaries")


def test_geopackage_with_several_layers_is_refused_with_their_names(tmp_path):
    path = tmp_path / "two.gpkg"
    boundary_frame([SQUARE]).to_file(path, layer="icbs")
    boundary_frame([SQUARE]).to_file(path, layer="spare")

    with pytest.raises(InputError, match=r"two\.gpkg: has 2 layers \(icbs, spare\)"):
        load_boundaries(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_file_without_crs_in_lon_lat_is_read_as_4326_with_a_warning(tmp_path):
    lonlat = boundary_frame([SQUARE]).to_crs("EPSG:4326").set_crs(None, allow_override=True)
    path = _write(lonlat, tmp_path / "no_prj.shp")

    with pytest.warns(UserWarning, match=r"no_prj\.shp: has no CRS.*EPSG:4326 is assumed"):
        icbs = load_boundaries(path)

    assert icbs.crs.to_epsg() == 4326
    assert (
        icbs.geometry.iloc[0]
        .normalize()
        .equals_exact(lonlat.geometry.iloc[0].normalize(), tolerance=1e-9)
    )


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_file_without_crs_in_metres_is_refused(tmp_path):
    metres = boundary_frame([SQUARE]).set_crs(None, allow_override=True)
    path = _write(metres, tmp_path / "no_prj.shp")

    with pytest.raises(InputError, match=r"no_prj\.shp: has no CRS and its coordinates are not"):
        load_boundaries(path)


def test_unsupported_extension_is_refused(tmp_path):
    path = tmp_path / "icbs.csv"
    path.write_text("ICB23CD\nE54000001\n")

    with pytest.raises(InputError, match=r"icbs\.csv: expected GeoJSON.*not \.csv"):
        load_boundaries(path)


# Explicit columns for files with other names


def test_explicit_columns_read_a_file_with_other_names(tmp_path):
    frame = gpd.GeoDataFrame(
        {"area_id": ["E54000902", "E54000901"], "label": ["Second", "First"], "org": ["B", "A"]},
        geometry=[TOUCHING_RIGHT, TOUCHING_LEFT],
        crs="EPSG:27700",
    )
    path = _write(frame, tmp_path / "areas.geojson")

    areas = load_boundaries(
        path,
        kind="icb",
        vintage="2025",
        columns={"code": "area_id", "name": "label", "ods_code": "org"},
    )

    assert areas[["code", "name", "ods_code", "kind", "vintage"]].to_dict("records") == [
        {"code": "E54000901", "name": "First", "ods_code": "A", "kind": "icb", "vintage": "2025"},
        {"code": "E54000902", "name": "Second", "ods_code": "B", "kind": "icb", "vintage": "2025"},
    ]
    assert not areas["repaired"].any()


def test_explicit_column_that_is_absent_lists_the_columns_found(tmp_path):
    path = _write(boundary_frame([SQUARE]), tmp_path / "icbs.geojson")

    with pytest.raises(InputError, match=r"icbs\.geojson: has no column area_id; its columns are"):
        load_boundaries(path, kind="icb", vintage="2024", columns={"code": "area_id"})


def test_explicit_columns_without_a_vintage_are_refused(tmp_path):
    path = _write(boundary_frame([SQUARE]), tmp_path / "icbs.geojson")

    with pytest.raises(InputError, match=r"icbs\.geojson: explicit columns need a vintage"):
        load_boundaries(path, kind="icb", columns={"code": "ICB23CD"})


# Validation messages name the file, the column and the codes


def test_duplicate_codes_are_listed(tmp_path):
    frame = boundary_frame([SQUARE, TOUCHING_RIGHT, MULTIPART, WITH_HOLE])
    frame.loc[[1, 3], "ICB23CD"] = frame.loc[[0, 2], "ICB23CD"].to_numpy()
    path = _write(frame, tmp_path / "icbs.geojson")

    with pytest.raises(InputError) as raised:
        load_boundaries(path)

    assert str(raised.value) == (
        "boundary file icbs.geojson: column ICB23CD has 2 duplicate codes: E54000001, E54000003"
    )


def test_codes_that_differ_only_by_invisible_characters_are_duplicates(tmp_path):
    frame = boundary_frame([SQUARE, TOUCHING_RIGHT])
    frame.loc[1, "ICB23CD"] = frame.loc[0, "ICB23CD"] + "\u200b"
    path = _write(frame, tmp_path / "icbs.geojson")

    with pytest.raises(InputError, match=r"column ICB23CD has 1 duplicate code: E54000001$"):
        load_boundaries(path)


def test_a_code_of_only_invisible_characters_is_missing(tmp_path):
    frame = boundary_frame([SQUARE, TOUCHING_RIGHT])
    frame.loc[1, "ICB23CD"] = "\u200b\u202e"
    path = _write(frame, tmp_path / "icbs.geojson")

    with pytest.raises(InputError, match=r"column ICB23CD is empty in 1 feature\(s\): 2"):
        load_boundaries(path)


def test_missing_codes_are_reported_by_feature_number(tmp_path):
    frame = boundary_frame([SQUARE, TOUCHING_RIGHT])
    frame.loc[1, "ICB23CD"] = None
    path = _write(frame, tmp_path / "icbs.geojson")

    with pytest.raises(
        InputError, match=r"icbs\.geojson: column ICB23CD is empty in 1 feature\(s\): 2"
    ):
        load_boundaries(path)


def test_empty_geometry_is_reported_with_its_code(tmp_path):
    path = _write(boundary_frame([SQUARE, EMPTY]), tmp_path / "icbs.geojson")

    with pytest.raises(
        InputError, match=r"icbs\.geojson: column ICB23CD .* empty or missing geometry: E54000002$"
    ):
        load_boundaries(path)


def test_point_geometry_is_reported_with_its_code_and_type(tmp_path):
    path = _write(boundary_frame([POINT, LINE], prefix="SICBL24"), tmp_path / "sites.gpkg")

    with pytest.raises(InputError) as raised:
        load_boundaries(path)

    assert str(raised.value) == (
        "boundary file sites.gpkg: column SICBL24CD has 2 code(s) with non-polygon geometry: "
        "E38000001 (Point), E38000002 (LineString); expected Polygon or MultiPolygon"
    )


def test_a_file_that_is_not_a_boundary_file_lists_its_columns(shared_data):
    with pytest.raises(InputError) as raised:
        load_boundaries(shared_data / "local_authority_districts_2024_05_uk_buc.geojson")

    message = str(raised.value)
    assert message.startswith("boundary file local_authority_districts_2024_05_uk_buc.geojson:")
    assert "LAD24CD, LAD24NM, RGN24CD, RGN24NM" in message
    assert "expected an ONS code column such as ICB23CD" in message


# Awkward but valid geometry, and repair


def test_holes_and_multipart_geometry_pass_through_unrepaired(tmp_path):
    enclave = square(X0 + 1_000, Y0 + 1_000)  # the area in WITH_HOLE's hole
    islands = shapely.affinity.translate(MULTIPART, xoff=10_000)
    path = _write(boundary_frame([WITH_HOLE, enclave, islands]), tmp_path / "icbs.geojson")

    icbs = load_boundaries(path)

    assert not icbs["repaired"].any()
    assert list(icbs.geometry.geom_type) == ["Polygon", "Polygon", "MultiPolygon"]
    assert len(icbs.geometry.iloc[0].interiors) == 1
    expected = [WITH_HOLE.area, enclave.area, MULTIPART.area]
    assert _metric_areas(icbs).tolist() == pytest.approx(expected, rel=1e-6)


def test_invalid_bow_tie_is_repaired_and_flagged(tmp_path):
    path = _write(boundary_frame([square(X0 + 5_000), BOW_TIE]), tmp_path / "icbs.geojson")

    icbs = load_boundaries(path)

    assert icbs["repaired"].tolist() == [False, True]
    assert icbs.geometry.is_valid.all()
    assert icbs.geometry.iloc[1].geom_type == "MultiPolygon"
    assert _metric_areas(icbs).iloc[1] == pytest.approx(BOW_TIE_AREA_M2, rel=1e-4)
    assert (
        check_boundaries(icbs)[-1]
        == "icb layer 2023: 1 invalid geometries were repaired: E54000002"
    )


# Counts and checks


@pytest.mark.parametrize(
    ("kind", "vintage", "filename"),
    [
        ("icb", "2022", "icb_2022_07_buc.geojson"),
        ("icb", "2023", "icb_2023_04_bgc.geojson"),
        ("icb", "2024", "icb_2024_04_from_lsoa21_bsc.geojson"),
        ("icb", "2026", "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"),
        ("nhser", "2024", "nhs_england_regions_2024_01_bgc.geojson"),
    ],
)
def test_expected_count_follows_the_ons_publications(shared_data, kind, vintage, filename):
    assert expected_count(kind, vintage) == len(feature_table(shared_data / filename))


def test_expected_count_is_unknown_for_an_unpublished_vintage():
    assert expected_count("icb", "2019") is None


def test_partial_layer_gets_a_warning_not_an_error(tmp_path):
    path = _write(boundary_frame([TOUCHING_LEFT, TOUCHING_RIGHT]), tmp_path / "icbs.geojson")

    assert check_boundaries(load_boundaries(path)) == [
        f"icb layer 2023 has 2 areas; ONS publishes {expected_count('icb', '2023')}"
    ]


def test_codes_of_another_kind_are_refused_by_name(tmp_path):
    frame = boundary_frame([SQUARE], prefix="ICB26")
    frame["ICB26CD"] = ["E38000001"]

    with pytest.raises(InputError) as raised:
        load_boundaries(_write(frame, tmp_path / "icbs.geojson"))

    assert str(raised.value) == (
        "boundary file icbs.geojson: column ICB26CD has 1 code(s) that are not ICB codes "
        "(E54 and six digits): E38000001; expected ICB codes only"
    )


def test_detect_layer_prefers_the_sub_icb_columns():
    layer = detect_layer(["ICB24CD", "SICBL24CD", "SICBL24NM", "SICBL24CDH"])

    assert (layer.kind, layer.vintage, layer.code, layer.ods_code) == (
        "sicbl",
        "2024",
        "SICBL24CD",
        "SICBL24CDH",
    )


# Display copy


def test_display_copy_keeps_a_zigzag_border_shared():
    left, right = zigzag_neighbours()
    frame = boundary_frame([left, right])

    display = display_boundaries(frame, tolerance_m=500)
    metric = display.to_crs("EPSG:27700").geometry

    assert display.crs.to_epsg() == 4326
    assert shapely.get_num_coordinates(display.geometry.values).sum() < (
        shapely.get_num_coordinates(frame.geometry.values).sum() / 4
    )
    assert metric.iloc[0].intersection(metric.iloc[1]).area < 1.0
    union = shapely.union_all(metric.values)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    assert union.area == pytest.approx(metric.area.sum(), rel=1e-9)


def test_display_copy_rounds_coordinates_to_five_decimals():
    display = display_boundaries(boundary_frame([WITH_HOLE, MULTIPART]))

    coordinates = shapely.get_coordinates(display.geometry.values)
    assert (abs(coordinates * 1e5 - (coordinates * 1e5).round()) < 1e-6).all()


def test_display_copy_keeps_columns_and_leaves_the_input_alone():
    frame = boundary_frame([TOUCHING_LEFT, TOUCHING_RIGHT])
    before = frame.copy()

    display = display_boundaries(frame)

    assert list(display.columns) == list(frame.columns)
    assert display["ICB23CD"].tolist() == frame["ICB23CD"].tolist()
    assert_geodataframe_equal(frame, before)


def test_display_copy_of_an_empty_layer_is_empty_and_typed():
    empty = boundary_frame([square()]).iloc[:0]

    display = display_boundaries(empty)

    assert display.empty
    assert display.crs.to_epsg() == 4326
    assert list(display.columns) == list(empty.columns)


def test_national_display_geojson_is_under_one_megabyte(icb_2023, icb_2023_display):
    size_mb = len(icb_2023_display.to_json()) / 1e6

    assert size_mb < 1.0, f"display GeoJSON is {size_mb:.2f} MB"
    assert len(icb_2023.to_json()) / 1e6 > 4 * size_mb


def test_national_display_copy_has_no_gaps_or_overlaps(icb_2023, icb_2023_display):
    metric = icb_2023_display.to_crs("EPSG:27700").geometry.values
    detailed = icb_2023.to_crs("EPSG:27700").geometry.values
    detailed_union = shapely.coverage_union_all(detailed)

    union = shapely.union_all(metric)
    assert union.area == pytest.approx(shapely.area(metric).sum(), rel=1e-9)
    assert union.area == pytest.approx(detailed_union.area, rel=5e-3)
    assert _holes(union) <= _holes(detailed_union)  # no new slivers between neighbours
    tree = shapely.STRtree(metric)
    pairs = tree.query(metric, predicate="intersects")
    overlaps = [
        shapely.intersection(metric[i], metric[j]).area
        for i, j in zip(*pairs, strict=True)
        if i < j
    ]
    assert _neighbours(pairs) == _neighbours(
        shapely.STRtree(detailed).query(detailed, predicate="intersects")
    )  # every pair of neighbours is kept, and no new pair is made
    assert max(overlaps) < 1.0  # square metres


def _neighbours(pairs: np.ndarray) -> set[tuple[int, int]]:
    """The pairs of distinct areas an STRtree self-query found touching, each once."""
    return {(i, j) for i, j in zip(*pairs.tolist(), strict=True) if i < j}


def _holes(geometry: shapely.Geometry) -> int:
    return sum(len(polygon.interiors) for polygon in shapely.get_parts(geometry))


def test_display_copy_misassigns_some_real_hospitals(shared_data, icb_2023, icb_2023_display):
    hospitals = hospitals_table(shared_data)
    sites = gpd.GeoDataFrame(
        hospitals[["hospitalId"]],
        geometry=gpd.points_from_xy(hospitals["long"], hospitals["lat"]),
        crs="EPSG:4326",
    )

    def assign(layer: gpd.GeoDataFrame) -> pd.Series:
        assert layer.crs == sites.crs
        joined = gpd.sjoin(sites, layer[["code", "geometry"]], how="left", predicate="within")
        return joined.groupby(level=0)["code"].first().fillna("outside")

    detailed, display = assign(icb_2023), assign(icb_2023_display)
    differing = (detailed != display).sum()
    percent = 100 * differing / len(sites)

    assert len(detailed) == len(display) == len(hospitals)
    assert differing > 0, f"display copy misassigns {differing} hospitals ({percent:.2f}%)"
    assert percent < 5, f"display copy misassigns {differing} hospitals ({percent:.2f}%)"


def test_display_tolerance_cannot_be_negative():
    with pytest.raises(InputError, match="expected 0 or more metres"):
        display_boundaries(boundary_frame([SQUARE]), tolerance_m=-1)


def test_every_pair_of_touching_neighbours_still_touches_after_display():
    frame = boundary_frame([TOUCHING_LEFT, TOUCHING_RIGHT, square(401_000, 301_000)])

    metric = display_boundaries(frame, tolerance_m=50).to_crs("EPSG:27700").geometry

    for a, b in itertools.combinations(range(3), 2):
        assert metric.iloc[a].touches(metric.iloc[b]) == frame.geometry.iloc[a].touches(
            frame.geometry.iloc[b]
        )


# A layer that is not one of England's area layers is refused, naming the check and the codes


REAL_LAYERS = [
    *(filename for filename, _ in ICB_FILES),
    "nhs_england_regions_2024_01_bgc.geojson",
    "sub_icb_locations_2022_07_from_lsoa11_bsc.geojson",
    "sub_icb_locations_2023_04_bsc.geojson",
    "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson",
]


@pytest.mark.parametrize("filename", REAL_LAYERS)
def test_every_real_ons_layer_passes_every_check(shared_data, filename):
    layer = load_boundaries(shared_data / filename)

    assert len(layer) in (7, 36, 42, 106)
    assert check_boundaries(layer) == []


@pytest.fixture(scope="module")
def icb_2024(shared_data) -> gpd.GeoDataFrame:
    """The real April 2024 ICBs as ONS columns (ICB24CD, ICB24NM), in EPSG:4326."""
    return gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")


def _refused(frame: gpd.GeoDataFrame, path) -> str:
    """The one-line message `load_boundaries` refuses the layer with."""
    with pytest.raises(InputError) as raised:
        load_boundaries(_write(frame, path))
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_a_polygon_covering_the_world_is_refused_as_reaching_outside_england(icb_2024, tmp_path):
    world = icb_2024.iloc[:1].copy()
    world["geometry"] = [shapely.box(-180, -85, 180, 85)]
    layer = pd.concat([icb_2024.iloc[1:], world], ignore_index=True)

    message = _refused(layer, tmp_path / "icbs.geojson")

    assert message.startswith(
        "boundary file icbs.geojson: column ICB24CD has 1 area(s) reaching outside England "
        "(lat 49.8 to 55.9, lon -6.5 to 1.8, give or take 0.5°): "
        f"{world['ICB24CD'].iloc[0]} (lon -180.0 to 180.0, lat -85.0 to 85.0)"
    )


def test_boxes_in_the_pacific_are_refused_as_reaching_outside_england(tmp_path):
    boxes = boundary_frame(
        [shapely.box(170, -10, 171, -9), shapely.box(172, -10, 173, -9)], crs="EPSG:4326"
    )

    message = _refused(boxes, tmp_path / "icbs.geojson")

    assert "2 area(s) reaching outside England" in message
    assert "E54000001 (lon 170.0 to 171.0, lat -10.0 to -9.0), E54000002" in message


def test_icbs_that_overlap_their_neighbours_are_refused_naming_the_worst_pairs(icb_2024, tmp_path):
    grown = icb_2024.to_crs(27700)
    grown["geometry"] = grown.buffer(2_000)  # 2 km over every border: still in England

    message = _refused(grown.to_crs(4326), tmp_path / "icbs.geojson")

    assert "column ICB24CD: areas overlap by" in message
    assert "of the layer's area (at most 0.5% is allowed): E54" in message
    assert "expected areas that tile, each place in one area" in message


def test_icbs_grown_by_half_a_degree_are_refused_as_overlapping(icb_2024, tmp_path):
    grown = icb_2024.copy()
    grown["geometry"] = shapely.buffer(grown.geometry.values, 0.5)  # in degrees, as the file had

    message = _refused(grown, tmp_path / "icbs.geojson")

    share = re.search(r"column ICB24CD: areas overlap by ([\d.]+)% of the layer's area", message)
    assert float(share.group(1)) > 100  # half a degree is far more than any sliver


def test_a_layer_missing_an_inland_icb_is_refused_for_the_hole_it_leaves(icb_2024, tmp_path):
    west_yorkshire = "E54000054"
    holed = icb_2024[icb_2024["ICB24CD"] != west_yorkshire]

    message = _refused(holed, tmp_path / "icbs.geojson")

    assert "the areas leave holes of" in message
    assert "(at most 0.5% is allowed), around E54" in message
    neighbours = icb_2024[icb_2024.touches(icb_2024.set_index("ICB24CD").geometry[west_yorkshire])]
    assert all(code in message for code in neighbours["ICB24CD"])


def test_codes_that_are_not_icb_codes_are_refused(icb_2024, tmp_path):
    districts = icb_2024.assign(ICB24CD=[f"E06{n:06d}" for n in range(len(icb_2024))])

    message = _refused(districts, tmp_path / "icbs.geojson")

    assert message.startswith(
        "boundary file icbs.geojson: column ICB24CD has 42 code(s) that are not ICB codes "
        "(E54 and six digits): E06000000, E06000001"
    )


def test_british_national_grid_metres_labelled_wgs84_are_refused_with_a_hint(icb_2024, tmp_path):
    mislabelled = icb_2024.to_crs(27700).set_crs(4326, allow_override=True)

    message = _refused(mislabelled, tmp_path / "icbs.gpkg")

    assert "42 area(s) whose coordinates do not fit the CRS the file declares, EPSG:4326" in message
    assert "its coordinates look like British National Grid metres (EPSG:27700)" in message
    assert message.endswith("give the file its real CRS")


def test_british_national_grid_metres_labelled_irish_grid_are_refused_with_a_hint(
    icb_2024, tmp_path
):
    mislabelled = icb_2024.to_crs(27700).set_crs(29903, allow_override=True)

    message = _refused(mislabelled, tmp_path / "icbs.gpkg")

    assert "do not fit the CRS the file declares, EPSG:29903 (TM75 / Irish Grid)" in message
    assert "its coordinates look like British National Grid metres (EPSG:27700)" in message


def test_a_small_partial_layer_in_england_still_loads(tmp_path):
    path = _write(boundary_frame([TOUCHING_LEFT, TOUCHING_RIGHT]), tmp_path / "icbs.geojson")

    assert load_boundaries(path)["code"].tolist() == ["E54000001", "E54000002"]
