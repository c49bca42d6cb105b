"""Debian's headless chromium through Playwright, offline: for the benchmark and browser tests.

The browser is `/usr/bin/chromium` (never `playwright install`). Pages run offline:
CDN asset URLs are answered from local files (the pinned npm copies), requests to
this machine go through, and everything else on the internet is refused.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
_LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")


@contextmanager
def chromium() -> Iterator:
    """Headless Debian chromium for as long as the block runs (Playwright's sync API: one at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


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


def offline_router(files: dict[str, Path]) -> Callable:
    """A Playwright route handler: known URLs (and files beside them) from disk, this machine
    through, the internet refused."""
    folders = {url.rsplit("/", 1)[0] + "/": path.parent for url, path in files.items()}

    def answer(route) -> None:
        url = route.request.url
        path = files.get(url)
        if path is None:
            folder = next((f for f in folders if url.startswith(f)), None)
            path = folders[folder] / url[len(folder) :].split("?")[0] if folder else None
        if path is not None and path.is_file():
            route.fulfill(path=str(path), content_type=CONTENT_TYPES.get(path.suffix))
        elif url.startswith(_LOCAL):
            route.continue_()
        else:
            route.abort()

    return answer


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that keeps test and benchmark output clean."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Say nothing."""
