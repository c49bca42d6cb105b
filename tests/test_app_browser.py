"""The running app in real headless chromium, as a regional lead uses it: map, ICB panel, shared links, briefing.

One `streamlit run dashboard.py` serves a data folder loaded the way an offline user
would (`geo.fetch.sources.fetch_from_dir`) plus a published provider list: the 1,213 real
hospitals, every other independent one 'not engaged', and one site in Leeds whose name
and provider are markup. Every page is a fresh browser context (a new visitor); every
dialog, page error and console error is recorded, and none may occur. Screenshots go
to test-artifacts/app_*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pytest

from geo.fetch import sources
from geo.io import readers
from geo.model import providers, sectors
from geo.store.versions import open_store
from geo.testing.headless import chromium
from tests.browser import require_browser, save_screenshot
from tests.factories import require_node_modules

pytestmark = pytest.mark.browser

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"
ICBS_2024 = ("icb_2024_04_from_lsoa21_bsc.geojson", "ICB24CD", "ICB24NM")
ICBS_2026 = ("icb_2026_04_reconstructed_from_lsoa21_bsc.geojson", "ICB26CD", "ICB26NM")
WEST_YORKSHIRE = "E54000054"  # Leeds is in it, in every vintage
CENTRAL_EAST = "E54000065"  # only in 2026: BLMK, Cambridgeshire and Peterborough, Hertfordshire
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_PROVIDER = "<script>alert(2)</script> Ltd"
XSS_AT = (53.80, -1.55)  # lat, lon: Leeds
# The markup site's sub-ICB code, which no lookup knows: the home page's notes quote it.
MARKDOWN_CODE = "![X](HTTP://127.0.0.1:1/X.PNG) [X](JAVASCRIPT:ALERT(3))"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"
LONG = 120_000  # ms: the first load of a vintage computes its analysis
_OFF_THIS_MACHINE = re.compile(r"^(?!(http://(127\.0\.0\.1|localhost)[:/]|data:|blob:|about:))")
_STREAMLIT_PROBES = re.compile(
    r"/_stcore/(health|host-config)$"
)  # the frontend finding its base path


@pytest.fixture(scope="module")
def published_sites(shared_data) -> pd.DataFrame:
    """The real hospitals, every other independent one not engaged, and a site named with markup
    (its sub-ICB code Markdown)."""
    sites = readers.read_sites(shared_data / HOSPITALS).sites
    independent = sites.index[sites["sector"] == "Independent"]
    sites.loc[independent[::2], "planning_status"] = providers.NOT_ENGAGED
    markup = sites.iloc[[0]].assign(
        site_id="XSS0001",
        site_name=XSS_NAME,
        provider_id="XSS",
        provider_name=XSS_PROVIDER,
        sector="Independent",
        planning_status=providers.NOT_ENGAGED,
        postcode=pd.NA,
        lat=XSS_AT[0],
        lon=XSS_AT[1],
        icb24_code=WEST_YORKSHIRE,
        icb26_code=WEST_YORKSHIRE,
        official_sicbl_code=MARKDOWN_CODE,
    )
    return pd.concat([sites, markup], ignore_index=True)


@pytest.fixture(scope="module")
def app_data_dir(shared_data, published_sites, tmp_path_factory) -> Path:
    """A data folder with the real boundaries and lookups, and the provider list published."""
    require_browser()
    require_node_modules()
    folder = tmp_path_factory.mktemp("app") / "data"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
        with open_store() as store:
            store.publish(
                "sites",
                "sites",
                published_sites,
                author="test",
                file_name="sites.csv",
                checksum="x",
                counts={"accepted": len(published_sites)},
            )
    return folder


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module."""
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def returning_visitor(browser):
    """One browser context for most tests: its HTTP cache keeps Streamlit's bundle between pages."""
    with closing(new_context(browser)) as context:
        yield context


