"""The compact, HTML-safe payload that carries 100,000 provider sites into one map.

One folium Marker per site costs 50 s and 48 MB at 50k sites. Instead the sites go
into the page once, as columns (geo/maps/static/ics_map.js decodes them):

- coordinates as 1e-5 degree integers, sorted into latitude bands and delta-coded;
- sector, planning status, assignment, ICB agreement, ICB and differing official
  ICB as the digits of one mixed-radix integer (`code_digits`, least significant
  first; the rarely-set digits last, so most codes stay two bytes);
- capacity, border distance and string-table indexes as plain integers;
- every integer column as LEB128 varints, base64-encoded (geo/maps/codec.py, which
  also gives the measurements that keep this codec rather than typed arrays);
- strings escaped with `html.escape` (and braces as entities, see `escape_html`)
  and joined by `'`, which escaped text never contains; names as a table plus
  index only where that is smaller.

`script_json` then makes the JSON safe inside a <script> element.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.maps.codec import (
    COORD_SCALE,
    combine_digits,
    decode_optional,
    encode_optional,
    pack_bits,
    pack_varints,
    scale_degrees,
    split_digits,
    unpack_varints,
    zigzag_decode,
    zigzag_encode,
)
from geo.model.errors import InputError
from geo.model.evidence import OUTSIDE_STATUSES, PLANNING_STATUSES
from geo.model.providers import UNKNOWN_STATUS
from geo.model.sectors import SECTORS
from geo.model.vocabulary import ASSIGNMENTS, EARTH_LAT, EARTH_LON, on_earth

PAYLOAD_VERSION = 1
BORDER_UNIT_M = 100  # shown in km to one decimal
AGREEMENT: tuple[str, ...] = ("not given", "differs", "agrees")
SEPARATOR = "'"  # html.escape turns every ' into &#x27;, so escaped text never holds one
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLES = {
    "provider": "provider_name",
    "service": "service_type",
    "reason": "assignment_reason",
    "basis": "planning_basis",
    "evidence": "evidence_summary",
}
_CODED_COLUMNS = (
    "site_name",
    "sector",
    "planning_status",
    "assignment",
    "icb_code",
    "icb_name",
    "official_icb_code",
    *_TABLES.values(),
)
_USED_COLUMNS = (
    "site_name",
    "sector",
    "planning_status",
    "assignment",
    "official_icb_agrees",
    "official_icb_code",
    "icb_code",
    "icb_name",
    "capacity",
    "border_distance_m",
    *_TABLES.values(),
)


def site_payload(sites: gpd.GeoDataFrame | pd.DataFrame) -> dict:
    """The sites as a compact columnar dict, ready for `script_json`, every string escaped.

    Sites without coordinates are not drawn; `unmapped` counts them so the map can
    say so. Raises InputError for unknown sectors, statuses or impossible coordinates.
    """
    return ordered_site_payload(sites)[0]


def ordered_site_payload(sites: gpd.GeoDataFrame | pd.DataFrame) -> tuple[dict, np.ndarray]:
    """`site_payload`, and where each of its sites came from: its i-th site is row
    `order[i]` of `sites` (`shown_mask` needs this to say which sites a filter keeps)."""
    frame = _site_frame(sites)
    coded = {col: _coded(frame[col]) for col in _CODED_COLUMNS if col in frame.columns}
    _validate_sites(frame, coded)
    order = _drawing_order(frame["lat"].to_numpy(), frame["lon"].to_numpy())
    return _assemble(frame, coded, order), order


def shown_mask(order: np.ndarray, rows: np.ndarray, total: int) -> tuple[str, int]:
    """Which of a payload's sites to show, packed (`pack_bits`), and how many that is.

    `order` is the payload's (`ordered_site_payload`) over `total` rows; `rows` are the
    positions of the rows a filter keeps. Rows without coordinates are in no payload.
    """
    keep = np.zeros(total, dtype=bool)
    keep[rows] = True
    shown = keep[order]
    return pack_bits(shown), int(shown.sum())


def script_json(value: object) -> str:
    """JSON that can sit inside a <script> element: no '<', '>', '&' or line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for unsafe, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(unsafe, escaped)
    return text


