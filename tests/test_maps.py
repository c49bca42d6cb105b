"""Tests for geo/maps/build.py: the rendered map carries every ICB, legend, colour and escaped name."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box, shape

from geo.analysis.metrics import NO_IV_SITES, NO_STATUS_KNOWN
from geo.maps.build import (
    FOCUS_PANE,
    METRICS,
    NO_DATA_FILL,
    build_map,
    choropleth_layer,
    payload_layer,
    sites_layer,
)
from geo.maps.events import MapEvent, parse_map_event
from geo.maps.payload import read_site_payload, site_payload
from geo.model.errors import InputError
from geo.model.palette import SEQUENTIAL_COLOURS
from geo.model.sectors import SECTOR_COLOURS
from tests.factories import XSS, embedded_payload, require_node_modules, site, sites_frame

A, B, C = "E54000027", "E54000028", "E54000029"


@pytest.fixture
def icbs() -> gpd.GeoDataFrame:
    """Three touching ICBs over London-ish longitudes; B's name carries markup and braces."""
    return gpd.GeoDataFrame(
        {"code": [A, B, C], "name": ["NHS A ICB", "NHS <b>B</b> & {{ 7*7 }} ICB", "NHS C ICB"]},
        geometry=[box(-1, 51, 0, 52), box(0, 51, 1, 52), box(1, 51, 2, 52)],
        crs="EPSG:4326",
    )


@pytest.fixture
def metrics() -> pd.DataFrame:
    """A low share for A, a high one for B, none for C, plus the OUTSIDE row."""
    return pd.DataFrame(
        {
            "icb_code": [A, B, C, "OUTSIDE"],
            "iv_outside_share": pd.array([0.1, 0.9, pd.NA, pd.NA], dtype="Float64"),
            "share_basis": ["capacity", "sites", "none", "none"],
            "iv_sites_not_engaged": [3, 873, 0, 1],
            "sites_total": [40, 1200, 0, 2],
            "rank": pd.array([2, 1, pd.NA, pd.NA], dtype="Int64"),
        }
    )


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    """An XSS-named independent site not engaged, an engaged NHS site and one without coordinates."""
    return sites_frame(
        site(XSS, -0.5, 51.5, icb=A),
        site("Royal Infirmary", 0.5, 51.5, sector="NHS", status="engaged", icb=B),
        site("Lost Lodge", sector="Voluntary", icb=A),
    )


@pytest.fixture
def page(icbs, metrics, sites) -> str:
    """The whole map rendered to HTML."""
    return build_map(icbs, metrics, sites, tiles=None).get_root().render()


def geojson_features(html: str) -> list[dict]:
    """The features of every GeoJSON layer folium embedded in the page."""
    decoder, features = json.JSONDecoder(), []
    for match in re.finditer(r"_add\(\{", html):
        data, _ = decoder.raw_decode(html, match.end() - 1)
        features += data["features"]
    return features


def test_boundary_layer_carries_every_icb_code(page):
    codes = [f["properties"]["code"] for f in geojson_features(page)]
    assert codes == [A, B, C]


def test_icbs_are_filled_by_metric_class_and_missing_data_hatched(page):
    fills = {f["properties"]["code"]: f["properties"]["fill"] for f in geojson_features(page)}
    assert fills == {A: SEQUENTIAL_COLOURS[0], B: SEQUENTIAL_COLOURS[-1], C: NO_DATA_FILL}
    assert SEQUENTIAL_COLOURS[0] in page
    assert "url(#ics-no-data)" in page


def test_tooltip_properties_say_the_share_its_basis_and_rank(page):
    props = {f["properties"]["code"]: f["properties"] for f in geojson_features(page)}
    assert props[A]["metric"] == "10%"
    assert props[B]["metric"] == "90% (by sites: capacity unknown)"
    assert props[B]["rank"] == "1 of 2"
    assert props[C]["metric"] == "no data"
    assert props[B]["iv_sites_not_engaged"] == "873"


