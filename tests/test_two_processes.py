"""Two app processes on one PostgreSQL store: a publish seen by both, nothing kept on local disk.

Each process has its own empty data folder (ICS_DATA_DIR), as two machines behind a
reverse proxy would, and DATABASE_URL naming one PostgreSQL schema. Data is published
with geo.publish directly against that store, as the CLI or the other process's upload
page does; the explorer in a real browser shows it on its next rerun.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

from geo import workspace
from geo.io import boundaries
from geo.model import access
from geo.publish import publishing
from geo.store.versions import open_store
from geo.testing.app_server import running_app
from geo.testing.headless import chromium
from tests.browser import open_page, require_browser, save_screenshot
from tests.conftest import postgres_schema_url

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
LONG = 120_000  # ms
BORDER_FILTER = "Near another ICB's border (km; 0 = any distance)"


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    """A fresh schema of the PostgreSQL test server (skipped without one, unless CI=true)."""
    yield from postgres_schema_url()


@pytest.fixture(scope="module")
def first_publish(store_url, shared_data, tmp_path_factory) -> int:
    """The 2022 ICBs and the hospitals, published into the shared store; how many sites."""
    with open_store(store_url) as store:
        layer = boundaries.load_boundaries(shared_data / "icb_2022_07_buc.geojson")
        store.publish(
            workspace.boundary_dataset("icb", "2022"), "boundaries", layer, author="analyst",
            file_name="icb22.geojson", checksum="b", counts={"accepted": len(layer)},
        )  # fmt: skip
        prepared = publishing.prepare(shared_data / HOSPITALS, "sites")
        publishing.publish(prepared, store, by=access.local_user("analyst"))
        return len(store.load("sites"))


@pytest.fixture(scope="module")
def two_apps(store_url, first_publish, tmp_path_factory) -> Iterator[list[tuple[str, Path]]]:
    """Two app processes on the same store, each with an empty data folder of its own."""
    require_browser()
    with ExitStack() as stack:
        apps = []
        for name in ("a", "b"):
            folder = tmp_path_factory.mktemp(f"app-{name}-data")
            log = tmp_path_factory.mktemp(f"app-{name}-log") / "streamlit.log"
            apps.append(
                (stack.enter_context(running_app(folder, log, database_url=store_url)), folder)
            )
        yield apps


def _sites_total(page) -> int:
    """The explorer's 'N of M sites shown' caption's M."""
    caption = page.get_by_text("sites shown").first
    caption.wait_for(timeout=LONG)
    return int(caption.inner_text().split(" of ", 1)[1].split()[0].replace(",", ""))


def _rerun(page, km: int) -> None:
    """Change a filter, so the session reruns the explorer script."""
    field = page.get_by_label(BORDER_FILTER)
    field.fill(str(km))
    field.press("Enter")


def test_a_publish_reaches_the_other_process_on_its_next_rerun_and_nothing_is_on_local_disk(
    two_apps, store_url, shared_data, first_publish
):
    (base_a, folder_a), (base_b, folder_b) = two_apps
    with chromium() as browser, closing(open_page(browser)) as page_a:
        page_b = open_page(browser)
        for page, base in ((page_a, base_a), (page_b, base_b)):
            page.goto(f"{base}/explorer?vintage=2022")
            page.wait_for_selector(MAP_IFRAME, timeout=LONG)
            assert _sites_total(page) == first_publish
        with open_store(store_url) as store:
            kept_before = _kept_keys(store)
            fewer = store.load("sites").head(100)
            store.publish(
                "sites", "sites", fewer, author="analyst", file_name="first100.csv",
                checksum="c", counts={"accepted": 100},
            )  # fmt: skip
            workspace.store_analyses(store)
            kept_after = _kept_keys(store)
            key = workspace.analysis_key("2022", workspace.fingerprint(store))

        _rerun(page_b, 50)
        page_b.get_by_text(" of 100 sites shown").wait_for(timeout=LONG)
        _rerun(page_a, 60)
        page_a.get_by_text(" of 100 sites shown").wait_for(timeout=LONG)
        save_screenshot(page_b, "two_processes_after_publish")
        page_b.close()

    assert kept_before.isdisjoint(kept_after), "the old data's analysis was not dropped"
    assert kept_after == {key, key + workspace.DISPLAY_SUFFIX}
    assert sorted(p.name for p in folder_a.rglob("*")) == []
    assert sorted(p.name for p in folder_b.rglob("*")) == []


def _kept_keys(store) -> set[str]:
    return {row[0] for row in store._db.execute("SELECT DISTINCT key FROM derived_results")}
