"""Headless Debian chromium for the benchmark: time a saved map's first draw and a zoom.

The browser is Debian's `/usr/bin/chromium` driven by Playwright (never
`playwright install`), offline: CDN asset URLs are answered from the pinned npm
copies in node_modules (and, for the MarkerCluster baseline, leaflet.markercluster
from the npm registry into a user cache), everything else on the internet is refused.

"Drawn" is the first animation frame after the page's own marker of a finished
draw appears (our layer's `IcsMap.draws`, or the baseline's markers in the DOM),
timed from navigation start with `performance.now()`.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.maps.assets import NODE_MODULES, npm_asset_files
from geo.testing.headless import CHROMIUM, offline_router

VIEWPORT = {"width": 1100, "height": 800}
MARKERCLUSTER = "leaflet.markercluster@1.1.0"
MARKERCLUSTER_URL = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
OURS_DRAWN = "window.IcsMap && IcsMap.draws.length > 0"
FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"
_WATCH_DRAWN = """
(() => {
  const bench = (window.__bench = { seenAt: null, drawnAt: null, error: null });
  window.addEventListener("error", event => { bench.error = bench.error || String(event.message); });
  const drawn = () => { try { return Boolean(__DRAWN__); } catch (error) { return false; } };
  const tick = () => requestAnimationFrame(() => {
    if (bench.seenAt === null) {
      if (drawn()) bench.seenAt = performance.now();
      tick();
    } else {
      bench.drawnAt = performance.now();
    }
  });
  tick();
})();
"""
_ZOOM = """
async ([lat, lon, zoom]) => {
  const map = __FIND_MAP__;
  const layer = IcsMap.layers[0];
  const frame = () => new Promise(resolve => requestAnimationFrame(() => resolve()));
  map.setView([lat, lon], 6, { animate: false });
  for (let i = 0; i < 3; i++) await frame();
  const drawn = new Promise(resolve => layer.once("icsdraw", resolve));
  const start = performance.now();
  map.setZoom(zoom, { animate: false });
  await drawn;
  await frame();
  return { ms: performance.now() - start, draw: IcsMap.lastDraw };
}
""".replace("__FIND_MAP__", FIND_MAP)


def browser_missing() -> str | None:
    """Why the browser parts cannot run here, or None when they can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright==1.65.2)"
    if not CHROMIUM.is_file():
        return f"Debian's chromium is not at {CHROMIUM} (apt-get install chromium)"
    if not (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file():
        return f"Leaflet is not in {NODE_MODULES}: run `npm ci`"
    return None


@contextmanager
def opened(browser, url: str, drawn_js: str, timeout_s: float) -> Iterator:
    """A fresh browser context on `url`, returned once the page says it has drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.route("**/*", offline_router(asset_files()))
        page = context.new_page()
        page.add_init_script(_WATCH_DRAWN.replace("__DRAWN__", drawn_js))
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_function(
            "window.__bench && (window.__bench.drawnAt !== null || window.__bench.error !== null)",
            polling=100,
            timeout=timeout_s * 1000,
        )
        error = page.evaluate("window.__bench.error")
        if error:
            raise RuntimeError(f"{url}: the page failed before drawing: {error}")
        yield page
    finally:
        context.close()


def draw_timings(page) -> dict[str, float]:
    """Seconds from navigation start: HTML received, DOM ready, drawn; and our layer's own ms."""
    found = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const ours = window.IcsMap && IcsMap.layers.length ? IcsMap.layers[0] : null;
          return {
            response_end: nav.responseEnd, dom_interactive: nav.domInteractive,
            drawn: window.__bench.drawnAt,
            decode_ms: ours ? ours.decodeMs : null,
            draw_ms: ours && IcsMap.draws.length ? IcsMap.draws[0].ms : null,
          };
        }"""
    )
    return {
        key: (value / 1000 if key in ("response_end", "dom_interactive", "drawn") else value)
        for key, value in found.items()
    }


def zoom_in(page, lat: float, lon: float, zoom: int) -> dict:
    """Centre our map on a place at national zoom, then time setZoom(zoom) until redrawn."""
    return page.evaluate(_ZOOM, [lat, lon, zoom])


@functools.cache
def asset_files() -> dict[str, Path]:
    """CDN URL → local file for every asset a benchmark map may ask for."""
    files = {url: NODE_MODULES / path for url, path in npm_asset_files().items()}
    cluster = markercluster_dir()
    if cluster is not None:
        for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
            files[MARKERCLUSTER_URL + name] = cluster / name
    return files


@functools.cache
def markercluster_dir() -> Path | None:
    """leaflet.markercluster 1.1.0's dist folder: node_modules, else a user cache filled by npm."""
    for root in (NODE_MODULES, _npm_cache() / "node_modules"):
        folder = root / "leaflet.markercluster" / "dist"
        if (folder / "leaflet.markercluster.js").is_file():
            return folder
    if shutil.which("npm") is None:
        return None
    cache = _npm_cache()
    cache.mkdir(parents=True, exist_ok=True)
    command = ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock"]
    done = subprocess.run(
        [*command, "--loglevel=error", MARKERCLUSTER],
        cwd=cache,
        capture_output=True,
        text=True,
        timeout=300,
    )
    folder = cache / "node_modules" / "leaflet.markercluster" / "dist"
    return folder if done.returncode == 0 and folder.is_dir() else None


def _npm_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ics-provider-map" / "bench-npm"
