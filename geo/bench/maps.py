"""Benchmark section 'map': our canvas site layer against folium's MarkerCluster and one Marker per site.

Every map has the same ICB choropleth and region outlines (build_map); only the
sites differ. Ours is built as the app builds it (assets inlined, no tiles);
the baselines link folium's CDN assets, which the browser answers from local
npm copies. Build time is `build_map` plus `get_root().render()`; first draw and
zoom are measured in headless chromium (geo.bench.browser).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd

from geo.analysis.metrics import gap_metrics
from geo.bench import browser as bench_browser
from geo.bench.report import NOT_RUN, Section, Target, median_time, megabytes, progress, seconds
from geo.maps.build import build_map
from geo.maps.payload import script_json, site_payload
from geo.testing import headless

SIZES = (10_000, 50_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
CLUSTER_SIZES = (10_000, 50_000)
MARKER_SIZES = (10_000,)
RATIO_AT = 50_000
CITIES = {
    "London": (51.5074, -0.1278),
    "Manchester": (53.4808, -2.2426),
    "Birmingham": (52.4862, -1.8904),
}
CITY_ZOOM = 12
LONG_RUN_S = 5.0  # runs longer than this are repeated once only
PAGE_TIMEOUT_S = 1800
BUILD = Target("build", 0.5, "s")
PAYLOAD = Target("payload", 4, "MB")
DRAWN = Target("drawn", 1.5, "s")
ZOOM = Target("zoom", 0.3, "s")
SPEED_UP = Target("build + draw speed-up", 20, "×", at_least=True)
COLUMNS = [
    "map",
    "sites",
    "build s",
    "HTML MB",
    "site payload MB",
    "first draw s",
    "zoom s",
    "runs",
]
OURS, CLUSTER, MARKERS = "ours (canvas layer)", "folium MarkerCluster", "one folium Marker per site"


@dataclass(frozen=True)
class MapData:
    """What every map is made of: display boundaries, regions, ICBs and assigned sites."""

    display_icbs: gpd.GeoDataFrame
    display_regions: gpd.GeoDataFrame | None
    icbs: gpd.GeoDataFrame
    assigned: gpd.GeoDataFrame


@dataclass
class _Built:
    """One map written to disk: its build time and sizes, and how it was judged drawn."""

    variant: str
    size: int
    build_s: float
    runs: int
    html_bytes: int
    payload_bytes: int | None
    file: str
    drawn_js: str
    parts: str = ""


def map_section(data: MapData, folder: Path, *, quick: bool) -> Section:
    """Build every map, time it in chromium, and judge ours against the targets."""
    section = Section(
        "map",
        "Map: build, bytes, first draw and zoom",
        _ABOUT,
        COLUMNS,
        quick=quick,
    )
    sizes = QUICK_SIZES if quick else SIZES
    cluster_sizes = QUICK_SIZES[:1] if quick else CLUSTER_SIZES
    marker_sizes = QUICK_SIZES[:1] if quick else MARKER_SIZES
    built = _build_all(data, folder, sizes, cluster_sizes, marker_sizes)
    missing = bench_browser.browser_missing()
    drawn = {} if missing else _draw_all(built, folder)
    _fill(section, built, drawn, sizes, cluster_sizes, marker_sizes, missing)
    return section


_ABOUT = (
    "Synthetic sites placed uniformly over England's 33,755 LSOAs (so by population), "
    "assigned to the 2023 BGC ICBs; every map also carries the ICB choropleth (display copy, "
    "simplified 500 m) and the NHS region outlines. **Build** = `build_map(...)` + "
    "`get_root().render()` on a warm process, the per-ICB metrics computed beforehand as the "
    "app's cached analysis holds them (median of 3; baselines: 3 runs if one takes "
    f"under {LONG_RUN_S:g} s, else 1). **HTML MB** is the whole page (ours inlines Leaflet and "
    "our JS, about 0.2 MB; baselines link them). **First draw** is navigation start → the "
    "first animation frame after the sites are drawn (ours: the canvas layer's first draw; "
    "baselines: their clusters/markers in the DOM) in headless Debian chromium 1100×800, a "
    "fresh browser context per load, no map tiles. **Zoom** (ours) = `map.setZoom(12)` "
    "from zoom 6 over London, Manchester and Birmingham (median) until the layer has redrawn "
    "and a frame passed, without animation."
)


def _build_all(data: MapData, folder: Path, sizes, cluster_sizes, marker_sizes) -> list[_Built]:
    """Build and save every map: ours at each size, the baselines where they are feasible."""
    warm = data.assigned.iloc[:1000]
    _build_ours(data, warm, gap_metrics(warm, data.icbs))  # warm the process: assets, JS
    built = []
    for size in sizes:
        progress(f"map: building ours with {size:,} sites")
        built.append(_measure_ours(data, folder, size))
    cluster_missing = bench_browser.markercluster_dir() is None
    for size in cluster_sizes:
        progress(f"map: building the MarkerCluster baseline with {size:,} sites")
        built.append(_measure_baseline(data, folder, CLUSTER, size, cluster_missing))
    for size in marker_sizes:
        progress(f"map: building the one-Marker-per-site baseline with {size:,} sites")
        built.append(_measure_baseline(data, folder, MARKERS, size, False))
    return built


def _measure_ours(data: MapData, folder: Path, size: int) -> _Built:
    sites = data.assigned.iloc[:size]
    metrics = gap_metrics(sites, data.icbs)  # the app's analysis has them already: not timed
    build_s, page, _ = median_time(lambda: _build_ours(data, sites, metrics), 3)
    base_s, _, _ = median_time(lambda: _build_ours(data, None, metrics), 3)
    payload_s, payload, _ = median_time(lambda: site_payload(sites), 3)
    json_s, payload_text, _ = median_time(lambda: script_json(payload), 3)
    name = f"ours-{size}.html"
    (folder / name).write_text(page, encoding="utf-8")
    parts = (
        f"Build: the same map without sites (choropleth, regions, render) takes {base_s:.2f} s "
        f"(the explorer caches it and swaps only the sites layer); of the sites' share, "
        f"site_payload takes {payload_s:.2f} s and script_json {json_s:.2f} s."
    )
    return _Built(
        OURS,
        size,
        build_s,
        3,
        len(page.encode()),
        len(payload_text.encode()),
        name,
        bench_browser.OURS_DRAWN,
        parts,
    )


def _build_ours(data: MapData, sites: pd.DataFrame | None, metrics: pd.DataFrame) -> str:
    m = build_map(
        data.display_icbs,
        metrics,
        sites,
        regions=data.display_regions,
        assets="local",
        tiles=None,
    )
    return m.get_root().render()


def _measure_baseline(
    data: MapData, folder: Path, variant: str, size: int, unavailable: bool
) -> _Built | None:
    if unavailable:
        return None
    sites = data.assigned.iloc[:size]
    metrics = gap_metrics(sites, data.icbs)
    clustered = variant == CLUSTER
    build = _adaptive(lambda: _build_baseline(data, sites, metrics, clustered=clustered))
    build_s, runs, page = build
    name = f"{'cluster' if variant == CLUSTER else 'markers'}-{size}.html"
    (folder / name).write_text(page, encoding="utf-8")
    drawn_js = (
        "document.querySelector('.marker-cluster, .leaflet-marker-icon') !== null"
        if variant == CLUSTER
        else f"document.querySelectorAll('.leaflet-marker-icon').length >= {size}"
    )
    return _Built(variant, size, build_s, runs, len(page.encode()), None, name, drawn_js)


def _build_baseline(
    data: MapData, sites: pd.DataFrame, metrics: pd.DataFrame, *, clustered: bool
) -> str:
    """The same base map with sites as folium Markers (tooltip: the escaped site name)."""
    m = build_map(
        data.display_icbs, metrics, None, regions=data.display_regions, assets="cdn", tiles=None
    )
    m.options["max_zoom"] = 18  # MarkerCluster refuses a map without one (tiles would set it)
    group = folium.plugins.MarkerCluster if clustered else folium.FeatureGroup
    layer = group(name="Provider sites").add_to(m)
    lat, lon = sites.geometry.y.to_numpy(), sites.geometry.x.to_numpy()
    for y, x, name in zip(lat, lon, sites["site_name"].astype(str), strict=True):
        folium.Marker([float(y), float(x)], tooltip=html.escape(name)).add_to(layer)
    _move_layer_control_last(m)
    return m.get_root().render()


def _move_layer_control_last(m: folium.Map) -> None:
    """The layer control must be rendered after the layers it lists, as build_map does."""
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            m._children.move_to_end(key)


def _adaptive(run: Callable[[], object]) -> tuple[float, int, object]:
    """Median of 3 runs when one run is short, else the single run: (seconds, runs, result)."""
    first, result, _ = median_time(run, 1)
    if first >= LONG_RUN_S:
        return first, 1, result
    _, result, times = median_time(run, 2)
    median = sorted([first, *times])[1]
    return median, 3, result


def _draw_all(built: list[_Built | None], folder: Path) -> dict[str, dict]:
    """Open every saved map in chromium: first-draw times (and zoom times for ours)."""
    results: dict[str, dict] = {}
    with headless.serve_directory(folder) as base, headless.chromium() as browser:
        for item in filter(None, built):
            progress(f"map: drawing {item.variant} with {item.size:,} sites in chromium")
            results[item.file] = _draw(browser, f"{base}/{item.file}", item)
    return results


def _draw(browser, url: str, item: _Built) -> dict:
    loads, zooms, timings = [], [], {}
    for attempt in range(3):
        with bench_browser.opened(browser, url, item.drawn_js, PAGE_TIMEOUT_S) as page:
            timings = bench_browser.draw_timings(page)
            loads.append(timings["drawn"])
            if item.variant == OURS and attempt == 0:
                zooms = [
                    bench_browser.zoom_in(page, lat, lon, CITY_ZOOM) for lat, lon in CITIES.values()
                ]
        if item.variant != OURS and loads[0] >= LONG_RUN_S:
            break
    ordered = sorted(loads)
    result = {"drawn": ordered[len(ordered) // 2], "runs": len(loads), "last": timings}
    if zooms:
        ms = sorted(z["ms"] for z in zooms)
        result["zoom"] = ms[1] / 1000
        result["zoom_draw_ms"] = max(z["draw"]["ms"] for z in zooms)
        result["zoom_marks"] = [z["draw"]["marks"] for z in zooms]
    return result


def _fill(section, built, drawn, sizes, cluster_sizes, marker_sizes, missing) -> None:
    """One row per map, 'not run' rows for the infeasible baselines, the 50k ratio."""
    by_key = {(b.variant, b.size): b for b in built if b is not None}
    for size in sizes:
        _row(section, by_key[(OURS, size)], drawn, missing, size == sizes[-1])
    for variant, done in ((CLUSTER, cluster_sizes), (MARKERS, marker_sizes)):
        for size in sizes:
            item = by_key.get((variant, size))
            if item is not None:
                _row(section, item, drawn, missing, False)
            elif size in done:
                reason = f"not run: {bench_browser.MARKERCLUSTER} unavailable"
                section.add([variant, f"{size:,}", reason, "", "", "", "", "0"])
            else:
                why = "not run (quick)" if section.quick else "not run (too slow)"
                section.add([variant, f"{size:,}", why, "", "", "", "", "0"])
    _ratio_row(section, by_key, drawn, sizes)


def _row(section: Section, item: _Built, drawn: dict, missing: str | None, judged: bool) -> None:
    seen = drawn.get(item.file, {})
    draw_s, zoom_s = seen.get("drawn"), seen.get("zoom")
    zoom = seconds(zoom_s) if item.variant == OURS else "—"
    runs = f"{item.runs} build, {seen.get('runs', 0)} draw"
    cells = [
        item.variant,
        f"{item.size:,}",
        seconds(item.build_s),
        megabytes(item.html_bytes),
        megabytes(item.payload_bytes) if item.payload_bytes else "—",
        seconds(draw_s) if not missing else f"{NOT_RUN}: {missing}",
        zoom,
        runs,
    ]
    if not judged:
        section.add(cells)
        return
    checks = [
        (BUILD, item.build_s),
        (PAYLOAD, item.payload_bytes / 1e6),
        (DRAWN, draw_s),
        (ZOOM, zoom_s),
    ]
    where = _where(item, seen)
    if not section.add(cells, checks, where).startswith("MISS"):
        section.notes.append(f"**{item.variant} {item.size:,}** (where the time goes): {where}")


def _where(item: _Built, seen: dict) -> str:
    last = seen.get("last", {})
    parts = [item.parts]
    if last:
        parts.append(
            f"In the browser: HTML received at {last['response_end']:.2f} s, parsed (all "
            f"scripts run) at {last['dom_interactive']:.2f} s; decoding the payload took "
            f"{(last.get('decode_ms') or 0):.0f} ms and the first canvas draw "
            f"{(last.get('draw_ms') or 0):.0f} ms."
        )
    if "zoom_draw_ms" in seen:
        parts.append(
            f"A zoom redraw took up to {seen['zoom_draw_ms']:.0f} ms of canvas work "
            f"({', '.join(str(m) for m in seen['zoom_marks'])} marks drawn)."
        )
    return " ".join(part for part in parts if part)


def _ratio_row(section: Section, by_key: dict, drawn: dict, sizes) -> None:
    size = RATIO_AT if RATIO_AT in sizes else sizes[-1]
    ours, cluster = by_key.get((OURS, size)), by_key.get((CLUSTER, size))
    if cluster is None and size != sizes[0]:
        size = sizes[0]
        ours, cluster = by_key.get((OURS, size)), by_key.get((CLUSTER, size))
    if ours is None or cluster is None:
        return
    ours_draw = drawn.get(ours.file, {}).get("drawn")
    cluster_draw = drawn.get(cluster.file, {}).get("drawn")
    total = None
    if ours_draw is not None and cluster_draw is not None:
        total = (cluster.build_s + cluster_draw) / (ours.build_s + ours_draw)
    cells = [
        f"{CLUSTER} ÷ ours",
        f"{size:,}",
        f"{cluster.build_s / ours.build_s:.0f}×",
        f"{cluster.html_bytes / ours.html_bytes:.1f}×",
        "—",
        f"{cluster_draw / ours_draw:.1f}×" if total is not None else NOT_RUN,
        "—",
        f"build + draw: {total:.0f}×" if total is not None else NOT_RUN,
    ]
    where = "MarkerCluster spends its time creating one folium Marker per site in Python and one L.marker per site in the browser."
    section.add(cells, [(SPEED_UP, total)], where)
