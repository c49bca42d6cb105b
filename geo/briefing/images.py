"""A briefing's static map and sector chart (matplotlib, no tiles, no network) and its HTML page.

Images are PNG bytes so the page, the PDF and the PowerPoint can all embed the same
picture: `illustrate` draws an area's pair once into an `IllustratedBriefing`, from
`MapLayers` projected once per analysis. Colours are Okabe–Ito, which stay distinct
for colour-blind readers, and not-engaged sites are told apart by shape as well as
colour. Figures are built with `matplotlib.figure.Figure` and saved by the Agg
canvas, never through pyplot, so nothing is left open and concurrent app sessions
cannot share a figure.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PathCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path
from matplotlib.ticker import PercentFormatter
from shapely.geometry import box

from geo.briefing.facts import CAPACITY_NOUN, ENGLAND_AREA, Briefing
from geo.briefing.text import format_capacity, format_number
from geo.io.boundaries import METRIC_CRS, STORE_CRS
from geo.model.errors import InputError
from geo.model.palette import SEQUENTIAL_COLOURS, SHARE_BREAKS, class_colour
from geo.model.providers import NOT_ENGAGED
from geo.model.sectors import IV_SECTORS, SECTOR_COLOURS, SECTORS

ATTRIBUTION = (
    "Boundaries: Office for National Statistics, OGL v3. "
    "Contains OS data © Crown copyright and database right."
)
MAP_FIGSIZE = (6.0, 6.5)  # inches: a square map over a strip for the legend and credit
CHART_FIGSIZE = (4.2, 2.8)
_DPI = 150


@dataclass(frozen=True)
class MapLayers:
    """ICB boundaries and sites in EPSG:27700: projected once per analysis, drawn by every map."""

    boundaries: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame


@dataclass(frozen=True)
class IllustratedBriefing:
    """One area's briefing facts with its map and chart (PNG): what the page, PDF and slides show."""

    facts: Briefing
    map_png: bytes
    chart_png: bytes


def map_layers(boundaries: gpd.GeoDataFrame, sites: pd.DataFrame) -> MapLayers:
    """Boundaries and sites checked and projected for drawing, once for all the maps made from them."""
    return MapLayers(_project_boundaries(boundaries), _project_sites(sites))


def illustrate(facts: Briefing, layers: MapLayers) -> IllustratedBriefing:
    """The briefing with its map and sector chart drawn: made once, rendered as page, PDF or slide."""
    return IllustratedBriefing(facts, map_png(facts, layers), sector_chart_png(facts))


def _project_boundaries(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """ICB boundaries in EPSG:27700 for drawing."""
    if not isinstance(boundaries, gpd.GeoDataFrame) or "code" not in boundaries.columns:
        raise InputError("boundaries: expected a GeoDataFrame with a column code (ICB codes)")
    if boundaries.crs is None:
        raise InputError("boundaries: no CRS set; expected EPSG:4326 (or any known CRS)")
    return boundaries[["code", "geometry"]].to_crs(METRIC_CRS)


def _project_sites(sites: pd.DataFrame) -> gpd.GeoDataFrame:
    """Sites with a usable point, in EPSG:27700, keeping the columns the map needs."""
    for column in ("sector", "planning_status", "icb_code"):
        if column not in sites.columns:
            raise InputError(f"sites table: missing column {column} needed for a briefing map")
    if isinstance(sites, gpd.GeoDataFrame) and sites.geometry.name in sites.columns:
        if sites.crs is None:
            raise InputError("sites table: geometry has no CRS set; expected EPSG:4326")
        points = sites
    elif {"lat", "lon"} <= set(sites.columns):
        lon = pd.to_numeric(sites["lon"], errors="coerce").astype(float)
        lat = pd.to_numeric(sites["lat"], errors="coerce").astype(float)
        points = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(lon, lat), crs=STORE_CRS)
    else:
        raise InputError("sites table: expected a point geometry or lat and lon columns")
    usable = points[points.geometry.notna() & ~points.geometry.is_empty]
    columns = ["sector", "planning_status", "icb_code", usable.geometry.name]
    return usable[columns].to_crs(METRIC_CRS)


