"""Column-mapping suggestions for a provider list in no known format: by name, then by content.

An analyst's own spreadsheet names its columns as it likes. Each canonical column
(`site_name`, `postcode`, `lat`, …) is suggested from a column whose name is a known
alias, else from one whose values look the part (mostly UK postcodes, E54 ICB codes,
numbers in England's latitude range); every suggestion carries a reason for the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import pandas as pd

from geo.io import recognise, tables
from geo.model import postcodes
from geo.model.errors import InputError
from geo.model.text import name_key
from geo.model.vocabulary import (
    ENGLAND_GRID,
    ENGLAND_LAT,
    ENGLAND_LON,
    ICB_CODE_COLUMN,
    is_icb_code,
)

# The columns a mapping can name: the canonical provider columns a list may carry,
# plus British National Grid coordinates, which `geo.publish.publishing` turns into lat/lon.
FIELDS: tuple[str, ...] = (
    "site_name",
    "site_id",
    "provider_id",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "planning_status",
    "postcode",
    "lat",
    "lon",
    "easting",
    "northing",
    "official_icb_code",
)
GRID_FIELDS: tuple[str, ...] = ("easting", "northing")

# Names people give each column, compared with case, spaces and punctuation ignored.
_ALIASES: dict[str, tuple[str, ...]] = {
    "site_name": (
        "site_name",
        "name",
        "site",
        "location_name",
        "hospital_name",
        "organisation_name",
    ),
    "site_id": (
        "site_id",
        "id",
        "location_id",
        "site_code",
        "org_code",
        "organisation_code",
        "code",
    ),
    "provider_id": ("provider_id", "trust_id", "provider_code", "trust_code", "parent_code"),
    "provider_name": ("provider_name", "provider", "trust_name", "trust", "operator", "owner"),
    "sector": ("sector", "ownership", "ownership_type", "provider_sector", "provider_type"),
    "service_type": ("service_type", "type", "service", "site_type", "category"),
    "capacity": ("capacity", "beds", "bed_count", "number_of_beds", "places", "care_home_beds"),
    "planning_status": ("planning_status", "engaged", "engagement", "planning", "ics_engaged"),
    "postcode": ("postcode", "post_code", "postal_code", "pcds", "pcd", "zip"),
    "lat": ("lat", "latitude", "y", "lat_wgs84"),
    "lon": ("lon", "long", "lng", "longitude", "x", "lon_wgs84"),
    "easting": ("easting", "eastings", "oseast1m", "east1m", "grid_easting", "x_coordinate"),
    "northing": ("northing", "northings", "osnrth1m", "north1m", "grid_northing", "y_coordinate"),
    "official_icb_code": ("official_icb_code", "icb_code", "icb", "icb_cd", "icb_gss_code"),
}
_CAPACITY_NAME = re.compile(r"bed|place|capacity|room")
_EAST_NAME = re.compile(r"east|^x")
_NORTH_NAME = re.compile(r"north|^y")
_SAMPLE = 2000  # values looked at per column when judging by content
_SHARE = 0.8  # the share of a column's values that must look the part

CAPACITY_RANGE = (0, 500)
_GRID_TEXT = f"{ENGLAND_GRID[0]:,.0f}–{ENGLAND_GRID[1]:,.0f}"


def suggest_columns(raw: pd.DataFrame) -> dict[str, str]:
    """Canonical name -> the raw column suggested for it, so a generic file needs few choices."""
    return {name: column for name, (column, _) in _suggestions(raw).items()}


def explain_suggestions(raw: pd.DataFrame) -> dict[str, str]:
    """Canonical name -> why its column was suggested ('postcode: 97% of values look like postcodes')."""
    return {name: reason for name, (_, reason) in _suggestions(raw).items()}


def preview(
    path: str | Path, sniffed: recognise.Format | None = None, rows: int = 20
) -> pd.DataFrame:
    """The first `rows` rows of any supported file as text, under the header the reader uses,
    so an analyst can see what each column holds before mapping it.

    `sniffed` is what `recognise.sniff` said of the file (None: it is sniffed here).
    """
    path = Path(path)
    sniffed = sniffed or recognise.sniff(path)
    if sniffed.container == "geo":
        return _geo_preview(path, rows)
    if sniffed.holds == "nhs_ods":  # headerless: name its 27 fields
        frame = tables.read_csv_text(path, header=None, nrows=rows).frame
        names = [*recognise.NHS_ODS_COLUMNS, *(f"Column {n}" for n in range(28, 100))]
        return frame.set_axis(names[: frame.shape[1]], axis=1)
    at = sniffed.header_row or 0
    if sniffed.container == "csv":
        return tables.read_csv_text(path, skiprows=at, nrows=rows).frame
    first_rows = islice(tables.sheet_rows(path, sniffed.container, sniffed.sheet), at + 1 + rows)
    return tables.frame_from_rows(path, first_rows, lambda _preview: sniffed.header_row).frame


# --- suggestions ------------------------------------------------------------------------


def _suggestions(raw: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Name matches first; content judges the fields no name gave, from the columns left."""
    found = _by_name(raw)
    for name in ("lat", "lon"):  # 'x'/'y' holding grid metres are eastings/northings
        if name in found and _grid_share(_sample(raw[found[name][0]])) >= _SHARE:
            del found[name]
    used = {column for column, _ in found.values()}
    for name, column, reason in _by_content(raw, found, used):
        found.setdefault(name, (column, reason))
        used.add(column)
    if "lat" in found and "lon" in found:  # coordinates given: grid references are not needed
        for name in GRID_FIELDS:
            found.pop(name, None)
    return {name: found[name] for name in FIELDS if name in found}


