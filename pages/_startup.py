"""Work done once when the server starts, so that its first visitor does not wait for it.

`streamlit run dashboard.py` finds the `st.App` in dashboard.py and runs its lifespan
before the server answers anyone: every module the pages import (pandas, geopandas,
folium, geo; not streamlit-folium, see COMPONENT_PACKAGES) is imported, and every
loaded vintage's stored analysis, display layers, home map and explorer default view
(every site, the headline share) are read or built into the caches all sessions share.
Once the server accepts connections it runs home and the explorer once over its own
websocket (`first_page_runs`), and its health check says 'not ready' until then. A
first page view then costs what any other does. Nothing here is required: when the
store cannot be read now, that is logged and left to the first page view, which says
what is wrong.

Streamlit runs a full garbage collection after every script run. With every vintage's
analysis in memory (about 700,000 objects for 100,000 sites) that took 0.2 s of each
rerun; what the start-up read lives as long as the process, so it is frozen
(`gc.freeze`) out of the collector's sight and those collections cost next to nothing.
Analyses read later (after a publish) are frozen as they are cached (pages/_state.py).
"""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from starlette.responses import PlainTextResponse

from geo import workspace
from geo.analysis import filters, readable
from geo.maps.assets import asset_mode_from_settings, tiles_from_settings
from geo.model.redaction import redact
from pages import _frame, _session_client, _state

_log = logging.getLogger(__name__)
PAGES_DIR = Path(__file__).parent
# Streamlit registers a component only when it is declared inside a page run; imported
# here, streamlit-folium's map would never be registered and its frame would be refused.
COMPONENT_PACKAGES = frozenset({"streamlit_folium"})
# Streamlit warns on every cached call made outside a page run; here that is the point.
_NOISY_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


@dataclass
class Warmed:
    """What the start-up prepared, how long it took, and why it stopped early (if it did)."""

    modules: int = 0
    vintages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problem: str | None = None

    def line(self) -> str:
        """One line for the server's log."""
        read = ", ".join(self.vintages) or "none"
        text = f"Ready in {self.seconds:.1f} s: analyses of {read} read"
        if self.problem:
            text += f"; stopped early ({self.problem}), the first page view will say more"
        return text + "."


@asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """The st.App lifespan: warm up before serving, then run the pages once as a visitor
    would while the health check still says 'not ready' (`ReadyGate`)."""
    del app
    _frame.use_navigation_from_the_start()
    warmed = await asyncio.to_thread(warm_up)
    print(f"  {warmed.line()}", flush=True)
    base = own_base_url()
    if base is None:  # served over TLS: this plain client cannot visit; the first visitor will
        _ready.set()
    visits = asyncio.create_task(first_page_runs(base)) if base else None
    try:
        yield None
    finally:
        if visits is not None:
            visits.cancel()


# --- the first page runs -------------------------------------------------------------------------
# A fresh process's first script run took 0.84 s where later ones took 0.23 s (100,000 sites):
# Streamlit compiles each page's script on its first run, and streamlit-folium is imported and
# its component declared inside one. The server can only run a page once it serves, so it runs
# home and the explorer as a visitor over its own websocket, and until then its health check
# answers 503: a proxy or a benchmark that waits for it sends no one to a process still cold.

FIRST_PAGES = ("", "explorer")  # home, then the explorer, each with the newest vintage
FIRST_RUNS_TIMEOUT_S = 60.0  # after this the process says it is ready anyway
_ready = asyncio.Event()


class ReadyGate:
    """ASGI middleware: the health check answers 503 until the first page runs are done."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and not _ready.is_set()
            and scope["path"].endswith("/_stcore/health")
        ):
            await PlainTextResponse("warming up", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def own_base_url() -> str | None:
    """Where this process serves, as seen from itself; None when it serves HTTPS only."""
    if st.get_option("server.sslCertFile"):
        return None
    address = st.get_option("server.address") or "127.0.0.1"
    if address in ("0.0.0.0", "::"):  # noqa: S104 - every interface: this machine's own is one
        address = "127.0.0.1"
    host = f"[{address}]" if ":" in address else address
    base_path = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://{host}:{st.get_option('server.port')}" + (f"/{base_path}" if base_path else "")


async def first_page_runs(base: str) -> None:
    """Run each of FIRST_PAGES once as a visitor would, then open the health check; whatever
    goes wrong is logged and the process is ready anyway (a visitor then pays the cost)."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(FIRST_RUNS_TIMEOUT_S):
            for page in FIRST_PAGES:
                await _run_page(base, page)
        print(f"  First page runs done in {time.perf_counter() - start:.1f} s.", flush=True)
    except Exception as error:
        _log.warning("The first page runs stopped: %s", redact(f"{type(error).__name__}: {error}"))
    finally:
        _ready.set()


async def _run_page(base: str, page: str) -> None:
    client = _session_client.Client(base, page, "")
    while True:  # the server accepts connections once the lifespan has yielded
        try:
            await client.open()
            break
        except OSError:
            await asyncio.sleep(0.1)  # until FIRST_RUNS_TIMEOUT_S
    try:
        await client.rerun()
    finally:
        await client.close()


def warm_up() -> Warmed:
    """Import what the pages import and read the current data's analyses into the caches."""
    start, warmed = time.perf_counter(), Warmed()
    with _quiet(_NOISY_LOGGER):
        warmed.modules = import_page_modules()
        try:
            _read_analyses(warmed)
        except Exception as error:  # the first page view meets it again and says what
            warmed.problem = redact(f"{type(error).__name__}: {error}").splitlines()[0]
            _log.warning("Start-up warm-up stopped: %s", warmed.problem)
    gc.freeze()  # see below
    warmed.seconds = time.perf_counter() - start
    return warmed


def import_page_modules() -> int:
    """Import every module a page or page helper imports (read from their source), but
    those that declare components (COMPONENT_PACKAGES); how many."""
    names: set[str] = set()
    for path in sorted(PAGES_DIR.glob("*.py")):
        if path.stem.startswith("_bench"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    wanted = sorted(name for name in names if name.split(".")[0] not in COMPONENT_PACKAGES)
    for name in wanted:
        importlib.import_module(name)
    return len(wanted)


def _read_analyses(warmed: Warmed) -> None:
    """Each vintage's analysis, display layers, home map and explorer default view (every
    site, the headline share): a link may name any vintage."""
    store, everything, fingerprint = _state.store(), filters.SiteFilter(), _state.fingerprint()
    (assets, _), tiles, headline = (
        asset_mode_from_settings(),
        tiles_from_settings(),
        readable.SHARE_COLUMN,
    )
    for vintage in workspace.vintages(store):
        data = _state.DataView(vintage, fingerprint, workspace.Pins())
        _state.analysis(data)
        _state.display_boundaries(data)
        _state.display_regions(data)
        _state.sites_layer(data, everything)
        _state.explorer_map(data, headline, None, None, assets, tiles)
        _state.home_map(data, headline, assets, tiles)
        warmed.vintages.append(vintage)


@contextmanager
def _quiet(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
