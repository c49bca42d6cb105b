"""Postcodes and grid references to latitude/longitude: offline from ONSPD/NSPL, online via postcodes.io.

`geocode_sites` places a provider list: offline first, then (when allowed) online through
`geo.geocode.postcodes_io` for what the file did not hold. The statuses both report are
the vocabulary of `geo.model.postcodes`.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from geo.geocode.postcodes_io import geocode_online
from geo.io import tables
from geo.model import settings
from geo.model.errors import InputError
from geo.model.numbers import Plausible, read_numbers
from geo.model.postcodes import (
    FOUND,
    GEOCODE_COLUMNS,
    GIVEN,
    INVALID,
    NO_GRID,
    NO_POSTCODE,
    NOT_FOUND,
    NOT_GEOCODED,
    TERMINATED_PREFIX,
    geocode_frame,
    is_postcode,
    normalise_postcodes,
)
from geo.model.progress import Progress

# Public here, with the postcode vocabulary of geo.model.postcodes and the online client of

INDEX_COLUMNS: tuple[str, ...] = (
    "postcode",
    "lat",
    "lon",
    "terminated",
    "terminated_date",
    "country_code",
    "icb_code",
    "sicbl_code",
)


# ONSPD/NSPL header names drift by year (pcd -> pcd7, ctry -> ctry25cd, icb -> icb26cd):
# each wanted field is matched ignoring a two-digit year and 'cd' suffix. Most preferred first.
_HEADER_PATTERNS: dict[str, tuple[str, ...]] = {
    "postcode": (r"pcds", r"pcd7?", r"pcd[28]"),
    "lat": (r"lat",),
    "long": (r"long",),
    "doterm": (r"doterm",),
    "country": (r"ctry(\d\dcd)?",),
    "icb": (r"icb(\d\dcd)?",),
    "sicbl": (r"sicbl(\d\dcd)?", r"ccg(\d\dcd)?"),
    "east": (r"(os)?east1m",),
    "north": (r"(osnrth|north)1m",),
}
# Arrow reads ahead a few blocks: 2 MB blocks keep a 1.6 GB file's read under ~250 MB of
# memory at the speed of larger blocks (measured: 16 MB blocks peaked near 1 GB).
_BLOCK_BYTES = 2 << 20
_HEADER_BYTES = 1 << 20  # an ONSPD/NSPL header is about 1 KB
_FILTER_ROWS = 250_000
# Where ONSPD's coordinates can be: anything else (inf, 1e999, and the 99.999999 latitude
# ONSPD gives postcodes without a grid reference) is no coordinate.
_LATITUDE, _LONGITUDE = Plausible(-90, 90), Plausible(-180, 180)
_PSEUDO_CODE = re.compile(r"^[A-Z]99999999$")  # 'not applicable' codes such as E99999999
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS = {name[:3].casefold(): name for name in _MONTH_NAMES}


# --- offline: ONSPD / NSPL ------------------------------------------------------------


def load_postcode_index(
    path: str | Path,
    *,
    postcodes: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Stream an ONSPD/NSPL CSV (or the zip ONS ships it in) into a postcode index, so
    postcodes can be geocoded offline from a file of over 1 GB without holding it.

    Only the needed columns are read, found by name whatever the edition's year suffix;
    given `postcodes`, only those rows are kept. Columns: INDEX_COLUMNS (postcode in
    `pcds` form; lat/lon NA where ONSPD has no grid reference). `attrs['source']` names
    the file. `progress(bytes read, total bytes)` is called as the file is read.
    """
    path = Path(path)
    with _open_csv_member(path) as (stream, _size):
        header = _read_header(stream, path)
    fields = _match_header(header, path)
    wanted = None if postcodes is None else _compact_keys(postcodes)
    with _open_csv_member(path, for_arrow=True) as (stream, size):
        raw = _read_index_rows(path.name, stream, size, fields, wanted, progress)
    index = _assemble_index(raw, fields)
    index.attrs["source"] = f"ONSPD {path.name}"
    return index


