"""The map explorer's folium map: an ICB choropleth, NHS regions and every provider site by sector.

Pages call `build_map` once and may swap single layers (`choropleth_layer`,
`sites_layer`, or `served_layer`: a payload the app serves and a mask of the sites to
show) through st_folium's `feature_group_to_add` without remounting. Sites are drawn
by our canvas layer from one compact payload (geo.maps.payload), never one folium
Marker each. Colours are colour-blind safe: viridis classes for
the choropleth (hatched grey for no data) and Okabe–Ito for sectors, with I+V
sites outside NHS planning also drawn as black-edged squares so the map reads in greyscale.
Assets: see geo.maps.assets (`assets='local'` inlines pinned npm copies of Leaflet).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.maps.assets import apply_assets, folium_asset_urls
from geo.maps.flows import flows_layer
from geo.maps.layers import (
    FrozenGeoJson,
    Legend,
    MapLibrary,
    SitesCanvas,
    SitesFromUrl,
    ViewInUrl,
)
from geo.maps.payload import escape_html, site_payload
from geo.model.errors import InputError
from geo.model.evidence import STATUS_LEGEND
from geo.model.palette import SEQUENTIAL_COLOURS, SHARE_BREAKS, class_colour
from geo.model.sectors import IV_SECTORS, SECTOR_COLOURS, SECTORS
from geo.model.text import counted
from geo.model.vocabulary import ENGLAND_LAT, ENGLAND_LON

NO_DATA_FILL = "url(#ics-no-data)"  # an SVG hatch pattern defined by geo/maps/static/ics_map.js
NO_DATA_LABEL = "no data"
NOT_KNOWN = "not known"  # a share geo.analysis.metrics says is not known, and why
_SHARE = "iv_outside_share"
PER_HEAD = "per head"
_REASON = "share_not_known_reason"
DETAIL_ZOOM = 11  # from this zoom on every site in view is drawn; below, grid clusters
ENGLAND_BOUNDS = ((ENGLAND_LAT[0], ENGLAND_LON[0]), (ENGLAND_LAT[1], ENGLAND_LON[1]))
_REGION_STYLE = {"fill": False, "color": "#111", "weight": 2.5, "dashArray": "7 5"}
# Outside the selected region: a grey veil, its inner edge the region's outline.
_OUTSIDE_STYLE = {"fillColor": "#6e6e6e", "fillOpacity": 0.55, "color": "#111", "weight": 3.5}
FOCUS_PANE = "icsRegionFocus"  # above the sites (ics_map.js draws them at z-index 450)


@dataclass(frozen=True)
class MapMetric:
    """A per-ICB metric the choropleth can show: its column, legend label and kind."""

    column: str
    label: str
    kind: str  # "share" (0..1, fixed classes), "count" or PER_HEAD (classes from the data)

    def format(self, value: object) -> str:
        """The value as the legend and tooltips print it; 'no data' when missing ('not known'
        for a figure per head, whose population or numerator is not known)."""
        if value is None or pd.isna(value):
            return NOT_KNOWN if self.kind == PER_HEAD else NO_DATA_LABEL
        if self.kind == PER_HEAD:
            return f"{float(value):,.1f}"
        return f"{float(value):.0%}" if self.kind == "share" else f"{float(value):,.0f}"


METRICS: dict[str, MapMetric] = {
    metric.column: metric
    for metric in (
        MapMetric("iv_outside_share", "Share of I+V capacity outside NHS planning", "share"),
        MapMetric(
            "iv_no_evidence_share",
            "Share of I+V capacity with no evidence of NHS commissioning (open data)",
            "share",
        ),
        MapMetric("iv_sites_commissioned", "I+V sites NHS-commissioned by their ICB", "count"),
        MapMetric(
            "iv_sites_no_evidence", "I+V sites with no evidence of NHS commissioning", "count"
        ),
        MapMetric("iv_sites_not_engaged", "I+V sites not engaged (engagement list)", "count"),
        MapMetric("iv_capacity_not_engaged", "I+V capacity not engaged (engagement list)", "count"),
        MapMetric("iv_share_unknown", "Share of I+V with planning status unknown", "share"),
        MapMetric("iv_sites", "Independent and voluntary sites", "count"),
        MapMetric("sites_total", "All sites", "count"),
        MapMetric("sites_nhs", "NHS sites", "count"),
        MapMetric("sites_local_authority", "Local authority sites", "count"),
        MapMetric("sites_independent", "Independent sites", "count"),
        MapMetric("sites_voluntary", "Voluntary sites", "count"),
        MapMetric("sites_unknown", "Sites of unknown sector", "count"),
    )
}


# Figures per 100,000 people (geo.analysis.population.per_head): only with populations loaded,
# coloured from Analysis.per_head (see `metrics_for`).
PER_HEAD_METRICS: dict[str, MapMetric] = {
    metric.column: metric
    for metric in (
        MapMetric("sites_per_100k", "Sites per 100,000 people", PER_HEAD),
        MapMetric("iv_capacity_per_100k", "I+V beds per 100,000 people", PER_HEAD),
        MapMetric(
            "care_home_beds_per_100k_65_plus",
            "Care-home beds per 100,000 people aged 65 and over",
            PER_HEAD,
        ),
        MapMetric(
            "iv_capacity_outside_per_100k",
            "I+V beds outside NHS planning per 100,000 people",
            PER_HEAD,
        ),
    )
}


def metric_choices(has_per_head: bool) -> dict[str, MapMetric]:
    """The metrics a page may offer: per-head ones only when populations are loaded."""
    return {**METRICS, **PER_HEAD_METRICS} if has_per_head else dict(METRICS)


def metrics_for(metric: str, metrics: pd.DataFrame, per_head: pd.DataFrame | None) -> pd.DataFrame:
    """The table to colour `metric` from: the per-head table for a per-head metric."""
    if metric not in PER_HEAD_METRICS:
        return metrics
    if per_head is None:
        raise InputError(f"map metric {metric!r} needs populations, and none are loaded")
    return per_head


def build_map(
    boundaries: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    sites: gpd.GeoDataFrame | pd.DataFrame | None,
    *,
    metric: str = "iv_outside_share",
    regions: gpd.GeoDataFrame | None = None,
    selected_icb: str | None = None,
    selected_region: str | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    assets: str = "cdn",
    tiles: str | None = "OpenStreetMap",
    view_in_url: bool = False,
    flow_lines: gpd.GeoDataFrame | None = None,
    flow_names: dict[str, str] | None = None,
) -> folium.Map:
    """The explorer map: choropleth of `metric` by ICB, optional regions, all sites by sector.

    `boundaries` is the display copy (geo.io.boundaries.display_boundaries). With no
    `center`/`zoom` the map fits the selected ICB, else the selected NHS region (one of
    `regions`, whose outside is greyed: `add_region_focus`), else every ICB. `sites=None`
    leaves the sites out, for a page that sends `sites_layer(...)` to st_folium as
    `feature_group_to_add`. `assets` is 'cdn', 'local' (inlined from node_modules)
    or a base URL (geo.maps.assets). `view_in_url` keeps the centre and zoom in the
    page's URL as the user pans (geo.maps.layers.ViewInUrl). `flow_lines`
    (geo.maps.flows.flow_lines) adds an ICB's flows as a layer named by ICB `flow_names`.
    """
    icbs = _checked_boundaries(boundaries, "boundaries")
    _check_selected(selected_icb, icbs)
    focus = _selected_region(regions, selected_region)
    m = _base_map(icbs, selected_icb, center, zoom, tiles, focus)
    choropleth_layer(icbs, metrics, metric=metric, selected_icb=selected_icb).add_to(m)
    if regions is not None:
        regions_layer(regions).add_to(m)
    if focus is not None:
        add_region_focus(m, focus)
    if sites is not None:
        sites_layer(sites).add_to(m)
    if flow_lines is not None and len(flow_lines):
        flows_layer(flow_lines, flow_names).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if view_in_url:
        ViewInUrl().add_to(m)
    return apply_assets(m, assets)


def choropleth_layer(
    boundaries: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    metric: str = "iv_outside_share",
    selected_icb: str | None = None,
) -> folium.FeatureGroup:
    """ICB polygons shaded by `metric`, with tooltips and a legend; feature properties carry `code`."""
    spec = _metric_spec(metric)
    icbs = _checked_boundaries(boundaries, "boundaries")
    metrics = _checked_metrics(metrics, spec)
    table = _joined_metrics(icbs, metrics, spec)
    breaks = _class_breaks(table[spec.column], spec)
    ranked = int(metrics["rank"].notna().sum()) if "rank" in metrics.columns else 0
    not_known = _not_known_counts(table, spec)
    group = folium.FeatureGroup(name=f"ICBs: {escape_html(spec.label)}")
    MapLibrary().add_to(group)
    FrozenGeoJson(
        _choropleth_features(table, spec, breaks, selected_icb, ranked),
        style_function=_icb_style,
        highlight_function=_icb_highlight,
        tooltip=_icb_tooltip(spec),
        control=False,
    ).add_to(group)
    has_no_data = bool(table[spec.column].isna().any())
    legend = _choropleth_legend(
        spec, breaks, has_no_data=has_no_data, not_known=not_known, ranked=ranked,
        title=_legend_title(spec, metrics),
    )  # fmt: skip
    Legend(legend, "bottomright").add_to(group)
    return group


def _legend_title(spec: MapMetric, metrics: pd.DataFrame) -> str:
    """The metric's label, with the population year(s) a figure per head rests on."""
    if spec.kind != PER_HEAD or "population_year" not in metrics.columns:
        return escape_html(spec.label)
    years = sorted({str(year) for year in metrics["population_year"].dropna()})
    if not years:
        return escape_html(spec.label)
    return escape_html(f"{spec.label} (ONS mid-{', mid-'.join(years)} population)")