def read_site_payload(payload: dict) -> pd.DataFrame:
    """Decode a payload into a table (strings still escaped), the way the browser does.

    For tests and the benchmark: it shows what the page receives, row for row.
    """
    n = payload["count"]
    cols = {name: unpack_varints(packed, n) for name, packed in payload["columns"].items()}
    cols |= {key: np.zeros(n, dtype=np.int64) for key in _TABLES if key not in cols}
    digits = split_digits(cols["code"], payload["code_digits"])
    strings = {key: text.split(SEPARATOR) for key, text in payload["strings"].items()}
    names = strings["name"]
    return pd.DataFrame(
        {
            "lat": np.cumsum(zigzag_decode(cols["lat"])) / COORD_SCALE,
            "lon": np.cumsum(zigzag_decode(cols["lon"])) / COORD_SCALE,
            "site_name": [names[i - 1] for i in cols["name"]] if "name" in cols else names[:n],
            "sector": [payload["sectors"][i] for i in digits["sector"]],
            "planning_status": [payload["statuses"][i] for i in digits["status"]],
            "assignment": [_entry(payload["assignments"], i) for i in digits["assignment"]],
            "official_icb_agrees": [AGREEMENT[i] for i in digits["agrees"]],
            "official_icb_differs": [_entry(strings["official"], i) for i in digits["official"]],
            "icb_code": [_entry(strings["icb_code"], i) for i in digits["icb"]],
            "icb_name": [_entry(strings["icb_name"], i) for i in digits["icb"]],
            "capacity": decode_optional(cols["capacity"], payload["capacity_scale"]),
            "border_distance_m": decode_optional(cols["border"], 1 / payload["border_unit_m"]),
        }
        | {col: [_entry(strings[key], i) for i in cols[key]] for key, col in _TABLES.items()}
    )


