"""Benchmark sections 'endtoend' and 'load': the running app in headless chromium, as a user sees it.

Synthetic sites are published (through `publishing.publish`, which also analyses and
stores every loaded vintage) into a temporary data folder loaded from the shared
data, and `streamlit run dashboard.py` serves it (geo.testing.app_server). Each time
is from the input event (navigation, a click) to the pixels settled: the map's canvas
has drawn (or, on home, the choropleth is in the DOM) and one more animation frame
has passed, or the panel's heading is shown.
"""

from __future__ import annotations

import html
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.bench.browser import VIEWPORT, asset_files, browser_missing
from geo.bench.report import Section, Target, progress, seconds
from geo.fetch import sources
from geo.model import access
from geo.publish import publishing
from geo.store import versions as store
from geo.testing.app_server import running_app
from geo.testing.headless import chromium, offline_router

VINTAGE, OTHER_VINTAGES = "2023", ("2024", "2022", "2026")
SECTOR_CLICKS = ("Independent", "Voluntary", "NHS", "Unknown")
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
TIMEOUT_MS = 300_000
COLD_FIRST_VIEW = Target("first view", 2.0, "s")
FILTER = Target("filter", 1.0, "s")
CLICK = Target("click", 1.0, "s")
VINTAGE_SWITCH = Target("switch", 1.5, "s")
SHARED = Target("first view", 2.0, "s")
LOAD_P95 = Target("p95", 2.5, "s")
LOAD_MEMORY = Target("memory", 30, "MB")
LOAD_SESSIONS, LOAD_SECONDS, QUICK_LOAD_SESSIONS, QUICK_LOAD_SECONDS = 20, 120.0, 4, 20.0
_CSV_COLUMNS = (
    "site_id", "site_name", "provider_id", "provider_name", "sector", "service_type",
    "capacity", "planning_status", "postcode", "lat", "lon",
)  # fmt: skip
# In the page: has the map iframe's canvas layer drawn since `mark_map` (or in a new map)?
_REDRAWN = """(mark) => {
  const f = document.querySelector(__MAP_IFRAME__), w = f && f.contentWindow;
  if (!w || !w.IcsMap || !w.IcsMap.lastDraw) return false;
  return w.IcsMap.__mark !== mark || w.IcsMap.draws.length > w.__drawsAtMark;
}""".replace("__MAP_IFRAME__", repr(MAP_IFRAME))
_MARK = """(mark) => {
  const f = document.querySelector(__MAP_IFRAME__), w = f && f.contentWindow;
  if (w && w.IcsMap) { w.IcsMap.__mark = mark; w.__drawsAtMark = w.IcsMap.draws.length; }
}""".replace("__MAP_IFRAME__", repr(MAP_IFRAME))
_CHOROPLETH = """() => {
  const f = document.querySelector(__MAP_IFRAME__), d = f && f.contentDocument;
  return Boolean(d && d.querySelector("path.leaflet-interactive"));
}""".replace("__MAP_IFRAME__", repr(MAP_IFRAME))
# Inside the map iframe: every clickable ICB's code and name.
_ICBS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map), out = [];
  map.eachLayer(l => { if (l.feature && l.options.interactive !== false)
    out.push([l.feature.properties.code, l.feature.properties.name]); });
  return out;
}"""
PANEL_CHOOSER = "ICB panel (or click an ICB on the map)"


@dataclass(frozen=True)
class PublishedApp:
    """A data folder with the sites published and the analyses stored; how long that took."""

    folder: Path
    publish_s: float
    sites: int


def prepare_app_data(sites: pd.DataFrame, data: Path, work: Path) -> PublishedApp:
    """Load the shared data offline into a new data folder and publish `sites` into its store."""
    folder = work / "endtoend-data"
    folder.mkdir(parents=True, exist_ok=True)
    with _data_dir(folder):
        sources.fetch_from_dir(data)
        path = work / "endtoend_sites.csv"
        sites[list(_CSV_COLUMNS)].to_csv(path, index=False)
        prepared = publishing.prepare(path, "sites")
        start = time.perf_counter()
        with store.open_store() as published:
            publishing.publish(prepared, published, by=access.local_user("benchmark"))
        publish_s = time.perf_counter() - start
    return PublishedApp(folder, publish_s, len(sites))


def endtoend_section(app: PublishedApp, work: Path, *, quick: bool) -> Section:
    """Time what a user waits for, in headless chromium against the running app."""
    runs = 1 if quick else 3
    section = Section(
        "endtoend",
        "7. End to end: the running app in a browser",
        _about(app, runs),
        ["step", "sites", "time s (median)", "runs", "each s"],
        quick=quick,
    )
    missing = browser_missing()
    if missing:
        section.add(["all steps", f"{app.sites:,}", f"not run: {missing}", "0", ""], [])
        return section
    label = f"{app.sites:,}"
    with chromium() as browser:
        home = [
            _cold_view(browser, app, work, f"/?vintage={VINTAGE}", _home_settled)
            for _ in range(runs)
        ]
        explorer = []
        for run in range(runs):
            keep = run == runs - 1
            explorer.append(
                _cold_view(browser, app, work, f"/explorer?vintage={VINTAGE}", _map_drawn, keep)
            )
        server, warm = explorer[-1][1], explorer[-1][2]
        try:
            filters = _filter_changes(warm, len(SECTOR_CLICKS) if not quick else 2)
            clicks = _icb_clicks(warm, 3 if not quick else 1)
            switches = _vintage_switches(warm, OTHER_VINTAGES if not quick else OTHER_VINTAGES[:1])
            shared = [_shared_link(browser, server, clicks.code) for _ in range(runs)]
        finally:
            warm.context.close()
    _row(section, "home, cold server", label, [t for t, *_ in home], COLD_FIRST_VIEW, app)
    _row(section, "explorer, cold server", label, [t for t, *_ in explorer], COLD_FIRST_VIEW, app)
    _row(section, "filter change → map redrawn", label, filters, FILTER, app)
    _row(section, "ICB chosen → panel shown", label, clicks.times, CLICK, app)
    _row(section, "vintage switch → map redrawn", label, switches, VINTAGE_SWITCH, app)
    _row(section, "shared URL, new browser", label, shared, SHARED, app)
    section.notes.append(
        "Cold first views (where the time goes): the page's title was shown at a median of "
        f"{statistics.median(v[3] for v in home):.2f} s (home) and "
        f"{statistics.median(v[3] for v in explorer):.2f} s (explorer) after navigation: "
        "Streamlit's own page and the first run's imports; the rest is the stored analysis "
        "read, the map sent and drawn."
    )
    section.notes.append(
        f"Publishing the {app.sites:,} sites took {app.publish_s:.1f} s, including analysing and "
        "storing every loaded vintage: the work a cold server's first view no longer does."
    )
    return section


def _about(app: PublishedApp, runs: int) -> str:
    return (
        f"{app.sites:,} synthetic sites published into a temporary SQLite store (publishing "
        "analyses and stores every loaded vintage); `streamlit run dashboard.py` serves it and "
        "headless Debian chromium (1100×800, no tiles) drives it. Each time is from the input "
        "event to the pixels settled (the sites canvas drawn, or on home the choropleth in "
        "place, then one animation frame; the panel's heading shown). **Cold**: a freshly "
        f"started server, its first page view ({runs} servers each). The other steps use the "
        f"last explorer session (vintage {VINTAGE}): sector filter options added one at a time, "
        "ICBs chosen in the panel chooser (a click on the map reruns the same script, plus "
        "st_folium's event; at national zoom 100,000 sites leave no ICB spot clear of a "
        "cluster to click), switches to vintages not yet viewed in this process "
        "(their analysis is read from the store), then the shared URL of that view opened in a "
        "fresh browser context."
    )


def _row(section, step, label, times, target, app) -> None:
    median = statistics.median(times) if times else None
    each = ", ".join(f"{t:.2f}" for t in times)
    section.add([step, label, seconds(median), str(len(times)), each], [(target, median)])


@dataclass
class _Session:
    context: object
    page: object


def _new_session(browser) -> _Session:
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", offline_router(asset_files()))
    return _Session(context, context.new_page())


def _cold_view(browser, app, work, path, settled, keep=False):
    """Start a fresh server, open `path` in a new browser: seconds until settled."""
    log = work / f"endtoend-app-{time.monotonic_ns()}.log"
    server = _ServerHandle(app.folder, log)
    base = server.start()
    session = _new_session(browser)
    start = time.perf_counter()
    session.page.goto(base + path, wait_until="commit", timeout=TIMEOUT_MS)
    session.page.locator("h1").first.wait_for(timeout=TIMEOUT_MS)
    titled = time.perf_counter() - start
    settled(session.page)
    elapsed = time.perf_counter() - start
    progress(f"endtoend: cold {path}: {elapsed:.2f} s (page title shown at {titled:.2f} s)")
    if keep:
        return elapsed, server, session, titled
    session.context.close()
    server.stop()
    return elapsed, None, None, titled


def _home_settled(page) -> None:
    page.wait_for_function(_CHOROPLETH, polling="raf", timeout=TIMEOUT_MS)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=TIMEOUT_MS)
    _next_frame(page)


def _map_drawn(page, mark: str | None = None) -> None:
    page.wait_for_function(_REDRAWN, arg=mark or "", polling="raf", timeout=TIMEOUT_MS)
    _next_frame(page)


def _next_frame(page) -> None:
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")


def _timed(page, action: Callable[[], None], settled: Callable[[str], None]) -> float:
    """Mark the map, run the action, wait until `settled(mark)`: the seconds between."""
    mark = f"m{time.monotonic_ns()}"
    page.evaluate(_MARK, mark)
    start = time.perf_counter()
    action()
    settled(mark)
    return time.perf_counter() - start


def _filter_changes(session: _Session, count: int) -> list[float]:
    page, times = session.page, []
    for sector in SECTOR_CLICKS[:count]:
        pick = _typed_choice(page, "Sector", sector)
        times.append(_timed(page, pick, lambda mark: _map_drawn(page, mark)))
        page.keyboard.press("Escape")
        progress(f"endtoend: sector {sector} added: {times[-1]:.2f} s")
    return times


def _typed_choice(page, label: str, choice: str) -> Callable[[], None]:
    """Open a sidebar select box once the app is idle and type `choice`: the action that picks it.

    The keyboard, not a click on the option: an option list redrawn by a rerun still takes it.
    """
    _idle(page)
    page.locator("[data-testid=stSidebar]").get_by_role("combobox", name=label).click()
    page.keyboard.type(choice)
    page.get_by_role("option", name=choice, exact=True).wait_for(timeout=TIMEOUT_MS)
    return lambda: page.keyboard.press("Enter")


def _idle(page) -> None:
    """Wait until Streamlit shows no script running."""
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class _Clicks:
    times: list[float]
    code: str | None


def _icb_clicks(session: _Session, count: int) -> _Clicks:
    """Open ICB panels from the panel chooser (the map click's own rerun, without its event)."""
    page = session.page
    _idle(page)
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    icbs = frame.evaluate(_ICBS)[:count]
    times, code = [], None
    for code, name in icbs:
        shown_name = html.unescape(name)
        _idle(page)
        page.get_by_role("combobox", name=PANEL_CHOOSER).click()
        page.keyboard.type(shown_name[:40])
        page.get_by_role("option", name=shown_name, exact=True).wait_for(timeout=TIMEOUT_MS)

        def shown(_mark: str, shown_name=shown_name) -> None:
            page.get_by_role("heading", name=shown_name).wait_for(timeout=TIMEOUT_MS)
            _next_frame(page)

        times.append(_timed(page, lambda: page.keyboard.press("Enter"), shown))
        progress(f"endtoend: panel {code}: {times[-1]:.2f} s")
    return _Clicks(times, code)


def _vintage_switches(session: _Session, vintages: tuple[str, ...]) -> list[float]:
    page, times = session.page, []
    for vintage in vintages:
        pick = _typed_choice(page, "ICB boundaries (vintage)", vintage)

        def settled(mark: str, vintage=vintage) -> None:
            page.get_by_text(f"· {vintage} ICBs").wait_for(timeout=TIMEOUT_MS)
            _map_drawn(page, mark)

        times.append(_timed(page, pick, settled))
        progress(f"endtoend: vintage {vintage}: {times[-1]:.2f} s")
    return times


def _shared_link(browser, server: _ServerHandle, code: str | None) -> float:
    """The explorer's URL with filters, a vintage and a panel, opened in a new browser context."""
    url = f"{server.base}/explorer?vintage={VINTAGE}&sectors=Independent~Voluntary"
    url += f"&selected_icb={code}" if code else ""
    session = _new_session(browser)
    try:
        start = time.perf_counter()
        session.page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        _map_drawn(session.page)
        if code:
            session.page.get_by_role("button", name="Download CSV").wait_for(timeout=TIMEOUT_MS)
        elapsed = time.perf_counter() - start
    finally:
        session.context.close()
    progress(f"endtoend: shared link: {elapsed:.2f} s")
    return elapsed


class _ServerHandle:
    """`running_app` held open across calls, with its process id for memory readings."""

    def __init__(self, folder: Path, log: Path) -> None:
        self._context = running_app(folder, log)
        self.base = ""

    def start(self) -> str:
        self.base = self._context.__enter__()
        return self.base

    def stop(self) -> None:
        self._context.__exit__(None, None, None)

    def rss_mb(self) -> float:
        """The server's resident memory now (its process found by the port it listens on)."""
        port = self.base.rsplit(":", 1)[1]
        for status in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = status.read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--server.port" in args and port.encode() in args:
                return _status_kb(status.parent / "status", "VmRSS") / 1000
        raise RuntimeError(f"no streamlit process listening on port {port}")


def _status_kb(path: Path, field: str) -> float:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) * 1.024
    raise RuntimeError(f"{path}: no {field}")


