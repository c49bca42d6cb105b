"""Engagement kept in the app, in real headless chromium: an analyst accepts two near-miss
names from the match report, marks a provider engaged in the editor, and sees the map change.

The app serves the real boundaries (`geo.fetch.sources.fetch_from_dir`) and the CQC
fixture published as the provider list: five independent and voluntary providers in
Blackburn (Lancashire and South Cumbria ICB) and one in Bristol. Screenshots go to
test-artifacts/engagement_*.png.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest

from geo.fetch import sources
from geo.model import access
from geo.publish import publishing
from geo.store.versions import open_store
from geo.testing.headless import chromium
from tests.browser import require_browser, save_screenshot
from tests.factories import CQC_FIXTURE, require_node_modules

pytestmark = pytest.mark.browser

LANCASHIRE = "E54000048"  # Lancashire and South Cumbria, where the Blackburn sites are
ENGAGEMENT_CSV = (
    b"Provider,Provider ID,Status\n"
    b"East Lancashire Hospice,,engaged\n"
    b"Meadowbank Care,,engaged\n"
    b"Oakwood Home,,engaged\n"
    b"Penine Living,,engaged\n"
    b"Sunshine Lodge,,engaged\n"
)
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
LONG = 120_000  # ms: the first load of a vintage computes its analysis
ROW = 35  # px: the height of a row (and the header) of Streamlit's data grid
# The explorer showing only sites not engaged, the ICB coloured by how many it has.
NOT_ENGAGED_VIEW = (
    f"/explorer?vintage=2024&statuses={quote('not engaged')}"
    f"&metric=iv_sites_not_engaged&selected_icb={LANCASHIRE}"
)


@pytest.fixture(scope="module")
def app_data_dir(shared_data, fixtures_dir_module, tmp_path_factory) -> Path:
    """The real boundaries, and the CQC fixture published as the provider list."""
    require_browser()
    require_node_modules()
    folder = tmp_path_factory.mktemp("engagement") / "data"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
        with open_store() as store:
            prepared = publishing.prepare(fixtures_dir_module / CQC_FIXTURE, "sites")
            publishing.publish(prepared, store, by=access.local_user("setup"))
    return folder


@pytest.fixture(scope="module")
def fixtures_dir_module() -> Path:
    return Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def page(streamlit_app):
    """One analyst's browser tab, offline."""
    with (
        chromium() as browser,
        closing(browser.new_context(viewport={"width": 1400, "height": 1100})) as context,
    ):
        context.route("**/*", _local_only)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        yield tab
        assert errors == []


def _local_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()


def _engagement_section(page, base: str) -> None:
    """The upload page, reached as an analyst does (home page, then its link), at its
    engagement section."""
    page.goto(f"{base}/?vintage=2024")
    page.locator("[data-testid=stSidebarNav]").get_by_text("Upload data").click(timeout=LONG)
    page.get_by_text("What are you uploading?").wait_for(timeout=LONG)
    page.get_by_text("Engagement list", exact=True).click(timeout=LONG)
    try:
        page.get_by_text("Mark providers in the app").wait_for(timeout=LONG)
    finally:
        save_screenshot(page, "engagement_0_section")


def _not_engaged_on_map(page, base: str, name: str) -> tuple[int, str, str]:
    """(sites drawn, the ICB's fill colour, the panel's count) with only sites not engaged shown."""
    page.goto(base + NOT_ENGAGED_VIEW)
    frame = page.wait_for_selector(MAP_IFRAME, timeout=LONG).content_frame()
    frame.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null", timeout=LONG)
    drawn = frame.evaluate("() => IcsMap.layers[0].shown")
    colour = frame.evaluate(
        f"""() => {{
            const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
            let colour = null;
            map.eachLayer(l => {{ if (l.feature && l.feature.properties.code === '{LANCASHIRE}') colour = l.options.fillColor; }});
            return colour;
        }}"""
    )
    title = page.get_by_text("Independent and voluntary sites outside NHS planning:")
    title.wait_for(timeout=LONG)
    title.scroll_into_view_if_needed()
    save_screenshot(page, name)
    return drawn, colour, title.inner_text()