def _by_name(raw: pd.DataFrame) -> dict[str, tuple[str, str]]:
    keys: dict[str, str] = {}
    for column in raw.columns:
        keys.setdefault(name_key(column), str(column))
    found: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    for name in FIELDS:
        for alias in _ALIASES[name]:
            column = keys.get(name_key(alias))
            if column is not None and column not in taken:
                found[name] = (column, f'{name}: column named "{column}"')
                taken.add(column)
                break
    if "official_icb_code" not in found:
        ons = next((str(c) for c in raw.columns if ICB_CODE_COLUMN.fullmatch(str(c))), None)
        if ons is not None and ons not in taken:
            found["official_icb_code"] = (ons, f'official_icb_code: ONS ICB code column "{ons}"')
    return found


def _by_content(raw: pd.DataFrame, found: dict, used: set[str]):
    """(field, column, reason) for fields the names left open, judged from sampled values."""
    free = [str(c) for c in raw.columns if str(c) not in used]
    samples = {column: _sample(raw[column]) for column in free}
    for name, test in _CONTENT_TESTS:
        if name in found:
            continue
        for column in free:
            if column in used or samples[column].empty:
                continue
            share = test(samples[column], column)
            if share >= _SHARE:
                used.add(column)
                yield name, column, f"{name}: {share:.0%} of values {_WHAT[name]}"
                break
    yield from _grid_by_content(samples, found, used)


def _grid_by_content(samples: dict[str, pd.Series], found: dict, used: set[str]):
    """Eastings and northings: two columns of 6-digit grid metres, told apart by name, else order."""
    if "easting" in found and "northing" in found:
        return
    grid = [
        column
        for column, values in samples.items()
        if column not in used and not values.empty and _grid_share(values) >= _SHARE
    ]
    if len(grid) < 2:
        return
    east = next((c for c in grid if _EAST_NAME.search(name_key(c))), grid[0])
    north = next((c for c in grid if c != east and _NORTH_NAME.search(name_key(c))), None)
    north = north or next(c for c in grid if c != east)
    for name, column in (("easting", east), ("northing", north)):
        if name not in found:
            used.add(column)
            share = _grid_share(samples[column])
            yield name, column, f"{name}: {share:.0%} of values are grid metres ({_GRID_TEXT})"


def _sample(values: pd.Series) -> pd.Series:
    text = values.head(_SAMPLE * 2).astype("string").str.strip()
    return text[text.notna() & (text != "")].head(_SAMPLE)


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _postcode_share(values: pd.Series, column: str) -> float:
    return float(postcodes.is_postcode(values).mean())


def _icb_share(values: pd.Series, column: str) -> float:
    return float(is_icb_code(values.str.upper()).mean())


def _within_share(values: pd.Series, bounds: tuple[float, float], *, fractional: bool) -> float:
    number = _numbers(values)
    inside = number.between(*bounds)
    if fractional:  # coordinates have decimals; a column of whole numbers is something else
        whole = (number == number.round()).fillna(False)
        if whole.mean() > 0.5:
            return 0.0
    return float(inside.fillna(False).mean())


def _lat_share(values: pd.Series, column: str) -> float:
    return _within_share(values, ENGLAND_LAT, fractional=True)


def _lon_share(values: pd.Series, column: str) -> float:
    return _within_share(values, ENGLAND_LON, fractional=True)


def _grid_share(values: pd.Series) -> float:
    number = _numbers(values)
    digits = values.str.replace(r"\.0+$", "", regex=True).str.fullmatch(r"\d{5,6}")
    inside = number.between(*ENGLAND_GRID) & digits.fillna(False)
    return float(inside.fillna(False).mean())


def _capacity_share(values: pd.Series, column: str) -> float:
    if not _CAPACITY_NAME.search(str(column).casefold()):
        return 0.0
    number = _numbers(values)
    whole = number.between(*CAPACITY_RANGE) & (number == number.round())
    return float(whole.fillna(False).mean())


_CONTENT_TESTS: tuple[tuple[str, Callable[[pd.Series, str], float]], ...] = (
    ("postcode", _postcode_share),
    ("official_icb_code", _icb_share),
    ("lat", _lat_share),
    ("lon", _lon_share),
    ("capacity", _capacity_share),
)
_WHAT = {
    "postcode": "look like postcodes",
    "official_icb_code": "are ICB codes (E54…)",
    "lat": f"are latitudes in England's range ({ENGLAND_LAT[0]} to {ENGLAND_LAT[1]})",
    "lon": f"are longitudes in England's range ({ENGLAND_LON[0]} to {ENGLAND_LON[1]})",
    "capacity": "are whole numbers of beds or places (0–500)",
}


# --- previews ---------------------------------------------------------------------------


def _geo_preview(path: Path, rows: int) -> pd.DataFrame:
    import geopandas

    try:
        frame = geopandas.read_file(path, rows=rows)
    except Exception as error:  # pyogrio raises several types for unreadable files
        raise InputError(f"file {path.name}: not a readable geo file ({error})") from None
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype("string")
    table["geometry"] = frame.geometry.geom_type.astype("string")
    return table