@contextmanager
def _data_dir(folder: Path) -> Iterator[None]:
    """ICS_DATA_DIR set to `folder` (and no DATABASE_URL) for the block, then restored."""
    saved = {name: os.environ.get(name) for name in ("ICS_DATA_DIR", "DATABASE_URL")}
    os.environ["ICS_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_section(
    app: PublishedApp, work: Path, *, quick: bool, sessions: int = 0, duration_s: float = 0.0
) -> Section:
    """`sessions` browser sessions at once, each changing a filter and opening ICB panels in
    turn for `duration_s`: latency percentiles, the server's memory per session, sessions lost."""
    sessions = sessions or (QUICK_LOAD_SESSIONS if quick else LOAD_SESSIONS)
    duration_s = duration_s or (QUICK_LOAD_SECONDS if quick else LOAD_SECONDS)
    section = Section(
        "load",
        "8. Many users: concurrent sessions on one app process",
        f"{sessions} browser sessions (contexts of one headless chromium, so the browser's "
        f"own work shares the 2 cores with the server) on one app process serving "
        f"{app.sites:,} published sites, each for {duration_s:.0f} s repeating: set the "
        "'near another ICB's border' filter to a new value (→ map redrawn), then open an ICB's "
        "panel from the panel chooser (→ its heading shown). **Memory per session** = the "
        "server's resident memory after every session has run, less before any connected, "
        "÷ sessions. **Lost** = sessions that stopped answering or showed an error.",
        ["sessions", "seconds", "actions", "p50 s", "p95 s", "max s", "MB per session", "lost"],
        quick=quick,
    )
    missing = browser_missing()
    if missing:
        section.add([str(sessions), f"not run: {missing}", "", "", "", "", "", ""], [])
        return section
    import asyncio

    server = _ServerHandle(app.folder, work / "load-app.log")
    base = server.start()
    try:
        _warm(base)
        before = server.rss_mb()
        result = asyncio.run(_load(base, sessions, duration_s))
        after = server.rss_mb()
    finally:
        server.stop()
    latencies = sorted(result.latencies)
    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    per_session = (after - before) / sessions
    section.add(
        [str(sessions), f"{duration_s:.0f}", str(len(latencies)), seconds(p50), seconds(p95),
         seconds(latencies[-1] if latencies else None), f"{per_session:.1f}", str(result.lost)],
        [(LOAD_P95, p95), (LOAD_MEMORY, per_session)],
        f"Server memory {before:.0f} MB before, {after:.0f} MB after. Filter changes p95 "
        f"{seconds(_percentile(sorted(result.by_kind['filter']), 95))} s, panels p95 "
        f"{seconds(_percentile(sorted(result.by_kind['panel']), 95))} s.",
    )  # fmt: skip
    if result.errors:
        section.notes.append("Errors: " + "; ".join(sorted(set(result.errors))[:5]))
    return section