def geocode_offline(postcodes: pd.Series, index: pd.DataFrame) -> pd.DataFrame:
    """Look postcodes up in a postcode index (`load_postcode_index`): GEOCODE_COLUMNS
    aligned to `postcodes`, with a status per row saying what was found and why not."""
    _check_index(index)
    normalised = normalise_postcodes(postcodes)
    valid = is_postcode(normalised)
    table = index.drop_duplicates("postcode")
    at = pd.Index(table["postcode"].astype("string")).get_indexer(normalised.where(valid))
    hit = at >= 0
    take = np.where(hit, at, 0)
    lat = _taken(table["lat"], take, hit)
    lon = _taken(table["lon"], take, hit)
    terminated = np.where(hit, table["terminated"].to_numpy(dtype=bool)[take], False)
    dates = table["terminated_date"].astype("string").fillna("").to_numpy(dtype=object)[take]
    status = np.select(
        [normalised.isna(), ~valid, ~hit, np.isnan(lat), terminated],
        [NO_POSTCODE, INVALID, NOT_FOUND, NO_GRID, _terminated_status(dates)],
        default=FOUND,
    )
    return geocode_frame(postcodes.index, lat, lon, status, index.attrs.get("source", "ONSPD"))


def source_label(source: object) -> str:
    """A geocode source in words for messages: 'ONSPD ONSPD_MAY_2026_UK.zip' -> 'ONSPD May 2026'."""
    text = "" if source is None or source is pd.NA else str(source)
    if not text.startswith("ONSPD "):
        return text or "the postcode lookup"
    name = text.removeprefix("ONSPD ")
    product = "NSPL" if name.casefold().startswith("nspl") else "ONSPD"
    month = re.search(r"(?i)(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", name)
    year = re.search(r"(?<!\d)(20\d\d)(?!\d)", name)
    if month is None or year is None:
        return text
    return f"{product} {_MONTHS[month.group(1).casefold()]} {year.group(1)}"


def postcode_file_from_settings() -> Path | None:
    """The ONSPD/NSPL file named by setting ICS_ONSPD_PATH, or None when it is not set."""
    value = settings.get_setting("onspd_path").strip()
    return Path(value) if value else None


def _open_csv_member(path: Path, *, for_arrow: bool = False) -> _CsvSource:
    """A context manager giving (binary stream, its size in bytes) of the CSV in `path`;
    `for_arrow` opens a plain file as an Arrow file, read without Python in the loop."""
    return _CsvSource(path, for_arrow)


class _CsvSource:
    """The CSV itself, or the biggest .csv inside a zip (ONSPD ships Data/ONSPD_*.csv)."""

    def __init__(self, path: Path, for_arrow: bool) -> None:
        self.path = path
        self.for_arrow = for_arrow
        self._archive: zipfile.ZipFile | None = None
        self._stream: BinaryIO | None = None

    def __enter__(self) -> tuple[BinaryIO, int]:
        path = self.path
        if not path.is_file():
            raise InputError(f"postcode file {path.name}: file not found at {path}")
        if not zipfile.is_zipfile(path):
            self._stream = _arrow_file(path) if self.for_arrow else open(path, "rb")
            return self._stream, path.stat().st_size
        self._archive = zipfile.ZipFile(path)
        members = [m for m in self._archive.infolist() if m.filename.casefold().endswith(".csv")]
        if not members:
            self._archive.close()
            raise InputError(f"postcode file {path.name}: the zip holds no .csv file")
        biggest = max(members, key=lambda member: member.file_size)
        self._stream = self._archive.open(biggest)
        if self.for_arrow:
            self._stream = _CountingReader(self._stream)
        return self._stream, biggest.file_size

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._archive is not None:
            self._archive.close()


def _arrow_file(path: Path):
    import pyarrow as pa

    return pa.OSFile(str(path), "r")


