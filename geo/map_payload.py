"""The compact, HTML-safe payload that carries 100,000 provider sites into one map.

One folium Marker per site costs 50 s and 48 MB at 50k sites. Instead the sites go
into the page once, as columns (geo/static/ics_map.js decodes them):

- coordinates as 1e-5 degree integers, sorted into latitude bands and delta-coded;
- sector, planning status, assignment, ICB agreement, ICB and differing official
  ICB as the digits of one mixed-radix integer (`code_digits`, least significant
  first; the rarely-set digits last, so most codes stay two bytes);
- capacity, border distance and string-table indexes as plain integers;
- every integer column as LEB128 varints, base64-encoded;
- strings escaped with `html.escape` (and braces as entities, see `escape_html`)
  and joined by `'`, which escaped text never contains; names as a table plus
  index only where that is smaller.

`script_json` then makes the JSON safe inside a <script> element.
"""

from __future__ import annotations

import base64
import html
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.providers import PLANNING_STATUSES
from geo.sectors import SECTORS

PAYLOAD_VERSION = 1
COORD_SCALE = 100_000  # 1e-5 degrees, about a metre
BORDER_UNIT_M = 100  # shown in km to one decimal
ASSIGNMENTS: tuple[str, ...] = ("inside", "official", "nearest", "outside", "no coordinates")
AGREEMENT: tuple[str, ...] = ("not given", "differs", "agrees")
SEPARATOR = "'"  # html.escape turns every ' into &#x27;, so escaped text never holds one
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLES = {"provider": "provider_name", "service": "service_type", "reason": "assignment_reason"}
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
    frame = _site_frame(sites)
    _validate_sites(frame)
    located = frame["lat"].notna() & frame["lon"].notna()
    ordered = frame[located].iloc[_spatial_order(frame[located])]
    return _assemble(ordered, unmapped=int((~located).sum()))


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
    cols = {name: _unpack_varints(packed, n) for name, packed in payload["columns"].items()}
    cols |= {key: np.zeros(n, dtype=np.int64) for key in _TABLES if key not in cols}
    digits = _split_code(cols["code"], payload["code_digits"])
    strings = {key: text.split(SEPARATOR) for key, text in payload["strings"].items()}
    names = strings["name"]
    return pd.DataFrame(
        {
            "lat": np.cumsum(_unzigzag(cols["lat"])) / COORD_SCALE,
            "lon": np.cumsum(_unzigzag(cols["lon"])) / COORD_SCALE,
            "site_name": [names[i - 1] for i in cols["name"]] if "name" in cols else names[:n],
            "sector": [payload["sectors"][i] for i in digits["sector"]],
            "planning_status": [payload["statuses"][i] for i in digits["status"]],
            "assignment": [_entry(payload["assignments"], i) for i in digits["assignment"]],
            "official_icb_agrees": [AGREEMENT[i] for i in digits["agrees"]],
            "official_icb_differs": [_entry(strings["official"], i) for i in digits["official"]],
            "icb_code": [_entry(strings["icb_code"], i) for i in digits["icb"]],
            "icb_name": [_entry(strings["icb_name"], i) for i in digits["icb"]],
            "capacity": _unscale(cols["capacity"], payload["capacity_scale"]),
            "border_distance_m": _unscale(cols["border"], 1 / payload["border_unit_m"]),
        }
        | {col: [_entry(strings[key], i) for i in cols[key]] for key, col in _TABLES.items()}
    )