def test_ranks_count_every_ranked_icb_even_when_fewer_are_shown(icbs, metrics, sites):
    html = build_map(icbs.iloc[[1]], metrics, sites, tiles=None).get_root().render()
    assert [f["properties"]["rank"] for f in geojson_features(html)] == ["1 of 2"]


def test_icb_names_are_escaped_and_template_braces_are_inert(page):
    props = {f["properties"]["code"]: f["properties"] for f in geojson_features(page)}
    assert props[B]["name"] == "NHS &lt;b&gt;B&lt;/b&gt; &amp; &#123;&#123; 7*7 &#125;&#125; ICB"
    assert "<b>B</b>" not in page
    assert "NHS &lt;b&gt;B&lt;/b&gt; &amp; 49 ICB" not in page


def test_legend_names_the_metric_its_classes_and_no_data(page):
    assert "Share of I+V capacity outside NHS planning" in page
    assert "0%–20%" in page
    assert "80%–100%" in page
    assert "no data" in page
    assert all(colour in page for colour in SEQUENTIAL_COLOURS)


def test_count_metrics_get_round_classes(icbs, metrics):
    group = choropleth_layer(icbs, metrics, metric="iv_sites_not_engaged")
    html = _render(group)
    assert "I+V sites not engaged" in html
    assert "0–200" in html
    assert "800–1,000" in html


def test_sites_legend_lists_every_sector_in_okabe_ito_colours(page):
    for sector, colour in SECTOR_COLOURS.items():
        assert f'background:{colour}\\"\\u003e\\u003c/span\\u003e{sector}' in page
    assert SECTOR_COLOURS == {
        "NHS": "#0072B2",
        "Local authority": "#009E73",
        "Independent": "#E69F00",
        "Voluntary": "#CC79A7",
        "Unknown": "#999999",
    }
    assert "I+V outside NHS planning (black-edged square)" in page


def test_sites_without_coordinates_are_named_in_the_legend(page):
    assert "1 site has no coordinates and is not drawn." in page


def test_xss_site_name_reaches_the_page_escaped_and_never_raw(page):
    assert XSS not in page
    assert "<img" not in page
    names = read_site_payload(embedded_payload(page))["site_name"].tolist()
    assert "&lt;img src=x onerror=alert(1)&gt;" in names


def test_sites_are_one_payload_not_markers(page):
    assert page.count("IcsMap.sitesLayer(") == 1
    assert "L.marker(" not in page
    assert "L.circleMarker(" not in page
    assert embedded_payload(page)["count"] == 2


def test_the_map_loads_leaflet_only(page):
    links = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)
    assert sorted(links) == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
    ]


def test_local_assets_leave_no_cdn_link(icbs, metrics, sites):
    require_node_modules()
    html = build_map(icbs, metrics, sites, assets="local", tiles=None).get_root().render()
    links = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert len(links) == 2
    assert all(link.startswith("data:") for link in links)


def test_regions_are_a_dashed_outline_layer_in_the_layer_control(icbs, metrics, sites):
    regions = gpd.GeoDataFrame(
        {"code": ["E40000003"], "name": ["London"]}, geometry=[box(-1, 51, 2, 52)], crs=4326
    )
    html = build_map(icbs, metrics, sites, regions=regions, tiles=None).get_root().render()
    assert "NHS England regions" in html
    assert "L.control.layers(" in html
    assert '"interactive": false' in html
    assert '"dashArray": "7 5"' in html
    assert "E40000003" in [f["properties"]["code"] for f in geojson_features(html)]


def test_selected_icb_is_outlined_and_the_view_fits_it(icbs, metrics, sites):
    html = build_map(icbs, metrics, sites, selected_icb=B, tiles=None).get_root().render()
    selected = [f for f in geojson_features(html) if f["properties"]["selected"]]
    assert [f["properties"]["code"] for f in selected] == [B]
    assert re.search(r"fitBounds\(\s*\[\[51\.0, 0\.0\], \[52\.0, 1\.0\]\]", html)