def new_context(browser):
    """A new visitor: a fresh context that refuses every request off this machine.

    ICS_MAP_ASSETS=local inlines Leaflet, so the app needs nothing from a CDN; any
    request elsewhere is aborted here and reported by `Visit.assert_clean`.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(_OFF_THIS_MACHINE, lambda route: route.abort())
    return context


@dataclass
class Visit:
    """One page of a visitor, and everything it reported that a user must never see."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    sent_frames: list[int] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Dialogs, script errors and requests off this machine, as one list."""
        external = [url for url in self.requests if _OFF_THIS_MACHINE.match(url)]
        return (
            [f"dialog: {message}" for message in self.dialogs]
            + self.errors
            + [f"request off this machine: {url}" for url in external]
        )

    def assert_clean(self) -> None:
        """No dialog opened, no script failed and nothing was fetched from elsewhere."""
        assert self.problems() == []


@contextmanager
def visit(context, url: str) -> Iterator[Visit]:
    """Open `url` in a new page of `context` (a new Streamlit session) and watch it."""
    page = context.new_page()
    seen = Visit(page)
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("console", lambda message: _record_console_error(seen, message))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: seen.sent_frames.append(len(p))))
    try:
        page.goto(url)
        yield seen
    finally:
        page.close()


@dataclass(frozen=True)
class App:
    """The running app's address, and what its first two visitors saw."""

    base: str
    first_visit_pages: tuple[str, ...]
    first_visit_has_vintage_choice: bool
    home_icb_codes: tuple[str, ...]
    home_problems: tuple[str, ...]


@pytest.fixture(scope="module")
def app(streamlit_app, browser) -> App:
    """The app, after a shared explorer link was its first visit and the home page its second.

    The first visit of a fresh server is a shared explorer link: Streamlit runs it in its
    old pages/ mode, where the page draws the app's frame itself (pages/_frame.py).
    """
    with closing(new_context(browser)) as context:
        with visit(context, f"{streamlit_app}/explorer?vintage=2024") as first:
            map_frame(first)
            sidebar = first.page.locator("[data-testid=stSidebar]")
            pages = tuple(sidebar.locator("[data-testid=stSidebarNav] a").all_inner_texts())
            has_vintage = sidebar.get_by_text("ICB boundaries (vintage)").count() > 0
            save_screenshot(first.page, "app_first_visit")
        with visit(context, f"{streamlit_app}/?vintage=2024") as home:
            frame = map_frame(home, sites=False)
            codes = tuple(icb_codes_on_map(frame))
            save_screenshot(home.page, "app_home")
            problems = tuple(home.problems())
    return App(streamlit_app, pages, has_vintage, codes, problems)


def map_frame(seen: Visit, *, sites: bool = True, zoom: int | None = None):
    """The streamlit-folium iframe once its map has drawn (and its sites, at `zoom` if given)."""
    handle = seen.page.wait_for_selector(MAP_IFRAME, timeout=LONG)
    frame = handle.content_frame()
    frame.wait_for_selector("path.leaflet-interactive", state="attached", timeout=LONG)
    if sites:
        wanted = "true" if zoom is None else f"IcsMap.lastDraw.zoom === {zoom}"
        frame.wait_for_function(
            f"window.IcsMap && IcsMap.lastDraw !== null && {wanted}", timeout=LONG
        )
    return frame


def screen_point(seen: Visit, frame, lat: float, lon: float) -> tuple[float, float]:
    """Where a lat/lon of the map is on the page, for the mouse."""
    box = seen.page.locator(MAP_IFRAME).bounding_box()
    x, y = frame.evaluate(
        f"() => {{ const p = {MAP}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }}"
    )
    return box["x"] + x, box["y"] + y


def map_view(frame) -> tuple[float, float, int]:
    """The Leaflet map's centre and zoom, read inside the iframe."""
    lat, lon, zoom = frame.evaluate(
        f"() => {{ const m = {MAP}, c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }}"
    )
    return lat, lon, zoom


