"""The explorer map in real headless chromium: boundaries and sites draw, names stay text, clicks say which ICB."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.maps.build import build_map, served_layer
from geo.maps.payload import ordered_site_payload, read_site_payload, script_json, shown_mask
from geo.model.sectors import SECTORS
from geo.testing.headless import chromium, serve_directory
from tests.browser import open_page, require_browser, save_screenshot
from tests.factories import (
    XSS,
    embedded_payload,
    require_node_modules,
    site,
    sites_frame,
    synthetic_sites,
)

pytestmark = pytest.mark.browser

WEST, MIDDLE, EAST = "E54000040", "E54000041", "E54000042"
SYNTHETIC = 3000  # sites scattered over England, besides the one named with markup
XSS_AT = (51.5, -0.5)  # lat, lon: inside EAST
MAP = "Object.values(window).find(v => v instanceof L.Map)"
MASKED_SECTOR = "Independent"  # the sites the served map's mask shows


@pytest.fixture(scope="module")
def map_folder(tmp_path_factory) -> Path:
    """The same map saved twice: with CDN links (routed to node_modules) and with assets inlined."""
    require_browser()
    require_node_modules()
    icbs = gpd.GeoDataFrame(
        {"code": [WEST, MIDDLE, EAST], "name": ["NHS West ICB", "NHS Middle ICB", "NHS East ICB"]},
        geometry=[box(-6, 50, -3.5, 56), box(-3.5, 50, -1, 56), box(-1, 50, 2, 56)],
        crs="EPSG:4326",
    )
    metrics = pd.DataFrame(
        {
            "icb_code": [WEST, MIDDLE, EAST],
            "iv_outside_share": pd.array([0.15, pd.NA, 0.85], dtype="Float64"),
        }
    )
    xss = sites_frame(site(XSS, XSS_AT[1], XSS_AT[0], provider="Acme Care Ltd", icb=EAST))
    sites = pd.concat([synthetic_sites(SYNTHETIC), xss], ignore_index=True)
    folder = tmp_path_factory.mktemp("maps")
    for name, assets in (("cdn", "cdn"), ("local", "local")):
        m = build_map(icbs, metrics, sites, assets=assets, tiles=None)
        (folder / f"{name}.html").write_text(m.get_root().render(), encoding="utf-8")
    payload, order = ordered_site_payload(sites)
    (folder / "ics-api" / "sites").mkdir(parents=True)
    (folder / "ics-api" / "sites" / "all.json").write_text(script_json(payload), encoding="utf-8")
    kept = np.flatnonzero(sites["sector"].eq(MASKED_SECTOR).to_numpy())
    mask, shown = shown_mask(order, kept, len(sites))
    for name, url in (("served", "all.json"), ("missing", "gone.json")):
        m = build_map(icbs, metrics, None, assets="cdn", tiles=None)
        served_layer(f"ics-api/sites/{url}", mask, shown=shown, unmapped=0).add_to(m)
        control = next(
            k for k, child in m._children.items() if isinstance(child, folium.LayerControl)
        )
        m._children.move_to_end(control)  # the layer control after the layer, as build_map has it
        (folder / f"{name}.html").write_text(m.get_root().render(), encoding="utf-8")
    sites.iloc[kept].to_file(folder / "masked.geojson")
    return folder


@pytest.fixture(scope="module")
def served(map_folder):
    """Headless chromium, and the base URL of the maps served on 127.0.0.1."""
    with serve_directory(map_folder) as base, chromium() as browser:
        yield browser, base


@pytest.fixture(scope="module")
def session(served):
    """One page on the CDN-linked map, with every dialog and page error recorded."""
    browser, base = served
    page = open_page(browser)
    seen = {"dialogs": [], "errors": []}
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(f"{base}/cdn.html")
    page.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null")
    yield page, seen
    page.close()


def show(page, lat: float, lon: float, zoom: int) -> dict:
    """Move the map without animation and wait for the site layer's redraw; its stats."""
    return page.evaluate(
        f"""() => new Promise(resolve => {{
            IcsMap.layers[0].once("icsdraw", event => resolve(IcsMap.lastDraw));
            {MAP}.setView([{lat}, {lon}], {zoom}, {{animate: false}});
        }})"""
    )


def sites_near_the_view(page, sites: pd.DataFrame, margin: int = 30) -> int:
    """How many sites Leaflet itself places in the view or within the layer's 30 px margin."""
    return page.evaluate(
        f"""([lat, lon, margin]) => {{
            const map = {MAP}, size = map.getSize();
            return lat.filter((_, i) => {{
                const p = map.latLngToContainerPoint([lat[i], lon[i]]);
                return p.x > -margin && p.y > -margin && p.x < size.x + margin && p.y < size.y + margin;
            }}).length;
        }}""",
        [sites["lat"].tolist(), sites["lon"].tolist(), margin],
    )


def screen_point(page, lat: float, lon: float) -> tuple[float, float]:
    """Where a lat/lon is on the screen, for the mouse."""
    return tuple(
        page.evaluate(
            f"""() => {{
                const p = {MAP}.latLngToContainerPoint([{lat}, {lon}]);
                const box = {MAP}.getContainer().getBoundingClientRect();
                return [p.x + box.left, p.y + box.top];
            }}"""
        )
    )


def test_boundaries_draw_as_svg_paths(session):
    page, seen = session
    show(page, 53, -2, 6)
    assert page.locator(".leaflet-overlay-pane svg path.leaflet-interactive").count() == 3
    fills = page.evaluate(
        "[...document.querySelectorAll('.leaflet-overlay-pane path')].map(p => p.getAttribute('fill'))"
    )
    assert sorted(fills) == ["#440154", "#fde725", "url(#ics-no-data)"]
    assert page.locator("#ics-no-data").count() == 1
    save_screenshot(page, "maps_national")
    assert seen["errors"] == []