def _click_cell(page, grid, column_x: float, row: int) -> None:
    """Click a data grid's cell: `column_x` px from its left, in row `row` (0 is the first
    under the header)."""
    box = grid.locator("canvas").first.bounding_box()
    page.mouse.click(box["x"] + column_x, box["y"] + ROW * (row + 1) + ROW / 2)


def test_an_analyst_accepts_near_misses_marks_a_provider_and_sees_the_map_change(
    page, streamlit_app
):
    base = streamlit_app
    # The match report: two exact names, two near misses, one nobody has.
    _engagement_section(page, base)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
        files=[{"name": "engaged.csv", "mimeType": "text/csv", "buffer": ENGAGEMENT_CSV}]
    )
    page.get_by_role("button", name="Check the file").click(timeout=LONG)
    page.get_by_text("How the list matches the providers").wait_for(timeout=LONG)
    metrics = page.locator("[data-testid=stMetric]")
    # the heading can arrive a moment before the figures under it: wait for the last of them
    metrics.locator("[data-testid=stMetricLabel]", has_text="Unmatched").wait_for(timeout=LONG)
    shown = dict(
        zip(
            metrics.locator("[data-testid=stMetricLabel]").all_inner_texts(),
            metrics.locator("[data-testid=stMetricValue]").all_inner_texts(),
            strict=True,
        )
    )
    assert [shown[k] for k in ("Exact", "Approximate", "Unmatched")] == ["2", "2", "1"]
    near = page.locator("[data-testid=stDataFrame]").nth(1)
    near.scroll_into_view_if_needed()
    save_screenshot(page, "engagement_1_match_report")

    # Tick both near misses and publish.
    _click_cell(page, near, 35, 0)
    _click_cell(page, near, 35, 1)
    page.wait_for_timeout(1000)
    save_screenshot(page, "engagement_2_near_misses_ticked")
    page.get_by_label("Your name, for the audit log").fill("Ada")
    page.get_by_label("Your name, for the audit log").press("Enter")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published engagement version 1").wait_for(timeout=LONG)
    save_screenshot(page, "engagement_3_published")

    drawn, colour, count = _not_engaged_on_map(page, base, "engagement_4_map_after_list")
    assert drawn == 2  # Mr Ben Jones in Blackburn and the St Monica Trust in Bristol
    assert count.endswith(": 1")

    # Mark Mr Ben Jones engaged in the editor (third of five providers, by name).
    _engagement_section(page, base)
    page.get_by_text("Mark providers in the app").click()
    icb = page.get_by_label("ICB", exact=True)
    icb.click()
    page.keyboard.type("Lancashire and South Cumbria")
    page.keyboard.press("Enter")
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for(timeout=LONG)
    page.get_by_text("Each row is a provider with sites in this ICB").scroll_into_view_if_needed()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option", name="engaged", exact=True)
    for _attempt in range(3):  # a grid still drawing (a busy machine) can miss the first click
        page.wait_for_timeout(1000)
        _click_cell(page, grid, 110 + 240 + 120 + 70, 2)  # its planning status
        page.keyboard.press("Enter")  # opens the cell's choices
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    option.click()
    page.wait_for_timeout(1000)
    save_screenshot(page, "engagement_5_editor_marked")
    page.get_by_label("Your name, for the audit log").fill("Bo")
    page.get_by_label("Your name, for the audit log").press("Enter")
    page.get_by_role("button", name="Save 1 change as a new engagement version").click(timeout=LONG)
    page.get_by_text("Saved engagement version 2").wait_for(timeout=LONG)
    save_screenshot(page, "engagement_6_saved")

    with_edit = _not_engaged_on_map(page, base, "engagement_7_map_after_edit")
    assert with_edit[0] == 1  # only the St Monica Trust is left
    assert with_edit[2].endswith(": 0")
    assert with_edit[1] != colour
