"""An ICB's flows of patients on the map in real headless chromium: lines drawn, widths by
patients, the layer switched off from the layer control."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import workspace
from geo.analysis import pipeline
from geo.io.boundaries import display_boundaries
from geo.maps.build import build_map
from geo.maps.flows import LAYER_NAME, flow_lines
from geo.testing.headless import chromium, serve_directory
from tests.browser import open_page, require_browser, save_screenshot
from tests.factories import open_data_folder, require_node_modules, using_data_folder

pytestmark = pytest.mark.browser

LINES = "document.querySelectorAll('path.ics-flow')"


@pytest.fixture(scope="module")
def flow_map(shared_data, tmp_path_factory) -> tuple[Path, int]:
    """The open data's map with the flows of the ICB with most of them, and how many lines."""
    require_browser()
    require_node_modules()
    folder = open_data_folder(shared_data, tmp_path_factory.mktemp("open"))
    with using_data_folder(folder):
        analysis = pipeline.analyse(workspace.load_frames("2024", None))
    lines = {
        code: flow_lines(analysis.flows, code, analysis.icbs, analysis.assigned)
        for code in analysis.flows["from_icb"].dropna().unique()
    }
    code = max(lines, key=lambda c: len(lines[c]))
    names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    m = build_map(
        display_boundaries(analysis.icbs),
        analysis.metrics,
        None,
        selected_icb=code,
        tiles=None,
        flow_lines=lines[code],
        flow_names=names,
    )
    out = tmp_path_factory.mktemp("flowmap")
    (out / "flows.html").write_text(m.get_root().render(), encoding="utf-8")
    return out, len(lines[code])


def test_an_icbs_flows_are_drawn_and_the_layer_can_be_switched_off(flow_map):
    folder, count = flow_map
    with serve_directory(folder) as base, chromium() as browser:
        page = open_page(browser)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/flows.html")
        page.wait_for_function(f"{LINES}.length > 0")
        page.evaluate(
            "() => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " m.setZoom(m.getZoom() - 2); }"
        )
        page.wait_for_timeout(600)
        save_screenshot(page, "flow_map_icb")
        widths = page.evaluate(f"Array.from({LINES}).map(p => +p.getAttribute('stroke-width'))")
        assert len(widths) == count > 0
        assert len(set(widths)) > 1  # by patients

        page.locator(".leaflet-control-layers").hover()
        page.get_by_text(LAYER_NAME).click()
        page.wait_for_timeout(300)
        assert page.evaluate(f"{LINES}.length") == 0
        assert errors == []
        page.close()