def url_params(url: str) -> dict[str, str]:
    """A URL's query parameters, one value each."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


def url_shows(view: tuple[float, float, int]):
    """A predicate for wait_for_url: the URL holds this centre and zoom (as ViewInUrl writes it)."""
    lat, lon, zoom = view
    wanted = {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}", "zoom": str(zoom)}
    return lambda url: all(url_params(url).get(k) == v for k, v in wanted.items())


def icb_codes_on_map(frame) -> list[str]:
    """The codes of the clickable ICB polygons on the map."""
    return frame.evaluate(
        f"""() => {{
            const codes = [];
            {MAP}.eachLayer(layer => {{
                if (layer.feature && layer.options.interactive !== false) codes.push(layer.feature.properties.code);
            }});
            return codes;
        }}"""
    )


def boundary_names(shared_data: Path, layer: tuple[str, str, str]) -> dict[str, str]:
    """ICB code -> name from one of the real boundary files."""
    file_name, code, name = layer
    table = gpd.read_file(shared_data / file_name, columns=[code, name], ignore_geometry=True)
    return dict(zip(table[code], table[name], strict=True))


def not_engaged_in(sites: pd.DataFrame, icb_column: str, code: str) -> int:
    """How many independent or voluntary sites not engaged the publisher's own lookup puts in `code`."""
    flagged = sites["sector"].isin(sectors.IV_SECTORS) & (
        sites["planning_status"] == providers.NOT_ENGAGED
    )
    return int((flagged & (sites[icb_column] == code)).sum())


def grid_text(seen: Visit) -> list[str]:
    """The text of the panel table's cells (st.dataframe draws on a canvas; this is its accessible copy)."""
    return seen.page.locator("[data-testid=stDataFrame] [role=gridcell]").all_inner_texts()


def _record_console_error(seen: Visit, message) -> None:
    if message.type != "error":
        return
    where = (message.location or {}).get("url", "")
    if _STREAMLIT_PROBES.search(where):
        return
    seen.errors.append(f"console error at {where}: {message.text}")


def test_the_explorer_draws_every_icb_and_every_site_with_no_script_errors(
    app, returning_visitor, shared_data, published_sites
):
    with visit(returning_visitor, f"{app.base}/explorer?vintage=2024") as seen:
        frame = map_frame(seen)
        assert sorted(icb_codes_on_map(frame)) == sorted(boundary_names(shared_data, ICBS_2024))
        drawn = frame.evaluate("() => [IcsMap.layers.length, IcsMap.layers[0].shown]")
        mapped = int(published_sites["lat"].notna().sum())
        assert drawn == [1, mapped]
        painted = frame.evaluate(
            """() => {
                const canvas = document.querySelector("canvas.ics-sites-canvas");
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
                return painted;
            }"""
        )
        assert painted > 1000, "the sites canvas is blank"
        shown = f"{len(published_sites):,} of {len(published_sites):,} sites shown"
        seen.page.get_by_text(shown).wait_for()
        save_screenshot(seen.page, "app_explorer")
        seen.assert_clean()


def test_a_sector_filter_hides_sites_in_the_map_it_has_without_fetching_them_again(
    app, returning_visitor, published_sites
):
    with visit(returning_visitor, f"{app.base}/explorer?vintage=2024") as seen:
        frame = map_frame(seen)
        frame.evaluate("() => { window.sameFrame = true; }")
        mapped = published_sites["lat"].notna()
        assert frame.evaluate("() => IcsMap.layers[0].shown") == int(mapped.sum())
        sidebar = seen.page.locator("[data-testid=stSidebar]")
        sidebar.get_by_role("combobox", name="Sector").click()
        seen.page.keyboard.type("Independent")
        seen.page.get_by_role("option", name="Independent", exact=True).wait_for()
        seen.page.keyboard.press("Enter")
        independent = published_sites["sector"] == "Independent"
        assert 0 < int((independent & mapped).sum()) < int(mapped.sum())
        seen.page.get_by_text(f"{int(independent.sum()):,} of {len(published_sites):,} sites shown")\
            .wait_for(timeout=LONG)  # fmt: skip
        frame.wait_for_function(
            "() => IcsMap.layers.length === 1 && IcsMap.layers[0].shown === "
            f"{int((independent & mapped).sum())}",
            timeout=LONG,
        )
        assert frame.evaluate("() => window.sameFrame") is True  # the map was not remounted
        fetched = frame.evaluate(
            "() => performance.getEntriesByType('resource')"
            ".filter(entry => entry.name.includes('/ics-api/sites/')).length"
        )
        assert fetched == 1  # the sites came once; the filter sent which of them to show
        assert frame.evaluate("() => IcsMap.failures") == []
        save_screenshot(seen.page, "app_sector_filter")
        seen.assert_clean()