def _read_header(stream: BinaryIO, path: Path) -> list[str]:
    """The CSV header, read whole up to _HEADER_BYTES: a longer first line is no ONSPD header."""
    line = stream.readline(_HEADER_BYTES + 1)
    if len(line) > _HEADER_BYTES:
        raise InputError(
            f"postcode file {path.name}: the first line is longer than 1 MB, so it is not the "
            "header of an ONSPD or NSPL file (a line of about 40 names: pcds, …, lat, long); "
            "check that this is the ONSPD or NSPL CSV"
        )
    text = tables.decode_text(line, f"postcode file {path.name}").text
    header = next(csv.reader([text]), [])
    if not any(name.strip() for name in header):
        raise InputError(f"postcode file {path.name}: the first line is not a CSV header")
    return header


def _match_header(header: list[str], path: Path) -> dict[str, str]:
    """Wanted field -> the file's column name, ignoring case and year suffixes."""
    keys = {name.strip().casefold(): name for name in header}
    fields: dict[str, str] = {}
    for field, patterns in _HEADER_PATTERNS.items():
        for pattern in patterns:
            hits = sorted((k for k in keys if re.fullmatch(pattern, k)), key=_year_of, reverse=True)
            if hits:
                fields[field] = keys[hits[0]]
                break
    located = {"lat", "long"} <= fields.keys() or {"east", "north"} <= fields.keys()
    if "postcode" not in fields or not located:
        shown = ", ".join(header[:20]) + (
            f" and {len(header) - 20} more" if len(header) > 20 else ""
        )
        raise InputError(
            f"postcode file {path.name}: expected ONSPD/NSPL columns pcds (or pcd/pcd7) and "
            f"lat, long (or oseast1m, osnrth1m); found {shown}"
        )
    return fields


def _year_of(name: str) -> int:
    digits = re.search(r"(\d\d)cd$", name)
    return int(digits.group(1)) if digits else -1


def _compact_keys(postcodes: Iterable[object]) -> list[str]:
    """The wanted postcodes without spaces, upper-cased, distinct: what rows are matched on."""
    values = postcodes if isinstance(postcodes, pd.Series) else pd.Series(list(postcodes))
    compact = values.astype("string").str.replace(r"\s+", "", regex=True).str.upper()
    return sorted(set(compact.dropna().unique()) - {""})


def _read_index_rows(
    name: str,
    stream: BinaryIO,
    size: int,
    fields: dict[str, str],
    wanted: list[str] | None,
    progress: Progress | None,
) -> pd.DataFrame:
    """The wanted columns of the wanted rows, streamed in blocks with pyarrow's CSV reader."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = list(dict.fromkeys(fields.values()))
    keep = _postcode_filter(fields["postcode"], wanted)
    kept, pending = [], []
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
            ),
        )
        for batch in reader:
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= _FILTER_ROWS:
                kept.append(keep(pa.Table.from_batches(pending)))
                pending = []
            if progress is not None:
                progress(min(_position(stream), size), size)
    except pa.ArrowException as error:  # rows of the wrong width, undecodable bytes
        raise InputError(f"postcode file {name}: {_arrow_problem(error)}") from None
    kept.append(keep(pa.Table.from_batches(pending, schema=reader.schema)))
    table = pa.concat_tables(kept)
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


def _arrow_problem(error: Exception) -> str:
    """What Arrow's CSV reader could not read, in words a person can act on."""
    if "straddling" in str(error) or "block size" in str(error):
        return (
            f"has a line longer than the {_BLOCK_BYTES // (1 << 20)} MB read at a time, which "
            "no ONSPD or NSPL line is (they are about 1 KB); check that this is the ONSPD or "
            "NSPL CSV and that it is not damaged"
        )
    return f"not a readable CSV ({str(error).splitlines()[0]})"


def _postcode_filter(column: str, wanted: list[str] | None) -> Callable:
    """A function keeping a table's rows whose postcode (spaces and case ignored) is wanted.

    Arrow builds its hash set of the wanted postcodes on every call, so rows are filtered
    in runs of _FILTER_ROWS rather than per block (per block: 12 s for 100k postcodes).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if wanted is None:
        return lambda table: table
    keys = pa.array(wanted, type=pa.string())

    def keep(table):
        compact = pc.utf8_upper(pc.replace_substring(table.column(column), " ", ""))
        return table.filter(pc.is_in(compact, value_set=keys))

    return keep


def _position(stream) -> int:
    """How far into the CSV the reader is (read-ahead included), for progress."""
    return stream.count if isinstance(stream, _CountingReader) else stream.tell()


class _CountingReader:
    """A read-only file wrapper that counts the bytes read, for progress."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def close(self) -> None:
        self._stream.close()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


