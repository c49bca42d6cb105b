"""Shared helpers for browser tests: Debian's chromium through Playwright, offline assets, screenshots.

Never `playwright install`: the browser is Debian's `/usr/bin/chromium`
(`apt-get install -y chromium`) and the Python package is `playwright==1.65.2`.
Without either, `require_browser()` skips (and fails under CI=true). Pages run
offline: CDN asset URLs are answered from node_modules (`npm ci`), requests to
127.0.0.1 and localhost go through, and everything else (map tiles) is aborted.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import PROJECT_DIR, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NODE_MODULES = PROJECT_DIR / "node_modules"
ARTIFACTS = PROJECT_DIR / "test-artifacts"
_CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def require_browser() -> None:
    """Skip unless Playwright for Python and Debian's chromium are installed (fail under CI)."""
    require(
        importlib.util.find_spec("playwright") is not None,
        "needs Playwright for Python: pip install playwright==1.65.2",
    )
    require(
        CHROMIUM.is_file() or shutil.which("chromium") is not None,
        f"needs Debian's chromium at {CHROMIUM}: apt-get install -y chromium",
    )


def require_node_modules() -> None:
    """Skip unless `npm ci` has installed the pinned Leaflet assets (fail under CI)."""
    require(
        (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file(), "needs `npm ci` for Leaflet"
    )


@contextmanager
def chromium() -> Iterator:
    """Headless Debian chromium for as long as the block runs (one per test module is plenty).

    Playwright's sync API allows one of these at a time: share it through a
    module-scoped fixture and open pages with `open_page`.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, width: int = 1100, height: int = 800):
    """A fresh page that answers CDN asset URLs from node_modules and refuses the internet."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", _answer_offline)
    return page


@contextmanager
def serve_directory(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 (a free port) and yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def save_screenshot(page, name: str) -> Path:
    """A PNG of the page under test-artifacts/ (gitignored), to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _answer_offline(route) -> None:
    """Serve known CDN assets from node_modules, let local requests through, abort the rest."""
    from geo.map_assets import npm_asset_files

    url = route.request.url
    path = _npm_file(url, npm_asset_files())
    if path is not None and path.is_file():
        route.fulfill(path=str(path), content_type=_CONTENT_TYPES.get(path.suffix))
    elif url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()


def _npm_file(url: str, files: dict[str, str]) -> Path | None:
    """The node_modules file for a CDN URL, or for a file beside one (leaflet.css's images)."""
    if url in files:
        return NODE_MODULES / files[url]
    for cdn_url, local in files.items():
        folder = cdn_url.rsplit("/", 1)[0] + "/"
        if url.startswith(folder):
            return NODE_MODULES / local.rsplit("/", 1)[0] / url[len(folder) :].split("?")[0]
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that keeps the test output clean."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Say nothing."""