def regions_layer(regions: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """NHS England regions as dashed outlines (not clickable), to switch on and off."""
    outlines = _checked_boundaries(regions, "regions")
    features = outlines[["code", "name", "geometry"]].assign(
        code=_escaped(outlines["code"]), name=_escaped(outlines["name"])
    )
    group = folium.FeatureGroup(name="NHS England regions")
    FrozenGeoJson(
        _feature_collection(features),
        style_function=lambda _: _REGION_STYLE,
        interactive=False,
        control=False,
    ).add_to(group)
    return group


def add_region_focus(m: folium.Map, region: gpd.GeoDataFrame) -> None:
    """Everything outside one NHS region greyed out (tiles, ICBs and sites alike) and its
    edge drawn heavy, so a regional lead sees their region and its neighbours only as context.

    The grey lies in its own pane above the sites' canvas and lets clicks through, so an
    ICB under it can still be clicked.
    """
    shape = shapely.union_all(region.geometry.to_numpy())
    west, south, east, north = (-90.0, 20.0, 70.0, 80.0)  # beyond the view at the lowest zoom
    outside = shapely.difference(shapely.box(west, south, east, north), shape)
    frame = gpd.GeoDataFrame(
        {"code": _escaped(region["code"]), "name": _escaped(region["name"])},
        geometry=[outside],
        crs=4326,
    )
    folium.map.CustomPane(FOCUS_PANE, z_index=460, pointer_events=False).add_to(m)
    FrozenGeoJson(
        _feature_collection(frame),
        style_function=lambda _: _OUTSIDE_STYLE,
        interactive=False,
        control=False,
        pane=FOCUS_PANE,
    ).add_to(m)


def sites_layer(
    sites: gpd.GeoDataFrame | pd.DataFrame,
    *,
    name: str = "Provider sites",
    detail_zoom: int = DETAIL_ZOOM,
) -> folium.FeatureGroup:
    """Every site by sector on one canvas: clusters when zoomed out, each site in view when in."""
    return payload_layer(site_payload(sites), name=name, detail_zoom=detail_zoom)


def payload_layer(
    payload: dict, *, name: str = "Provider sites", detail_zoom: int = DETAIL_ZOOM
) -> folium.FeatureGroup:
    """`sites_layer` from a payload already made (`site_payload`), which a caller may cache.

    Build the FeatureGroup afresh on each run: st_folium renames and re-parents the
    group it is given, so a cached group would be changed under every session.
    """
    group = folium.FeatureGroup(name=escape_html(name))
    MapLibrary().add_to(group)
    SitesCanvas(payload, _canvas_options(detail_zoom)).add_to(group)
    legend = _sites_legend(payload["count"], payload["unmapped"], detail_zoom)
    Legend(legend, "bottomleft").add_to(group)
    return group


def served_layer(
    url: str,
    mask: str,
    *,
    shown: int,
    unmapped: int,
    name: str = "Provider sites",
    detail_zoom: int = DETAIL_ZOOM,
) -> folium.FeatureGroup:
    """`sites_layer` for a payload the app serves at `url`, showing the sites `mask` keeps
    (`payload.shown_mask`): `shown` of them, and `unmapped` kept but without coordinates.

    A filter change then sends the browser a few kilobytes, not the sites again.
    """
    group = folium.FeatureGroup(name=escape_html(name))
    MapLibrary().add_to(group)
    SitesFromUrl(url, mask, _canvas_options(detail_zoom)).add_to(group)
    Legend(_sites_legend(shown, unmapped, detail_zoom), "bottomleft").add_to(group)
    return group


def _canvas_options(detail_zoom: int) -> dict:
    return {
        "colours": [SECTOR_COLOURS[sector] for sector in SECTORS],
        "sectorLabels": list(SECTORS),
        "flaggedLabel": "I+V outside NHS planning",
        "detailZoom": detail_zoom,
    }


def _metric_spec(metric: str) -> MapMetric:
    """The METRICS entry for `metric`, or InputError listing the choices."""
    choices = metric_choices(True)
    if metric not in choices:
        raise InputError(f"map metric {metric!r} is unknown; expected one of {', '.join(choices)}")
    return choices[metric]


def _checked_boundaries(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Boundaries with code/name columns, unique codes, in EPSG:4326."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    missing = [col for col in ("code", "name") if col not in frame.columns]
    if missing:
        raise InputError(f"{what}: column {', '.join(missing)} is missing; expected code and name")
    if frame.crs is None:
        raise InputError(f"{what}: the GeoDataFrame has no CRS; expected EPSG:4326")
    duplicated = pd.unique(frame.loc[frame["code"].duplicated(), "code"].astype(str))
    if len(duplicated):
        raise InputError(
            f"{what}: column code has {counted(len(duplicated), 'duplicate code')}: {', '.join(duplicated)}"
        )
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs(4326)


def _selected_region(regions: gpd.GeoDataFrame | None, code: str | None) -> gpd.GeoDataFrame | None:
    """The selected region's row of `regions` (in EPSG:4326), None when none is selected."""
    if code is None:
        return None
    if regions is None:
        raise InputError(f"selected region {code}: no NHS regions are loaded to show it")
    outlines = _checked_boundaries(regions, "regions")
    chosen = outlines[outlines["code"] == code]
    if chosen.empty:
        raise InputError(
            f"selected region {code} is not one of the {len(outlines)} NHS regions loaded"
        )
    return chosen


def _checked_metrics(metrics: pd.DataFrame, spec: MapMetric) -> pd.DataFrame:
    """Per-ICB metrics with icb_code and the metric column, one row per ICB."""
    missing = [col for col in ("icb_code", spec.column) if col not in metrics.columns]
    if missing:
        raise InputError(f"metrics: column {', '.join(missing)} is missing")
    duplicated = pd.unique(metrics.loc[metrics["icb_code"].duplicated(), "icb_code"].astype(str))
    if len(duplicated):
        raise InputError(
            f"metrics: column icb_code has {counted(len(duplicated), 'duplicate code')}: {', '.join(duplicated)}"
        )
    return metrics


def _check_selected(selected_icb: str | None, icbs: gpd.GeoDataFrame) -> None:
    """A selected ICB must be one of the boundaries shown."""
    if selected_icb is not None and selected_icb not in set(icbs["code"]):
        raise InputError(
            f"selected ICB {selected_icb} is not in the boundaries shown ({len(icbs)} ICBs)"
        )


def _joined_metrics(
    icbs: gpd.GeoDataFrame, metrics: pd.DataFrame, spec: MapMetric
) -> gpd.GeoDataFrame:
    """Each boundary with its metric row (missing where the metrics have none)."""
    wanted = [
        "icb_code", spec.column, "iv_sites_not_engaged", "sites_total", "rank", "share_basis",
        _REASON, "status_basis",
    ]  # fmt: skip
    columns = list(dict.fromkeys(col for col in wanted if col in metrics.columns))
    joined = icbs[["code", "name", "geometry"]].merge(
        metrics[columns], how="left", left_on="code", right_on="icb_code"
    )
    joined[spec.column] = pd.to_numeric(joined[spec.column], errors="coerce").astype("Float64")
    return joined


def _class_breaks(values: pd.Series, spec: MapMetric) -> list[float]:
    """Five equal classes: 0–100% for shares, 0 to a round maximum for counts."""
    if spec.kind == "share":
        return list(SHARE_BREAKS)
    top = float(values.max()) if values.notna().any() else 0.0
    step = _nice_step(top / len(SEQUENTIAL_COLOURS))
    return [step * i for i in range(len(SEQUENTIAL_COLOURS) + 1)]


def _nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least `raw` (and at least 1)."""
    if raw <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)


def _colour(value: object, breaks: list[float]) -> str:
    """The class colour for `value`, or the no-data hatch."""
    if value is None or pd.isna(value):
        return NO_DATA_FILL
    return class_colour(value, breaks)


def _choropleth_features(
    table: gpd.GeoDataFrame, spec: MapMetric, breaks: list[float], selected: str | None, ranked: int
) -> dict:
    """A FeatureCollection whose properties are all escaped display text, plus `code`.

    Ranks read 'n of `ranked`', the ICBs ranked nationally, even when fewer are shown.
    """
    if "rank" not in table.columns:
        table = table.assign(rank=pd.NA)
    properties = pd.DataFrame(
        {
            "code": _escaped(table["code"]),
            "name": _escaped(table["name"]),
            "metric": [_metric_text(row, spec) for _, row in table.iterrows()],
            "iv_sites_not_engaged": _counts(table, "iv_sites_not_engaged"),
            "sites_total": _counts(table, "sites_total"),
            "basis": _escaped(table["status_basis"]) if "status_basis" in table else "",
            "rank": [_rank_text(row["rank"], ranked, _reason(row)) for _, row in table.iterrows()],
            "fill": [_colour(v, breaks) for v in table[spec.column]],
            "selected": (table["code"] == selected).to_numpy(),
        },
        index=table.index,
    )
    return _feature_collection(gpd.GeoDataFrame(properties, geometry=table.geometry, crs=4326))


def _metric_text(row: pd.Series, spec: MapMetric) -> str:
    """The tooltip's metric value, saying when a share is by sites because capacity is unknown,
    and why a share is not known."""
    reason = _reason(row)
    if spec.column == _SHARE and pd.isna(row[spec.column]) and reason:
        return f"{NOT_KNOWN}: {escape_html(reason)}"
    text = spec.format(row[spec.column])
    basis = row.get("share_basis")
    if spec.column == "iv_outside_share" and basis == "sites" and text != NO_DATA_LABEL:
        text += " (by sites: capacity unknown)"
    return text


def _counts(table: pd.DataFrame, column: str) -> list[str]:
    """A count column as display text; 'no data' when missing or when the metrics lack it."""
    values = table[column] if column in table.columns else pd.Series(pd.NA, index=table.index)
    return [NO_DATA_LABEL if pd.isna(v) else f"{float(v):,.0f}" for v in values]


def _rank_text(value: object, of: int, reason: str | None = None) -> str:
    """'3 of 42' (1 = highest share not engaged), 'not known' with the share, or 'no data'."""
    if value is None or pd.isna(value):
        return NOT_KNOWN if reason else NO_DATA_LABEL
    return f"{int(value)} of {of}"


def _reason(row: pd.Series) -> str | None:
    """Why the row's share not engaged is not known (geo.analysis.metrics), or None."""
    reason = row.get(_REASON)
    return None if reason is None or pd.isna(reason) else str(reason)


def _not_known_counts(table: pd.DataFrame, spec: MapMetric) -> dict[str, int]:
    """For the share not engaged: how many ICBs shown have no share, by reason."""
    if spec.column != _SHARE or _REASON not in table.columns:
        return {}
    reasons = table.loc[table[spec.column].isna(), _REASON].dropna().astype(str)
    return {str(reason): int(count) for reason, count in reasons.value_counts().items()}


def _not_known_note(not_known: dict[str, int], ranked: int) -> str:
    """Legend lines: why shares are not known, and how many ICBs the ranks are among."""
    lines = [
        f"Not known ({count} ICB{'s' if count != 1 else ''}): {escape_html(reason)}."
        for reason, count in not_known.items()
    ]
    if ranked:
        icbs = f"{ranked} ICB" if ranked == 1 else f"{ranked} ICBs"
        lines.append(f"Ranks are among the {icbs} whose share is known.")
    else:
        lines.append("No ICB is ranked: no share is known.")
    return "".join(f'<p class="ics-note">{line}</p>' for line in lines)


def _escaped(values: pd.Series) -> list[str]:
    """Each value as escaped HTML text ('' when missing)."""
    return ["" if pd.isna(v) else escape_html(str(v)) for v in values]


def _feature_collection(frame: gpd.GeoDataFrame) -> dict:
    """GeoJSON for Leaflet, coordinates rounded to 1e-5 degrees (about a metre) to keep it small."""
    geometry = shapely.set_precision(frame.geometry.values, 1e-5, mode="pointwise")
    shapes = [None if text is None else json.loads(text) for text in shapely.to_geojson(geometry)]
    records = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    records = records.where(records.notna(), None).to_dict("records")
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shape}
            for props, shape in zip(records, shapes, strict=True)
        ],
    }


