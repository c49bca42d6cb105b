"""Tests for geo/analysis/spatial.py: every site comes back with an ICB or a reason, never twice or lost."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

from geo.analysis import spatial
from geo.analysis.pipeline import Frames, analyse, provenance_table
from geo.analysis.spatial import ASSIGNED_COLUMNS, assign_sites, disagreements, icb_regions
from geo.model.errors import InputError
from geo.model.providers import CANONICAL_COLUMNS
from geo.model.sectors import INDEPENDENT, NHS
from tests.factories import in_some_polygon

TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
WEST, EAST = "E54000001", "E54000002"


def boundary_layer(shapes: dict[str, object], crs: str, vintage: str = "2023") -> gpd.GeoDataFrame:
    """A boundary layer in the boundaries module's shape: code, name, kind, vintage, geometry."""
    codes = list(shapes)
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"NHS {code} ICB" for code in codes],
            "ods_code": [None] * len(codes),
            "kind": ["icb"] * len(codes),
            "vintage": [vintage] * len(codes),
            "repaired": [False] * len(codes),
        },
        geometry=list(shapes.values()),
        crs=crs,
    )


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    """Two adjacent 10 km squares on the British National Grid; the outer edges are coast."""
    return boundary_layer(
        {
            WEST: box(400_000, 300_000, 410_000, 310_000),
            EAST: box(410_000, 300_000, 420_000, 310_000),
        },
        crs="EPSG:27700",
    )


def sites(*coordinates, official=None, **columns) -> pd.DataFrame:
    """Canonical provider rows at the given (lat, lon) pairs."""
    n = len(coordinates)
    table = pd.DataFrame({column: [pd.NA] * n for column in CANONICAL_COLUMNS})
    table["site_id"] = [f"S{i}" for i in range(n)]
    table["site_name"] = [f"Site {i}" for i in range(n)]
    table["sector"] = [INDEPENDENT] * n
    table["capacity"] = pd.array([10.0] * n, dtype="Float64")
    table["lat"] = [lat for lat, _ in coordinates]
    table["lon"] = [lon for _, lon in coordinates]
    table["official_icb_code"] = official if official is not None else [pd.NA] * n
    for name, values in columns.items():
        table[name] = values
    return table


