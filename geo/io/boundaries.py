"""ICB, sub-ICB and NHS region boundaries: read any ONS vintage, validate, simplify for display."""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.io import limits
from geo.model.errors import InputError
from geo.model.text import counted, identity_texts, trimmed_text
from geo.model.vocabulary import (
    ENGLAND_BOX_TEXT,
    ENGLAND_GRID,
    ENGLAND_LAT,
    ENGLAND_LON,
    GSS_PREFIXES,
    in_england,
    within,
)

STORE_CRS = "EPSG:4326"  # stored and displayed
METRIC_CRS = "EPSG:27700"  # British National Grid: areas, distances, simplification
KINDS: tuple[str, ...] = ("icb", "sicbl", "nhser")
STANDARD_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "ods_code",
    "kind",
    "vintage",
    "repaired",
    "geometry",
)

# ONS names its columns <PREFIX><yy><CD|NM|CDH>, e.g. ICB23CD, SICBL24NM, NHSER24CD.
# The prefix says what the layer is; the two digits say which vintage.
_LAYER_PREFIXES: dict[str, str] = {"ICB": "icb", "SICBL": "sicbl", "NHSER": "nhser"}
_COLUMN_PATTERN = re.compile(r"^(ICB|SICBL|NHSER)(\d\d)(CDH|CD|NM)$", re.IGNORECASE)

# How many areas ONS publishes per layer, to warn about partial or mislabelled files.
# 42 ICBs from July 2022 until the April 2026 mergers left 36; 106 sub-ICB locations
# in 2022–2024; 7 NHS England regions throughout.
_EXPECTED_COUNTS: dict[tuple[str, str], int] = {
    **{("icb", year): 42 for year in ("2022", "2023", "2024", "2025")},
    ("icb", "2026"): 36,
    **{("sicbl", year): 106 for year in ("2022", "2023", "2024")},
    **{("nhser", year): 7 for year in ("2020", "2021", "2022", "2023", "2024", "2025", "2026")},
}
_READABLE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
_POLYGONAL = ("Polygon", "MultiPolygon")
_DISPLAY_DECIMALS = 5  # ~1 m at England's latitudes: plenty for a map, a third of the bytes
_LISTED = 10  # offending codes named in one message before "and N more"

# What a boundary layer must look like to be taken for one, measured on every load.
# Every area lies within England's box (geo.model.vocabulary) widened by this many degrees
# (clipped ONS layers stay inside the box; full-extent ones reach a few km out to sea).
ENGLAND_MARGIN_DEG = 0.5
# Every area lies within the area of use of the CRS the file declares, widened by this
# many degrees: coordinates outside it were written in another CRS than the one declared.
CRS_AREA_MARGIN_DEG = 1.0
# Areas overlap, or leave holes inside the layer's outline, by at most this share of the
# layer's own area (EPSG:27700). Real ONS layers have none (below 0.0001%).
MAX_OVERLAP_SHARE = 0.005
MAX_GAP_SHARE = 0.005


@dataclass(frozen=True)
class LayerColumns:
    """Which columns of a boundary file hold the code, name and ODS code, and what it is."""

    kind: str  # "icb", "sicbl" or "nhser"
    vintage: str  # "2022", "2023", "2024", "2026"
    code: str
    name: str | None
    ods_code: str | None


