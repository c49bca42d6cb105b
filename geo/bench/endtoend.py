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
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.bench.browser import VIEWPORT, asset_files, browser_missing
from geo.bench.report import Section, Target, progress, seconds
from geo.fetch import sources
from geo.model import access
from geo.model.settings import PROJECT_DIR
from geo.publish import publishing
from geo.store import versions as store
from geo.testing.app_server import running_app, server_pid
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
LOAD_THINK_S = 5.0  # a person's pause between actions, on average
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
        "End to end: the running app in a browser",
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
        home = [_cold_views(browser, app, work, f"/?vintage={VINTAGE}", _home_settled)
                for _ in range(runs)]  # fmt: skip
        explorer = [
            _cold_views(browser, app, work, f"/explorer?vintage={VINTAGE}", _map_drawn,
                        keep=run == runs - 1)
            for run in range(runs)
        ]  # fmt: skip
        server, warm = explorer[-1].server, explorer[-1].session
        try:
            filters = _filter_changes(warm, len(SECTOR_CLICKS) if not quick else 2)
            clicks = _icb_clicks(warm, 3 if not quick else 1)
            switches = _vintage_switches(warm, OTHER_VINTAGES if not quick else OTHER_VINTAGES[:1])
            shared = [_shared_link(browser, server, clicks.code) for _ in range(runs)]
        finally:
            warm.context.close()
            server.stop()
    for name, views in (("home", home), ("explorer", explorer)):
        _row(section, f"{name}, cold server, returning browser", label,
             [v.returning.seconds for v in views], COLD_FIRST_VIEW, app)  # fmt: skip
        _row(section, f"{name}, cold server, new browser", label,
             [v.new.seconds for v in views], COLD_FIRST_VIEW, app)  # fmt: skip
    _row(section, "filter change → map redrawn", label, filters, FILTER, app)
    _row(section, "ICB chosen → panel shown", label, clicks.times, CLICK, app)
    _row(section, "vintage switch → map redrawn", label, switches, VINTAGE_SWITCH, app)
    _row(section, "shared URL, new browser", label, [v.seconds for v in shared], SHARED, app)
    section.notes.append(_where_cold_time_goes(home, explorer, shared))
    starts = [v.start_s for v in home + explorer]
    section.notes.append(
        f"A freshly started server answered its health check after a median of "
        f"{statistics.median(starts):.1f} s (imports, and every vintage's stored analysis and "
        "explorer default read before it serves: pages/_startup.py); the cold views above "
        "start once it answers."
    )
    section.notes.append(
        f"Publishing the {app.sites:,} sites took {app.publish_s:.1f} s, including analysing and "
        "storing every loaded vintage: the work a cold server's first view no longer does."
    )
    return section


def _where_cold_time_goes(home, explorer, shared) -> str:
    def median(views, attribute):
        return statistics.median(getattr(view, attribute) for view in views)

    new_home, new_explorer = [v.new for v in home], [v.new for v in explorer]
    old_home, old_explorer = [v.returning for v in home], [v.returning for v in explorer]
    return (
        "Where a first view's time goes (medians, seconds after navigation): in a new browser, "
        "Streamlit's own page (about 100 JavaScript files) has loaded and opened its websocket "
        f"at {median(new_home, 'connected'):.2f} (home) and {median(new_explorer, 'connected'):.2f}"
        f" (explorer), and at {median(shared, 'connected'):.2f} for the shared URL, before the "
        "server is asked for anything; the page title follows at "
        f"{median(new_home, 'titled'):.2f} and {median(new_explorer, 'titled'):.2f}. A "
        "returning browser has those files cached (Streamlit serves them as immutable for a "
        f"year) and connects at {median(old_home, 'connected'):.2f} and "
        f"{median(old_explorer, 'connected'):.2f}, titled at {median(old_home, 'titled'):.2f} "
        f"and {median(old_explorer, 'titled'):.2f}. The rest is our script's run (the stored "
        "analysis is already in memory), the map's HTML sent and its sites fetched, Streamlit "
        "loading the widgets' and the map component's own files, and the map drawn."
        + _where_the_map_time_goes(new_explorer + old_explorer)
    )


