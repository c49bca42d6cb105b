"""Spatial assignment: which ICB, sub-ICB and region each provider site is in, and how near a border."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.io.boundaries import METRIC_CRS, STORE_CRS
from geo.model.errors import InputError
from geo.model.settings import get_setting
from geo.model.text import counted
from geo.model.vocabulary import (
    INSIDE,
    NEAREST,
    NO_COORDINATES,
    OFFICIAL,
    OUTSIDE,
    looks_swapped,
    on_earth,
)

# What assign_sites adds to every row (sub-ICB and region columns only when those layers are given).
ASSIGNED_COLUMNS: tuple[str, ...] = (
    "spatial_icb_code",
    "spatial_icb_name",
    "icb_code",
    "icb_name",
    "assignment",
    "assignment_reason",
    "official_icb_agrees",
    "border_distance_m",
    "vintage",
)
SUB_ICB_COLUMNS: tuple[str, ...] = ("sicbl_code", "sicbl_name")
REGION_COLUMNS: tuple[str, ...] = ("region_code", "region_name")

# Boundary rings are cut into pieces of this many segments, so a nearest-border query
# measures a handful of short lines instead of a whole county-sized ring.
_CHUNK_SEGMENTS = 32
_OVERLAP_TOLERANCE_M = 100.0
_NONE = np.iinfo(np.int64).max  # no polygon found yet
_TO_METRIC = Transformer.from_crs(STORE_CRS, METRIC_CRS, always_xy=True)


@dataclass(frozen=True)
class _Layer:
    """A boundary layer ready for queries, its rows sorted by code (lowest code first)."""

    vintage: str
    codes: np.ndarray
    names: np.ndarray
    polygons: np.ndarray  # EPSG:4326, for containment
    chunks: np.ndarray  # boundary lines in EPSG:27700, for distances
    chunk_owner: np.ndarray  # row of the polygon each piece belongs to


@dataclass(frozen=True)
class _Coordinates:
    """Each site's coordinates as numbers, which are usable, and why the others are not."""

    lon: np.ndarray
    lat: np.ndarray
    usable: np.ndarray  # point can be looked up
    swapped: np.ndarray  # lat/lon look swapped: kept as given, flagged outside
    problem: np.ndarray  # reason for rows that are neither usable nor swapped, else None


@dataclass(frozen=True)
class _Located:
    """Where each site fell in one layer: row of the polygon (-1 for none), how, and how far."""

    row: np.ndarray  # polygon containing the point, or the nearest one within the snap distance
    how: np.ndarray  # INSIDE, NEAREST, OUTSIDE or None (not looked up)
    nearest_row: np.ndarray  # nearest polygon of a point outside every polygon, else -1
    distance_m: np.ndarray  # to that nearest polygon, else NaN