def map_png(briefing: Briefing, layers: MapLayers) -> bytes:
    """A static map: the area outlined, neighbours faded, sites by sector; England by share."""
    boundaries = layers.boundaries
    if boundaries.crs is None or not boundaries.crs.equals(METRIC_CRS):
        raise InputError("boundaries: expected EPSG:27700 here; make the layers with map_layers")
    figure = Figure(figsize=MAP_FIGSIZE, dpi=_DPI)  # not pyplot: no global state across threads
    axes = figure.add_axes((0.01, 0.1, 0.98, 0.89))  # the strip below holds legend and credit
    axes.set_axis_off()
    axes.set_aspect("equal")
    if briefing.area_kind == ENGLAND_AREA:
        _draw_shares(axes, figure, briefing, boundaries)
    else:
        _draw_area(axes, briefing, boundaries, layers.sites)
    figure.text(0.01, 0.005, ATTRIBUTION, fontsize=7, color="#555555")
    return _png(figure)


def _draw_area(axes, briefing: Briefing, boundaries: gpd.GeoDataFrame, sites) -> None:
    focus = boundaries[boundaries["code"].astype(str).isin(briefing.icb_codes)]
    if focus.empty:
        raise InputError(
            f"boundaries: column code has no polygon for {', '.join(briefing.icb_codes[:3])}"
        )
    extent = _padded_extent(focus.total_bounds)
    near = boundaries.iloc[boundaries.sindex.query(box(*extent), predicate="intersects")]
    neighbours = near[~near["code"].astype(str).isin(briefing.icb_codes)]
    _draw_polygons(axes, neighbours.geometry, "#f0f0f0", edge="#c8c8c8", width=0.6)
    _draw_polygons(axes, focus.geometry, "#ffffff", edge="#555555", width=0.5)
    outline = gpd.GeoSeries([shapely.union_all(focus.geometry.to_numpy())])
    _draw_polygons(axes, outline, "none", edge="#111111", width=1.6)
    in_area = sites[sites["icb_code"].astype("string").isin(briefing.icb_codes).fillna(False)]
    _draw_sites(axes, in_area, briefing.status_known)
    axes.set_xlim(extent[0], extent[2])
    axes.set_ylim(extent[1], extent[3])


def _padded_extent(bounds) -> tuple[float, float, float, float]:
    """The bounds grown 8% and made square, so every map has the same shape on the page."""
    minx, miny, maxx, maxy = bounds
    half = max(maxx - minx, maxy - miny) * 0.54
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return cx - half, cy - half, cx + half, cy + half


def _draw_sites(axes, sites: gpd.GeoDataFrame, status_known: bool) -> None:
    not_engaged = sites["sector"].isin(IV_SECTORS) & (sites["planning_status"] == NOT_ENGAGED)
    not_engaged = not_engaged.fillna(False).astype(bool) & status_known
    handles = []
    for sector in SECTORS:
        in_sector = (sites["sector"] == sector).fillna(False).astype(bool)
        colour = SECTOR_COLOURS[sector]
        for rows, marker, size, edge in (
            (sites[in_sector & ~not_engaged], "o", 16, "white"),
            (sites[in_sector & not_engaged], "s", 30, "black"),
        ):
            if not rows.empty:
                x, y = rows.geometry.x, rows.geometry.y
                axes.scatter(x, y, s=size, c=colour, marker=marker, edgecolors=edge, linewidths=0.8)
        if in_sector.any():
            handles.append(_legend_marker("o", colour, "white", sector))
    if not_engaged.any():
        handles.append(_legend_marker("s", "white", "black", "I+V not engaged in planning"))
    if handles:
        axes.figure.legend(
            handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.025),
            ncol=min(len(handles), 3), fontsize=10, frameon=False,
        )  # fmt: skip


def _legend_marker(marker: str, face: str, edge: str, label: str) -> Line2D:
    return Line2D(
        [], [], marker=marker, linestyle="", markersize=6, markerfacecolor=face,
        markeredgecolor=edge, label=label,
    )  # fmt: skip


