"""A regional lead in the running app, in real headless chromium: picks a region, the map fits
it and greys the rest, and the region's list of I+V sites not engaged downloads.

One `streamlit run dashboard.py` serves the real boundaries, NHS regions and lookups
(loaded as an offline user would) and the real hospitals published with every third
independent one 'not engaged'. Screenshots go to test-artifacts/regions_*.png.
"""

from __future__ import annotations

import colorsys
import io
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image

from geo.fetch import sources
from geo.io import readers
from geo.model import sectors
from geo.model.providers import ENGAGED, NOT_ENGAGED
from geo.store.versions import open_store
from geo.testing.headless import chromium
from tests.browser import require_browser, save_screenshot
from tests.factories import require_node_modules

pytestmark = pytest.mark.browser

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"
REGIONS = ("nhs_england_regions_2024_01_bgc.geojson", "NHSER24CD")
ICBS_2024 = ("icb_2024_04_from_lsoa21_bsc.geojson", "ICB24CD")
NORTH_EAST_AND_YORKSHIRE = "E40000012"
REGION_LABEL = "NHS region (the map fits it and greys the rest)"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"
FOCUS_PANE = "icsRegionFocus"
LONG = 120_000  # ms: the first load computes the analysis


@pytest.fixture(scope="module")
def published_sites(shared_data) -> pd.DataFrame:
    """The real hospitals, every third independent one not engaged and the rest engaged."""
    sites = readers.read_sites(shared_data / HOSPITALS).sites
    independent = sites.index[sites["sector"] == "Independent"]
    sites.loc[independent, "planning_status"] = ENGAGED
    sites.loc[independent[::3], "planning_status"] = NOT_ENGAGED
    return sites


@pytest.fixture(scope="module")
def app_data_dir(shared_data, published_sites, tmp_path_factory) -> Path:
    """A data folder with the real boundaries, regions and lookups, and the hospitals published."""
    require_browser()
    require_node_modules()
    folder = tmp_path_factory.mktemp("regions") / "data"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
        with open_store() as store:
            store.publish(
                "sites", "sites", published_sites, author="test", file_name="sites.csv",
                checksum="x", counts={"accepted": len(published_sites)},
            )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def region(shared_data) -> gpd.GeoDataFrame:
    """North East and Yorkshire as the regions file draws it."""
    file_name, code = REGIONS
    regions = gpd.read_file(shared_data / file_name).to_crs(4326)
    return regions[regions[code] == NORTH_EAST_AND_YORKSHIRE]


@pytest.fixture(scope="module")
def region_icbs(shared_data, region) -> set[str]:
    """The 2024 ICBs whose inside point lies in the region."""
    file_name, code = ICBS_2024
    icbs = gpd.read_file(shared_data / file_name).to_crs(4326)
    inside = icbs.representative_point().within(region.geometry.iloc[0])
    return set(icbs.loc[inside, code])


@pytest.fixture(scope="module")
def page(streamlit_app):
    """A regional lead's page: chromium that refuses every request off this machine."""
    with chromium() as browser, closing(browser.new_context(accept_downloads=True)) as context:
        context.route(r"^(?!(http://(127\.0\.0\.1|localhost)[:/]|data:|blob:|about:))", _abort)
        opened = context.new_page()
        opened.set_viewport_size({"width": 1400, "height": 1000})
        yield opened


def _abort(route) -> None:
    route.abort()


def map_frame(page, *, with_focus: bool):
    """The map's iframe once its ICBs and sites are drawn (and the region's grey, if asked)."""
    frame = page.wait_for_selector(MAP_IFRAME, timeout=LONG).content_frame()
    frame.wait_for_selector("path.leaflet-interactive", state="attached", timeout=LONG)
    frame.wait_for_function("window.IcsMap && IcsMap.lastDraw !== null", timeout=LONG)
    if with_focus:
        frame.wait_for_function(
            f"() => {{ const m = {MAP}; return m && m.getPane('{FOCUS_PANE}') &&"
            f" m.getPane('{FOCUS_PANE}').querySelector('path'); }}",
            timeout=LONG,
        )
    return frame


