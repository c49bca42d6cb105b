"""Shared helpers for browser tests: Debian's chromium through Playwright, offline assets, screenshots.

Never `playwright install`: the browser is Debian's `/usr/bin/chromium`
(`apt-get install -y chromium`) and the Python package is `playwright==1.65.2`.
Without either, `require_browser()` skips (and fails under CI=true). Pages run
offline: CDN asset URLs are answered from node_modules (`npm ci`), requests to
127.0.0.1 and localhost go through, and everything else (map tiles) is aborted.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from geo.maps.assets import NODE_MODULES
from geo.testing.headless import CHROMIUM, offline_router
from tests.factories import PROJECT_DIR, require

ARTIFACTS = PROJECT_DIR / "test-artifacts"


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


def open_page(browser, width: int = 1100, height: int = 800):
    """A fresh page that answers CDN asset URLs from node_modules and refuses the internet."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", offline_router(_asset_files()))
    return page


def save_screenshot(page, name: str) -> Path:
    """A PNG of the page under test-artifacts/ (gitignored), to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _asset_files() -> dict[str, Path]:
    """CDN URL → the pinned npm copy in node_modules, for every asset we know."""
    from geo.maps.assets import npm_asset_files

    return {url: NODE_MODULES / path for url, path in npm_asset_files().items()}