def grid(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) of a British National Grid point."""
    lon, lat = TO_LONLAT.transform(x, y)
    return lat, lon


def test_every_row_comes_back_in_order_with_its_index(squares):
    table = sites(grid(405_000, 305_000), (None, None), grid(415_000, 305_000), grid(500_000, 0))
    table.index = [40, 10, 30, 20]
    assigned = assign_sites(table, squares)
    assert list(assigned.index) == [40, 10, 30, 20]
    assert list(assigned["site_id"]) == ["S0", "S1", "S2", "S3"]
    assert assigned.crs.to_epsg() == 4326
    assert list(assigned["spatial_icb_code"].fillna("-")) == [WEST, "-", EAST, "-"]


def test_site_inside_an_icb_gets_its_code_name_and_reason(squares):
    assigned = assign_sites(sites(grid(415_000, 305_000)), squares)
    row = assigned.iloc[0]
    assert (row["icb_code"], row["icb_name"]) == (EAST, f"NHS {EAST} ICB")
    assert row["assignment"] == "inside"
    assert row["assignment_reason"] == f"inside {EAST} NHS {EAST} ICB"
    assert row["vintage"] == "2023"
    assert row.geometry.equals_exact(shapely.Point(grid(415_000, 305_000)[::-1]), 1e-12)


def test_site_outside_every_icb_is_kept_and_flagged(squares):
    assigned = assign_sites(sites(grid(390_000, 305_000)), squares, coastal_snap_m=250)
    row = assigned.iloc[0]
    assert row["assignment"] == "outside"
    assert pd.isna(row["icb_code"])
    assert pd.isna(row["spatial_icb_code"])
    assert row["assignment_reason"] == (
        f"outside every 2023 ICB: 10.0 km from the nearest ({WEST} NHS {WEST} ICB)"
    )
    assert pd.isna(row["border_distance_m"])
    assert row.geometry.equals_exact(shapely.Point(grid(390_000, 305_000)[::-1]), 1e-12)


def test_site_just_off_the_coast_snaps_to_the_nearest_icb(squares):
    offshore = sites(grid(399_900, 305_000))
    snapped = assign_sites(offshore, squares, coastal_snap_m=250).iloc[0]
    assert (snapped["assignment"], snapped["icb_code"]) == ("nearest", WEST)
    assert snapped["assignment_reason"].startswith("100 m outside every 2023 ICB")
    assert pd.isna(snapped["border_distance_m"])
    strict = assign_sites(offshore, squares, coastal_snap_m=50).iloc[0]
    assert strict["assignment"] == "outside"
    assert pd.isna(strict["icb_code"])


def test_coastal_snap_distance_comes_from_the_settings_by_default(squares, monkeypatch):
    offshore = sites(grid(399_900, 305_000))
    monkeypatch.setenv("ICS_COASTAL_SNAP_M", "50")
    assert assign_sites(offshore, squares).iloc[0]["assignment"] == "outside"
    monkeypatch.setenv("ICS_COASTAL_SNAP_M", "150")
    assert assign_sites(offshore, squares).iloc[0]["assignment"] == "nearest"


def test_site_without_coordinates_is_kept_and_flagged(squares):
    table = sites((None, None), ("abc", "-1.5"), (0.0, 0.0), (123.0, 4.0), ("", " "))
    assigned = assign_sites(table, squares)
    assert list(assigned["assignment"]) == ["no coordinates"] * 5
    assert assigned.geometry.isna().all()
    assert assigned["icb_code"].isna().all()
    reasons = list(assigned["assignment_reason"])
    assert reasons[0] == "no coordinates"
    assert "not both numbers" in reasons[1]
    assert "'abc'" in reasons[1]
    assert "placeholder" in reasons[2]
    assert "out of range" in reasons[3]
    assert reasons[4] == "no coordinates"


def test_swapped_latitude_and_longitude_are_flagged_not_fixed(squares):
    lat, lon = grid(405_000, 305_000)
    assigned = assign_sites(sites((lon, lat)), squares)
    row = assigned.iloc[0]
    assert row["assignment"] == "outside"
    assert pd.isna(row["icb_code"])
    assert row["assignment_reason"] == (
        f"latitude and longitude look swapped (lat {lon:g}, lon {lat:g})"
    )
    assert (row.geometry.x, row.geometry.y) == (lat, lon)  # kept as given


def test_site_on_the_shared_border_appears_once_in_the_lowest_code():
    layer = boundary_layer(
        {EAST: box(-1.0, 52.0, -0.9, 52.1), WEST: box(-1.1, 52.0, -1.0, 52.1)}, "EPSG:4326"
    )
    assigned = assign_sites(sites((52.05, -1.0), (52.1, -1.0)), layer)
    assert len(assigned) == 2
    assert list(assigned["icb_code"]) == [WEST, WEST]
    # Zero up to the centimetres between a straight edge in degrees and one in metres.
    assert list(assigned["border_distance_m"]) == pytest.approx([0, 0], abs=0.05)


def test_site_in_a_hole_belongs_to_the_icb_that_fills_it():
    outer = Polygon(
        [(-1.2, 52.0), (-0.8, 52.0), (-0.8, 52.4), (-1.2, 52.4)],
        holes=[[(-1.1, 52.1), (-0.9, 52.1), (-0.9, 52.3), (-1.1, 52.3)]],
    )
    layer = boundary_layer({WEST: outer, EAST: box(-1.1, 52.1, -0.9, 52.3)}, "EPSG:4326")
    assigned = assign_sites(sites((52.2, -1.0), (52.05, -1.0)), layer)
    assert list(assigned["icb_code"]) == [EAST, WEST]


def test_multipart_icb_and_repaired_collection_are_both_searched():
    islands = shapely.MultiPolygon([box(-1.2, 52.0, -1.1, 52.1), box(-0.9, 52.0, -0.8, 52.1)])
    repaired = shapely.GeometryCollection(
        [box(-1.0, 53.0, -0.9, 53.1), shapely.LineString([(-1.0, 53.0), (-1.5, 53.5)])]
    )
    layer = boundary_layer({WEST: islands, EAST: repaired}, "EPSG:4326")
    assigned = assign_sites(sites((52.05, -0.85), (53.05, -0.95), (53.2, -1.2)), layer)
    assert list(assigned["icb_code"].fillna("-")) == [WEST, EAST, "-"]


def test_official_code_wins_and_the_disagreement_is_listed(squares):
    table = sites(grid(405_000, 305_000), grid(415_000, 305_000), official=[EAST, EAST])
    assigned = assign_sites(table, squares)
    assert list(assigned["assignment"]) == ["official", "official"]
    assert list(assigned["icb_code"]) == [EAST, EAST]
    assert list(assigned["spatial_icb_code"]) == [WEST, EAST]
    assert list(assigned["official_icb_agrees"]) == [False, True]
    listed = disagreements(assigned)
    assert list(listed["site_id"]) == ["S0"]
    row = listed.iloc[0]
    assert (row["official_icb_code"], row["spatial_icb_code"]) == (EAST, WEST)
    assert (row["official_icb_name"], row["spatial_icb_name"]) == (
        f"NHS {EAST} ICB",
        f"NHS {WEST} ICB",
    )


def test_official_code_is_used_even_without_coordinates(squares):
    assigned = assign_sites(sites((None, None), official=[" e54000002 "]), squares)
    row = assigned.iloc[0]
    assert (row["assignment"], row["icb_code"], row["icb_name"]) == (
        "official",
        EAST,
        f"NHS {EAST} ICB",
    )
    assert pd.isna(row["official_icb_agrees"])
    assert (
        row["assignment_reason"] == f"official ICB {EAST} NHS {EAST} ICB; location: no coordinates"
    )


def test_official_code_unknown_to_the_vintage_falls_back_to_the_location(squares):
    assigned = assign_sites(sites(grid(405_000, 305_000), official=["E54000050"]), squares)
    row = assigned.iloc[0]
    assert (row["assignment"], row["icb_code"]) == ("inside", WEST)
    assert row["assignment_reason"].startswith("official ICB E54000050 not in the 2023 boundaries")
    assert pd.isna(row["official_icb_agrees"])
    assert disagreements(assigned).empty


def test_border_distance_is_metres_to_the_neighbouring_icb(squares):
    assigned = assign_sites(sites(grid(409_000, 305_000), grid(412_500, 301_000)), squares)
    assert assigned["border_distance_m"].iloc[0] == pytest.approx(1000, abs=1)
    assert assigned["border_distance_m"].iloc[1] == pytest.approx(2500, abs=1)


def test_coastal_edge_not_shared_with_another_icb_is_not_a_border(squares):
    near_coast = sites(grid(400_500, 305_000), grid(405_000, 309_900))
    distances = assign_sites(near_coast, squares)["border_distance_m"]
    assert list(distances.round()) == [9500, 5000]


def test_lone_icb_has_no_border_distance(squares):
    assigned = assign_sites(sites(grid(405_000, 305_000)), squares.iloc[:1])
    assert assigned.iloc[0]["icb_code"] == WEST
    assert pd.isna(assigned.iloc[0]["border_distance_m"])


def test_boundaries_in_another_crs_give_the_same_assignment(squares):
    table = sites(grid(409_000, 305_000), grid(399_900, 305_000), grid(390_000, 305_000))
    in_grid = assign_sites(table, squares)
    in_lonlat = assign_sites(table, squares.to_crs("EPSG:4326"))
    pd.testing.assert_frame_equal(
        pd.DataFrame(in_grid.drop(columns="geometry")),
        pd.DataFrame(in_lonlat.drop(columns="geometry")),
    )


def test_boundaries_without_a_crs_are_rejected(squares):
    with pytest.raises(InputError, match="ICB boundaries: no CRS set"):
        assign_sites(sites(grid(405_000, 305_000)), squares.set_crs(None, allow_override=True))


def test_duplicate_boundary_codes_are_rejected_naming_them(squares):
    doubled = pd.concat([squares, squares])
    with pytest.raises(InputError, match=f"2 duplicate codes: {WEST}, {EAST}"):
        assign_sites(sites(grid(405_000, 305_000)), doubled)


def test_boundary_without_geometry_is_rejected(squares):
    broken = squares.copy()
    broken.loc[1, "geometry"] = None
    with pytest.raises(InputError, match=f"1 row has no geometry: {EAST}"):
        assign_sites(sites(grid(405_000, 305_000)), broken)


def test_sites_without_lat_lon_columns_are_rejected(squares):
    with pytest.raises(InputError, match="sites: missing column"):
        assign_sites(sites(grid(405_000, 305_000)).drop(columns="lon"), squares)


def test_negative_snap_distance_is_rejected(squares):
    with pytest.raises(InputError, match="coastal_snap_m"):
        assign_sites(sites(grid(405_000, 305_000)), squares, coastal_snap_m=-1)


def test_no_sites_gives_an_empty_typed_frame(squares):
    assigned = assign_sites(sites().astype({"lat": "Float64", "lon": "Float64"}), squares)
    assert assigned.empty
    assert set(ASSIGNED_COLUMNS) <= set(assigned.columns)
    assert assigned["border_distance_m"].dtype == "Float64"
    assert assigned.crs.to_epsg() == 4326


def test_assigning_twice_replaces_the_earlier_columns(squares):
    once = assign_sites(sites(grid(405_000, 305_000)), squares)
    moved = once.assign(lat=[grid(415_000, 305_000)[0]], lon=[grid(415_000, 305_000)[1]])
    twice = assign_sites(moved, squares)
    assert list(twice.columns) == list(once.columns)
    assert twice.iloc[0]["icb_code"] == EAST


def test_sub_icb_and_region_columns_are_added_when_layers_given(squares):
    sub_icbs = boundary_layer(
        {
            "E38000001": box(400_000, 300_000, 410_000, 305_000),
            "E38000002": box(400_000, 305_000, 410_000, 310_000),
            "E38000003": box(410_000, 300_000, 420_000, 310_000),
        },
        crs="EPSG:27700",
    )
    regions = boundary_layer({"E40000001": box(390_000, 290_000, 430_000, 320_000)}, "EPSG:27700")
    table = sites(grid(405_000, 301_000), grid(405_000, 309_000), grid(350_000, 305_000))
    lookup = icb_regions(squares, regions)
    assigned = assign_sites(table, squares, sub_icbs=sub_icbs, icb_regions=lookup)
    assert list(assigned["sicbl_code"].fillna("-")) == ["E38000001", "E38000002", "-"]
    assert list(assigned["region_code"].fillna("-")) == ["E40000001", "E40000001", "-"]
    assert assigned["region_name"].iloc[0] == "NHS E40000001 ICB"


def test_an_analysis_overlays_icbs_on_regions_once_for_sites_and_pages(squares, monkeypatch):
    regions = boundary_layer({"E40000001": box(390_000, 290_000, 430_000, 320_000)}, "EPSG:27700")
    overlays = []
    overlay = spatial.icb_regions
    monkeypatch.setattr(
        spatial, "icb_regions", lambda *layers: overlays.append(1) or overlay(*layers)
    )

    table = sites(grid(405_000, 301_000), planning_status=["unknown"])
    analysis = analyse(Frames(squares, table, provenance_table([]), regions=regions))

    assert len(overlays) == 1
    assert list(analysis.icb_regions["region_code"]) == ["E40000001", "E40000001"]
    assert list(analysis.assigned["region_code"]) == ["E40000001"]


def test_icb_regions_picks_the_region_with_the_largest_overlap(squares):
    regions = boundary_layer(
        {
            "E40000002": box(400_000, 300_000, 412_000, 310_000),  # all of WEST, a fifth of EAST
            "E40000001": box(412_000, 300_000, 420_000, 310_000),  # the rest of EAST
        },
        crs="EPSG:27700",
    )
    table = icb_regions(squares.to_crs("EPSG:4326"), regions)
    assert list(table.columns) == ["icb_code", "region_code", "region_name"]
    assert list(table["icb_code"]) == [WEST, EAST]
    assert list(table["region_code"]) == ["E40000002", "E40000001"]


def test_icb_regions_keeps_an_icb_with_no_region(squares):
    far = boundary_layer({"E40000001": box(500_000, 500_000, 510_000, 510_000)}, "EPSG:27700")
    table = icb_regions(squares, far)
    assert list(table["icb_code"]) == [WEST, EAST]
    assert table["region_code"].isna().all()


# --- real data ----------------------------------------------------------------------------------

ICB_LAYERS = {
    "2023": ("icb_2023_04_bgc.geojson", "ICB23", "icb24_code"),
    "2024": ("icb_2024_04_from_lsoa21_bsc.geojson", "ICB24", "icb24_code"),
    "2026": ("icb_2026_04_reconstructed_from_lsoa21_bsc.geojson", "ICB26", "icb26_code"),
}


def read_layer(path, prefix: str, vintage: str, kind: str = "icb") -> gpd.GeoDataFrame:
    """An ONS boundary file renamed to the boundaries module's columns."""
    layer = gpd.read_file(path)
    renamed = layer.rename(columns={f"{prefix}CD": "code", f"{prefix}NM": "name"})
    return renamed[["code", "name", "geometry"]].assign(kind=kind, vintage=vintage)


