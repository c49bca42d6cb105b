"""Tests for geo/maps/assets.py: every asset folium asks for has a pinned local copy, and links move."""

from __future__ import annotations

import base64
import json
import re

import folium
import folium.plugins
import pytest

from geo.maps.assets import (
    apply_assets,
    folium_asset_urls,
    inline_assets,
    localise_assets,
    npm_asset_files,
)
from geo.model.errors import InputError
from tests.factories import PROJECT_DIR, require_node_modules

_LINK = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"')
# The npm package and version each CDN URL of folium 0.20.0 names.
_URL_VERSION = re.compile(
    r"(?:npm/(@?[\w.-]+(?:/[\w.-]+)?)@|libs/([\w.-]+)/|/(jquery)-)(\d+\.\d+\.\d+)"
)
_NPM_NAMES = {"Leaflet.awesome-markers": "drmonty-leaflet-awesome-markers"}


def linked_urls(m: folium.Map) -> list[str]:
    """The src/href of every <script> and <link> in the rendered page."""
    return _LINK.findall(m.get_root().render())


def test_folium_asset_urls_are_what_folium_links_by_default():
    urls = folium_asset_urls()
    assert urls["leaflet"] == "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
    assert set(urls.values()) == set(linked_urls(folium.Map(tiles=None)))


def test_every_folium_asset_is_pinned_in_package_json_at_the_same_version():
    dependencies = json.loads((PROJECT_DIR / "package.json").read_text())["dependencies"]
    for url in folium_asset_urls().values():
        if url not in npm_asset_files():
            continue  # the two sheets never published on npm: see the next test
        package, version = _package_and_version(url)
        assert dependencies.get(package) == version, url


def test_package_lock_holds_the_exact_pinned_versions():
    dependencies = json.loads((PROJECT_DIR / "package.json").read_text())["dependencies"]
    locked = json.loads((PROJECT_DIR / "package-lock.json").read_text())["packages"]
    for package, version in dependencies.items():
        assert locked[f"node_modules/{package}"]["version"] == version


def test_only_the_two_unpublished_awesome_marker_sheets_have_no_npm_copy():
    missing = [url for url in folium_asset_urls().values() if url not in npm_asset_files()]
    assert sorted(missing) == [
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
    ]


def test_localise_assets_rewrites_every_cdn_url_of_a_default_map():
    m = localise_assets(folium.Map(tiles=None), "/app/static/vendor/")
    urls = linked_urls(m)
    assert urls
    assert all(url.startswith("/app/static/vendor/") for url in urls)
    assert "/app/static/vendor/leaflet/dist/leaflet.js" in urls
    assert not any(url.startswith(("http:", "https:", "//")) for url in urls)


def test_localise_assets_refuses_a_plugin_it_has_no_copy_of():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    with pytest.raises(
        InputError, match=r"no local copy of https://cdnjs\.cloudflare\.com/.*markercluster"
    ):
        localise_assets(m, "/vendor")


def test_localised_map_still_draws_its_layers():
    m = folium.Map(tiles=None)
    folium.GeoJson({"type": "Point", "coordinates": [-0.1, 51.5]}).add_to(m)
    html = localise_assets(m, "/vendor").get_root().render()
    assert "L.geoJson(" in html


def test_inline_assets_embeds_leaflet_and_its_images():
    require_node_modules()
    m = folium.Map(tiles=None)
    m.default_js = [("leaflet", folium_asset_urls()["leaflet"])]
    m.default_css = [("leaflet_css", folium_asset_urls()["leaflet_css"])]
    urls = linked_urls(inline_assets(m))
    assert len(urls) == 2
    assert all(url.startswith("data:") for url in urls)
    css = _decoded(next(url for url in urls if url.startswith("data:text/css")))
    assert ".leaflet-control-layers-toggle" in css
    assert "url(images/" not in css
    assert "data:image/png;base64," in css


def test_inline_assets_without_npm_install_says_how_to_fix_it(tmp_path):
    with pytest.raises(InputError, match="run `npm ci`"):
        inline_assets(folium.Map(tiles=None), node_modules=tmp_path)


def test_apply_assets_modes():
    assert linked_urls(apply_assets(folium.Map(tiles=None), "cdn"))[0].startswith("https://")
    assert linked_urls(apply_assets(folium.Map(tiles=None), "https://maps.nhs.example/vendor"))[
        0
    ] == ("https://maps.nhs.example/vendor/leaflet/dist/leaflet.js")
    with pytest.raises(InputError, match="ICS_MAP_ASSETS: 'offline' is not one of cdn, local"):
        apply_assets(folium.Map(tiles=None), "offline")


def _package_and_version(url: str) -> tuple[str, str]:
    """The npm package (by our package.json name) and exact version a CDN URL names."""
    match = _URL_VERSION.search(url)
    assert match, url
    name = next(group for group in match.groups()[:3] if group)
    return _NPM_NAMES.get(name, name), match.group(4)


def _decoded(data_url: str) -> str:
    """The text inside a base64 data: URL."""
    return base64.b64decode(data_url.split(",", 1)[1]).decode("utf-8")