def assign_sites(
    sites: pd.DataFrame,
    icbs: gpd.GeoDataFrame,
    *,
    sub_icbs: gpd.GeoDataFrame | None = None,
    icb_regions: pd.DataFrame | None = None,
    coastal_snap_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Give every site its ICB (official code first, else the polygon it is in) and say how.

    Every input row comes back, in order, with a point geometry (None without usable
    coordinates) in EPSG:4326, so nothing is dropped: unusable rows carry a reason.
    The sub-ICB is the polygon the point is in; the region is that of the site's ICB,
    from `icb_regions` (the `icb_regions` table, computed once by the caller).
    """
    coords = _read_coordinates(sites)
    snap_m = _snap_distance(coastal_snap_m)
    layer = _prepare_layer(icbs, "ICB boundaries")
    located = _locate(layer, coords, snap_m)
    assigned = _assemble(sites, coords, layer, located)
    if sub_icbs is not None:
        sub_layer = _prepare_layer(sub_icbs, "sub-ICB boundaries")
        sub_rows = _locate(sub_layer, coords, snap_m).row
        codes, names = _lookup(sub_layer.codes, sub_layer.names, sub_rows)
        assigned["sicbl_code"], assigned["sicbl_name"] = _text(codes), _text(names)
    if icb_regions is not None:
        lookup = icb_regions.drop_duplicates("icb_code").set_index("icb_code")
        assigned["region_code"] = _text(assigned["icb_code"].map(lookup["region_code"]))
        assigned["region_name"] = _text(assigned["icb_code"].map(lookup["region_name"]))
    return gpd.GeoDataFrame(assigned, geometry=_points(coords), crs=STORE_CRS)


def disagreements(assigned: pd.DataFrame) -> pd.DataFrame:
    """The sites whose official ICB code differs from the polygon they are in, for review."""
    needed = ("icb_code", "icb_name", "spatial_icb_code", "spatial_icb_name", "official_icb_agrees")
    _require_columns(assigned, "assigned sites", needed)
    wanted = [c for c in ("site_id", "site_name", "provider_name", "sector") if c in assigned]
    rows = assigned[assigned["official_icb_agrees"].eq(False).fillna(False)]
    table = pd.DataFrame(rows[wanted])
    table["official_icb_code"] = rows["icb_code"]
    table["official_icb_name"] = rows["icb_name"]
    table["spatial_icb_code"] = rows["spatial_icb_code"]
    table["spatial_icb_name"] = rows["spatial_icb_name"]
    table["border_distance_m"] = rows["border_distance_m"]
    return table


def icb_regions(icbs: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each ICB's NHS region, by largest overlap in EPSG:27700 (ICBs nest within regions)."""
    icb_layer = _validated(icbs, "ICB boundaries").to_crs(METRIC_CRS)
    region_layer = _validated(regions, "region boundaries").to_crs(METRIC_CRS)
    icb_geoms = _coarse(icb_layer.geometry.to_numpy())
    region_geoms = _coarse(region_layer.geometry.to_numpy())
    icb_row, region_row = shapely.STRtree(region_geoms).query(icb_geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(icb_geoms[icb_row], region_geoms[region_row]))
    overlaps = pd.DataFrame({"icb": icb_row, "region": region_row, "area": area})
    best = overlaps[overlaps["area"] > 0].sort_values(["icb", "area"], ascending=[True, False])
    best = best.drop_duplicates("icb")
    region_of = np.full(len(icb_layer), -1, dtype=np.int64)
    region_of[best["icb"].to_numpy()] = best["region"].to_numpy()
    codes, names = _lookup(
        region_layer["code"].to_numpy(dtype=object),
        region_layer["name"].to_numpy(dtype=object),
        region_of,
    )
    table = pd.DataFrame(
        {
            "icb_code": _text(icb_layer["code"].to_numpy(dtype=object)),
            "region_code": _text(codes),
            "region_name": _text(names),
        }
    )
    return table.sort_values("icb_code", ignore_index=True)


def _coarse(geoms: np.ndarray) -> np.ndarray:
    """Shapes simplified to 100 m: enough to rank overlaps of nested areas, and much faster."""
    simplified = shapely.simplify(geoms, _OVERLAP_TOLERANCE_M, preserve_topology=False)
    return shapely.make_valid(simplified)


# --- validation -------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, label: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}")


def _validated(layer: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """The layer in EPSG:4326 after checking its CRS, columns, codes and geometries."""
    if not isinstance(layer, gpd.GeoDataFrame):
        raise InputError(f"{label}: expected a GeoDataFrame, got {type(layer).__name__}")
    _require_columns(layer, label, ("code", "name"))
    if layer.crs is None:
        raise InputError(f"{label}: no CRS set (expected EPSG:4326 or another stated CRS)")
    codes = layer["code"].astype("str")
    duplicates = sorted(codes[codes.duplicated()].unique())
    if duplicates:
        raise InputError(
            f"{label}: column code has {counted(len(duplicates), 'duplicate code')}: {', '.join(duplicates)}"
        )
    empty = layer.geometry.isna() | layer.geometry.is_empty
    if empty.any():
        raise InputError(
            f"{label}: {counted(int(empty.sum()), 'row')} {'has' if empty.sum() == 1 else 'have'} no geometry: {', '.join(codes[empty])}"
        )
    return layer if layer.crs.equals(STORE_CRS) else layer.to_crs(STORE_CRS)


def _snap_distance(coastal_snap_m: float | None) -> float:
    raw = get_setting("coastal_snap_m") if coastal_snap_m is None else coastal_snap_m
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"setting coastal_snap_m: expected metres, got {raw!r}") from None
    if not np.isfinite(value) or value < 0:
        raise InputError(f"setting coastal_snap_m: expected metres of 0 or more, got {raw!r}")
    return value


def _blank(values: pd.Series) -> np.ndarray:
    """Missing values and empty or all-space text."""
    return (values.isna() | values.astype("str").str.strip().eq("")).to_numpy(dtype=bool)


def _read_coordinates(sites: pd.DataFrame) -> _Coordinates:
    """Lat/lon as numbers, sorting the unusable ones (missing, not numbers, swapped) out."""
    _require_columns(sites, "sites", ("lat", "lon"))
    lat = pd.to_numeric(sites["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(sites["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    raw_missing = _blank(sites["lat"]) | _blank(sites["lon"])
    numeric = np.isfinite(lat) & np.isfinite(lon)
    swapped = numeric & looks_swapped(lat, lon)
    out_of_range = numeric & ~on_earth(lat, lon)
    null_island = numeric & (lat == 0) & (lon == 0)
    problem = np.full(len(sites), None, dtype=object)
    problem[raw_missing] = NO_COORDINATES
    for i in np.flatnonzero(~numeric & ~raw_missing):
        shown = (sites["lat"].iloc[i], sites["lon"].iloc[i])
        problem[i] = f"no coordinates: latitude and longitude are not both numbers {shown!r}"
    for i in np.flatnonzero(out_of_range):
        problem[i] = f"no coordinates: lat {lat[i]:g}, lon {lon[i]:g} are out of range"
    problem[null_island] = "no coordinates: lat 0, lon 0 is a placeholder, not a place"
    usable = numeric & ~swapped & ~out_of_range & ~null_island
    return _Coordinates(lon=lon, lat=lat, usable=usable, swapped=swapped, problem=problem)


# --- geometry ---------------------------------------------------------------------------------


def _prepare_layer(layer: gpd.GeoDataFrame, label: str) -> _Layer:
    """Validate a boundary layer and index it for containment and distance queries."""
    ordered = _validated(layer, label).sort_values("code", ignore_index=True)
    vintages = ordered["vintage"].dropna().astype(str).unique() if "vintage" in ordered else []
    if len(vintages) > 1:
        raise InputError(f"{label}: mixes vintages {', '.join(sorted(vintages))}; pass one")
    polygons = ordered.geometry.to_numpy()
    chunks, owner = _boundary_chunks(polygons)
    return _Layer(
        vintage=str(vintages[0]) if len(vintages) else "",
        codes=ordered["code"].to_numpy(dtype=object),
        names=ordered["name"].to_numpy(dtype=object),
        polygons=polygons,
        chunks=chunks,
        chunk_owner=owner,
    )


def _polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single polygons out of (multi)polygons and repaired collections, with their owning row."""
    parts, owner = geoms, np.arange(len(geoms))
    while True:
        kinds = shapely.get_type_id(parts)
        if not np.isin(kinds, (4, 5, 6, 7)).any():  # multi-geometries and collections
            break
        parts, index = shapely.get_parts(parts, return_index=True)
        owner = owner[index]
    is_polygon = shapely.get_type_id(parts) == 3
    return parts[is_polygon], owner[is_polygon]


def _boundary_chunks(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every polygon ring cut into short lines in EPSG:27700, each tagged with its polygon's row.

    A ring of L vertices becomes lines of up to _CHUNK_SEGMENTS segments; consecutive lines
    share their end vertex, so together they trace the ring exactly.
    """
    parts, part_owner = _polygon_parts(geoms)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    length = np.bincount(ring, minlength=len(rings))
    position = np.arange(len(ring)) - np.repeat(np.cumsum(length) - length, length)
    last_chunk = (length - 2) // _CHUNK_SEGMENTS
    first_chunk_of_ring = np.cumsum(last_chunk + 1) - (last_chunk + 1)
    local = np.minimum(position // _CHUNK_SEGMENTS, last_chunk[ring])
    shared = (position % _CHUNK_SEGMENTS == 0) & (position > 0) & (position < length[ring] - 1)
    chunk = np.concatenate([local, local[shared] - 1]) + np.concatenate(
        [first_chunk_of_ring[ring], first_chunk_of_ring[ring[shared]]]
    )
    order = np.lexsort((np.concatenate([position, position[shared]]), chunk))
    x, y = _TO_METRIC.transform(*np.concatenate([coords, coords[shared]])[order].T)
    lines = shapely.linestrings(np.column_stack([x, y]), indices=chunk[order])
    owner = part_owner[ring_part[np.repeat(np.arange(len(rings)), last_chunk + 1)]]
    return lines, owner


def _metric_points(coords: _Coordinates, rows: np.ndarray) -> np.ndarray:
    x, y = _TO_METRIC.transform(coords.lon[rows], coords.lat[rows])
    return shapely.points(x, y)


def _locate(layer: _Layer, coords: _Coordinates, snap_m: float) -> _Located:
    """Polygon containing each usable point (lowest code on a shared edge), else the nearest."""
    n = len(coords.lat)
    row = np.full(n, -1, dtype=np.int64)
    nearest_row = np.full(n, -1, dtype=np.int64)
    how = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    usable = np.flatnonzero(coords.usable)
    points = shapely.points(coords.lon[usable], coords.lat[usable])
    # Points in the tree, polygons as queries: each polygon is prepared once and tested
    # against the points in its bounding box, ten times faster than the other way round.
    hit_polygon, hit_point = shapely.STRtree(points).query(layer.polygons, predicate="intersects")
    first = np.full(len(usable), _NONE)
    np.minimum.at(first, hit_point, hit_polygon)
    inside = first < _NONE
    row[usable[inside]] = first[inside]
    how[usable[inside]] = INSIDE
    outside = usable[~inside]
    if len(outside):
        nearest, nearest_m = _nearest(layer, _metric_points(coords, outside))
        snapped = nearest_m <= snap_m
        nearest_row[outside] = nearest
        distance[outside] = nearest_m
        row[outside[snapped]] = nearest[snapped]
        how[outside] = np.where(snapped, NEAREST, OUTSIDE)
    return _Located(row=row, how=how, nearest_row=nearest_row, distance_m=distance)


def _nearest(layer: _Layer, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest polygon (lowest code among ties) and its distance in metres, for outside points."""
    (point, chunk), dist = shapely.STRtree(layer.chunks).query_nearest(
        points, return_distance=True, all_matches=True
    )
    best = np.full(len(points), _NONE)
    np.minimum.at(best, point, layer.chunk_owner[chunk])
    distance = np.full(len(points), np.inf)
    np.minimum.at(distance, point, dist)
    return best, distance


def _border_distances(layer: _Layer, coords: _Coordinates, located: _Located) -> np.ndarray:
    """Metres from each site inside an ICB to the nearest other ICB (coastlines do not count)."""
    distance = np.full(len(coords.lat), np.nan)
    inside = np.flatnonzero(located.how == INSIDE)
    points = _metric_points(coords, inside)
    owners = located.row[inside]
    for owner in np.unique(owners):
        others = layer.chunks[layer.chunk_owner != owner]
        if not len(others):
            continue
        mine = owners == owner
        (_, _), dist = shapely.STRtree(others, node_capacity=4).query_nearest(
            points[mine], return_distance=True, all_matches=False
        )
        distance[inside[mine]] = dist
    return distance


def _points(coords: _Coordinates) -> gpd.array.GeometryArray:
    """Point geometry as given (swapped ones too, so a map can show the mistake), else None."""
    keep = coords.usable | coords.swapped
    geoms = np.full(len(coords.lat), None, dtype=object)
    geoms[keep] = shapely.points(coords.lon[keep], coords.lat[keep])
    return gpd.array.from_shapely(geoms, crs=STORE_CRS)


# --- assembly ---------------------------------------------------------------------------------


def _text(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _lookup(
    codes: np.ndarray, names: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and names of the given rows of a layer, None where the row is -1."""
    found = rows >= 0
    found_codes = np.full(len(rows), None, dtype=object)
    found_names = np.full(len(rows), None, dtype=object)
    found_codes[found] = codes[rows[found]]
    found_names[found] = names[rows[found]]
    return found_codes, found_names


def _official_codes(sites: pd.DataFrame) -> np.ndarray:
    """The official ICB code of each site, trimmed and upper-cased, None where it has none."""
    if "official_icb_code" not in sites:
        return np.full(len(sites), None, dtype=object)
    codes = sites["official_icb_code"].astype("str").str.strip().str.upper()
    return codes.mask(codes.eq("")).to_numpy(dtype=object, na_value=None)


def _spatial_reasons(layer: _Layer, coords: _Coordinates, located: _Located) -> list[str]:
    """Plain-English reason for each row's spatial result."""
    of = f"{layer.vintage} ICB" if layer.vintage else "ICB"
    codes, names = _lookup(layer.codes, layer.names, located.row)
    near_codes, near_names = _lookup(layer.codes, layer.names, located.nearest_row)
    reasons = []
    for i, how in enumerate(located.how):
        if coords.swapped[i]:
            lat, lon = coords.lat[i], coords.lon[i]
            reasons.append(f"latitude and longitude look swapped (lat {lat:g}, lon {lon:g})")
        elif coords.problem[i] is not None:
            reasons.append(coords.problem[i])
        elif how == INSIDE:
            reasons.append(f"inside {codes[i]} {names[i]}")
        elif how == NEAREST:
            reasons.append(
                f"{located.distance_m[i]:.0f} m outside every {of} (generalised coastline): "
                f"given the nearest, {codes[i]} {names[i]}"
            )
        elif np.isfinite(located.distance_m[i]):
            km = located.distance_m[i] / 1000
            reasons.append(
                f"outside every {of}: {km:.1f} km from the nearest ({near_codes[i]} {near_names[i]})"
            )
        else:
            reasons.append(f"outside every {of}")
    return reasons


def _assignment(coords: _Coordinates, located: _Located, official_known: np.ndarray) -> np.ndarray:
    """Which rule gave each row its ICB: official code, inside, nearest, outside, no coordinates."""
    assignment = np.where(coords.swapped, OUTSIDE, located.how)
    assignment = np.where(pd.isna(assignment), NO_COORDINATES, assignment)
    return np.where(official_known, OFFICIAL, assignment)


def _reasons(
    layer: _Layer, coords: _Coordinates, located: _Located, official: np.ndarray
) -> list[str]:
    """The spatial reason, led by what happened to the official code where there was one."""
    spatial = _spatial_reasons(layer, coords, located)
    known = dict(zip(layer.codes, layer.names, strict=True))
    of = f"the {layer.vintage} boundaries" if layer.vintage else "these boundaries"
    reasons = []
    for code, reason in zip(official, spatial, strict=True):
        if code is None:
            reasons.append(reason)
        elif code in known:
            reasons.append(f"official ICB {code} {known[code]}; location: {reason}")
        else:
            reasons.append(f"official ICB {code} not in {of}; location: {reason}")
    return reasons


def _assemble(
    sites: pd.DataFrame, coords: _Coordinates, layer: _Layer, located: _Located
) -> pd.DataFrame:
    """The input rows with the ICB columns added (replacing any from an earlier assignment)."""
    official = _official_codes(sites)
    known = np.isin(official, layer.codes)
    spatial_codes, spatial_names = _lookup(layer.codes, layer.names, located.row)
    names_by_code = dict(zip(layer.codes, layer.names, strict=True))
    official_names = np.array([names_by_code.get(code) for code in official], dtype=object)
    agrees = pd.array(official == spatial_codes, dtype="boolean")
    agrees[~known | (located.row < 0)] = pd.NA
    added = {
        "spatial_icb_code": _text(spatial_codes),
        "spatial_icb_name": _text(spatial_names),
        "icb_code": _text(np.where(known, official, spatial_codes)),
        "icb_name": _text(np.where(known, official_names, spatial_names)),
        "assignment": _text(_assignment(coords, located, known)),
        "assignment_reason": _text(_reasons(layer, coords, located, official)),
        "official_icb_agrees": agrees,
        "border_distance_m": pd.array(_border_distances(layer, coords, located), dtype="Float64"),
        "vintage": _text(np.full(len(sites), layer.vintage or None, dtype=object)),
    }
    stale = (*ASSIGNED_COLUMNS, *SUB_ICB_COLUMNS, *REGION_COLUMNS, "geometry")
    table = pd.DataFrame(sites).drop(columns=[c for c in stale if c in sites.columns])
    return table.assign(**{name: pd.Series(v, index=table.index) for name, v in added.items()})