@pytest.fixture
def two_regions() -> gpd.GeoDataFrame:
    """West holds ICB A; East holds B and C."""
    return gpd.GeoDataFrame(
        {"code": ["E40000001", "E40000002"], "name": ["West", "East"]},
        geometry=[box(-1, 51, 0, 52), box(0, 51, 2, 52)],
        crs="EPSG:4326",
    )


def test_a_selected_region_is_fitted_and_everything_outside_it_greyed(
    icbs, metrics, sites, two_regions
):
    html = (
        build_map(
            icbs, metrics, sites, regions=two_regions, selected_region="E40000002", tiles=None
        )
        .get_root()
        .render()
    )
    assert re.search(r"fitBounds\(\s*\[\[51\.0, 0\.0\], \[52\.0, 2\.0\]\]", html)
    assert re.search(rf'createPane\(\s*"{FOCUS_PANE}"\);\s*\S+\.style\.zIndex = 460', html)
    assert f'"pane": "{FOCUS_PANE}"' in html  # above the sites' canvas (z-index 450)
    shapes = [shape(feature["geometry"]) for feature in geojson_features(html)]
    (outside,) = [
        found for found in shapes if found.contains(Point(-20, 60))
    ]  # the only one at sea
    assert outside.contains(Point(-0.5, 51.5))  # ICB A, in the other region: greyed
    assert not outside.contains(Point(1.0, 51.5))  # inside the chosen region: clear


def test_a_selected_region_that_is_not_loaded_is_bad_input(icbs, metrics, sites, two_regions):
    with pytest.raises(InputError, match="selected region E40000009 is not one of the 2 NHS"):
        build_map(icbs, metrics, sites, regions=two_regions, selected_region="E40000009")


def test_center_and_zoom_are_kept_for_shared_links(icbs, metrics, sites):
    html = (
        build_map(icbs, metrics, sites, center=(51.5, -0.12), zoom=9, tiles=None)
        .get_root()
        .render()
    )
    assert "center: [51.5, -0.12]" in html
    assert '"zoom": 9' in html
    assert "fitBounds" not in html


def test_boundaries_in_british_national_grid_are_drawn_in_degrees(icbs, metrics, sites):
    html = build_map(icbs.to_crs(27700), metrics, sites, tiles=None).get_root().render()
    coordinates = np.array(geojson_features(html)[0]["geometry"]["coordinates"][0])
    assert coordinates[:, 0].min() == pytest.approx(-1, abs=1e-4)
    assert coordinates[:, 1].max() == pytest.approx(52, abs=1e-4)


def test_feature_groups_can_be_sent_to_streamlit_folium_alone(icbs, metrics, sites):
    from streamlit_folium import _get_feature_group_string

    m = build_map(icbs, metrics, sites.iloc[:0], tiles=None)
    script = _get_feature_group_string(sites_layer(sites), m)
    assert "IcsMap.sitesLayer(" in script
    assert "window.IcsMap" in script
    assert "IcsMap.legend(feature_group_feature_group_0" in script
    script = _get_feature_group_string(choropleth_layer(icbs, metrics, metric="sites_total"), m)
    assert A in script
    assert "All sites" in script


def test_a_layer_rebuilt_from_a_cached_payload_sends_the_same_script_each_time(
    icbs, metrics, sites
):
    from streamlit_folium import _get_feature_group_string

    cached = site_payload(sites)
    scripts = [
        _get_feature_group_string(payload_layer(cached), build_map(icbs, metrics, None, tiles=None))
        for _ in range(2)
    ]
    assert scripts[0] == scripts[1]
    m = build_map(icbs, metrics, None, tiles=None)
    assert scripts[0] == _get_feature_group_string(sites_layer(sites), m)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": "beds"}, "map metric 'beds' is unknown; expected one of iv_outside_share"),
        ({"selected_icb": "E54000099"}, "selected ICB E54000099 is not in the boundaries shown"),
    ],
)
def test_bad_choices_raise_input_error(icbs, metrics, sites, change, message):
    with pytest.raises(InputError, match=re.escape(message)):
        build_map(icbs, metrics, sites, **change)