def detect_layer(columns: list[str]) -> LayerColumns | None:
    """Recognise an ONS boundary or lookup layer by its column names, or None.

    Where a file has several (a sub-ICB layer also carrying ICB24CD), the most
    specific layer wins: sub-ICB over ICB over region.
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    for column in columns:
        match = _COLUMN_PATTERN.match(str(column))
        if match:
            prefix, yy, part = match.group(1).upper(), match.group(2), match.group(3).upper()
            found.setdefault((prefix, yy), {})[part] = str(column)
    for prefix in ("SICBL", "ICB", "NHSER"):
        for (candidate, yy), parts in sorted(found.items(), key=lambda item: item[0][1]):
            if candidate == prefix and "CD" in parts:
                return LayerColumns(
                    kind=_LAYER_PREFIXES[prefix],
                    vintage=f"20{yy}",
                    code=parts["CD"],
                    name=parts.get("NM"),
                    ods_code=parts.get("CDH"),
                )
    return None


def load_boundaries(
    path: str | Path,
    *,
    kind: str | None = None,
    columns: dict[str, str] | None = None,
    vintage: str | None = None,
) -> gpd.GeoDataFrame:
    """Read an ICB, sub-ICB or NHS region boundary file into one standard, validated layer.

    Reads GeoJSON, GeoPackage or a zipped Shapefile in any CRS. ONS columns
    (ICB23CD, SICBL24NM, NHSER24CD, ...) are recognised by `detect_layer`; other
    files need `columns={"code": ..., "name": ..., "ods_code": ...}` plus `kind`
    and `vintage`. An explicit `vintage` also overrides the one in ONS column
    names (say, the April 2023 ICB file serving as 2024: same codes and lines).

    Returns `code, name, ods_code, kind, vintage, [parent_icb_code,] repaired,
    geometry` in EPSG:4326, sorted by code; `parent_icb_code` appears for a sub-ICB
    layer carrying ICBxxCD. Invalid polygons are repaired with `shapely.make_valid`
    and flagged in `repaired`; anything else wrong raises `InputError`, including a layer
    that is not one of England's areas: codes of another kind (E54 ICBs, E38 sub-ICB
    locations, E40 regions), coordinates that do not fit the declared CRS, areas reaching
    outside England, and areas that overlap or leave holes (MAX_OVERLAP_SHARE,
    MAX_GAP_SHARE of the layer's area, in EPSG:27700).
    """
    path = Path(path)
    raw = _read_layer(path)
    found = [str(column) for column in raw.columns if column != raw.geometry.name]
    layer = _resolve_columns(path, found, kind, columns, vintage)
    raw = _with_crs(path, raw)
    frame = _standardise(raw, layer, _parent_column(raw.columns, layer, columns))
    _check_codes(path, frame, layer.code)
    _check_code_kind(path, frame, layer)
    _check_geometries(path, frame, layer.code)
    frame = frame.to_crs(STORE_CRS)
    _check_crs_fits(path, frame, layer.code, raw)
    _check_in_england(path, frame, layer.code, raw)
    frame = _repair_invalid(path, frame, layer.code)
    _check_coverage(path, frame, layer.code)
    return frame.sort_values("code", ignore_index=True)


def expected_count(kind: str, vintage: str) -> int | None:
    """How many areas ONS publishes for this kind and vintage (42 ICBs, 36 from 2026), if known."""
    return _EXPECTED_COUNTS.get((kind, str(vintage)))


def check_boundaries(gdf: gpd.GeoDataFrame) -> list[str]:
    """Warnings about a loaded layer that are worth telling the user but not fatal.

    An unexpected number of areas (partial layers are legitimate, e.g. in tests) and
    geometries that were repaired on load. (Codes of another kind, areas outside England,
    overlaps and gaps are refused by `load_boundaries`.)
    """
    messages: list[str] = []
    for (kind, vintage), group in gdf.groupby(["kind", "vintage"], sort=True):
        label = f"{kind} layer {vintage}"
        messages += _count_warning(label, kind, vintage, len(group))
        messages += _repaired_warning(label, group)
    return messages


def display_boundaries(gdf: gpd.GeoDataFrame, tolerance_m: float = 500) -> gpd.GeoDataFrame:
    """A light copy for maps: simplified with shared borders kept, in EPSG:4326 at 5 dp.

    Simplifies the whole coverage at once (`shapely.coverage_simplify` in
    EPSG:27700), so neighbours keep one common border: no slivers or overlaps.
    Never assign sites with the display copy: points near a border land in the
    wrong area (an ultra-generalised layer misassigns ~5% of sites; this copy of
    the 2023 BGC layer at 500 m moves 4 of 1,213 real hospitals). Assign with the
    layer from `load_boundaries` and only draw this one.
    """
    if gdf.crs is None:
        raise InputError("boundary layer has no CRS; expected one set by load_boundaries")
    if tolerance_m < 0:
        raise InputError(f"display tolerance {tolerance_m} m: expected 0 or more metres")
    metric = gdf.to_crs(METRIC_CRS)
    simplified = shapely.coverage_simplify(metric.geometry.values, tolerance_m)
    display = metric.set_geometry(gpd.GeoSeries(simplified, index=gdf.index, crs=METRIC_CRS))
    display = display.to_crs(STORE_CRS)
    return display.set_geometry(_rounded(display.geometry))


# Reading


def _read_layer(path: Path) -> gpd.GeoDataFrame:
    """The single layer of a GeoJSON, GeoPackage or (zipped) Shapefile."""
    if not path.is_file():
        raise InputError(f"boundary file {path.name}: not found at {path}")
    if path.suffix.lower() not in _READABLE_SUFFIXES:
        raise InputError(
            f"boundary file {path.name}: expected GeoJSON (.geojson), GeoPackage (.gpkg) "
            f"or a zipped Shapefile (.zip), not {path.suffix or 'a file without extension'}"
        )
    source = gdal_source(path)
    try:
        if source.lower().endswith(".gpkg"):  # the one format that holds several layers
            _require_one_layer(path, source)
        return gpd.read_file(source, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise InputError(f"boundary file {path.name}: could not be read ({error})") from error


def _require_one_layer(path: Path, source: str) -> None:
    layers = pyogrio.list_layers(source)
    if len(layers) > 1:
        names = ", ".join(str(name) for name in layers[:, 0])
        raise InputError(
            f"boundary file {path.name}: has {len(layers)} layers ({names}); "
            "expected a single boundary layer"
        )


def gdal_source(path: Path) -> str:
    """Where GDAL reads a boundary file: the file itself, or for a zip its one dataset
    through /vsizip/ (read in place, never extracted)."""
    return _zip_member(path) if path.suffix.casefold() == ".zip" else str(path)


def _zip_member(path: Path) -> str:
    """A GDAL /vsizip/ path to the one dataset inside a zip; InputError unless there is one."""
    try:
        with zipfile.ZipFile(path) as archive:
            limits.check_zip(archive, f"boundary file {path.name}", limits.current())
            members = archive.namelist()
    except zipfile.BadZipFile as error:
        raise InputError(f"boundary file {path.name}: not a valid zip archive") from error
    datasets = [
        name
        for name in members
        if name.lower().endswith((".shp", ".gpkg", ".geojson")) and "__MACOSX" not in name
    ]
    if len(datasets) != 1:
        found = ", ".join(members[:_LISTED]) or "nothing"
        raise InputError(
            f"boundary file {path.name}: expected one Shapefile (.shp) in the zip, "
            f"found {len(datasets)} among: {found}"
        )
    return f"/vsizip/{path.resolve()}/{datasets[0]}"


def _with_crs(path: Path, raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with a CRS: its own, or EPSG:4326 (with a warning) when clearly lon/lat."""
    if raw.crs is not None:
        return raw
    if not _looks_like_lonlat(raw):
        raise InputError(
            f"boundary file {path.name}: has no CRS and its coordinates are not lon/lat; "
            "expected a .prj file or a CRS in the file (ONS uses EPSG:27700 or EPSG:4326)"
        )
    warnings.warn(
        f"boundary file {path.name}: has no CRS; its coordinates look like lon/lat, "
        "so EPSG:4326 is assumed",
        UserWarning,
        stacklevel=3,
    )
    return raw.set_crs(STORE_CRS)


def _looks_like_lonlat(raw: gpd.GeoDataFrame) -> bool:
    """Whether every coordinate lies within longitude ±180 and latitude ±90."""
    geometries = raw.geometry.values
    present = geometries[~(shapely.is_missing(geometries) | shapely.is_empty(geometries))]
    if len(present) == 0:
        return False
    x_min, y_min, x_max, y_max = shapely.total_bounds(present)
    return bool(x_min >= -180 and x_max <= 180 and y_min >= -90 and y_max <= 90)


# Columns


def _resolve_columns(
    path: Path,
    found: list[str],
    kind: str | None,
    columns: dict[str, str] | None,
    vintage: str | None,
) -> LayerColumns:
    """Which columns hold what: explicit `columns`, or the ONS names `detect_layer` knows."""
    if columns is not None:
        return _explicit_columns(path, found, kind, columns, vintage)
    detected = detect_layer(found)
    if detected is None:
        raise InputError(
            f"boundary file {path.name}: no boundary code column among its columns "
            f"({', '.join(found) or 'none'}); expected an ONS code column such as ICB23CD, "
            "SICBL24CD or NHSER24CD, or explicit columns with kind and vintage"
        )
    if kind is not None and kind != detected.kind:
        raise InputError(
            f"boundary file {path.name}: column {detected.code} makes it a {detected.kind} "
            f"layer, not the {kind} layer asked for"
        )
    if vintage is not None:
        return replace(detected, vintage=_valid_vintage(path, vintage))
    return detected


def _explicit_columns(
    path: Path, found: list[str], kind: str | None, columns: dict[str, str], vintage: str | None
) -> LayerColumns:
    """A LayerColumns from the caller's mapping, checked against the file's columns."""
    allowed = {"code", "name", "ods_code", "parent_icb_code"}
    if "code" not in columns or not set(columns) <= allowed:
        raise InputError(
            f"boundary file {path.name}: columns mapping {sorted(columns)} needs 'code' and "
            f"may also have {', '.join(sorted(allowed - {'code'}))}"
        )
    missing = [column for column in columns.values() if column not in found]
    if missing:
        raise InputError(
            f"boundary file {path.name}: has no column {', '.join(missing)}; "
            f"its columns are {', '.join(found) or 'none'}"
        )
    if kind not in KINDS:
        raise InputError(
            f"boundary file {path.name}: kind {kind!r} given with explicit columns; "
            f"expected one of {', '.join(KINDS)}"
        )
    if vintage is None:
        raise InputError(
            f"boundary file {path.name}: explicit columns need a vintage too, e.g. '2024'"
        )
    return LayerColumns(
        kind,
        _valid_vintage(path, vintage),
        columns["code"],
        columns.get("name"),
        columns.get("ods_code"),
    )


def _valid_vintage(path: Path, vintage: str) -> str:
    if not re.fullmatch(r"20\d\d", str(vintage)):
        raise InputError(
            f"boundary file {path.name}: vintage {vintage!r}: expected a year like 2024"
        )
    return str(vintage)


def _parent_column(found, layer: LayerColumns, columns: dict[str, str] | None) -> str | None:
    """The ICBxxCD column of a sub-ICB layer, if it carries one."""
    if columns is not None:
        return columns.get("parent_icb_code")
    if layer.kind != "sicbl":
        return None
    parent = detect_layer([str(c) for c in found if not str(c).upper().startswith("SICBL")])
    return parent.code if parent is not None and parent.kind == "icb" else None


def _standardise(
    raw: gpd.GeoDataFrame, layer: LayerColumns, parent: str | None
) -> gpd.GeoDataFrame:
    """The standard columns, in order, from the file's own."""
    data: dict[str, object] = {
        "code": _text(raw, layer.code, identity=True),
        "name": _text(raw, layer.name),
        "ods_code": _text(raw, layer.ods_code, identity=True),
        "kind": layer.kind,
        "vintage": layer.vintage,
    }
    if parent is not None:
        data["parent_icb_code"] = _text(raw, parent, identity=True)
    data["repaired"] = False
    return gpd.GeoDataFrame(data, index=raw.index, geometry=raw.geometry.values, crs=raw.crs)


def _text(raw: pd.DataFrame, column: str | None, *, identity: bool = False) -> pd.Series:
    """A column as trimmed strings (codes as their identity text), blanks and cells of only
    invisible characters as missing; all missing when there is no column."""
    if column is None:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    values = (identity_texts if identity else trimmed_text)(raw[column])
    return values.astype("str")


# Validation


def _check_codes(path: Path, frame: gpd.GeoDataFrame, column: str) -> None:
    """Every row has a code and no code appears twice."""
    blank = frame["code"].isna().to_numpy()
    if blank.any():
        rows = [str(i + 1) for i in np.flatnonzero(blank)]
        raise InputError(
            f"boundary file {path.name}: column {column} is empty in {len(rows)} "
            f"feature(s): {_listing(rows)} (counting from 1); expected a code on every feature"
        )
    duplicated = frame["code"][frame["code"].duplicated()].unique()
    if len(duplicated):
        raise InputError(
            f"boundary file {path.name}: column {column} has "
            f"{counted(len(duplicated), 'duplicate code')}: {_listing(sorted(duplicated))}"
        )


def _check_geometries(path: Path, frame: gpd.GeoDataFrame, column: str) -> None:
    """Every row has a non-empty Polygon or MultiPolygon."""
    geometries = frame.geometry.values
    empty = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    if empty.any():
        codes = list(frame["code"][empty])
        raise InputError(
            f"boundary file {path.name}: column {column} has {len(codes)} code(s) with empty "
            f"or missing geometry: {_listing(codes)}"
        )
    types = frame.geometry.geom_type
    wrong = ~types.isin(_POLYGONAL)
    if wrong.any():
        found = [
            f"{code} ({kind})"
            for code, kind in zip(frame["code"][wrong], types[wrong], strict=True)
        ]
        raise InputError(
            f"boundary file {path.name}: column {column} has {len(found)} code(s) with "
            f"non-polygon geometry: {_listing(found)}; expected Polygon or MultiPolygon"
        )


def _check_code_kind(path: Path, frame: gpd.GeoDataFrame, layer: LayerColumns) -> None:
    """Every code is an ONS code of the layer's kind: E54 for ICBs, E38 sub-ICBs, E40 regions."""
    prefix = GSS_PREFIXES[layer.kind]
    odd = sorted(frame["code"][~frame["code"].str.fullmatch(prefix + r"\d{6}")])
    if odd:
        raise InputError(
            f"boundary file {path.name}: column {layer.code} has {len(odd)} code(s) that are "
            f"not {_KIND_LABELS[layer.kind]} codes ({prefix} and six digits): {_listing(odd)}; "
            f"expected {_KIND_LABELS[layer.kind]} codes only"
        )


_KIND_LABELS = {"icb": "ICB", "sicbl": "sub-ICB location", "nhser": "NHS England region"}


def _check_crs_fits(
    path: Path, frame: gpd.GeoDataFrame, column: str, raw: gpd.GeoDataFrame
) -> None:
    """Every area, read in the CRS the file declares (`raw`) and now in EPSG:4326 (`frame`),
    lies in that CRS's area of use: otherwise the file was written in another CRS."""
    declared = raw.crs
    box = declared.area_of_use.bounds if declared.area_of_use else (-180.0, -90.0, 180.0, 90.0)
    bounds = shapely.bounds(frame.geometry.values)
    fits = np.isfinite(bounds).all(axis=1) & _within(bounds, box, CRS_AREA_MARGIN_DEG)
    if fits.all():
        return
    epsg = declared.to_epsg()
    named = f"EPSG:{epsg} ({declared.name})" if epsg else declared.name
    raise InputError(
        f"boundary file {path.name}: column {column} has {int((~fits).sum())} area(s) whose "
        f"coordinates do not fit the CRS the file declares, {named}, which covers lon "
        f"{box[0]} to {box[2]}, lat {box[1]} to {box[3]}: {_listing(list(frame['code'][~fits]))}; "
        f"{_coordinates_look_like(raw)}give the file its real CRS"
    )


def _check_in_england(
    path: Path, frame: gpd.GeoDataFrame, column: str, raw: gpd.GeoDataFrame
) -> None:
    """Every area (`frame`, EPSG:4326) lies within England's box, give or take ENGLAND_MARGIN_DEG."""
    bounds = shapely.bounds(frame.geometry.values)
    england = (ENGLAND_LON[0], ENGLAND_LAT[0], ENGLAND_LON[1], ENGLAND_LAT[1])
    inside = _within(bounds, england, ENGLAND_MARGIN_DEG)
    if inside.all():
        return
    reaches = [
        f"{code} (lon {b[0]:.1f} to {b[2]:.1f}, lat {b[1]:.1f} to {b[3]:.1f})"
        for code, b in zip(frame["code"][~inside], bounds[~inside], strict=True)
    ]
    raise InputError(
        f"boundary file {path.name}: column {column} has {len(reaches)} area(s) reaching outside "
        f"England ({ENGLAND_BOX_TEXT}, give or take {ENGLAND_MARGIN_DEG}°): {_listing(reaches)}; "
        f"{_coordinates_look_like(raw)}expected England's ICBs, sub-ICB locations or regions"
    )


def _within(bounds: np.ndarray, box: tuple[float, ...], margin: float) -> np.ndarray:
    """Whether each row of bounds (x_min, y_min, x_max, y_max) lies in the box widened by `margin`."""
    west, south, east, north = box
    with np.errstate(invalid="ignore"):
        return (
            (bounds[:, 0] >= west - margin)
            & (bounds[:, 1] >= south - margin)
            & (bounds[:, 2] <= east + margin)
            & (bounds[:, 3] <= north + margin)
        )


def _coordinates_look_like(raw: gpd.GeoDataFrame) -> str:
    """'its coordinates look like British National Grid metres (EPSG:27700); ' when the file's
    own numbers would put it in England in another CRS, else ''."""
    x_min, y_min, x_max, y_max = shapely.total_bounds(raw.geometry.values)
    if in_england(np.array([y_min, y_max]), np.array([x_min, x_max])).all():
        return "its coordinates look like longitude/latitude (EPSG:4326); "
    grid = within(np.array([x_min, x_max, y_min, y_max]), ENGLAND_GRID).all()
    if grid and x_max > 1_000:  # metres, not small numbers of degrees
        return "its coordinates look like British National Grid metres (EPSG:27700); "
    return ""


def _check_coverage(path: Path, frame: gpd.GeoDataFrame, column: str) -> None:
    """Areas that tile: no material overlap between them and no material hole inside the
    layer's outline, each measured against the layer's own area in EPSG:27700."""
    metric = frame.geometry.to_crs(METRIC_CRS).values
    total = float(shapely.area(metric).sum())
    left, right, shared = _overlaps(metric)
    if shared.sum() > MAX_OVERLAP_SHARE * total:
        worst = np.argsort(-shared)[:_LISTED]
        codes = frame["code"].to_numpy()
        pairs = [
            f"{codes[left[i]]} and {codes[right[i]]} ({shared[i] / 1e6:,.0f} km²)" for i in worst
        ]
        raise InputError(
            f"boundary file {path.name}: column {column}: areas overlap by "
            f"{shared.sum() / total:.1%} of the layer's area (at most "
            f"{MAX_OVERLAP_SHARE:.1%} is allowed): {_listing(pairs)}; expected areas that "
            "tile, each place in one area"
        )
    outline = shapely.coverage_union_all(metric) if not len(left) else shapely.union_all(metric)
    holes = np.array(
        [shapely.Polygon(ring) for part in shapely.get_parts(outline) for ring in part.interiors],
        dtype=object,
    )
    gap = float(shapely.area(holes).sum())
    if gap > MAX_GAP_SHARE * float(shapely.area(outline)):
        around = shapely.STRtree(metric).query(holes, predicate="touches")[1]
        codes = sorted(set(frame["code"].to_numpy()[around]))
        raise InputError(
            f"boundary file {path.name}: column {column}: the areas leave holes of "
            f"{gap / 1e6:,.0f} km² inside the layer's outline, {gap / total:.1%} of its area (at "
            f"most {MAX_GAP_SHARE:.1%} is allowed), around {_listing(codes)}; expected areas "
            "that tile, with no area missing"
        )


def _overlaps(metric: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of areas whose interiors overlap (positions left < right) and the area shared (m²)."""
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    interiors = shapely.relate_pattern(metric[left], metric[right], "2********")
    left, right = left[interiors], right[interiors]
    return left, right, shapely.area(shapely.intersection(metric[left], metric[right]))


def _repair_invalid(path: Path, frame: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Invalid polygons made valid (polygonal parts kept) and flagged `repaired`."""
    invalid = ~shapely.is_valid(frame.geometry.values)
    if not invalid.any():
        return frame
    fixed = shapely.make_valid(
        frame.geometry.values[invalid], method="structure", keep_collapsed=False
    )
    fixed = np.array([_polygonal_part(geometry) for geometry in fixed], dtype=object)
    collapsed = shapely.is_empty(fixed)
    if collapsed.any():
        codes = list(frame["code"][invalid][collapsed])
        raise InputError(
            f"boundary file {path.name}: column {column} has {len(codes)} code(s) whose invalid "
            f"geometry has no area once repaired: {_listing(codes)}"
        )
    frame = frame.copy()
    frame.loc[invalid, "geometry"] = fixed
    frame.loc[invalid, "repaired"] = True
    return frame


def _polygonal_part(geometry: shapely.Geometry) -> shapely.Geometry:
    """The Polygon/MultiPolygon part of what `make_valid` returned (it may add lines)."""
    if geometry.geom_type in _POLYGONAL:
        return geometry
    polygons = [
        polygon
        for part in shapely.get_parts(geometry)
        for polygon in shapely.get_parts(part)
        if polygon.geom_type == "Polygon"
    ]
    return shapely.MultiPolygon(polygons)


def _listing(items: list[str]) -> str:
    """Items joined by commas, at most _LISTED of them."""
    shown = ", ".join(str(item) for item in items[:_LISTED])
    rest = len(items) - _LISTED
    return f"{shown} and {rest} more" if rest > 0 else shown


# Checks


def _count_warning(label: str, kind: str, vintage: str, count: int) -> list[str]:
    expected = expected_count(kind, vintage)
    if expected is None or expected == count:
        return []
    return [f"{label} has {count} areas; ONS publishes {expected}"]


def _repaired_warning(label: str, group: pd.DataFrame) -> list[str]:
    codes = sorted(group.loc[group["repaired"], "code"])
    if not codes:
        return []
    return [f"{label}: {len(codes)} invalid geometries were repaired: {_listing(codes)}"]


# Display


def _rounded(geometries: gpd.GeoSeries) -> gpd.GeoSeries:
    """Coordinates snapped to a 5 dp grid, kept valid (shared vertices snap alike)."""
    grid = 10.0**-_DISPLAY_DECIMALS
    return gpd.GeoSeries(
        shapely.set_precision(geometries.values, grid), index=geometries.index, crs=geometries.crs
    )