def _icb_style(feature: dict) -> dict:
    """Fill by class; the selected ICB gets a heavy outline."""
    selected = feature["properties"]["selected"]
    return {
        "fillColor": feature["properties"]["fill"],
        "fillOpacity": 0.6,
        "color": "#000" if selected else "#555",
        "weight": 4 if selected else 1,
    }


def _icb_tooltip(spec: MapMetric) -> folium.GeoJsonTooltip:
    """Name, code (so a click can be read back), the metric and the headline counts."""
    return folium.GeoJsonTooltip(
        fields=["name", "code", "metric", "basis", "iv_sites_not_engaged", "sites_total", "rank"],
        aliases=[
            "ICB",
            "Code",
            escape_html(spec.label),
            "Basis",
            "I+V sites not engaged (list)",
            "All sites",
            "Rank",
        ],
        sticky=True,
    )


def _icb_highlight(_: dict) -> dict:
    """The ICB under the pointer."""
    return {"weight": 3, "color": "#000"}


def _choropleth_legend(
    spec: MapMetric,
    breaks: list[float],
    *,
    has_no_data: bool,
    not_known: dict[str, int],
    ranked: int,
    title: str | None = None,
) -> str:
    """Legend HTML: one swatch per class, the hatched no-data swatch when used ('not known',
    with why, for a share geo.analysis.metrics does not give)."""
    rows = [
        f'<li><span class="ics-swatch" style="background:{colour}"></span>'
        f"{spec.format(low)}–{spec.format(high)}</li>"
        for colour, low, high in zip(SEQUENTIAL_COLOURS, breaks, breaks[1:], strict=False)
    ]
    if has_no_data:
        label = NOT_KNOWN if not_known or spec.kind == PER_HEAD else NO_DATA_LABEL
        rows.append(f'<li><span class="ics-swatch ics-no-data"></span>{label}</li>')
    note = (
        '<p class="ics-note">Share of I+V capacity, or of I+V sites where capacity is unknown, '
        "outside NHS planning: not engaged by an engagement list or, with no list, no evidence "
        "of NHS commissioning by its own ICB in the open data loaded. Each ICB's basis is in "
        "its tooltip.</p>"
        if spec.column == "iv_outside_share"
        else ""
    )
    if not_known:
        note += _not_known_note(not_known, ranked)
    heading = escape_html(spec.label) if title is None else title
    return _collapsible(heading, f"<ul>{''.join(rows)}</ul>{note}")