def test_clicking_an_icb_opens_its_panel_and_puts_it_in_the_url(
    app, returning_visitor, shared_data, published_sites
):
    name = boundary_names(shared_data, ICBS_2024)[WEST_YORKSHIRE]
    url = f"{app.base}/explorer?vintage=2024&lat=53.75&lon=-1.7&zoom=9"
    with visit(returning_visitor, url) as seen:
        frame = map_frame(seen, zoom=9)
        x, y = screen_point(seen, frame, 53.68, -2.0)  # Calderdale's moors, inside West Yorkshire
        seen.page.mouse.move(x, y)
        tooltip = frame.locator(".leaflet-tooltip:not(.ics-site-tip)")
        tooltip.wait_for()
        assert WEST_YORKSHIRE in tooltip.inner_text()
        seen.page.mouse.click(x, y)
        seen.page.wait_for_url(lambda url: url_params(url).get("selected_icb") == WEST_YORKSHIRE)
        heading = seen.page.get_by_role("heading", name=name)
        heading.wait_for(timeout=LONG)
        expected = not_engaged_in(published_sites, "icb24_code", WEST_YORKSHIRE)
        table_title = seen.page.get_by_text(
            f"Independent and voluntary sites outside NHS planning: {expected}"
        )
        table_title.wait_for()
        seen.page.get_by_role("button", name="Download CSV").wait_for()
        heading.scroll_into_view_if_needed()
        save_screenshot(seen.page, "app_icb_panel")
        seen.assert_clean()


def test_a_site_named_with_markup_shows_as_text_and_opens_no_dialog(app, returning_visitor):
    lat, lon = XSS_AT
    url = f"{app.base}/explorer?vintage=2024&selected_icb={WEST_YORKSHIRE}&lat={lat}&lon={lon}&zoom=14"
    with visit(returning_visitor, url) as seen:
        frame = map_frame(seen, zoom=14)
        x, y = screen_point(seen, frame, *XSS_AT)
        seen.page.mouse.move(x, y)
        frame.wait_for_selector(".ics-site-tip")
        assert XSS_NAME in frame.inner_text(".ics-site-tip")
        seen.page.mouse.click(x, y)
        frame.wait_for_selector(".leaflet-popup-content")
        popup = frame.inner_text(".leaflet-popup-content")
        assert XSS_NAME in popup
        assert XSS_PROVIDER in popup
        seen.page.wait_for_function(
            f"() => [...document.querySelectorAll('[data-testid=stDataFrame] [role=gridcell]')]"
            f".some(cell => cell.textContent === {XSS_NAME!r})",
            timeout=LONG,
        )
        assert XSS_PROVIDER in grid_text(seen)
        injected = "img[src='x'], .leaflet-popup-content script, .ics-site-tip script"
        assert frame.locator(injected).count() == 0
        assert seen.page.locator(injected).count() == 0
        frame.wait_for_timeout(500)  # time for an injected image to fail and call alert
        save_screenshot(seen.page, "app_markup_site")
        assert not [url for url in seen.requests if urlsplit(url).path.endswith("/x")]
        seen.assert_clean()