def _assemble_index(raw: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """Raw ONSPD text columns -> INDEX_COLUMNS, one row per postcode, live ones preferred."""
    postcode = normalise_postcodes(raw[fields["postcode"]])
    if "lat" in fields:
        lat = read_numbers(raw[fields["lat"]], _LATITUDE).numbers
        lon = read_numbers(raw[fields["long"]], _LONGITUDE).numbers
        placed = (lat.notna() & lon.notna()).to_numpy(dtype=bool)
        lat, lon = lat.where(placed), lon.where(placed)
    else:
        lat, lon = bng_to_latlon(raw[fields["east"]], raw[fields["north"]])
    terminated_date = _text(raw, fields.get("doterm"))
    index = pd.DataFrame(
        {
            "postcode": postcode,
            "lat": pd.array(lat, dtype="Float64"),
            "lon": pd.array(lon, dtype="Float64"),
            "terminated": terminated_date.notna().to_numpy(),
            "terminated_date": terminated_date,
            "country_code": _code(raw, fields.get("country")),
            "icb_code": _code(raw, fields.get("icb")),
            "sicbl_code": _code(raw, fields.get("sicbl")),
        }
    )
    index = index[index["postcode"].notna()].sort_values("terminated", kind="stable")
    return index.drop_duplicates("postcode").reset_index(drop=True)


def _blank_to_na(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _text(raw: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    return _blank_to_na(raw[column])


def _code(raw: pd.DataFrame, column: str | None) -> pd.Series:
    codes = _text(raw, column).str.upper()
    return codes.mask(codes.str.fullmatch(_PSEUDO_CODE.pattern).fillna(False).astype(bool))


def _check_index(index: pd.DataFrame) -> None:
    missing = [
        c for c in ("postcode", "lat", "lon", "terminated", "terminated_date") if c not in index
    ]
    if missing:
        raise InputError(
            f"postcode index: missing column(s) {', '.join(missing)}; load it with load_postcode_index"
        )


def _taken(values: pd.Series, take: np.ndarray, hit: np.ndarray) -> np.ndarray:
    numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.where(hit, numbers[take] if len(numbers) else np.nan, np.nan)


def _terminated_status(dates: np.ndarray) -> np.ndarray:
    return np.array(
        [f"{TERMINATED_PREFIX} {d})" if d else f"{TERMINATED_PREFIX})" for d in dates], dtype=object
    )


# --- British National Grid ------------------------------------------------------------


def bng_to_latlon(easting: Any, northing: Any) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (WGS84) for British National Grid eastings/northings, for
    lists that give grid references instead of coordinates; NaN in, NaN out."""
    east = _finite_array(easting)
    north = _finite_array(northing)
    if east.shape != north.shape:
        raise InputError(
            f"grid references: {east.size} eastings but {north.size} northings; expected pairs"
        )
    lon, lat = _bng_transformer().transform(east, north)
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    unusable = ~np.isfinite(east) | ~np.isfinite(north) | ~np.isfinite(lat) | ~np.isfinite(lon)
    lat[unusable] = np.nan
    lon[unusable] = np.nan
    return lat, lon


def _finite_array(values: Any) -> np.ndarray:
    """Numbers as a float array, NaN where a value is no finite number."""
    read = read_numbers(pd.Series(np.ravel(np.asarray(values, dtype=object)), dtype=object))
    return read.numbers.to_numpy(dtype=float, na_value=np.nan)


@cache
def _bng_transformer():
    from pyproj import Transformer

    return Transformer.from_crs(27700, 4326, always_xy=True)


# --- sites ----------------------------------------------------------------------------


def geocode_sites(
    sites: pd.DataFrame,
    *,
    index: pd.DataFrame | str | Path | None = None,
    online: bool = False,
    progress: Progress | None = None,
    **online_options: Any,
) -> pd.DataFrame:
    """Fill missing lat/lon from postcodes, so sites without coordinates can be mapped;
    coordinates the list gives are never changed.

    `index` is a postcode index or an ONSPD/NSPL file (read for just these postcodes);
    with `online`, postcodes it does not place are asked of postcodes.io
    (`online_options` go to `geocode_online`). Adds `geocode_status` ('coordinates
    given', 'found', 'not found', 'no postcode', …) and `geocode_source`.
    """
    _check_site_columns(sites)
    lat, lon = _numbers(sites["lat"]), _numbers(sites["lon"])
    postcodes = _site_postcodes(sites)
    given = lat.notna() & lon.notna()
    needed = postcodes[~given & postcodes.notna()]
    found = _geocode_needed(needed, index, online, progress, online_options)
    return _with_geocodes(sites, lat, lon, given, found)


def _check_site_columns(sites: pd.DataFrame) -> None:
    missing = [column for column in ("lat", "lon") if column not in sites]
    if missing:
        raise InputError(
            f"provider sites: no column(s) {', '.join(missing)}; expected the canonical provider table"
        )


def _numbers(values: pd.Series) -> pd.Series:
    """A coordinate column as Float64 by position (what is no finite number is NA)."""
    return read_numbers(values.reset_index(drop=True)).numbers


def _site_postcodes(sites: pd.DataFrame) -> pd.Series:
    if "postcode" not in sites:
        return pd.Series(pd.NA, index=pd.RangeIndex(len(sites)), dtype="string")
    return normalise_postcodes(sites["postcode"].reset_index(drop=True))


def _geocode_needed(
    postcodes: pd.Series, index, online: bool, progress: Progress | None, options: dict
) -> pd.DataFrame:
    """Geocodes for the rows that need them: offline first, then online for the rest."""

    if postcodes.empty:
        return pd.DataFrame(columns=list(GEOCODE_COLUMNS), index=postcodes.index)
    if index is None and not online:
        status = np.full(len(postcodes), NOT_GEOCODED, dtype=object)
        return geocode_frame(postcodes.index, _nans(postcodes), _nans(postcodes), status, None)
    if isinstance(index, str | Path):
        index = load_postcode_index(index, postcodes=postcodes, progress=progress)
    found = geocode_offline(postcodes, index) if index is not None else None
    if not online:
        return found
    if found is None:
        return geocode_online(postcodes, progress=progress, **options)
    retry = found["geocode_status"].isin([NOT_FOUND, NO_GRID]).to_numpy(dtype=bool)
    asked = geocode_online(postcodes[retry], progress=progress, **options)
    placed = asked["lat"].notna().to_numpy(dtype=bool)  # else the file's answer stands
    found.loc[asked.index[placed]] = asked[placed]
    return found


def _nans(values: pd.Series) -> np.ndarray:
    return np.full(len(values), np.nan)


def _with_geocodes(
    sites: pd.DataFrame, lat: pd.Series, lon: pd.Series, given: pd.Series, found: pd.DataFrame
) -> pd.DataFrame:
    """The sites with lat/lon filled where geocoded and a status and source per row."""
    status = pd.Series(NO_POSTCODE, index=lat.index, dtype="string").mask(given, GIVEN)
    source = pd.Series(pd.NA, index=lat.index, dtype="string")
    lat, lon = lat.copy(), lon.copy()
    if not found.empty:
        lat[found.index] = found["lat"].astype("Float64")
        lon[found.index] = found["lon"].astype("Float64")
        status[found.index] = found["geocode_status"].astype("string")
        source[found.index] = found["geocode_source"].astype("string")
    result = sites.copy()
    if not given.all():
        result["lat"] = lat.array
        result["lon"] = lon.array
    result["geocode_status"] = status.array
    result["geocode_source"] = source.array
    return result
