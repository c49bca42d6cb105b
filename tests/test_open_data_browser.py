"""In a real browser, with only open data loaded: the home map is not one colour, and a site's
popup says what evidence of NHS commissioning it has and what its status rests on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.analysis import pipeline
from geo.model.evidence import COMMISSIONED, EVIDENCE_STATUS
from geo.testing.app_server import AppDidNotStart, running_app
from geo.testing.headless import chromium
from tests.browser import open_page, require_browser, save_screenshot
from tests.factories import open_data_folder, require_node_modules

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"
LONG = 180_000


@pytest.fixture(scope="module")
def open_data_app(shared_data, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app serving a data folder of boundaries, hospitals and open data only."""
    require_browser()
    require_node_modules()
    root = tmp_path_factory.mktemp("open")
    folder = open_data_folder(shared_data, root)
    try:
        with running_app(folder, root / "app.log") as base:
            yield base, folder
    except AppDidNotStart as error:
        pytest.fail(str(error))


def _commissioned_site(folder: Path, monkeypatch) -> dict:
    from geo import workspace

    monkeypatch.setenv("ICS_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    analysis = pipeline.analyse(workspace.load_frames("2024", None))
    sites = analysis.assigned
    chosen = sites[sites[EVIDENCE_STATUS].eq(COMMISSIONED) & sites["sector"].eq("Independent")]
    return chosen.iloc[0].to_dict()


def _fills(frame) -> set[str]:
    return set(
        frame.evaluate(
            f"""() => {{ const seen = []; {MAP}.eachLayer(l => {{
                if (l.feature && l.options.fillColor) seen.push(l.options.fillColor); }});
                return seen; }}"""
        )
    )


def test_the_home_map_shows_a_varying_picture_from_open_data_alone(open_data_app):
    base, _ = open_data_app
    with chromium() as browser:
        page = open_page(browser, 1300, 1100)
        page.goto(f"{base}/?vintage=2024")
        frame = page.wait_for_selector(MAP_IFRAME, timeout=LONG).content_frame()
        frame.wait_for_selector("path.leaflet-interactive", state="attached", timeout=LONG)
        fills = _fills(frame)
        page.locator(MAP_IFRAME).scroll_into_view_if_needed()
        save_screenshot(page, "open_data_home_map")
        assert len(fills) >= 4  # the five share classes, most of them used
        caption = page.get_by_text("Planning status rests on open-data evidence").first
        caption.wait_for(timeout=LONG)


def test_a_sites_popup_shows_its_evidence_and_its_basis(open_data_app, monkeypatch):
    base, folder = open_data_app
    site = _commissioned_site(folder, monkeypatch)
    lat, lon = site["lat"], site["lon"]
    url = f"{base}/explorer?vintage=2024&lat={lat}&lon={lon}&zoom=14"
    with chromium() as browser:
        page = open_page(browser, 1300, 1100)
        page.goto(url)
        frame = page.wait_for_selector(MAP_IFRAME, timeout=LONG).content_frame()
        frame.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null", timeout=LONG)
        box = page.locator(MAP_IFRAME).bounding_box()
        x, y = frame.evaluate(
            f"() => {{ const p = {MAP}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }}"
        )
        page.locator(MAP_IFRAME).scroll_into_view_if_needed()
        box = page.locator(MAP_IFRAME).bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        frame.wait_for_selector(".leaflet-popup-content", timeout=LONG)
        popup = frame.inner_text(".leaflet-popup-content")
        page.wait_for_timeout(400)
        save_screenshot(page, "open_data_site_popup")
        assert site["site_name"] in popup
        assert "NHS-commissioned" in popup
        assert "open data" in popup
        assert "patients waiting" in popup or "tests" in popup
