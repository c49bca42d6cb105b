"""In the real browser: an analyst adds a second provider source without losing the first,
sees the merged counts, reverts, and the sidebar says so (issue 13)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from geo.fetch import sources
from geo.io import readers
from geo.store.versions import open_store
from geo.testing.headless import chromium
from tests.browser import require_browser, save_screenshot
from tests.factories import require_node_modules

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"
LONG = 120_000  # ms: the first load of a vintage computes its analysis


@pytest.fixture(scope="module")
def app_data_dir(shared_data, tmp_path_factory) -> Path:
    """Real boundaries, and the first 100 hospitals published twice (v1: 80 rows, v2: 100)
    as the default provider source."""
    require_browser()
    require_node_modules()
    folder = tmp_path_factory.mktemp("sources-app") / "data"
    folder.mkdir()
    hospitals = readers.read_sites(shared_data / HOSPITALS).sites
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
        with open_store() as store:
            for count in (80, 100):
                store.publish(
                    "sites", "sites", hospitals.head(count), author="test",
                    file_name=f"hospitals{count}.csv", checksum=str(count),
                    counts={"accepted": count},
                )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def page(streamlit_app):
    with (
        chromium() as browser,
        closing(browser.new_context(viewport={"width": 1400, "height": 1000})) as context,
    ):
        yield context.new_page()


def _settled(page) -> None:
    """Wait until the app has finished its run (Streamlit's status widget gone)."""
    page.wait_for_timeout(1000)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached", timeout=LONG)


def _sidebar_labels(page) -> list[str]:
    sidebar = page.locator("[data-testid=stSidebar]")
    return sidebar.locator("[data-testid=stWidgetLabel]").all_inner_texts()


def test_an_analyst_adds_a_second_source_sees_merged_counts_then_reverts(
    streamlit_app, page, shared_data, tmp_path
):
    lines = (shared_data / HOSPITALS).read_text(encoding="utf-8-sig").splitlines()
    team = tmp_path / "Community Team.csv"
    team.write_text("\n".join(lines[:1] + lines[91:131]) + "\n", encoding="utf-8")  # 10 shared

    page.goto(f"{streamlit_app}/?vintage=2024")  # the upload page from the navigation, as an
    page.get_by_role("link", name="Upload data").click(timeout=LONG)  # analyst reaches it
    page.get_by_text("What are you uploading?").wait_for(timeout=LONG)
    _settled(page)
    page.locator("input[type=file]").set_input_files(str(team))
    check = page.get_by_role("button", name="Check the file")
    try:
        check.wait_for(timeout=LONG)
    finally:
        save_screenshot(page, "sources_0_uploaded")
    check.click()
    page.get_by_text("What publishing community-team changes").wait_for(timeout=LONG)
    page.get_by_text("Every page shows 100 sites now and would show 130").wait_for()
    page.get_by_text("What publishing community-team changes").scroll_into_view_if_needed()
    save_screenshot(page, "sources_1_preview")
    page.get_by_role("button", name="Publish", exact=True).click()
    done = page.get_by_text("Every page now shows 130 sites from 2 sources")
    done.wait_for(timeout=LONG)
    save_screenshot(page, "sources_2_published")

    page.goto(f"{streamlit_app}/?vintage=2024")
    page.get_by_text("Provider source community-team version (newest v1)").wait_for(timeout=LONG)
    labels = _sidebar_labels(page)
    assert "Provider source provider-list version (newest v2)" in labels
    page.get_by_text("from 2 sources (provider-list, community-team)").first.wait_for(timeout=LONG)
    save_screenshot(page, "sources_3_home_merged")

    page.goto(f"{streamlit_app}/versions?vintage=2024")
    page.get_by_role("button", name="Revert to version 1").wait_for(timeout=LONG)
    page.get_by_role("button", name="Revert to version 1").click()
    page.get_by_text("sites version 3 now holds the rows of version 1").wait_for(timeout=LONG)
    page.get_by_text("Provider source provider-list version (newest v3)").wait_for(timeout=LONG)
    save_screenshot(page, "sources_4_reverted")

    sidebar = page.locator("[data-testid=stSidebar]").inner_text()
    assert "newest v2" not in sidebar
    assert "Newest (v2)" not in sidebar