def _sites_legend(count: int, unmapped: int, detail_zoom: int) -> str:
    """Legend HTML for sectors, the not-engaged square, clusters and unmapped sites."""
    rows = [
        f'<li><span class="ics-dot" style="background:{SECTOR_COLOURS[sector]}"></span>{sector}</li>'
        for sector in SECTORS
    ]
    rows.append(
        f'<li><span class="ics-dot ics-not-engaged" style="background:{SECTOR_COLOURS[IV_SECTORS[0]]}">'
        "</span>I+V outside NHS planning (black-edged square)</li>"
    )
    rows.append(
        '<li><span class="ics-dot ics-cluster"></span>Group: sector mix; black arc = share outside NHS planning</li>'
    )
    rows.append(f'<li class="ics-note">{escape_html(STATUS_LEGEND)}</li>')
    notes = [f"{counted(count, 'site')}; every site shows from zoom {detail_zoom}."]
    if unmapped:
        verbs = "has no coordinates and is" if unmapped == 1 else "have no coordinates and are"
        notes.append(f"{counted(unmapped, 'site')} {verbs} not drawn.")
    if count == 0:
        notes.append("No sites match the filters.")
    paragraphs = "".join(f'<p class="ics-note">{note}</p>' for note in notes)
    return _collapsible("Provider sites", f"<ul>{''.join(rows)}</ul>{paragraphs}")