def _warm(base: str) -> None:
    """One session first, so the load measures sessions, not the process's first analysis."""
    with chromium() as browser:
        session = _new_session(browser)
        session.page.goto(f"{base}/explorer?vintage={VINTAGE}", timeout=TIMEOUT_MS)
        _map_drawn(session.page)
        session.context.close()


@dataclass
class _LoadResult:
    latencies: list[float]
    by_kind: dict[str, list[float]]
    lost: int
    errors: list[str]


async def _load(base: str, sessions: int, duration_s: float) -> _LoadResult:
    import asyncio

    from playwright.async_api import async_playwright

    from geo.testing.headless import CHROMIUM, CHROMIUM_ARGS

    result = _LoadResult([], {"filter": [], "panel": []}, 0, [])
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            await asyncio.gather(
                *(_one_user(browser, base, n, duration_s, result) for n in range(sessions))
            )
        finally:
            await browser.close()
    return result


async def _one_user(browser, base: str, n: int, duration_s: float, result: _LoadResult) -> None:
    """One visitor: open the explorer, then alternate a filter change and a panel until time is up."""
    context = await browser.new_context(viewport=VIEWPORT)
    await context.route("**/*", offline_router_async(asset_files()))
    page = await context.new_page()
    try:
        await page.goto(f"{base}/explorer?vintage={VINTAGE}", timeout=TIMEOUT_MS)
        await page.wait_for_function(_REDRAWN, arg="", polling="raf", timeout=TIMEOUT_MS)
        names = await _panel_names(page)
        deadline, step = time.monotonic() + duration_s, 0
        while time.monotonic() < deadline:
            step += 1
            kind = "filter" if step % 2 else "panel"
            if kind == "filter":
                elapsed = await _async_filter(page, (n * 7 + step) % 60 + 1)
            else:
                elapsed = await _async_panel(page, names[(n * 5 + step) % len(names)])
            result.latencies.append(elapsed)
            result.by_kind[kind].append(elapsed)
        if await page.locator("[data-testid=stException]").count():
            raise RuntimeError("the page shows an exception")
    except Exception as error:  # a lost session is counted and the others go on
        result.lost += 1
        result.errors.append(f"{type(error).__name__}: {str(error).splitlines()[0][:120]}")
    finally:
        await context.close()