def map_bounds(frame) -> tuple[float, float, float, float]:
    """(west, south, east, north) of what the Leaflet map shows."""
    return tuple(
        frame.evaluate(
            f"() => {{ const b = {MAP}.getBounds();"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
        )
    )


def saturation_at(page, frame, lat: float, lon: float, half: int = 6) -> float:
    """The mean colour saturation of a small patch of the map around a place (0 = grey)."""
    box = page.locator(MAP_IFRAME).bounding_box()
    x, y = frame.evaluate(
        f"() => {{ const p = {MAP}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }}"
    )
    clip = {
        "x": box["x"] + x - half,
        "y": box["y"] + y - half,
        "width": 2 * half,
        "height": 2 * half,
    }
    patch = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")
    pixels = np.asarray(patch, dtype=float).reshape(-1, 3) / 255
    return float(np.mean([colorsys.rgb_to_hsv(*rgb)[1] for rgb in pixels]))


def test_a_regional_lead_picks_a_region_sees_it_fitted_and_downloads_its_list(
    streamlit_app, page, region, region_icbs, published_sites
):
    # A fresh server's first visit runs in Streamlit's old pages/ mode (pages/_frame.py) and
    # drops widget choices when it leaves it: the lead has opened the app before.
    page.goto(f"{streamlit_app}/?vintage=2024")
    page.get_by_role(
        "heading", name="Per-ICB metrics, highest share outside NHS planning first"
    ).wait_for(timeout=LONG)
    page.goto(f"{streamlit_app}/explorer?vintage=2024")
    frame = map_frame(page, with_focus=False)
    england = map_bounds(frame)
    save_screenshot(page, "regions_england")

    picker = page.get_by_role("combobox", name=REGION_LABEL)
    picker.click()
    picker.fill("North East and Yorkshire")
    page.get_by_role("option", name="North East and Yorkshire").click()
    page.wait_for_url(
        lambda url: f"selected_region={NORTH_EAST_AND_YORKSHIRE}" in url, timeout=LONG
    )
    frame = map_frame(page, with_focus=True)
    page.wait_for_timeout(500)  # the fitted view settles

    west, south, east, north = map_bounds(frame)
    r_west, r_south, r_east, r_north = region.total_bounds
    assert (west, south) <= (r_west + 0.01, r_south + 0.01)
    assert (east, north) >= (r_east - 0.01, r_north - 0.01)
    assert north - south < 2.1 * (r_north - r_south) or east - west < 2.1 * (r_east - r_west)
    assert (east - west) < (england[2] - england[0])  # closer in than England's view
    inside = saturation_at(page, frame, 54.0, -1.1)  # North Yorkshire, in the region
    outside = saturation_at(page, frame, 53.75, -2.7)  # Lancashire, in the North West
    assert inside > 1.5 * outside, (
        f"outside the region is not greyed: {inside:.2f} vs {outside:.2f}"
    )
    heading = page.get_by_role("heading", name="North East and Yorkshire (NHS region)")
    heading.wait_for(timeout=LONG)
    save_screenshot(page, "regions_fitted")

    with page.expect_download(timeout=LONG) as csv_download:
        page.get_by_role("button", name="Download the region's list (CSV)").click()
    listed = pd.read_csv(csv_download.value.path(), encoding="utf-8-sig")
    flagged = published_sites[
        published_sites["sector"].isin(sectors.IV_SECTORS)
        & (published_sites["planning_status"] == NOT_ENGAGED)
        & published_sites["icb24_code"].isin(region_icbs)
    ]
    assert len(flagged) > 0
    assert sorted(listed["site_name"]) == sorted(flagged["site_name"])
    assert set(listed["icb_code"]) <= region_icbs
    distances = listed["border_distance_m"].dropna()
    assert (distances == distances.round()).all()
    assert csv_download.value.suggested_filename.startswith(
        f"iv_outside_nhs_planning_{NORTH_EAST_AND_YORKSHIRE}"
    )

    with page.expect_download(timeout=LONG) as xlsx_download:
        page.get_by_role("button", name="Download the region's list (XLSX)").click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert workbook.sheetnames == ["I+V outside NHS planning"]
    heading.scroll_into_view_if_needed()
    save_screenshot(page, "regions_panel")