def test_duplicate_boundary_codes_are_named(icbs, metrics, sites):
    doubled = pd.concat([icbs, icbs.iloc[[0, 2]]])
    with pytest.raises(
        InputError, match=f"boundaries: column code has 2 duplicate codes: {A}, {C}"
    ):
        build_map(doubled, metrics, sites)


def test_boundaries_without_a_crs_are_refused(icbs, metrics, sites):
    with pytest.raises(InputError, match="boundaries: the GeoDataFrame has no CRS"):
        build_map(icbs.set_crs(None, allow_override=True), metrics, sites)


def test_metrics_without_the_metric_column_are_refused(icbs, metrics, sites):
    with pytest.raises(InputError, match="metrics: column iv_outside_share is missing"):
        build_map(icbs, metrics.drop(columns="iv_outside_share"), sites)


def test_every_metric_in_the_table_renders(icbs, metrics, sites):
    full = metrics.assign(**{col: 5 for col in METRICS if col not in metrics.columns})
    for metric, spec in METRICS.items():
        assert spec.label in _render(choropleth_layer(icbs, full, metric=metric))


def test_empty_site_selection_still_draws_the_map_and_says_so(icbs, metrics, sites):
    html = build_map(icbs, metrics, sites.iloc[:0], tiles=None).get_root().render()
    assert "No sites match the filters." in html
    assert len(geojson_features(html)) == 3


def test_without_sites_the_map_has_no_site_layer_for_a_page_to_add_one(icbs, metrics):
    html = build_map(icbs, metrics, None, tiles=None).get_root().render()
    assert "IcsMap.sitesLayer(" not in html
    assert "Provider sites" not in html
    assert len(geojson_features(html)) == 3


def test_real_boundaries_and_hospitals_render(shared_data):
    icbs = gpd.read_file(shared_data / "icb_2022_07_buc.geojson").rename(
        columns={"ICB22CD": "code", "ICB22NM": "name"}
    )
    hospitals = gpd.read_file(shared_data / "hospitals_england_2020_05_nhs_website.geojson")
    sites = hospitals.drop(columns="sector").rename(
        columns={"name": "site_name", "sector_normalised": "sector"}
    )
    metrics = pd.DataFrame(
        {"icb_code": icbs["code"], "iv_outside_share": np.linspace(0, 1, len(icbs))}
    )
    html = build_map(icbs, metrics, sites, tiles=None).get_root().render()
    assert sorted(f["properties"]["code"] for f in geojson_features(html)) == sorted(icbs["code"])
    decoded = read_site_payload(embedded_payload(html))
    assert len(decoded) == len(hospitals)  # the 3 Welsh sites too: drawn, outside every ICB
    expected = hospitals["sector_normalised"].value_counts().to_dict()
    assert decoded["sector"].value_counts().to_dict() == expected


def test_parse_map_event_reads_a_click_on_an_icb():
    returned = {
        "last_clicked": {"lat": 51.52, "lng": -0.11},
        "last_object_clicked_tooltip": "ICB NHS North Central London ICB Code E54000028 Share 40%",
        "last_active_drawing": {
            "type": "Feature",
            "properties": {
                "code": "E54000028",
                "name": "NHS North Central London ICB",
                "fill": "#21918c",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-0.2, 51.5], [0, 51.5], [0, 51.6], [-0.2, 51.5]]],
            },
        },
        "zoom": 9,
        "center": {"lat": 51.5074, "lng": -0.1278},
        "bounds": {
            "_southWest": {"lat": 51.2, "lng": -0.7},
            "_northEast": {"lat": 51.8, "lng": 0.4},
        },
    }
    assert parse_map_event(returned) == MapEvent(
        clicked_icb_code="E54000028",
        center=(51.5074, -0.1278),
        zoom=9,
        bounds=((51.2, -0.7), (51.8, 0.4)),
    )


