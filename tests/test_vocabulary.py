"""Tests for geo/model/vocabulary.py: one definition of England's codes and plausible
coordinates, so validation, assignment, the map and the briefings judge a site alike."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.engagement import load_engagement
from geo.analysis.spatial import assign_sites
from geo.maps.events import parse_map_event
from geo.maps.payload import read_site_payload, site_payload
from geo.model import providers
from geo.model.errors import InputError
from geo.model.vocabulary import (
    ASSIGNMENTS,
    EARTH_LAT,
    ENGLAND_LAT,
    ENGLAND_LON,
    in_england,
    is_icb_code,
    looks_swapped,
    on_earth,
)
from geo.publish import mapping, validation

# (lat, lon) pairs near the edges of England's box, given the right way round and swapped.
EDGE_PAIRS = [
    (53.8, -1.55),  # Leeds
    (49.9, -6.3),  # the Isles of Scilly
    (55.8, -2.0),  # Berwick-upon-Tweed
    (52.48, 1.75),  # Lowestoft
    (50.0, -6.8),  # west of Scilly: the sea
    (55.95, 1.9),  # north-east of Berwick: the sea
    (57.15, -2.13),  # Aberdeen
]
PROBES = EDGE_PAIRS + [(lon, lat) for lat, lon in EDGE_PAIRS]


@pytest.fixture
def one_icb() -> gpd.GeoDataFrame:
    """One 10 km square ICB near Leicester."""
    return gpd.GeoDataFrame(
        {
            "code": ["E54000001"],
            "name": ["NHS Square ICB"],
            "ods_code": [None],
            "kind": ["icb"],
            "vintage": ["2023"],
            "repaired": [False],
        },
        geometry=[box(400_000, 300_000, 410_000, 310_000)],
        crs="EPSG:27700",
    )


def canonical_sites(pairs: list[tuple[float, float]]) -> providers.ProviderList:
    """Provider rows at the given (lat, lon) pairs, as a reader makes them."""
    rows = pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(pairs))],
            "site_name": [f"Site {i}" for i in range(len(pairs))],
            "sector": "NHS",
            "lat": [str(lat) for lat, _ in pairs],
            "lon": [str(lon) for _, lon in pairs],
        },
        dtype="string",
    )
    return providers.to_canonical(rows, {}, source="test list")


def test_the_box_holds_england_from_scilly_to_berwick_and_lowestoft():
    lat = np.array([49.9, 55.8, 52.48, 53.8, 57.15, 48.9])
    lon = np.array([-6.3, -2.0, 1.75, -1.55, -2.13, 2.35])  # ... Aberdeen, Paris

    assert in_england(lat, lon).tolist() == [True, True, True, True, False, False]
    assert looks_swapped(lon, lat).tolist() == [True, True, True, True, False, False]
    assert not in_england(np.array([np.nan]), np.array([-1.5]))[0]


def test_validation_and_assignment_call_the_same_pairs_swapped(one_icb):
    listed = canonical_sites(PROBES)

    report = validation.validate_sites(listed, file_name="list.csv")
    assigned = assign_sites(listed.sites, one_icb)

    by_validation = report.rows["reason"].str.contains("look swapped").tolist()
    by_assignment = assigned["assignment_reason"].str.contains("look swapped").tolist()
    assert by_validation == by_assignment
    assert by_validation == [False] * len(EDGE_PAIRS) + [True] * 4 + [False] * 3


def test_validation_accepts_exactly_the_pairs_in_englands_box():
    listed = canonical_sites(PROBES)

    report = validation.validate_sites(listed, file_name="list.csv")

    lat = np.array([lat for lat, _ in PROBES])
    lon = np.array([lon for _, lon in PROBES])
    assert (report.rows["status"] == "accepted").tolist() == in_england(lat, lon).tolist()
    outside = report.rows.loc[report.rows["reason"].str.contains("outside England"), "reason"]
    assert outside.str.contains(f"lat {ENGLAND_LAT[0]} to {ENGLAND_LAT[1]}").all()
    assert outside.str.contains(f"lon {ENGLAND_LON[0]} to {ENGLAND_LON[1]}").all()


def test_every_site_assignment_places_is_one_the_map_can_draw(one_icb):
    top = EARTH_LAT[1]
    listed = canonical_sites([(top, 0.0), (top + 1, 0.0), (-top - 1, 10.0)])

    assigned = assign_sites(listed.sites, one_icb)
    payload = site_payload(assigned)

    reasons = assigned["assignment_reason"].tolist()
    assert reasons[0].startswith("outside every 2023 ICB")
    assert [reason.endswith("are out of range") for reason in reasons] == [False, True, True]
    assert (payload["count"], payload["unmapped"]) == (1, 2)
    assert on_earth(np.array([top, top + 1]), np.array([0.0, 0.0])).tolist() == [True, False]


def test_the_map_refuses_what_assignment_calls_out_of_range():
    frame = pd.DataFrame(
        {"site_name": ["North pole"], "sector": ["NHS"], "lat": [EARTH_LAT[1] + 1], "lon": [0.0]}
    )

    with pytest.raises(InputError, match=f"expected latitude within ±{EARTH_LAT[1]:g}"):
        site_payload(frame)


def test_every_way_of_assigning_a_site_reaches_the_map():
    kinds = list(ASSIGNMENTS)
    frame = pd.DataFrame(
        {
            "site_name": [f"Site {i}" for i in range(len(kinds))],
            "sector": "NHS",
            "lat": np.linspace(51.0, 53.0, len(kinds)),
            "lon": -1.0,
            "assignment": kinds,
        }
    )

    decoded = read_site_payload(site_payload(frame)).sort_values("site_name")

    assert decoded["assignment"].tolist() == kinds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("E54000008", True),
        ("e54000008", False),
        ("E5400008", False),
        ("E540000080", False),
        ("E38000001", False),
        (" E54000008", False),
        (None, False),
    ],
)
def test_an_icb_code_is_e54_and_six_digits_exactly(value, expected):
    assert is_icb_code(pd.Series([value], dtype=object)).tolist() == [expected]


def test_a_clicked_tooltip_yields_the_icb_code_it_names():
    event = parse_map_event({"last_object_clicked_tooltip": "NHS Leeds ICB (E54000054), 40%"})

    assert event.clicked_icb_code == "E54000054"


@pytest.mark.parametrize("header", ["ICB23CD", "icb26cd"])
def test_an_ons_icb_code_column_is_recognised_by_the_mapping_and_the_engagement_list(
    tmp_path, header
):
    raw = pd.DataFrame({"name": ["A Care Ltd"], header: ["see notes"]}, dtype="string")
    path = tmp_path / "engaged.csv"
    path.write_text(f"name,{header}\nA Care Ltd,E54000054\n", encoding="utf-8")

    assert mapping.suggest_columns(raw)["official_icb_code"] == header
    assert load_engagement(path)["icb_code"].tolist() == ["E54000054"]