def test_a_note_quoting_markdown_shows_it_as_text_and_fetches_nothing(app, returning_visitor):
    with visit(returning_visitor, f"{app.base}/?vintage=2024") as seen:
        # The note on sub-ICB codes the lookup cannot map is a warning, shown in an info box.
        note = seen.page.locator(
            "[data-testid=stAlertContainer]", has_text="does not map to an ICB"
        )
        note.wait_for(timeout=LONG)
        note.scroll_into_view_if_needed()
        seen.page.wait_for_timeout(500)  # time for an injected image to be requested
        save_screenshot(seen.page, "app_markdown_note")
        assert MARKDOWN_CODE in note.inner_text().replace("\u2060", "")  # word joiners
        assert note.locator("img, a").count() == 0
        assert seen.page.locator("img[src*='127.0.0.1:1'], img[src*='X.PNG' i]").count() == 0
        assert seen.page.locator("a[href^='javascript:' i]").count() == 0
        assert [url for url in seen.requests if "127.0.0.1:1/" in url] == []
        seen.assert_clean()


def test_a_shared_link_restores_the_view_in_a_new_browser(
    app, browser, shared_data, published_sites
):
    """A colleague opens the link: a browser that has never seen the app."""
    name = boundary_names(shared_data, ICBS_2026)[CENTRAL_EAST]
    url = (
        f"{app.base}/explorer?vintage=2026&sectors=Independent~Voluntary"
        f"&selected_icb={CENTRAL_EAST}&lat=52.5&lon=-1.9&zoom=9"
    )
    with closing(new_context(browser)) as colleague, visit(colleague, url) as seen:
        frame = map_frame(seen, zoom=9)
        lat, lon, zoom = map_view(frame)
        assert (lat, lon, zoom) == (pytest.approx(52.5, abs=0.01), pytest.approx(-1.9, abs=0.01), 9)
        sidebar = seen.page.locator("[data-testid=stSidebar]")
        sector = sidebar.locator("[data-testid=stMultiSelect]").filter(has_text="Sector")
        chosen = sector.locator("[data-tag]").evaluate_all(
            "tags => tags.map(tag => tag.getAttribute('aria-label'))"
        )
        assert chosen == ["Independent", "Voluntary"]
        vintage = sidebar.get_by_role("combobox", name="ICB boundaries (vintage)")
        assert vintage.input_value() == "2026"
        seen.page.get_by_role("heading", name=name).wait_for(timeout=LONG)
        expected = not_engaged_in(published_sites, "icb26_code", CENTRAL_EAST)
        seen.page.get_by_text(
            f"Independent and voluntary sites outside NHS planning: {expected}"
        ).wait_for()
        iv_sites = int(published_sites["sector"].isin(sectors.IV_SECTORS).sum())
        assert frame.evaluate("() => IcsMap.layers[0].shown") == iv_sites
        seen.page.get_by_text(f"{iv_sites:,} of {len(published_sites):,} sites shown").wait_for()
        params = url_params(seen.page.url)
        assert params["vintage"] == "2026"
        assert params["selected_icb"] == CENTRAL_EAST
        assert params["sectors"] == "Independent~Voluntary"
        save_screenshot(seen.page, "app_shared_link")
        seen.assert_clean()


def pan(seen: Visit, frame, dx: int, dy: int) -> tuple[float, float, int]:
    """Drag the map by (dx, dy) pixels as a mouse would; its new centre and zoom."""
    box = seen.page.locator(MAP_IFRAME).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    draws = frame.evaluate("() => IcsMap.draws.length")
    seen.page.mouse.move(x, y)
    seen.page.mouse.down()
    seen.page.mouse.move(x + dx, y + dy, steps=12)
    seen.page.mouse.up()
    frame.wait_for_function(f"() => IcsMap.draws.length > {draws}")
    return map_view(frame)