def _collapsible(title: str, body: str) -> str:
    """A legend the user can fold away to see the map under it."""
    return f"<details open><summary>{title}</summary>{body}</details>"


def _base_map(
    icbs: gpd.GeoDataFrame,
    selected: str | None,
    center: tuple[float, float] | None,
    zoom: int | None,
    tiles: str | None,
    focus: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """A Leaflet-only folium map (no jQuery, Bootstrap or icon fonts) at the requested view."""
    bounds = _view_bounds(icbs, selected, focus)
    (south, west), (north, east) = bounds
    m = folium.Map(
        location=center or ((south + north) / 2, (west + east) / 2),
        zoom_start=zoom or 6,
        tiles=tiles,
        control_scale=True,
        min_zoom=5,
        font_size="0.75rem",  # Leaflet's own 12px: folium's 1rem makes ICB tooltips overrun the map
    )
    urls = folium_asset_urls()
    m.default_js = [("leaflet", urls["leaflet"])]
    m.default_css = [("leaflet_css", urls["leaflet_css"])]
    if center is None and zoom is None:
        m.fit_bounds([list(bounds[0]), list(bounds[1])])
    return m


def _view_bounds(
    icbs: gpd.GeoDataFrame, selected: str | None, focus: gpd.GeoDataFrame | None = None
) -> tuple[tuple[float, float], ...]:
    """((south, west), (north, east)) of the selected ICB, else of the selected region
    (`focus`), else of all ICBs, else England."""
    if selected:
        shown = icbs[icbs["code"] == selected]
    else:
        shown = icbs if focus is None else focus
    shown = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    if shown.empty:
        return ENGLAND_BOUNDS
    west, south, east, north = shown.total_bounds
    return ((float(south), float(west)), (float(north), float(east)))
