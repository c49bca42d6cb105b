"""Leaflet's JS/CSS for our maps without public CDNs: pinned npm copies, linked or inlined.

folium links Leaflet and its plugins from public CDNs, which CI and many NHS
networks cannot reach. `package.json` pins the exact versions the installed folium
asks for (`npm ci` puts them in `node_modules/`, never committed), and a map can
then take them from one of two places:

- `inline_assets` (what `ICS_MAP_ASSETS=local` means): each file becomes a
  `data:` URL inside the map itself, with the images and fonts its CSS needs.
  This is the design the app uses, because it needs nothing else: streamlit-folium
  does not bundle Leaflet but loads every `default_js`/`default_css` URL of the
  map's elements with `<script src>`/`<link href>` inside its component iframe,
  and a `data:` URL works there, in a downloaded HTML file and in the browser tests
  alike, behind any proxy or `server.baseUrlPath`, with no server set-up.
- `localise_assets(m, base_url)`: the links point at `base_url`, laid out like
  `node_modules/`, for a deployment that hosts the files itself. Streamlit 1.67's
  `server.enableStaticServing` would do (it sends `.js` as application/javascript
  with nosniff, which browsers accept), but it serves only the `static/` folder
  beside the main script and refuses symlinks out of it (HTTP 400), so the files
  would have to be copied there first.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

import folium
import folium.folium
from branca.element import Element

from geo.model.errors import InputError
from geo.model.settings import PROJECT_DIR, get_setting

NODE_MODULES = PROJECT_DIR / "node_modules"
ASSET_MODES: tuple[str, ...] = ("cdn", "local")

# Every CDN URL the installed folium (0.20.0) asks for, and the file in node_modules
# that `package.json` pins for it. A folium upgrade that changes a URL fails the
# tests until this table and package.json are brought into step.
_NPM_FILES: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/dist/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "drmonty-leaflet-awesome-markers/js/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "drmonty-leaflet-awesome-markers/css/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
}

# Asked for by folium but never published on npm. Both only style AwesomeMarkers
# icons (the glyphicon prefix, and rotation), which our maps never draw, so a
# localised map leaves them out rather than reaching for a CDN.
_NOT_ON_NPM: dict[str, str] = {
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "Bootstrap 3.0.0's separate glyphicons sheet was never published on npm"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "folium's own rotation sheet lives only in its GitHub repository"
    ),
}

_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def folium_asset_urls() -> dict[str, str]:
    """The JS and CSS URLs the installed folium loads by default, by folium's own names."""
    return dict(folium.folium._default_js) | dict(folium.folium._default_css)


def npm_asset_files() -> dict[str, str]:
    """Which file under node_modules stands in for each CDN URL we know (see package.json)."""
    return dict(_NPM_FILES)


def apply_assets(m: folium.Map, mode: str) -> folium.Map:
    """Make `m` load its assets as ICS_MAP_ASSETS says: 'cdn', 'local' (inlined) or a base URL."""
    if mode == "cdn":
        return m
    if mode == "local":
        return inline_assets(m)
    if mode.startswith(("http://", "https://", "/")):
        return localise_assets(m, mode)
    raise InputError(
        f"setting ICS_MAP_ASSETS: {mode!r} is not one of {', '.join(ASSET_MODES)} "
        "or a base URL starting with http://, https:// or /"
    )


def asset_mode_from_settings() -> tuple[str, str | None]:
    """The asset mode to use (ICS_MAP_ASSETS), and a warning when it had to fall back to CDNs.

    'local' needs `npm ci` to have run; without it the map still draws where CDNs
    are reachable, and the warning says how to make it work where they are not.
    """
    mode = get_setting("map_assets").strip() or "local"
    if mode == "local" and not (NODE_MODULES / "leaflet" / "package.json").is_file():
        return "cdn", (
            f"Leaflet is not installed in {NODE_MODULES} (run `npm ci` in {PROJECT_DIR}), so maps "
            "load it from public CDNs, which many NHS networks block."
        )
    return mode, None