def _site_frame(sites: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """The columns the map uses, with float lat/lon from points in EPSG:4326 or lat/lon columns."""
    repeated = pd.unique(sites.columns[sites.columns.duplicated()].astype(str))
    if len(repeated):
        raise InputError(f"sites: column {', '.join(repeated)} appears more than once")
    for col in ("site_name", "sector"):
        if col not in sites.columns:
            raise InputError(f"sites: column {col} is missing")
    frame = pd.DataFrame({col: sites[col] for col in _USED_COLUMNS if col in sites.columns})
    if isinstance(sites, gpd.GeoDataFrame) and sites.geometry.name in sites.columns:
        points = _points_in_4326(sites)
        frame["lat"] = points.y.to_numpy(dtype=float, na_value=np.nan)
        frame["lon"] = points.x.to_numpy(dtype=float, na_value=np.nan)
        return frame
    missing = [col for col in ("lat", "lon") if col not in sites.columns]
    if missing:
        raise InputError(f"sites: no geometry and no column {', '.join(missing)}; expected lat/lon")
    for col in ("lat", "lon"):
        numbers = pd.to_numeric(sites[col], errors="coerce")
        frame[col] = numbers.to_numpy(dtype=float, na_value=np.nan)
    return frame


def _points_in_4326(sites: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The site points in EPSG:4326; None and empty geometries become missing."""
    if sites.crs is None:
        raise InputError("sites: the GeoDataFrame has no CRS; expected EPSG:4326")
    geometry = sites.geometry if sites.crs.to_epsg() == 4326 else sites.geometry.to_crs(4326)
    kinds = geometry.geom_type
    bad = kinds.notna() & (kinds != "Point")
    if bad.any():
        raise InputError(
            f"sites: {int(bad.sum())} geometries are not points (rows {_rows(bad)}); "
            "expected one point per site"
        )
    return geometry.where(~geometry.is_empty, None)


@dataclass(frozen=True)
class _Coded:
    """A text column as integer codes (-1 = missing) into its distinct values."""

    codes: np.ndarray
    values: list[str]


def _coded(values: pd.Series) -> _Coded:
    """Factorise a column once; everything after works on its integer codes."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _Coded(codes.astype(np.int64), [str(value) for value in uniques.tolist()])


def _validate_sites(frame: pd.DataFrame, coded: dict[str, _Coded]) -> None:
    """Sectors, statuses, coordinates and capacity must be what the canonical table allows."""
    _check_values(frame, coded["sector"], "sector", SECTORS, missing_ok=False)
    if "planning_status" in coded:
        _check_values(frame, coded["planning_status"], "planning_status", PLANNING_STATUSES)
    if "assignment" in coded:
        _check_values(frame, coded["assignment"], "assignment", ASSIGNMENTS)
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    off_earth = pd.Series(~on_earth(lat, lon) & ~(np.isnan(lat) | np.isnan(lon)), frame.index)
    if off_earth.any():
        raise InputError(
            f"sites: {int(off_earth.sum())} coordinates out of range (rows {_rows(off_earth)}); "
            f"expected latitude within ±{EARTH_LAT[1]:g} and longitude within ±{EARTH_LON[1]:g} "
            "(EPSG:4326 degrees)"
        )
    negative = np.nan_to_num(_numbers(frame, "capacity")) < 0
    if negative.any():
        raise InputError(
            f"sites: column capacity has {int(negative.sum())} negative values "
            f"(rows {_rows(pd.Series(negative, index=frame.index))}); "
            "expected 0 or more, or blank for unknown"
        )


def _check_values(
    frame: pd.DataFrame,
    coded: _Coded,
    column: str,
    allowed: tuple[str, ...],
    missing_ok: bool = True,
) -> None:
    """Raise naming the column, the unexpected values and their rows."""
    unexpected = [i for i, value in enumerate(coded.values) if value not in allowed]
    bad = np.isin(coded.codes, unexpected) | (not missing_ok and coded.codes < 0)
    if bad.any():
        found = [repr(coded.values[i]) for i in unexpected[:5]] or ["missing"]
        raise InputError(
            f"sites: column {column} has {int(bad.sum())} values outside "
            f"{', '.join(allowed)}: {', '.join(found)} (rows {_rows(pd.Series(bad, index=frame.index))})"
        )


def _rows(mask: pd.Series) -> str:
    """The first few index labels where `mask` holds, for an error message."""
    labels = [str(label) for label in mask[mask].index[:5]]
    return ", ".join(labels) + (", …" if int(mask.sum()) > 5 else "")


def _drawing_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Positions of the sites with coordinates, in latitude bands, west to east in each.

    Neighbours sit together, and bands as tall as the typical gap between sites
    keep both coordinate deltas short.
    """
    located = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
    if len(located) == 0:
        return located
    lat, lon = lat[located], lon[located]
    area = max(np.ptp(lat), 1e-3) * max(np.ptp(lon), 1e-3)
    height = max(math.sqrt(area / len(located)), 1e-4)
    return located[np.lexsort((lon, np.floor(lat / height)))]


def _assemble(frame: pd.DataFrame, coded: dict[str, _Coded], order: np.ndarray) -> dict:
    """The payload dict: packed integer columns, escaped string tables, decoding keys."""
    digits, strings = _code_digits(frame, coded, order)
    capacity = _numbers(frame, "capacity")[order]
    capacity_scale = 1 if np.all(np.isnan(capacity) | (capacity == np.round(capacity))) else 10
    border = _numbers(frame, "border_distance_m")[order]
    columns = {
        "lat": pack_varints(
            zigzag_encode(np.diff(scale_degrees(frame["lat"].to_numpy()[order]), prepend=0))
        ),
        "lon": pack_varints(
            zigzag_encode(np.diff(scale_degrees(frame["lon"].to_numpy()[order]), prepend=0))
        ),
        "code": pack_varints(combine_digits(digits)),
        "capacity": pack_varints(encode_optional(capacity, capacity_scale)),
        "border": pack_varints(encode_optional(border, 1 / BORDER_UNIT_M)),
    }
    for key, col in _TABLES.items():
        index, strings[key] = _table(*_ordered(coded.get(col), order))
        if index.any():  # an absent column decodes as all missing
            columns[key] = pack_varints(index)
    strings["name"], name_index = _names(*_ordered(coded["site_name"], order))
    if name_index is not None:
        columns["name"] = pack_varints(name_index)
    return {
        "version": PAYLOAD_VERSION,
        "count": len(order),
        "unmapped": len(frame) - len(order),
        "sectors": list(SECTORS),
        "statuses": list(PLANNING_STATUSES),
        "outside": list(OUTSIDE_STATUSES),
        "assignments": list(ASSIGNMENTS),
        "agreement": list(AGREEMENT),
        "code_digits": [[name, radix] for name, (_, radix) in digits.items()],
        "coord_scale": COORD_SCALE,
        "capacity_scale": capacity_scale,
        "border_unit_m": BORDER_UNIT_M,
        "strings": strings,
        "columns": columns,
    }


def _code_digits(
    frame: pd.DataFrame, coded: dict[str, _Coded], order: np.ndarray
) -> tuple[dict[str, tuple[np.ndarray, int]], dict[str, str]]:
    """Each categorical field as (values, radix), least significant first, and their tables."""
    status = _positions(coded.get("planning_status"), PLANNING_STATUSES, order)
    status[status < 0] = PLANNING_STATUSES.index(UNKNOWN_STATUS)
    assignment = _positions(coded.get("assignment"), ASSIGNMENTS, order) + 1  # 0: not assigned
    icb_codes, icb_values = _ordered(coded.get("icb_code"), order)
    icb_index, icb_table = _table(icb_codes, icb_values)
    official_index, official_table = _table(*_differing_official(coded, icb_codes, order))
    digits = {
        "agrees": (_agreement(frame, order), len(AGREEMENT)),
        "assignment": (assignment, len(ASSIGNMENTS) + 1),
        "status": (status, len(PLANNING_STATUSES)),
        "sector": (_positions(coded["sector"], SECTORS, order), len(SECTORS)),
        "icb": (icb_index, int(icb_index.max(initial=0)) + 1),
        "official": (official_index, int(official_index.max(initial=0)) + 1),
    }
    names = _icb_names(icb_codes, *_ordered(coded.get("icb_name"), order))
    return digits, {"icb_code": icb_table, "icb_name": names, "official": official_table}


def _ordered(coded: _Coded | None, order: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A coded column's codes in drawing order, and its values; all missing when absent."""
    if coded is None:
        return np.full(len(order), -1, dtype=np.int64), []
    return coded.codes[order], coded.values


def _positions(coded: _Coded | None, allowed: tuple[str, ...], order: np.ndarray) -> np.ndarray:
    """Each drawn site's value as its position in `allowed`; -1 for missing."""
    codes, values = _ordered(coded, order)
    lookup = np.array([allowed.index(v) if v in allowed else -1 for v in values] + [-1])
    return lookup[codes].astype(np.int64)


def _agreement(frame: pd.DataFrame, order: np.ndarray) -> np.ndarray:
    """Position in AGREEMENT: 0 not given, 1 the official ICB differs, 2 it agrees."""
    if "official_icb_agrees" not in frame.columns:
        return np.zeros(len(order), dtype=np.int64)
    values = frame["official_icb_agrees"]
    known = values.notna().to_numpy()[order]
    agree = values.astype(object).fillna(False).astype(bool).to_numpy()[order]
    return np.where(known, np.where(agree, 2, 1), 0).astype(np.int64)


def _differing_official(
    coded: dict[str, _Coded], icb_codes: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Official ICB codes in drawing order, kept only where they differ from the map's ICB."""
    official, values = _ordered(coded.get("official_icb_code"), order)
    icb_values = coded["icb_code"].values if "icb_code" in coded else []
    as_icb = {value: i for i, value in enumerate(icb_values)}
    same = np.array([as_icb.get(value, -2) for value in values] + [-3])[official] == icb_codes
    return np.where(same, -1, official), values


def _table(codes: np.ndarray, values: list[str]) -> tuple[np.ndarray, str]:
    """Index (1-based; 0 = missing) into the joined, escaped table of the values in use."""
    present = codes >= 0
    used = np.unique(codes[present])
    index = np.zeros(len(codes), dtype=np.int64)
    index[present] = np.searchsorted(used, codes[present]) + 1
    return index, SEPARATOR.join(_escape_all([values[i] for i in used]))


def _icb_names(icb_codes: np.ndarray, name_codes: np.ndarray, names: list[str]) -> str:
    """The escaped name of each ICB in the code table (its first site's), joined likewise."""
    used, first = np.unique(icb_codes, return_index=True)
    picked = name_codes[first[used >= 0]]
    return SEPARATOR.join(_escape_all([names[i] if i >= 0 else "" for i in picked]))


def _names(codes: np.ndarray, values: list[str]) -> tuple[str, np.ndarray | None]:
    """Site names in drawing order, or as a table plus index where repeats make that smaller."""
    index, joined = _table(codes, values)
    table = joined.split(SEPARATOR) if joined else []
    lengths = np.array([len(name) + 1 for name in table] + [1])
    in_order = int(lengths[index - 1].sum())
    as_table = int(lengths[:-1].sum()) + 4 * len(codes)  # about 3 varint bytes, base64
    if as_table < in_order:
        return joined, index
    padded = np.array([*table, ""], dtype=object)
    return SEPARATOR.join(padded[index - 1].tolist()), None


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A numeric column as floats, NaN for missing (all NaN when absent)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    numbers = pd.to_numeric(frame[col], errors="coerce")
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def escape_html(text: str) -> str:
    """User text as HTML: html.escape, and braces as entities so no template ever reads them."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def _escape_all(values: list) -> list[str]:
    """Each value through `escape_html`, in one pass over the joined text when possible."""
    texts = [str(v) for v in values]
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):  # a value holds NUL: escape one by one
        return [escape_html(text) for text in texts]
    return escape_html(joined).split("\x00") if texts else []


def _entry(table: list[str], index: int) -> str | None:
    """Entry `index` of a 1-based table, None for 0."""
    return table[index - 1] if index > 0 else None