def _draw_shares(axes, figure, briefing: Briefing, boundaries: gpd.GeoDataFrame) -> None:
    shares = briefing.icb_table.set_index("icb_code")["share"].astype(float)
    values = boundaries["code"].astype(str).map(shares).astype(float).to_numpy()
    scale = ScalarMappable(
        norm=BoundaryNorm(SHARE_BREAKS, len(SEQUENTIAL_COLOURS)),
        cmap=ListedColormap(SEQUENTIAL_COLOURS),
    )
    faces = [class_colour(value) for value in values]  # the app's map colours, class for class
    _draw_polygons(axes, boundaries.geometry, faces, edge="#666666", width=0.4)
    minx, miny, maxx, maxy = boundaries.total_bounds
    axes.set_xlim(minx, maxx)
    axes.set_ylim(miny, maxy)
    if np.isnan(values).all():
        axes.set_title("No share to show: planning status not known", fontsize=10)
        return
    strip = figure.add_axes((0.2, 0.055, 0.6, 0.022))
    bar = figure.colorbar(scale, cax=strip, orientation="horizontal")
    bar.set_label("Share of independent and voluntary care not engaged", fontsize=10)
    bar.ax.xaxis.set_label_position("top")
    bar.ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    bar.ax.tick_params(labelsize=9)


def _draw_polygons(axes, geometries: gpd.GeoSeries, faces, *, edge: str, width: float) -> None:
    """Polygons (holes and all parts kept) as one path collection: far faster than GeoSeries.plot."""
    paths, colours = [], []
    face_list = faces if isinstance(faces, list) else [faces] * len(geometries)
    for geometry, face in zip(geometries.to_numpy(), face_list, strict=True):
        for part in _polygons(geometry):
            rings = [part.exterior, *part.interiors]
            paths.append(Path.make_compound_path(*(_ring_path(ring) for ring in rings)))
            colours.append(face)
    if paths:
        collection = PathCollection(paths, facecolors=colours, edgecolors=edge, linewidths=width)
        axes.add_collection(collection, autolim=False)


def _polygons(geometry) -> list:
    if geometry is None or geometry.is_empty:
        return []
    parts = shapely.get_parts(geometry)
    return [part for part in parts if part.geom_type == "Polygon"]


def _ring_path(ring) -> Path:
    return Path(np.asarray(ring.coords)[:, :2], closed=True)


def sector_chart_png(briefing: Briefing) -> bytes:
    """Horizontal bars of sites (and beds, where known) by sector, in the sector colours."""
    table = briefing.sector_table
    panels = [("sites", "Provider sites")]
    if (table["capacity"].fillna(0) > 0).any():
        panels.append(("capacity", f"Capacity ({CAPACITY_NOUN})"))
    figure = Figure(figsize=CHART_FIGSIZE, dpi=_DPI)
    axes_list = figure.subplots(1, len(panels), sharey=True, squeeze=False)
    for axes, (column, label) in zip(axes_list[0], panels, strict=True):
        _draw_bars(axes, table, column, label)
    figure.subplots_adjust(left=0.27, right=0.97, top=0.88, bottom=0.04, wspace=0.12)
    return _png(figure)


def _draw_bars(axes, table: pd.DataFrame, column: str, label: str) -> None:
    values = table[column].astype("Float64").fillna(0).astype(float).tolist()
    sectors = table["sector"].astype(str).tolist()
    colours = [SECTOR_COLOURS.get(sector, "#999999") for sector in sectors]
    axes.barh(sectors, values, color=colours, edgecolor="#333333", linewidth=0.4)
    axes.invert_yaxis()
    top = max(values) if max(values, default=0) > 0 else 1
    axes.set_xlim(0, top * 1.25)
    for position, (value, sites) in enumerate(zip(values, table["sites"], strict=True)):
        text = format_number(value) if column == "sites" else format_capacity(value, int(sites))
        axes.text(value + top * 0.02, position, text, va="center", fontsize=9)
    axes.set_title(label, fontsize=10)
    axes.tick_params(labelsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.xaxis.set_visible(False)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=_DPI, facecolor="white", pil_kwargs={"compress_level": 2}
    )
    return buffer.getvalue()