def tiles_from_settings() -> str | None:
    """The background tiles to draw (ICS_MAP_TILES), or None for none."""
    tiles = get_setting("map_tiles").strip()
    return None if tiles.lower() in {"", "none"} else tiles


def localise_assets(m: folium.Map, base_url: str) -> folium.Map:
    """Point every JS/CSS link of `m` at `base_url` (laid out like node_modules), in place.

    Call it before rendering. An asset with no pinned npm copy raises InputError
    rather than quietly leaving a CDN link behind.
    """
    root = base_url.rstrip("/")
    return _rewrite_links(m, lambda path: f"{root}/{path}")


def inline_assets(m: folium.Map, node_modules: Path = NODE_MODULES) -> folium.Map:
    """Replace every JS/CSS link of `m` by a `data:` URL of the pinned npm file, in place.

    CSS has the images and fonts it refers to inlined too, so the map needs no
    server at all. Raises InputError if `npm ci` has not been run.
    """
    _require_node_modules(node_modules)
    return _rewrite_links(m, lambda path: _data_url(node_modules / path))


def _rewrite_links(m: folium.Map, locate) -> folium.Map:
    """Rewrite the links of every element of `m` that carries default_js/default_css."""
    for element in _elements_with_assets(m):
        element.default_js = _rewritten(element.default_js, locate)
        element.default_css = _rewritten(element.default_css, locate)
    return m


def _rewritten(links: list[tuple[str, str]], locate) -> list[tuple[str, str]]:
    """One element's links with CDN URLs swapped for local ones, unpublished ones left out."""
    kept = []
    for name, url in links:
        if url in _NOT_ON_NPM:
            continue
        if url.startswith("data:") or not url.startswith(("http://", "https://", "//")):
            kept.append((name, url))
        elif url in _NPM_FILES:
            kept.append((name, locate(_NPM_FILES[url])))
        else:
            raise InputError(
                f"map asset {name}: no local copy of {url}; pin it in package.json "
                "and geo/maps/assets.py, or use ICS_MAP_ASSETS=cdn"
            )
    return kept


def _elements_with_assets(element: Element) -> Iterator[Element]:
    """Every element in the tree under `element` that declares JS/CSS links."""
    if hasattr(element, "default_js") or hasattr(element, "default_css"):
        yield element
    for child in element._children.values():
        yield from _elements_with_assets(child)


def _require_node_modules(node_modules: Path) -> None:
    """Fail with the fix in the message when the npm assets are not installed."""
    if not (node_modules / "leaflet" / "package.json").is_file():
        raise InputError(
            f"map assets: {node_modules} has no Leaflet; run `npm ci` in {PROJECT_DIR} "
            "or set ICS_MAP_ASSETS=cdn"
        )


@functools.cache
def _data_url(path: Path) -> str:
    """A `data:` URL holding the file at `path`; CSS gets its own url() references inlined."""
    if not path.is_file():
        raise InputError(f"map assets: {path} is missing; run `npm ci` in {PROJECT_DIR}")
    if path.suffix == ".css":
        body = _inline_css_urls(path.read_text(encoding="utf-8"), path.parent).encode()
    else:
        body = path.read_bytes()
    return f"data:{_mime_type(path)};base64,{base64.b64encode(body).decode('ascii')}"


def _inline_css_urls(css: str, folder: Path) -> str:
    """CSS with each relative url(...) that names an existing file replaced by a data: URL."""

    def replace(match: re.Match) -> str:
        target = match.group(2).split("?")[0].split("#")[0]
        if target.startswith(("data:", "http:", "https:", "//", "#")):
            return match.group(0)
        path = (folder / target).resolve()
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'url("data:{_mime_type(path)};base64,{encoded}")'

    return _CSS_URL.sub(replace, css)


def _mime_type(path: Path) -> str:
    """The Content-Type a browser expects for an asset file."""
    known = {".js": "text/javascript", ".css": "text/css", ".woff2": "font/woff2"}
    return (
        known.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
