"""An ICB's flows of patients drawn as lines: one per flow, widths by patients, a layer to switch off."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.analysis.flows import ANOTHER_ICB, WITHIN, empty_flows
from geo.maps import build as maps
from geo.maps import flows as flow_map
from geo.maps.payload import escape_html
from geo.model.evidence import PATIENTS_WAITING
from tests.factories import XSS, metrics_frame, metrics_row, square

HOME, NEXT, FAR = "E54000001", "E54000002", "E54000003"


def icbs() -> gpd.GeoDataFrame:
    """Three 10 km ICBs side by side (EPSG:27700), the first named with markup in it."""
    shapes = [square(400_000 + i * 10_000, 300_000, 10_000) for i in range(3)]
    return gpd.GeoDataFrame(
        {"code": [HOME, NEXT, FAR], "name": [XSS, "Next ICB", "Far ICB"]},
        geometry=shapes,
        crs=27700,
    )


def test_backticks_and_backslashes_in_names_cannot_break_the_tooltip_script():
    lines = flow_map.flow_lines(TABLE, HOME, icbs(), sites())
    m = folium.Map(tiles=None)
    flow_map.flows_layer(lines, {HOME: "A `${alert(1)}` \\ ICB"}).add_to(m)
    page = m.get_root().render()
    assert "A `" not in page
    assert "A &#96;$&#123;alert(1)&#125;&#96; &#92; ICB" in page


def sites() -> pd.DataFrame:
    """One independent hospital inside each ICB, at its lon/lat."""
    points = gpd.GeoSeries(
        [shapely.Point(405_000 + i * 10_000, 305_000) for i in range(3)], crs=27700
    ).to_crs(4326)
    return pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "site_name": ["Home Hospital", f"Next {XSS}", "Far Hospital"],
            "lat": points.y,
            "lon": points.x,
        }
    )


def flow(from_icb, to_icb, site_id, value, *, period="2025-01", measure=PATIENTS_WAITING):
    """One row of the flows table."""
    return {
        "source": "RTT",
        "period": period,
        "measure": measure,
        "from_icb": from_icb,
        "to_icb": to_icb,
        "site_id": site_id,
        "site_name": None,
        "provider_code": "NT1",
        "destination": WITHIN if from_icb == to_icb else ANOTHER_ICB,
        "value": value,
    }


def flows(*rows: dict) -> pd.DataFrame:
    """A flows table of `rows`."""
    table = pd.concat([empty_flows(), pd.DataFrame(list(rows))], ignore_index=True)
    return table.astype({"value": "Float64"})


TABLE = flows(
    flow(HOME, HOME, "S1", 40),
    flow(HOME, NEXT, "S2", 250),
    flow(HOME, FAR, None, 10),  # a provider with several sites in FAR: to FAR's point
    flow(FAR, HOME, "S1", 90),  # FAR's patients at HOME's hospital
    flow(NEXT, FAR, "S3", 500),  # nothing to do with HOME
    flow(HOME, NEXT, "S2", 999, period="2024-12"),  # an older period
    flow(HOME, NEXT, "S2", 777, measure="patients waiting for a test"),  # DM01, not drawn
)


def test_each_rtt_flow_of_the_icb_in_the_latest_period_is_one_line():
    lines = flow_map.flow_lines(TABLE, HOME, icbs(), sites())
    assert sorted(lines["patients"]) == [10, 40, 90, 250]
    assert set(lines["geometry"].geom_type) == {"LineString"}
    directions = dict(zip(lines["patients"], lines["direction"], strict=True))
    assert directions == {250: flow_map.OWN, 40: flow_map.OWN, 10: flow_map.OWN, 90: flow_map.IN}


def test_lines_start_at_the_icbs_point_inside_it_and_end_at_the_site_or_the_sites_icb():
    shapes = icbs()
    lines = flow_map.flow_lines(TABLE, HOME, shapes, sites()).set_index("patients")
    home_shape = shapes.to_crs(4326).geometry.iloc[0]
    far_shape = shapes.to_crs(4326).geometry.iloc[2]
    start, end = lines.loc[250, "geometry"].coords
    assert home_shape.contains(shapely.Point(start))
    site = sites().set_index("site_id").loc["S2"]
    assert end == (site["lon"], site["lat"])
    assert far_shape.contains(shapely.Point(lines.loc[10, "geometry"].coords[1]))
    assert lines.loc[10, "place"].endswith(f"ICB {FAR}")
    assert far_shape.contains(shapely.Point(lines.loc[90, "geometry"].coords[0]))


def test_widths_follow_patients_and_the_largest_flow_is_widest():
    lines = flow_map.flow_lines(TABLE, HOME, icbs(), sites())
    by_patients = lines.sort_values("patients")
    assert by_patients["width"].is_monotonic_increasing
    assert by_patients["width"].is_unique
    assert by_patients["width"].iloc[-1] == flow_map.MAX_WIDTH
    assert by_patients["width"].iloc[0] > flow_map.MIN_WIDTH


def test_an_icb_without_flows_has_no_lines():
    assert flow_map.flow_lines(TABLE, "E54000099", icbs(), sites()).empty


def test_the_layer_is_named_in_the_layer_control_and_its_tooltips_are_escaped():
    lines = flow_map.flow_lines(TABLE, HOME, icbs(), sites())
    names = dict(zip(icbs()["code"], icbs()["name"], strict=True))
    shapes = icbs().to_crs(4326)
    metrics = metrics_frame(*(metrics_row(code, name) for code, name in names.items()))
    html = maps.build_map(shapes, metrics, None, flow_lines=lines, flow_names=names).get_root()
    page = html.render()
    assert f'"{flow_map.LAYER_NAME}" : feature_group_' in page  # an overlay the user can untick
    assert XSS not in page
    assert escape_html(f"{XSS} → Next {XSS}: 250 patients waiting") in page
    assert page.count("L.polyline(") == len(lines)
    assert flow_map.OUT_COLOUR in page
    assert flow_map.IN_COLOUR in page


def test_no_flows_layer_without_lines():
    shapes = icbs().to_crs(4326)
    metrics = metrics_frame(metrics_row(HOME, "Home"))
    page = maps.build_map(shapes, metrics, None).get_root().render()
    assert flow_map.LAYER_NAME not in page
