"""An ICB's flows of patients to independent providers as map lines (geo.analysis.flows).

Each line runs from the ICB the patients come from to where they wait: the provider site
when the flow names one site, else the representative point of the sites' ICB (a provider
whose several sites all lie in one ICB). ICB points are `representative_point()` of the
boundary in EPSG:27700 (always inside it, unlike a centroid), shown in EPSG:4326.

Width scale: a line's width in pixels is MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) *
sqrt(patients / largest flow drawn), so the ICB's largest flow is MAX_WIDTH px wide and the
area-like square root keeps small flows visible. Only RTT patients waiting in the latest
period are drawn; flows to providers not on the map or in several ICBs have nowhere to go.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.maps.layers import Legend, MapLibrary
from geo.maps.payload import escape_html
from geo.model.evidence import PATIENTS_WAITING
from geo.model.text import counted

LAYER_NAME = "Flows of patients to independent providers (RTT)"
MIN_WIDTH, MAX_WIDTH = 2.0, 14.0
OUT_COLOUR = "#0072B2"  # Okabe–Ito blue: the ICB's own patients, within it or elsewhere
IN_COLOUR = "#D55E00"  # Okabe–Ito vermilion: other ICBs' patients at sites inside it
OWN, IN = "its patients", "other ICBs' patients here"
OTHERS = "Other ICBs' patients at its sites"
LINE_COLUMNS = ("direction", "from_icb", "to_icb", "place", "patients", "width", "geometry")


def icb_points(icbs: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each ICB's representative point (inside it), by code, computed in EPSG:27700, in 4326."""
    points = icbs.to_crs(27700).representative_point().to_crs(4326)
    return gpd.GeoSeries(points.to_numpy(), index=icbs["code"].to_numpy(), crs=4326)


def flow_lines(
    flows: pd.DataFrame, icb_code: str, icbs: gpd.GeoDataFrame, sites: pd.DataFrame
) -> gpd.GeoDataFrame:
    """One line per RTT flow of `icb_code`'s patients (out and within) and of other ICBs'
    patients to sites inside it (in), LINE_COLUMNS, largest first; empty when none."""
    latest = _latest_rtt(flows)
    chosen = latest[
        (latest["from_icb"].eq(icb_code) | latest["to_icb"].eq(icb_code)).fillna(False)
        & latest["from_icb"].notna()
        & latest["to_icb"].notna()
    ]
    points = icb_points(icbs)
    located = sites.dropna(subset=["lat", "lon"]).drop_duplicates("site_id").set_index("site_id")
    rows = []
    for flow in chosen.itertuples(index=False):
        start = points.get(flow.from_icb)
        end, place = _destination(flow, points, located)
        if start is None or end is None or pd.isna(flow.value):
            continue
        rows.append(
            {
                "direction": OWN if flow.from_icb == icb_code else IN,
                "from_icb": flow.from_icb,
                "to_icb": flow.to_icb,
                "place": place,
                "patients": float(flow.value),
                "geometry": shapely.LineString([start, end]),
            }
        )
    lines = gpd.GeoDataFrame(rows, columns=[*list(LINE_COLUMNS[:-2]), "geometry"], crs=4326)
    lines["width"] = line_widths(lines["patients"])
    return lines[list(LINE_COLUMNS)].sort_values("patients", ascending=False, ignore_index=True)


def line_widths(patients: pd.Series) -> list[float]:
    """Widths in pixels by the module's square-root scale (the largest flow MAX_WIDTH)."""
    top = float(patients.max()) if len(patients) else 0.0
    if top <= 0:
        return [MIN_WIDTH] * len(patients)
    span = MAX_WIDTH - MIN_WIDTH
    return [round(MIN_WIDTH + span * math.sqrt(max(float(v), 0.0) / top), 2) for v in patients]


def _latest_rtt(flows: pd.DataFrame) -> pd.DataFrame:
    """RTT patients waiting in the latest period of the flows table."""
    waiting = flows[flows["measure"].eq(PATIENTS_WAITING)]
    if waiting.empty:
        return waiting
    return waiting[waiting["period"].eq(waiting["period"].max())]


def _destination(flow, points: gpd.GeoSeries, sites: pd.DataFrame):
    """The flow's end point and the place it names: the site, or the sites' ICB."""
    if not pd.isna(flow.site_id) and flow.site_id in sites.index:
        site = sites.loc[flow.site_id]
        return shapely.Point(float(site["lon"]), float(site["lat"])), str(site["site_name"])
    point = points.get(flow.to_icb)
    return point, f"sites of {flow.provider_code} in ICB {flow.to_icb}"


def flows_layer(
    lines: gpd.GeoDataFrame, names: dict[str, str] | None = None
) -> folium.FeatureGroup:
    """The lines as a folium layer the user can switch off, each with an escaped tooltip."""
    names = names or {}
    group = folium.FeatureGroup(name=LAYER_NAME, show=True)
    for line in lines.itertuples(index=False):
        colour = OUT_COLOUR if line.direction == OWN else IN_COLOUR
        folium.PolyLine(
            [(y, x) for x, y in line.geometry.coords],
            color=colour,
            weight=line.width,
            opacity=0.75,
            class_name="ics-flow",
            tooltip=_tooltip(line, names),
        ).add_to(group)
    MapLibrary().add_to(group)
    Legend(_legend(lines), "topright").add_to(group)
    return group


def _legend(lines: gpd.GeoDataFrame) -> str:
    """The two colours and what the widest line stands for."""
    top = counted(round(lines["patients"].max()), "patient") if len(lines) else "no patients"
    rows = "".join(
        f'<li><span class="ics-swatch" style="background:{colour}"></span>{label}</li>'
        for colour, label in ((OUT_COLOUR, "Its patients waiting"), (IN_COLOUR, OTHERS))
    )
    note = (
        f'<p class="ics-note">RTT patients waiting; width by the square root of patients, '
        f"the widest line {top}.</p>"
    )
    return f"<details open><summary>Flows</summary><ul>{rows}</ul>{note}</details>"


def _tooltip(line, names: dict[str, str]) -> str:
    """'From ICB to place: n patients waiting', every name escaped."""
    source = _tooltip_text(names.get(line.from_icb, str(line.from_icb)))
    place = _tooltip_text(line.place)
    patients = counted(round(line.patients), "patient")
    return f"{source} → {place}: {patients} waiting (RTT)"


def _tooltip_text(text: str) -> str:
    """Escaped for HTML and for the JavaScript template string folium puts tooltips in."""
    return escape_html(text).replace("`", "&#96;").replace("\\", "&#92;")
