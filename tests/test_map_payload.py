"""Tests for geo/maps/payload.py: every site arrives in the browser, escaped, in a few bytes."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo.maps.codec import unpack_bits
from geo.maps.payload import (
    ordered_site_payload,
    read_site_payload,
    script_json,
    shown_mask,
    site_payload,
)
from geo.model.errors import InputError
from tests.factories import CHESHIRE, XSS, site, sites_frame, synthetic_sites


def test_every_field_survives_the_round_trip_with_strings_escaped():
    sites = sites_frame(
        site(XSS, -0.1276, 51.5072, beds=12.0, border_distance_m=2549.0),
        site("St John's & St Mary's", -1.8904, 52.4862, sector="NHS", status="engaged", beds=40.0),
    )
    decoded = read_site_payload(site_payload(sites)).sort_values("lat").reset_index(drop=True)
    assert decoded["site_name"].tolist() == [
        "&lt;img src=x onerror=alert(1)&gt;",
        "St John&#x27;s &amp; St Mary&#x27;s",
    ]
    assert decoded["lat"].tolist() == pytest.approx([51.5072, 52.4862], abs=1e-5)
    assert decoded["lon"].tolist() == pytest.approx([-0.1276, -1.8904], abs=1e-5)
    assert decoded["sector"].tolist() == ["Independent", "NHS"]
    assert decoded["planning_status"].tolist() == ["not engaged", "engaged"]
    assert decoded["capacity"].tolist() == [12.0, 40.0]
    assert decoded["border_distance_m"].tolist() == [2500.0, 1200.0]  # kept to 100 m, shown in km
    assert decoded["icb_code"].tolist() == [CHESHIRE, CHESHIRE]
    assert decoded["official_icb_agrees"].tolist() == ["agrees", "agrees"]


def test_raw_markup_never_reaches_the_script_json():
    text = script_json(site_payload(sites_frame(site(XSS, -0.1, 51.5))))
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in text
    assert json.loads(text)["strings"]["name"] == "&lt;img src=x onerror=alert(1)&gt;"


def test_template_braces_in_names_become_entities():
    payload = site_payload(sites_frame(site("{{ 7*7 }} {% if %}", -0.1, 51.5)))
    assert payload["strings"]["name"] == "&#123;&#123; 7*7 &#125;&#125; &#123;% if %&#125;"


def test_script_json_escapes_line_separators_and_round_trips():
    value = {"a": "x\u2028y\u2029z </script> & more"}
    text = script_json(value)
    assert "\u2028" not in text
    assert "\u2029" not in text
    assert "</script>" not in text
    assert json.loads(text) == value


def test_sites_without_coordinates_are_counted_not_drawn():
    sites = sites_frame(site("Here", -0.1, 51.5), site("Nowhere"))
    payload = site_payload(sites)
    assert (payload["count"], payload["unmapped"]) == (1, 1)
    assert read_site_payload(payload)["site_name"].tolist() == ["Here"]


def test_a_mask_shows_exactly_the_rows_a_filter_keeps_in_the_payloads_own_order():
    sites = pd.concat(
        [synthetic_sites(500), sites_frame(site("Nowhere"), site("Also nowhere"))],
        ignore_index=True,
    )
    payload, order = ordered_site_payload(sites)
    decoded = read_site_payload(payload)
    assert decoded["site_name"].tolist() == sites["site_name"].iloc[order].tolist()
    kept = np.flatnonzero(sites["sector"].iloc[:500].eq("Independent").to_numpy())
    kept = np.append(kept, len(sites) - 1)  # a kept row with no coordinates is in no payload
    mask, shown = shown_mask(order, kept, len(sites))
    flags = unpack_bits(mask, payload["count"])
    assert shown == int(flags.sum()) == len(kept) - 1
    assert sorted(decoded.loc[flags, "site_name"]) == sorted(sites["site_name"].iloc[kept[:-1]])
    assert set(decoded.loc[flags, "sector"]) == {"Independent"}


def test_a_plain_frame_with_lat_lon_columns_is_accepted():
    frame = pd.DataFrame(
        {
            "site_name": ["A", "B"],
            "sector": ["NHS", "Voluntary"],
            "lat": [51.5, pd.NA],
            "lon": [-0.1, pd.NA],
        }
    )
    payload = site_payload(frame)
    assert (payload["count"], payload["unmapped"]) == (1, 1)
    assert read_site_payload(payload)["planning_status"].tolist() == ["unknown"]


def test_sites_in_british_national_grid_are_drawn_in_degrees():
    sites = sites_frame(site("Trafalgar Square", -0.1281, 51.5080)).to_crs(27700)
    decoded = read_site_payload(site_payload(sites))
    assert decoded.loc[0, ["lat", "lon"]].tolist() == pytest.approx([51.5080, -0.1281], abs=1e-5)


def test_an_official_icb_that_differs_is_carried_with_its_code():
    sites = sites_frame(
        site("Border House", -0.1, 51.5, official_icb_code="E54000030", official_icb_agrees=False)
    )
    decoded = read_site_payload(site_payload(sites))
    assert decoded.loc[0, "official_icb_differs"] == "E54000030"
    assert decoded.loc[0, "official_icb_agrees"] == "differs"


def test_missing_optional_fields_decode_as_missing():
    sites = sites_frame(site("Unknowns", -0.1, 51.5, beds=np.nan, border_distance_m=np.nan))
    sites["icb_code"] = pd.Series([pd.NA], dtype="string")
    decoded = read_site_payload(site_payload(sites))
    assert decoded["capacity"].isna().all()
    assert decoded["border_distance_m"].isna().all()
    assert decoded.loc[0, "icb_code"] is None


def test_repeated_names_are_sent_once():
    sites = sites_frame(*(site("Boots Pharmacy", -0.1 + i / 100, 51.5) for i in range(200)))
    payload = site_payload(sites)
    assert payload["strings"]["name"] == "Boots Pharmacy"
    assert read_site_payload(payload)["site_name"].eq("Boots Pharmacy").all()


def test_fractional_capacity_keeps_one_decimal():
    sites = sites_frame(site("Half", -0.1, 51.5, beds=2.5), site("Whole", 0.1, 51.5, beds=3.0))
    decoded = read_site_payload(site_payload(sites)).sort_values("lon")
    assert decoded["capacity"].tolist() == [2.5, 3.0]


def test_ten_thousand_sites_cost_under_twenty_bytes_each_besides_their_text():
    sites = synthetic_sites(10_000)
    payload = site_payload(sites)
    text = script_json(payload)
    text_bytes = sum(len(table.encode()) for table in payload["strings"].values())
    assert len(text.encode()) - text_bytes < 20 * len(sites)  # 4 MB for 100k leaves 20 for names
    decoded = read_site_payload(json.loads(text))
    assert len(decoded) == len(sites)
    assert sorted(decoded["site_name"]) == sorted(sites["site_name"])
    assert np.sort(decoded["lat"].to_numpy()) == pytest.approx(
        np.sort(sites.geometry.y.to_numpy()), abs=1e-5
    )


def test_an_empty_selection_gives_an_empty_payload():
    payload = site_payload(sites_frame(site("A", -0.1, 51.5)).iloc[:0])
    assert (payload["count"], payload["unmapped"]) == (0, 0)
    assert read_site_payload(payload).empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sector": "Private"}, "column sector has 1 values outside NHS, Local authority"),
        ({"status": "maybe"}, "column planning_status has 1 values outside engaged"),
        ({"assignment": "somewhere"}, "column assignment has 1 values outside inside"),
        ({"beds": -3.0}, "column capacity has 1 negative values (rows 0)"),
        ({"lat": 95.0}, "coordinates out of range (rows 0)"),
    ],
)
def test_bad_values_raise_naming_column_and_row(change, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        site_payload(sites_frame(site("A", **{"lon": -0.1, "lat": 51.5, **change})))


def test_line_geometries_are_refused():
    sites = gpd.GeoDataFrame(
        {"site_name": ["Road"], "sector": ["NHS"]},
        geometry=[LineString([(0, 51), (1, 52)])],
        crs=4326,
    )
    with pytest.raises(InputError, match="1 geometries are not points"):
        site_payload(sites)


def test_sites_without_a_crs_are_refused():
    with pytest.raises(InputError, match="no CRS; expected EPSG:4326"):
        site_payload(
            gpd.GeoDataFrame({"site_name": ["A"], "sector": ["NHS"]}, geometry=[Point(0, 51)])
        )


def test_a_missing_sector_column_is_named():
    with pytest.raises(InputError, match="column sector is missing"):
        site_payload(pd.DataFrame({"site_name": ["A"], "lat": [51.0], "lon": [0.0]}))


def test_a_repeated_column_is_named():
    frame = pd.DataFrame(
        [["A", "NHS", "Independent", 51.0, 0.0]],
        columns=["site_name", "sector", "sector", "lat", "lon"],
    )
    with pytest.raises(InputError, match="column sector appears more than once"):
        site_payload(frame)


def test_a_sites_evidence_and_planning_basis_reach_its_popup_escaped():
    sites = sites_frame(site("Leeds Clinic", -1.55, 53.8, status="NHS-commissioned")).assign(
        planning_basis="open data",
        evidence_summary=f"NHS-funded elective care for this ICB: 1,240 patients waiting {XSS}",
    )
    decoded = read_site_payload(site_payload(sites))
    assert decoded["planning_basis"].tolist() == ["open data"]
    assert decoded["evidence_summary"].tolist() == [
        "NHS-funded elective care for this ICB: 1,240 patients waiting "
        "&lt;img src=x onerror=alert(1)&gt;"
    ]