@pytest.fixture(scope="module")
def hospitals_file(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")


@pytest.fixture(scope="module")
def hospitals(hospitals_file) -> pd.DataFrame:
    """The 1,213 real hospitals as canonical provider rows."""
    file = hospitals_file
    sector = {"NHS Sector": NHS, "Independent Sector": INDEPENDENT}
    return pd.DataFrame(
        {
            "site_id": file["hospitalId"],
            "site_name": file["name"],
            "sector": file["sector"].map(sector),
            "postcode": file["pcds"],
            "lat": file["lat"],
            "lon": file["long"],
            "official_icb_code": pd.array([pd.NA] * len(file), dtype="str"),
        }
    )


@pytest.mark.shared_data
@pytest.mark.parametrize("vintage", sorted(ICB_LAYERS))
def test_real_hospitals_all_english_sites_get_their_icb(
    shared_data, hospitals, hospitals_file, vintage
):
    file_name, prefix, expected_column = ICB_LAYERS[vintage]
    icbs = read_layer(shared_data / file_name, prefix, vintage)
    assigned = assign_sites(hospitals, icbs)
    english = ~hospitals_file["outside_england"].to_numpy()
    within = in_some_polygon(hospitals["lon"], hospitals["lat"], icbs)
    assert len(assigned) == len(hospitals)
    assert list(assigned["assignment"][english]) == list(
        np.where(within, "inside", "nearest")[english]
    )
    assert list(assigned["assignment"][~english]) == ["outside"] * (~english).sum()
    assert list(assigned["site_name"][(assigned["assignment"] == "outside").to_numpy()]) == list(
        hospitals_file["name"][~english]
    )
    expected = hospitals_file[expected_column][english].to_numpy(dtype=object)
    assert (assigned["icb_code"][english].to_numpy(dtype=object) == expected).all()
    assert (
        assigned["border_distance_m"][(assigned["assignment"] == "inside").to_numpy()].notna().all()
    )


@pytest.mark.shared_data
def test_real_border_distance_equals_distance_to_the_other_icbs(shared_data, hospitals):
    icbs = read_layer(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", "ICB24", "2024")
    sample = hospitals.sample(25, random_state=7)
    assigned = assign_sites(sample, icbs)
    metric = icbs.to_crs("EPSG:27700").set_index("code").geometry
    for _, site in assigned[assigned["assignment"] == "inside"].iterrows():
        others = shapely.union_all(metric.drop(site["icb_code"]).to_numpy())
        point = gpd.GeoSeries([site.geometry], crs="EPSG:4326").to_crs("EPSG:27700").iloc[0]
        assert site["border_distance_m"] == pytest.approx(point.distance(others), abs=0.01)


@pytest.mark.shared_data
def test_real_sub_icbs_nest_in_the_assigned_icbs(shared_data, hospitals, hospitals_file):
    icbs = read_layer(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", "ICB24", "2024")
    sub_file = gpd.read_file(shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson")
    sub_icbs = sub_file.rename(columns={"SICBL24CD": "code", "SICBL24NM": "name"})
    assigned = assign_sites(hospitals, icbs, sub_icbs=sub_icbs.assign(vintage="2024"))
    parent = assigned["sicbl_code"].map(sub_icbs.set_index("code")["ICB24CD"])
    english = ~hospitals_file["outside_england"].to_numpy()
    assert assigned["sicbl_code"][english].notna().all()
    assert (parent[english] == assigned["icb_code"][english]).all()


@pytest.mark.shared_data
def test_real_icbs_get_the_region_they_nest_in(shared_data):
    icbs = read_layer(shared_data / "icb_2023_04_bgc.geojson", "ICB23", "2023")
    regions = read_layer(
        shared_data / "nhs_england_regions_2024_01_bgc.geojson", "NHSER24", "2024", "nhser"
    )
    table = icb_regions(icbs, regions).merge(
        icbs[["code", "name"]], left_on="icb_code", right_on="code"
    )
    assert len(table) == len(icbs)
    assert table["region_code"].notna().all()
    in_london = table["name"].str.contains("London").to_numpy()
    assert (table["region_name"][in_london] == "London").all()
    assert not (table["region_name"][~in_london] == "London").any()
    assert table["region_code"].nunique() == len(regions)


def test_disagreements_of_a_frame_without_official_codes_is_empty(squares):
    assigned = assign_sites(sites(grid(405_000, 305_000), grid(415_000, 305_000)), squares)
    listed = disagreements(assigned)
    assert listed.empty
    assert "official_icb_code" in listed.columns
    assert np.all(assigned["official_icb_agrees"].isna())