def test_sites_draw_on_a_canvas_as_clusters_at_national_zoom(session):
    page, _ = session
    stats = show(page, 53, -2, 6)
    assert stats["mode"] == "clusters"
    assert stats["visible"] == SYNTHETIC + 1
    assert 1 < stats["marks"] < 300
    painted = page.evaluate(
        """() => {
            const canvas = document.querySelector("canvas.ics-sites-canvas");
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
        }"""
    )
    assert painted > 1000


def test_zooming_in_draws_each_site_in_view(session, map_folder):
    page, _ = session
    stats = show(page, *XSS_AT, 13)
    sites = read_site_payload(embedded_payload((map_folder / "cdn.html").read_text("utf-8")))
    assert stats["mode"] == "sites"
    assert stats["marks"] == stats["visible"] == sites_near_the_view(page, sites)
    save_screenshot(page, "maps_zoomed")


def test_the_browser_decodes_the_payload_as_python_does(session, map_folder):
    page, _ = session
    html = (map_folder / "cdn.html").read_text(encoding="utf-8")
    expected = read_site_payload(embedded_payload(html))
    decoded = page.evaluate(
        """() => {
            const layer = IcsMap.layers[0], d = layer._d, rows = [];
            for (let i = 0; i < d.n; i++) rows.push([d.lat[i], d.lon[i], layer.siteName(i), d.digits.sector[i]]);
            return rows;
        }"""
    )
    assert len(decoded) == len(expected) == SYNTHETIC + 1
    lat, lon, names, sectors = zip(*decoded, strict=True)
    assert list(lat) == pytest.approx(expected["lat"].tolist(), abs=1e-9)
    assert list(lon) == pytest.approx(expected["lon"].tolist(), abs=1e-9)
    assert list(names) == expected["site_name"].tolist()
    assert [SECTORS[i] for i in sectors] == expected["sector"].tolist()


def test_markup_in_a_site_name_shows_as_text_and_opens_no_dialog(session):
    page, seen = session
    show(page, *XSS_AT, 13)
    x, y = screen_point(page, *XSS_AT)
    page.mouse.move(x, y)
    page.wait_for_selector(".ics-site-tip")
    assert XSS in page.inner_text(".ics-site-tip")
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup-content")
    popup = page.inner_text(".leaflet-popup-content")
    assert XSS in popup
    assert "Independent" in popup
    assert "not engaged" in popup
    assert page.locator(".leaflet-popup-content img, .ics-site-tip img").count() == 0
    page.wait_for_timeout(400)  # the popup's fade-in, for the screenshot
    save_screenshot(page, "maps_site_popup")
    assert seen["dialogs"] == []
    assert seen["errors"] == []


def test_a_click_on_an_icb_carries_its_code_for_streamlit_folium(session):
    page, _ = session
    show(page, 53, -2, 6)
    page.evaluate(
        f"""() => {{
            window.clickedCodes = [];
            {MAP}.eachLayer(layer => {{
                if (layer instanceof L.GeoJSON) layer.on("click", e => clickedCodes.push(e.layer.toGeoJSON().properties.code));
            }});
        }}"""
    )
    x, y = screen_point(page, 55.9, -5.8)  # inside WEST, beyond every site
    page.mouse.move(x, y)
    page.wait_for_selector(".leaflet-tooltip:not(.ics-site-tip)")
    assert WEST in page.inner_text(".leaflet-tooltip:not(.ics-site-tip)")
    page.mouse.click(x, y)
    assert page.evaluate("window.clickedCodes") == [WEST]


def test_the_inlined_map_draws_without_any_request_off_this_machine(served):
    browser, base = served
    page = open_page(browser)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base}/local.html")
    page.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null")
    assert page.locator(".leaflet-overlay-pane path").count() == 3
    assert page.evaluate("IcsMap.lastDraw.visible") == SYNTHETIC + 1
    save_screenshot(page, "maps_local_assets")
    page.close()
    assert [url for url in requested if not url.startswith(("http://127.0.0.1", "data:"))] == []


def test_a_served_payload_draws_only_the_sites_its_mask_shows(served, map_folder):
    browser, base = served
    page = open_page(browser)
    page.goto(f"{base}/served.html")
    page.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null")
    masked = gpd.read_file(map_folder / "masked.geojson")
    masked = masked.assign(lat=masked.geometry.y, lon=masked.geometry.x)
    assert 0 < len(masked) < SYNTHETIC
    assert page.evaluate("IcsMap.layers[0].shown") == len(masked)
    stats = show(page, 52.8, -1.6, 9)
    assert stats["mode"] == "sites"
    assert stats["visible"] == sites_near_the_view(page, masked)
    sectors = page.evaluate(
        """() => {
            const layer = IcsMap.layers[0];
            return [...new Set(layer._hits.map(hit => layer.options.sectorLabels[layer._d.digits.sector[hit.site]]))];
        }"""
    )
    assert sectors == [MASKED_SECTOR]
    save_screenshot(page, "maps_served_mask")
    page.close()


def test_a_payload_that_cannot_be_fetched_says_so_on_the_map(served):
    browser, base = served
    page = open_page(browser)
    page.goto(f"{base}/missing.html")
    page.wait_for_function("window.IcsMap && IcsMap.failures.length > 0")
    notice = page.inner_text(".ics-legend.ics-warn")
    assert notice == "The provider sites could not be loaded (HTTP 404); reload the page."
    assert page.evaluate("IcsMap.lastDraw") is None
    save_screenshot(page, "maps_served_missing")
    page.close()