# --- the on-screen page -------------------------------------------------------------------


_PAGE_STYLE = """<style>
.ics-briefing{overflow-wrap:anywhere}
.ics-briefing .subtitle{color:#5a5a5a;margin-top:-0.5em}
.ics-briefing dl.headlines{display:grid;grid-template-columns:repeat(auto-fill,minmax(11em,1fr));
gap:0.5em;margin:0}
.ics-briefing dl.headlines div{border:1px solid #c8c8c8;border-radius:4px;padding:0.4em 0.6em}
.ics-briefing dt{font-size:0.8em;color:#5a5a5a}
.ics-briefing dd{margin:0;font-weight:bold;font-size:1.15em}
.ics-briefing .figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.ics-briefing .figures img{max-width:100%;min-width:0;height:auto}
.ics-briefing .figures .map{flex:3 1 22em}.ics-briefing .figures .chart{flex:2 1 16em}
.ics-briefing table{border-collapse:collapse}
.ics-briefing th,.ics-briefing td{border:1px solid #c8c8c8;padding:0.2em 0.5em}
.ics-briefing td.n{text-align:right}
.ics-briefing .provenance{font-size:0.85em;color:#5a5a5a}
</style>"""


def briefing_html(illustrated: IllustratedBriefing) -> str:
    """The briefing as one HTML fragment; every string from data is escaped."""
    briefing = illustrated.facts
    parts = [
        _PAGE_STYLE,
        '<section class="ics-briefing">',
        f"<h2>{_e(briefing.title)}</h2>",
        f'<p class="subtitle">{_e(briefing.subtitle)}</p>',
        _headline_html(briefing.headlines),
        _list_html(briefing.sentences, "sentences"),
        '<div class="figures">',
        _image_html(illustrated.map_png, briefing.map_alt, "map"),
        _image_html(illustrated.chart_png, briefing.chart_alt, "chart"),
        "</div>",
        f"<h3>{_e(briefing.top_providers_title)}</h3>",
        _providers_html(briefing.top_providers),
        _flows_html(briefing),
        "<h3>Caveats</h3>",
        _list_html(briefing.caveats, "caveats"),
        "<h3>Sources</h3>",
        _list_html(briefing.provenance, "provenance"),
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _list_html(lines, css_class: str) -> str:
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<ul class="{css_class}">{items}</ul>'


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _headline_html(headlines) -> str:
    items = "".join(
        f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>" for label, value in headlines
    )
    return f'<dl class="headlines">{items}</dl>'


def _image_html(png: bytes, alt: str, css_class: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{css_class}" src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _providers_html(top: pd.DataFrame) -> str:
    if top.empty:
        return "<p>None recorded.</p>"
    head = (
        f"<tr><th>Provider</th><th>Sector</th><th>Sites</th><th>{CAPACITY_NOUN.title()}</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{_e(row.provider_name)}</td><td>{_e(row.sector)}</td>"
        f'<td class="n">{format_number(row.sites)}</td>'
        f'<td class="n">{_e(format_capacity(row.capacity, 0))}</td></tr>'
        for row in top.itertuples()
    )
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _flows_html(briefing: Briefing) -> str:
    """England's flows table with its title and what it does not count; '' elsewhere."""
    table = briefing.flows_table
    if table is None:
        return ""
    head = "".join(f"<th>{_e(name)}</th>" for name in table.columns)
    rows = "".join(
        "<tr>"
        + f"<td>{_e(cells[0])}</td>"
        + "".join(f'<td class="n">{_e(c)}</td>' for c in cells[1:])
        + "</tr>"
        for cells in table.itertuples(index=False)
    )
    return (
        f"<h3>{_e(briefing.flows_title)}</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<p>{_e(briefing.flows_note)}</p>"
    )