def _site_frame(sites: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """The columns the map uses, with float lat/lon from points in EPSG:4326 or lat/lon columns."""
    repeated = pd.unique(sites.columns[sites.columns.duplicated()].astype(str))
    if len(repeated):
        raise InputError(f"sites: column {', '.join(repeated)} appears more than once")
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


def _validate_sites(frame: pd.DataFrame) -> None:
    """Sectors, statuses, coordinates and capacity must be what the canonical table allows."""
    for col in ("site_name", "sector"):
        if col not in frame.columns:
            raise InputError(f"sites: column {col} is missing")
    _check_values(frame["sector"], "sector", SECTORS)
    if "planning_status" in frame.columns:
        statuses = frame["planning_status"].astype(object).fillna("unknown")
        _check_values(statuses, "planning_status", PLANNING_STATUSES)
    if "assignment" in frame.columns:
        _check_values(frame["assignment"].dropna(), "assignment", ASSIGNMENTS)
    off_earth = (frame["lat"].abs() > 85) | (frame["lon"].abs() > 180)
    if off_earth.any():
        raise InputError(
            f"sites: {int(off_earth.sum())} coordinates out of range (rows {_rows(off_earth)}); "
            "expected latitude within ±85 and longitude within ±180 (EPSG:4326 degrees)"
        )
    if "capacity" in frame.columns:
        negative = pd.to_numeric(frame["capacity"], errors="coerce").fillna(0) < 0
        if negative.any():
            raise InputError(
                f"sites: column capacity has {int(negative.sum())} negative values "
                f"(rows {_rows(negative)}); expected 0 or more, or blank for unknown"
            )


def _check_values(values: pd.Series, column: str, allowed: tuple[str, ...]) -> None:
    """Raise naming the column, the unexpected values and their rows."""
    bad = ~values.isin(allowed).fillna(False).astype(bool)
    if bad.any():
        found = ", ".join(repr(v) for v in pd.unique(values[bad].astype(object))[:5])
        raise InputError(
            f"sites: column {column} has {int(bad.sum())} values outside "
            f"{', '.join(allowed)}: {found} (rows {_rows(bad)})"
        )


def _rows(mask: pd.Series) -> str:
    """The first few index labels where `mask` holds, for an error message."""
    labels = [str(label) for label in mask[mask].index[:5]]
    return ", ".join(labels) + (", …" if int(mask.sum()) > 5 else "")


def _spatial_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions sorted into latitude bands, west to east in each: neighbours sit together.

    Bands as tall as the typical gap between sites keep both deltas short.
    """
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    if len(lat) == 0:
        return np.arange(0)
    area = max(np.ptp(lat), 1e-3) * max(np.ptp(lon), 1e-3)
    height = max(math.sqrt(area / len(lat)), 1e-4)
    return np.lexsort((lon, np.floor(lat / height)))


def _assemble(frame: pd.DataFrame, unmapped: int) -> dict:
    """The payload dict: packed integer columns, escaped string tables, decoding keys."""
    n = len(frame)
    digits, strings = _code_digits(frame)
    columns = {
        "lat": _pack_varints(_zigzag(np.diff(_scaled(frame["lat"]), prepend=0))),
        "lon": _pack_varints(_zigzag(np.diff(_scaled(frame["lon"]), prepend=0))),
        "code": _pack_varints(_combine(digits)),
        "capacity": _pack_varints(_na_coded(frame.get("capacity"), _capacity_scale(frame), n)),
        "border": _pack_varints(_na_coded(frame.get("border_distance_m"), 1 / BORDER_UNIT_M, n)),
    }
    for key, col in _TABLES.items():
        index, strings[key] = _string_table(frame.get(col), n)
        if index.any():  # an absent column decodes as all missing
            columns[key] = _pack_varints(index)
    strings["name"], name_index = _name_strings(frame["site_name"])
    if name_index is not None:
        columns["name"] = _pack_varints(name_index)
    return {
        "version": PAYLOAD_VERSION,
        "count": n,
        "unmapped": unmapped,
        "sectors": list(SECTORS),
        "statuses": list(PLANNING_STATUSES),
        "assignments": list(ASSIGNMENTS),
        "agreement": list(AGREEMENT),
        "code_digits": [[name, radix] for name, (_, radix) in digits.items()],
        "coord_scale": COORD_SCALE,
        "capacity_scale": _capacity_scale(frame),
        "border_unit_m": BORDER_UNIT_M,
        "strings": strings,
        "columns": columns,
    }


def _code_digits(frame: pd.DataFrame) -> tuple[dict[str, tuple[np.ndarray, int]], dict[str, str]]:
    """Each categorical field as (values, radix), least significant first, and their tables."""
    n = len(frame)
    status = _column(frame, "planning_status", n).fillna("unknown")
    icb_index, icb_codes = _string_table(frame.get("icb_code"), n)
    icb_names = _names_for(frame, icb_index)
    official_index, official = _differing_official(frame, n)
    digits = {
        "agrees": (_agreement(_column(frame, "official_icb_agrees", n)), len(AGREEMENT)),
        "assignment": (_positions(_column(frame, "assignment", n), ASSIGNMENTS) + 1, 6),
        "status": (_positions(status, PLANNING_STATUSES), len(PLANNING_STATUSES)),
        "sector": (_positions(frame["sector"], SECTORS), len(SECTORS)),
        "icb": (icb_index, int(icb_index.max(initial=0)) + 1),
        "official": (official_index, int(official_index.max(initial=0)) + 1),
    }
    return digits, {"icb_code": icb_codes, "icb_name": icb_names, "official": official}


def _combine(digits: dict[str, tuple[np.ndarray, int]]) -> np.ndarray:
    """The digits as one mixed-radix integer per site."""
    code, weight = 0, 1
    for values, radix in digits.values():
        code = code + values * weight
        weight *= radix
    return np.asarray(code, dtype=np.int64)


def _split_code(codes: np.ndarray, digit_spec: list[list]) -> dict[str, np.ndarray]:
    """The inverse of `_combine`: each named digit."""
    out = {}
    for name, radix in digit_spec:
        out[name] = codes % radix
        codes = codes // radix
    return out


def _column(frame: pd.DataFrame, col: str, n: int) -> pd.Series:
    """A column, or an all-missing one when the table does not have it."""
    return frame[col] if col in frame.columns else pd.Series([None] * n, index=frame.index)


def _positions(values: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
    """Each value's position in `allowed`; -1 for missing."""
    return pd.Categorical(values, categories=list(allowed)).codes.astype(np.int64)


def _agreement(values: pd.Series) -> np.ndarray:
    """Position in AGREEMENT: 0 not given, 1 the official ICB differs, 2 it agrees."""
    known = values.notna().to_numpy()
    agree = values.astype(object).fillna(False).astype(bool).to_numpy()
    return np.where(known, np.where(agree, 2, 1), 0).astype(np.int64)


def _differing_official(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, str]:
    """Index (1-based; 0 = same or none) of the official ICB code where it differs from the map's."""
    if "official_icb_code" not in frame.columns:
        return np.zeros(n, dtype=np.int64), ""
    official = frame["official_icb_code"].astype("string")
    mapped = _column(frame, "icb_code", n).astype("string")
    differs = official.notna() & (official != mapped).fillna(True)
    return _string_table(official.where(differs), n)


def _names_for(frame: pd.DataFrame, index: np.ndarray) -> str:
    """The escaped ICB name of each entry of the ICB code table, joined like every table."""
    if not index.any():
        return ""
    names = _column(frame, "icb_name", len(frame))
    first = pd.Series(np.arange(len(frame))).groupby(index).first()
    picked = names.iloc[first[first.index > 0].to_numpy()]
    return SEPARATOR.join(_escape_all(picked.astype(object).fillna("").tolist()))


def _string_table(values: pd.Series | None, n: int) -> tuple[np.ndarray, str]:
    """Index (1-based; 0 = missing) into the joined, escaped table of the distinct values."""
    if values is None:
        return np.zeros(n, dtype=np.int64), ""
    index, uniques = pd.factorize(values, use_na_sentinel=True)
    return index.astype(np.int64) + 1, SEPARATOR.join(_escape_all(uniques.tolist()))


def _name_strings(names: pd.Series) -> tuple[str, np.ndarray | None]:
    """Site names in order, or as a table plus index where repeats make that smaller."""
    index, uniques = pd.factorize(names, use_na_sentinel=True)
    table = _escape_all(uniques.tolist())
    lengths = np.array([len(t) + 1 for t in table] + [1])
    in_order = int(lengths[index].sum())
    as_table = int(lengths[:-1].sum()) + 4 * len(names)  # about 3 varint bytes, base64
    if as_table < in_order:
        return SEPARATOR.join(table), index.astype(np.int64) + 1
    padded = np.array([*table, ""], dtype=object)
    return SEPARATOR.join(padded[index].tolist()), None


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


def _scaled(values: pd.Series) -> np.ndarray:
    """Degrees as integer 1e-5 degree steps."""
    return np.round(values.to_numpy(dtype=float) * COORD_SCALE).astype(np.int64)


def _capacity_scale(frame: pd.DataFrame) -> int:
    """1 when every capacity is whole (beds, places), else 10 to keep one decimal."""
    if "capacity" not in frame.columns:
        return 1
    values = pd.to_numeric(frame["capacity"], errors="coerce").dropna().to_numpy(dtype=float)
    return 1 if np.all(values == np.round(values)) else 10


def _na_coded(values: pd.Series | None, scale: float, n: int) -> np.ndarray:
    """round(value × scale) + 1, with 0 for missing: non-negative integers for varints."""
    if values is None:
        return np.zeros(n, dtype=np.int64)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    coded = np.round(np.nan_to_num(numbers, nan=0.0) * scale) + 1
    return np.where(np.isnan(numbers), 0, coded).astype(np.int64)


def _unscale(coded: np.ndarray, scale: float) -> pd.Series:
    """The inverse of `_na_coded`: Float64 with NA for 0."""
    values = pd.Series((coded - 1) / scale, dtype="Float64")
    return values.mask(coded == 0)


def _zigzag(values: np.ndarray) -> np.ndarray:
    """Signed to unsigned, small magnitudes staying small: 0, -1, 1, -2 → 0, 1, 2, 3."""
    return np.where(values < 0, -2 * values - 1, 2 * values).astype(np.int64)


def _unzigzag(values: np.ndarray) -> np.ndarray:
    """The inverse of `_zigzag`."""
    return np.where(values % 2 == 1, -(values + 1) // 2, values // 2)


def _pack_varints(values: np.ndarray) -> str:
    """Non-negative integers as LEB128 varints (7 bits a byte, high bit = more), base64."""
    values = np.asarray(values, dtype=np.uint64)
    if len(values) == 0:
        return ""
    lengths = np.ones(len(values), dtype=np.int64)
    rest = values >> np.uint64(7)
    while rest.any():
        lengths += rest > 0
        rest >>= np.uint64(7)
    starts = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    for k in range(int(lengths.max())):
        has = lengths > k
        byte = (values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + k] = (byte | more).astype(np.uint8)
    return base64.b64encode(out.tobytes()).decode("ascii")


def _unpack_varints(packed: str, n: int) -> np.ndarray:
    """The inverse of `_pack_varints`."""
    data = np.frombuffer(base64.b64decode(packed), dtype=np.uint8).astype(np.int64)
    ends = np.flatnonzero(data < 0x80)
    if len(ends) != n:
        raise InputError(f"site payload: a column holds {len(ends)} values; expected {n}")
    starts = np.concatenate(([0], ends[:-1] + 1))
    out = np.zeros(n, dtype=np.int64)
    for k in range(int((ends - starts).max(initial=-1)) + 1):
        has = starts + k <= ends
        out[has] |= (data[starts[has] + k] & 0x7F) << (7 * k)
    return out