async def _panel_names(page) -> list[str]:
    frame = await (await page.locator(MAP_IFRAME).element_handle()).content_frame()
    names = await frame.evaluate(
        """() => { const map = Object.values(window).find(v => v instanceof L.Map), out = [];
           map.eachLayer(l => { if (l.feature && l.options.interactive !== false)
             out.push(l.feature.properties.name); }); return out; }"""
    )
    return sorted({html.unescape(name) for name in names})


async def _async_filter(page, km: int) -> float:
    mark = f"m{time.monotonic_ns()}"
    await page.evaluate(_MARK, mark)
    field = page.get_by_label("Near another ICB's border (km; 0 = any distance)")
    await field.fill(str(km))
    start = time.perf_counter()
    await field.press("Enter")
    await page.wait_for_function(_REDRAWN, arg=mark, polling="raf", timeout=TIMEOUT_MS)
    return time.perf_counter() - start


async def _async_panel(page, name: str) -> float:
    await page.get_by_role("combobox", name=PANEL_CHOOSER).click()
    await page.keyboard.type(name[:40])
    start = time.perf_counter()
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name=name).wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def _percentile(values: list[float], pct: float) -> float | None:
    """The nearest-rank percentile of sorted `values`; None when there are none."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))]


def offline_router_async(files: dict[str, Path]) -> Callable:
    """`offline_router` for Playwright's async API."""
    sync_answer = offline_router(files)

    async def answer(route) -> None:
        calls: list[tuple[str, dict]] = []

        class _Recorder:
            request = route.request

            def fulfill(self, **kwargs) -> None:
                calls.append(("fulfill", kwargs))

            def continue_(self) -> None:
                calls.append(("continue_", {}))

            def abort(self) -> None:
                calls.append(("abort", {}))

        sync_answer(_Recorder())
        name, kwargs = calls[0]
        await getattr(route, name)(**kwargs)

    return answer