def _where_the_map_time_goes(views: list[_View]) -> str:
    """The explorer's map frame on the browser's clocks (medians over new and returning)."""
    timed = [view.map_frame for view in views if view.map_frame.get("sites_fetched") is not None]
    if not timed:
        return ""

    def median(key: str) -> float:
        return statistics.median(times[key] for times in timed)

    return (
        f" On the explorer (medians of {len(timed)} views, new and returning browsers), "
        f"Streamlit makes the map's frame at {median('frame_made'):.2f}, its document is ready "
        f"at {median('frame_ready'):.2f}, Leaflet has built the map (the ICB boundaries) and "
        f"asks for the sites at {median('sites_asked'):.2f}, has them at "
        f"{median('sites_fetched'):.2f}, decodes them in {median('decoded_s'):.2f} s and has "
        f"drawn them at {median('first_drawn'):.2f}."
    )


def _about(app: PublishedApp, runs: int) -> str:
    return (
        f"{app.sites:,} synthetic sites published into a temporary SQLite store (publishing "
        "analyses and stores every loaded vintage); `streamlit run dashboard.py` serves it and "
        "headless Debian chromium (1100×800, no tiles) drives it. Each time is from the input "
        "event to the pixels settled (the sites canvas drawn, or on home the choropleth in "
        "place, then one animation frame; the panel's heading shown). **Cold server**: a "
        "freshly started server (it answers once its start-up has read the stored analyses), "
        "its first page view in a **new browser** context (nothing cached); then the server "
        "restarted on the same port and the page opened again in that context, a **returning "
        f"browser** with Streamlit's own files cached ({runs} runs each). The other steps use the "
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


@dataclass
class _View:
    """One page view: seconds until settled, until the page title, until Streamlit's websocket
    opened (its own page loaded)."""

    seconds: float
    titled: float
    connected: float
    map_frame: dict = field(default_factory=dict)  # _MAP_FRAME_TIMES, where the map drew


@dataclass
class _ColdViews:
    new: _View  # a new browser context: nothing cached
    returning: _View  # a context that opened the app before the server restarted
    start_s: float  # the fresh servers' start-up, until their health check answered
    server: _ServerHandle | None = None
    session: _Session | None = None


def _cold_views(browser, app, work, path, settled, keep=False) -> _ColdViews:
    """`path` on a freshly started server in a new browser; then the server restarted on the
    same port and `path` opened again in that browser (its Streamlit files cached)."""
    server = _ServerHandle(app.folder, work / f"endtoend-app-{time.monotonic_ns()}.log")
    started = time.perf_counter()
    base = server.start()
    start_s = [time.perf_counter() - started]
    session = _new_session(browser)
    try:
        new = _view(session.page, base + path, settled)
        server.stop()
        server = _ServerHandle(app.folder, work / f"endtoend-app-{time.monotonic_ns()}.log")
        started = time.perf_counter()
        server.start(port=int(base.rsplit(":", 1)[1]))
        start_s.append(time.perf_counter() - started)
        page, session.page = session.page, session.context.new_page()
        page.close()
        returning = _view(session.page, base + path, settled)
    except BaseException:
        session.context.close()
        server.stop()
        raise
    progress(
        f"endtoend: cold {path}: new browser {new.seconds:.2f} s (connected {new.connected:.2f}, "
        f"title {new.titled:.2f}), returning {returning.seconds:.2f} s "
        f"(connected {returning.connected:.2f}, title {returning.titled:.2f})"
    )
    views = _ColdViews(new, returning, statistics.median(start_s))
    if keep:
        views.server, views.session = server, session
    else:
        session.context.close()
        server.stop()
    return views


def _view(page, url: str, settled) -> _View:
    """Open `url` in `page`: the seconds until settled, titled and Streamlit connected."""
    connected: list[float] = []
    start = time.perf_counter()
    page.on("websocket", lambda _socket: connected.append(time.perf_counter() - start))
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.locator("h1").first.wait_for(timeout=TIMEOUT_MS)
    titled = time.perf_counter() - start
    settled(page)
    elapsed = time.perf_counter() - start
    frame = page.evaluate(_MAP_FRAME_TIMES)
    return _View(elapsed, titled, connected[0] if connected else titled, frame)


# The browser's own clocks, in seconds after navigation: when the map's frame was made and its
# document ready, when the sites were fetched, decoded and first drawn (empty on home, which
# draws no sites; the frame's clock starts at its own creation).
_MAP_FRAME_TIMES = f"""() => {{
  const frame = document.querySelector("{MAP_IFRAME}"), w = frame && frame.contentWindow;
  if (!w || !w.IcsMap || !w.IcsMap.draws.length) return {{}};
  const at = w.performance.timeOrigin - performance.timeOrigin;
  const document_ready = w.performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd;
  const sites = w.performance.getEntriesByType("resource").find(r => r.name.includes("/ics-api/sites/"));
  return {{
    frame_made: at / 1000,
    frame_ready: (at + document_ready) / 1000,
    sites_asked: sites ? (at + sites.startTime) / 1000 : null,
    sites_fetched: sites ? (at + sites.responseEnd) / 1000 : null,
    decoded_s: (w.IcsMap.layers[0].decodeMs || 0) / 1000,
    first_drawn: (at + w.IcsMap.draws[0].at) / 1000,
  }};
}}"""


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


def _shared_link(browser, server: _ServerHandle, code: str | None) -> _View:
    """The explorer's URL with filters, a vintage and a panel, opened in a new browser context."""
    url = f"{server.base}/explorer?vintage={VINTAGE}&sectors=Independent~Voluntary"
    url += f"&selected_icb={code}" if code else ""
    session = _new_session(browser)
    try:
        view = _view(session.page, url, _map_drawn)
        if code:
            start = time.perf_counter() - view.seconds
            session.page.get_by_role("button", name="Download CSV").wait_for(timeout=TIMEOUT_MS)
            view.seconds = time.perf_counter() - start
    finally:
        session.context.close()
    progress(f"endtoend: shared link: {view.seconds:.2f} s (connected {view.connected:.2f})")
    return view


class _ServerHandle:
    """`running_app` held open across calls, with its process id for memory readings."""

    def __init__(self, folder: Path, log: Path) -> None:
        self._folder, self._log = folder, log
        self._context = None
        self.base = ""

    def start(self, port: int | None = None) -> str:
        self._context = running_app(self._folder, self._log, port=port)
        self.base = self._context.__enter__()
        return self.base

    def stop(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None

    def pid(self) -> int:
        """The server's process id."""
        return server_pid(self.base)


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
    """`sessions` Streamlit websocket clients at once, each changing a filter and opening ICB
    panels in turn for `duration_s`: latency percentiles, the servers' memory per session,
    sessions lost. On one app process with a person's think time between actions, on two
    processes (one per core, each user kept on one as a sticky proxy does) with the same,
    and on one process with no think time (the most it can be asked)."""
    sessions = sessions or (QUICK_LOAD_SESSIONS if quick else LOAD_SESSIONS)
    duration_s = duration_s or (QUICK_LOAD_SECONDS if quick else LOAD_SECONDS)
    section = Section(
        "load",
        "Many users: concurrent sessions on one and on two app processes",
        f"{sessions} Streamlit websocket clients (pages/_bench_load.py: the browser's own "
        "protocol on /_stcore/stream, BackMsg and ForwardMsg protobufs, no browser drawing) "
        f"on freshly started app processes serving {app.sites:,} published sites from one "
        "store. Each opens the explorer (vintage 2023) and fetches the map's sites over HTTP "
        f"as its frame does, once; then for {duration_s:.0f} s repeats: set the 'near another "
        "ICB's border' filter to its own new value (a whole-page rerun: the sites refiltered, "
        "a mask of those shown and the map sent), then open an ICB's panel from the panel "
        "chooser (a rerun of the panel's fragment; its heading must arrive). With two "
        "processes, user n stays on process n mod 2, as behind the sticky proxy the README "
        "describes. **Think** is the mean pause before each action (uniform between half and "
        "one and a half times it). A latency is from the message sent to the run's last "
        "message received. **MB per session** = the processes' resident memory with every "
        "session still connected at the end, less before any connected, ÷ sessions. **Lost** "
        "= sessions that failed or showed an error.",
        ["processes", "sessions", "think s", "seconds", "actions", "p50 s", "p95 s", "max s",
         "MB per session", "lost"],
        quick=quick,
    )  # fmt: skip
    for processes, think_s, judged in ((1, LOAD_THINK_S, True), (2, LOAD_THINK_S, True),
                                       (1, 0.0, False)):  # fmt: skip
        result, before_mb, after_mb = _websocket_load(
            app, work, sessions, duration_s, think_s, processes
        )
        latencies = sorted(result["latencies"]["filter"] + result["latencies"]["panel"])
        p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
        per_session = (after_mb - before_mb) / sessions
        filters_p95 = _percentile(sorted(result["latencies"]["filter"]), 95)
        panels_p95 = _percentile(sorted(result["latencies"]["panel"]), 95)
        firsts = sorted(result["latencies"]["first view"])
        section.add(
            [str(processes), str(sessions), f"{think_s:.0f}", f"{duration_s:.0f}",
             str(len(latencies)), seconds(p50), seconds(p95),
             seconds(latencies[-1] if latencies else None), f"{per_session:.1f}",
             str(result["lost"])],
            [(LOAD_P95, p95), (LOAD_MEMORY, per_session)] if judged else [],
            f"Filter changes p95 {seconds(filters_p95)} s, panels p95 {seconds(panels_p95)} s.",
        )  # fmt: skip
        section.notes.append(
            f"{processes} process{'es' if processes > 1 else ''}, think {think_s:.0f} s: "
            f"server memory {before_mb:.0f} MB before, "
            f"{result['rss_mb']['connected']:.0f} MB once every session had its first view "
            f"(median {seconds(_percentile(firsts, 50))} s), {after_mb:.0f} MB at the end; "
            f"filter changes p95 {seconds(filters_p95)} s, panels p95 {seconds(panels_p95)} s."
        )
        if result["errors"]:
            section.notes.append("Errors: " + "; ".join(sorted(set(result["errors"]))[:5]))
    return section


def _websocket_load(
    app: PublishedApp,
    work: Path,
    sessions: int,
    duration_s: float,
    think_s: float,
    processes: int = 1,
) -> tuple[dict, float, float]:
    """Run pages/_bench_load.py against `processes` fresh servers on the same data: its
    result, their memory before and after."""
    name = f"load-{processes}p-think{think_s:.0f}"
    servers = [_ServerHandle(app.folder, work / f"{name}-app{n}.log") for n in range(processes)]
    out = work / f"{name}.json"
    try:
        bases = [server.start() for server in servers]
        pids = [str(server.pid()) for server in servers]
        command = [sys.executable, "-m", "pages._bench_load", ",".join(bases), ",".join(pids),
                   str(out), "--sessions", str(sessions), "--seconds", str(duration_s),
                   "--think", str(think_s)]  # fmt: skip
        progress(f"load: {sessions} clients on {processes} process(es), think {think_s:.0f} s, "
                 f"{duration_s:.0f} s")  # fmt: skip
        subprocess.run(command, cwd=PROJECT_DIR, check=True)
    finally:
        for server in servers:
            server.stop()
    result = json.loads(out.read_text(encoding="utf-8"))
    return result, result["rss_mb"]["before"], result["rss_mb"]["after"]


def _percentile(values: list[float], pct: float) -> float | None:
    """The nearest-rank percentile of sorted `values`; None when there are none."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))]