def empty_spot(seen: Visit, frame) -> tuple[float, float]:
    """A point near the map's centre inside an ICB, clear of sites and legends (a click there opens no popup)."""
    point = frame.evaluate(
        f"""() => {{
            const layer = IcsMap.layers[0], size = {MAP}.getSize();
            for (let r = 0; r < 250; r += 10) for (let a = 0; a < 16; a++) {{
                const x = size.x / 2 + r * Math.cos(a * Math.PI / 8), y = size.y / 2 + r * Math.sin(a * Math.PI / 8);
                const under = document.elementFromPoint(x, y);
                if (!layer._hitAt({{x, y}}) && under && under.matches("path.leaflet-interactive")) return [x, y];
            }}
            return null;
        }}"""
    )
    assert point is not None, "no empty spot inside an ICB near the map's centre"
    box = seen.page.locator(MAP_IFRAME).bounding_box()
    return box["x"] + point[0], box["y"] + point[1]


def test_pans_and_zooms_go_into_the_url_without_a_rerun_and_stay_after_a_click(
    app, returning_visitor
):
    url = f"{app.base}/explorer?vintage=2024&lat=53.5&lon=-1.5&zoom=9"
    with visit(returning_visitor, url) as seen:
        frame = map_frame(seen, zoom=9)
        seen.page.wait_for_url(url_shows(map_view(frame)))
        sent_before = len(seen.sent_frames)
        panned = pan(seen, frame, -200, -100)
        assert panned[:2] != pytest.approx((53.5, -1.5), abs=0.05)
        seen.page.wait_for_url(url_shows(panned))
        frame.locator(".leaflet-control-zoom-in").click()
        frame.wait_for_function(f"() => {MAP}.getZoom() === 10")
        zoomed = map_view(frame)
        seen.page.wait_for_url(url_shows(zoomed))
        assert len(seen.sent_frames) == sent_before, "panning or zooming asked the app to rerun"
        save_screenshot(seen.page, "app_panned")
        # A click on an ICB reruns the app, which rewrites the query string from what it knows.
        seen.page.mouse.click(*empty_spot(seen, frame))
        seen.page.wait_for_url(lambda url: "selected_icb" in url_params(url))
        seen.page.get_by_role("button", name="Download CSV").wait_for(timeout=LONG)
        assert len(seen.sent_frames) > sent_before
        assert map_view(frame) == zoomed, "the rerun moved the map"
        seen.page.wait_for_url(url_shows(zoomed))
        seen.assert_clean()


def test_the_home_page_draws_its_choropleth(app, shared_data):
    assert sorted(app.home_icb_codes) == sorted(boundary_names(shared_data, ICBS_2024))
    assert app.home_problems == ()


def test_the_briefing_shows_an_icb_and_downloads_it_as_pdf_and_powerpoint(
    app, returning_visitor, shared_data
):
    name = boundary_names(shared_data, ICBS_2024)[WEST_YORKSHIRE]
    url = f"{app.base}/briefing?area={WEST_YORKSHIRE}&vintage=2024"
    with visit(returning_visitor, url) as seen:
        pdf = seen.page.get_by_role("button", name="Download PDF (A4)")
        pptx = seen.page.get_by_role("button", name="Download PowerPoint")
        pptx.wait_for(timeout=LONG)
        briefing = seen.page.locator("[data-testid=stHtml]").first
        assert briefing.get_by_role("heading").first.inner_text().startswith(name)
        assert briefing.locator("img").count() == 2  # the map and the sector chart
        assert briefing.locator("script, img[src='x']").count() == 0
        save_screenshot(seen.page, "app_briefing")
        for button, magic, suffix in ((pdf, b"%PDF", ".pdf"), (pptx, b"PK", ".pptx")):
            with seen.page.expect_download(timeout=LONG) as download:
                button.click()
            assert download.value.suggested_filename.endswith(suffix)
            assert Path(download.value.path()).read_bytes().startswith(magic)
        seen.assert_clean()


def test_a_shared_link_as_the_first_visit_of_a_fresh_server_shows_the_apps_own_pages(app):
    assert app.first_visit_has_vintage_choice
    titles = [page.splitlines()[-1] for page in app.first_visit_pages]  # icon, then title
    assert titles == [  # the app's own pages, none of its helper modules
        "ICS gaps",
        "Map explorer",
        "Board briefing",
        "Upload data",
        "Published versions",
    ]