def test_parse_map_event_falls_back_to_the_tooltip_text():
    returned = {
        "last_object_clicked_tooltip": "ICB NHS Kent and Medway ICB\nCode E54000032",
        "zoom": 7.0,
    }
    event = parse_map_event(returned)
    assert (event.clicked_icb_code, event.zoom) == ("E54000032", 7)


def test_parse_map_event_before_any_interaction():
    returned = {
        "last_active_drawing": None,
        "last_object_clicked_tooltip": None,
        "bounds": {
            "_southWest": {"lat": None, "lng": None},
            "_northEast": {"lat": None, "lng": None},
        },
        "zoom": 6,
    }
    assert parse_map_event(returned) == MapEvent(zoom=6)
    assert parse_map_event(None) == MapEvent()


def test_parse_map_event_ignores_regions_and_garbage():
    returned = {
        "last_active_drawing": {"properties": {"code": "E40000003"}},
        "last_object_clicked_tooltip": 42,
        "center": {"lat": "north", "lng": 0},
        "zoom": True,
        "bounds": [[51, 0], [52, 1]],
    }
    assert parse_map_event(returned) == MapEvent()


def _render(group) -> str:
    """A lone layer rendered on a bare map, for asserting on its HTML."""
    import folium

    m = folium.Map(tiles=None)
    group.add_to(m)
    return m.get_root().render()


@pytest.fixture
def unknown_metrics(metrics) -> pd.DataFrame:
    """The metrics as gap_metrics gives them: C's share not known, with the reason."""
    return metrics.assign(
        share_not_known_reason=pd.array([pd.NA, pd.NA, NO_STATUS_KNOWN, NO_IV_SITES], dtype="str")
    )


def legend_html(html: str) -> str:
    """Every legend's HTML, decoded from the JSON our legend script was given."""
    decoder, legends = json.JSONDecoder(), []
    for match in re.finditer(r"IcsMap\.legend\([^,]+, ", html):
        text, _ = decoder.raw_decode(html, match.end())
        legends.append(text)
    return "\n".join(legends)


def test_a_share_not_known_is_hatched_and_the_legend_says_not_known_and_why(
    icbs, unknown_metrics, sites
):
    html = build_map(icbs, unknown_metrics, sites, tiles=None).get_root().render()

    props = {f["properties"]["code"]: f["properties"] for f in geojson_features(html)}
    assert props[C]["fill"] == NO_DATA_FILL
    assert props[C]["metric"] == f"not known: {NO_STATUS_KNOWN}"
    assert props[C]["rank"] == "not known"
    assert props[B]["rank"] == "1 of 2"
    legend = legend_html(html)
    assert '<span class="ics-swatch ics-no-data"></span>not known</li>' in legend
    assert f"Not known (1 ICB): {NO_STATUS_KNOWN}." in legend
    assert "Ranks are among the 2 ICBs whose share is known." in legend
    assert ">no data<" not in legend


def test_with_no_share_known_every_icb_is_hatched_and_none_ranked(icbs, unknown_metrics):
    unlisted = unknown_metrics.assign(
        iv_outside_share=pd.array([pd.NA] * 4, dtype="Float64"),
        rank=pd.array([pd.NA] * 4, dtype="Int64"),
        share_not_known_reason=NO_STATUS_KNOWN,
    )

    html = _render(choropleth_layer(icbs, unlisted))

    fills = {f["properties"]["fill"] for f in geojson_features(html)}
    assert fills == {NO_DATA_FILL}
    legend = legend_html(html)
    assert f"Not known (3 ICBs): {NO_STATUS_KNOWN}." in legend
    assert "No ICB is ranked: no share is known." in legend
    assert "0%–20%" in legend  # the classes stay, so a later figure reads on the same scale
