"""Recognise a data file from its header alone: ICB boundaries, lookups, site lists, or not used."""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

import pyogrio

from geo.io import opendocument
from geo.io.boundaries import detect_layer
from geo.model.errors import InputError

# The publishers a recognised file is credited to (geo.fetch.catalogue holds their licences).
ONS = "Office for National Statistics"
CQC = "Care Quality Commission"
NHS_ODS = "NHS England (Organisation Data Service)"
UNKNOWN_PUBLISHER = "unknown"

# Formats taken from a folder, the preferred first when two files hold the same table.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".xlsm", ".ods")
SPATIAL_SUFFIXES: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".zip", ".shp")
DATA_SUFFIXES: tuple[str, ...] = TABLE_SUFFIXES + SPATIAL_SUFFIXES


@dataclass(frozen=True)
class FileKind:
    """What a data file is, judged from its header alone: kind, vintages, publisher, size."""

    kind: str
    vintages: tuple[str, ...]  # one entry is recorded per vintage ("" when undated)
    publisher: str
    columns: tuple[str, ...]
    rows: int | None
    published: str | None = None


class NotUsedError(InputError):
    """A file the app has no use for; `reason` says why, for a list of ignored files."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.reason = reason


def recognise_file(path: str | Path) -> FileKind:
    """Say what a data file is from its columns, reading only its header (cheap on big files).

    Boundaries by their ONS code columns, lookups by sub-ICB and ICB code columns,
    site lists by CQC's or ODS's layout or a name, location and sector column;
    anything else raises NotUsedError with the reason.
    """
    path = Path(path)
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise NotUsedError(path, "not a data file")
    return _classify(path, _read_header(path))


@dataclass(frozen=True)
class _Header:
    columns: tuple[str, ...]
    geometry: str | None  # the layer's geometry type, None for plain tables
    rows: int | None
    published: str | None = None
    ods_report: bool = False


_CODE_COLUMN = re.compile(r"^(SICBL|ICB)(\d\d)(CD|_code)$", re.IGNORECASE)
_AREA_CODE_COLUMN = re.compile(r"^([A-Z]+?)(\d\d)(CD|_code)$", re.IGNORECASE)
_AREA_NAMES: dict[str, str] = {
    "OA": "output area",
    "LSOA": "LSOA",
    "MSOA": "MSOA",
    "LAD": "local authority district",
    "LTLA": "local authority district",
    "UTLA": "upper-tier local authority",
    "CTY": "county",
    "CTRY": "country",
    "RGN": "region (ONS)",
    "WD": "ward",
    "PCON": "parliamentary constituency",
    "CCG": "CCG",
    "STP": "STP",
}
_PUBLISHED = re.compile(r"(?:as at|produced on)\s+(\d{1,2} [A-Za-z]+ \d{4})", re.IGNORECASE)
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_ODS_REPORT_FIELDS = 27
_PREVIEW_ROWS = 12


def _classify(path: Path, header: _Header) -> FileKind:
    columns = header.columns
    if header.ods_report:
        return FileKind("sites", ("",), NHS_ODS, (), header.rows)
    if _is_cqc(columns):
        return FileKind(
            "sites", (header.published or "",), CQC, columns, header.rows, header.published
        )
    if header.geometry and "polygon" in header.geometry.lower():
        return _boundary_kind(path, header)
    sub_icb_years, icb_years = _code_years(columns)
    if sub_icb_years and icb_years:
        return FileKind("sicbl_lookup", tuple(sorted(icb_years)), ONS, columns, header.rows)
    if _is_site_list(columns, header.geometry):
        return FileKind("sites", ("",), UNKNOWN_PUBLISHER, columns, header.rows)
    if icb_years:
        raise NotUsedError(
            path,
            "has ICB codes but no sub-ICB codes, so it is not a sub-ICB → ICB lookup "
            "and the app does not use it",
        )
    if any("planning_status" in c.lower() or "engag" in c.lower() for c in columns):
        return FileKind("engagement", ("",), UNKNOWN_PUBLISHER, columns, header.rows)
    raise NotUsedError(path, _why_not_used(columns, header.geometry))


def _boundary_kind(path: Path, header: _Header) -> FileKind:
    layer = detect_layer(list(header.columns))
    if layer is not None:
        return FileKind(layer.kind, (layer.vintage,), ONS, header.columns, header.rows)
    for column in header.columns:
        match = _AREA_CODE_COLUMN.match(column)
        if match:
            prefix = match.group(1).upper()
            area = _AREA_NAMES.get(prefix, f"{prefix} areas")
            raise NotUsedError(path, f"{area} boundaries are not used by the app")
    raise NotUsedError(
        path,
        "polygons without ICB, sub-ICB or NHS region code columns (such as ICB23CD, "
        "SICBL23CD, NHSER24CD), so not a boundary layer the app uses",
    )


def _code_years(columns: tuple[str, ...]) -> tuple[set[str], set[str]]:
    sub_icb, icb = set(), set()
    for column in columns:
        match = _CODE_COLUMN.match(column)
        if match:
            years = sub_icb if match.group(1).upper() == "SICBL" else icb
            years.add(f"20{match.group(2)}")
    return sub_icb, icb


def _is_cqc(columns: tuple[str, ...]) -> bool:
    return "Location ID" in columns or any(c.startswith("CQC Location") for c in columns)


def _has_name_and_location(columns: tuple[str, ...], geometry: str | None) -> bool:
    lowered = {c.lower().strip() for c in columns}
    named = any("name" in c for c in lowered)
    latitude = lowered & {"lat", "latitude", "location latitude"}
    longitude = lowered & {"lon", "long", "lng", "longitude", "location longitude"}
    postcode = any(c in {"pcd", "pcds", "pcd7", "pcd8"} or "postcode" in c for c in lowered)
    points = geometry is not None and "point" in geometry.lower()
    return named and bool((latitude and longitude) or postcode or points)


def _is_site_list(columns: tuple[str, ...], geometry: str | None) -> bool:
    has_sector = any("sector" in c.lower() for c in columns)
    return has_sector and _has_name_and_location(columns, geometry)


def _why_not_used(columns: tuple[str, ...], geometry: str | None) -> str:
    if _has_name_and_location(columns, geometry):
        if any("trust" in c.lower() for c in columns):
            return "NHS trust records (trust headquarters), not sites — no sector column"
        return "has names and locations but no sector column, so it is not a site list"
    shown = ", ".join(columns[:6]) + ("…" if len(columns) > 6 else "")
    return (
        f"its columns ({shown}) match no file the app uses: ICB, sub-ICB or region "
        "boundaries, sub-ICB → ICB lookups, provider site lists"
    )


def _read_header(path: Path) -> _Header:
    suffix = path.suffix.lower()
    try:
        if suffix in SPATIAL_SUFFIXES:
            return _spatial_header(path)
        if suffix == ".csv":
            return _csv_header(path)
        if suffix == ".ods":
            return _ods_header(path)
        return _xlsx_header(path)
    except NotUsedError:
        raise
    except Exception as error:  # any reader's failure means: not a file we can use
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NotUsedError(path, f"could not be read ({reason})") from None


def _spatial_header(path: Path) -> _Header:
    info = pyogrio.read_info(path)
    fields = tuple(str(field) for field in info["fields"])
    return _Header(fields, info["geometry_type"], int(info["features"]))


def _csv_header(path: Path) -> _Header:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
        reader = csv.reader(file)
        preview = list(islice(reader, _PREVIEW_ROWS))
        remaining = sum(1 for _ in reader)
    if not preview:
        raise NotUsedError(path, "is empty")
    if _is_ods_report_row(preview[0]):
        return _Header((), None, len(preview) + remaining, ods_report=True)
    at = _header_index(preview)
    rows = len(preview) - at - 1 + remaining
    return _Header(_trimmed(preview[at]), None, rows, _published_in(preview[:at]))


def _xlsx_header(path: Path) -> _Header:
    import openpyxl  # only needed for spreadsheets

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        previews = []
        for sheet in workbook.worksheets:
            rows = [
                ["" if value is None else str(value) for value in row]
                for row in islice(sheet.iter_rows(values_only=True), _PREVIEW_ROWS)
            ]
            previews.append((rows, sheet.max_row))
    finally:
        workbook.close()
    return _sheet_header(path, previews)


def _ods_header(path: Path) -> _Header:
    first = _ods_preview(path, None)
    previews: list[tuple[list[list[str]], int | None]] = [(first, None)]
    if first and _published_in(first) and not _is_cqc(tuple(first[_header_index(first)])):
        # CQC's .ods opens with a README sheet; the locations are on the next one.
        with contextlib.suppress(InputError):
            previews.append((_ods_preview(path, "HSCA_Active_Locations"), None))
    return _sheet_header(path, previews)


def _ods_preview(path: Path, sheet: str | None) -> list[list[str]]:
    rows = opendocument.iter_sheet_rows(path, sheet)
    try:
        return list(islice(rows, 40 if sheet is None else _PREVIEW_ROWS))
    finally:
        rows.close()


def _sheet_header(path: Path, previews: list[tuple[list[list[str]], int | None]]) -> _Header:
    """The CQC sheet if any sheet has CQC's header, else the first sheet with content."""
    published = next((p for rows, _ in previews if (p := _published_in(rows))), None)
    filled = [(rows, total) for rows, total in previews if any(any(row) for row in rows)]
    if not filled:
        raise NotUsedError(path, "has no rows in any sheet")
    chosen = next(
        ((rows, total) for rows, total in filled if _is_cqc(tuple(rows[_header_index(rows)]))),
        filled[0],
    )
    rows, total = chosen
    at = _header_index(rows)
    count = total - at - 1 if total else None
    return _Header(_trimmed(rows[at]), None, count, published)


def _header_index(rows: list[list[str]]) -> int:
    """CQC's header row (after any preamble), else the first row with anything in it."""
    for index, row in enumerate(rows):
        cells = [str(cell).strip() for cell in row]
        if cells and cells[0] == "Location ID":
            return index
        if cells and cells[0] == "Name" and any(c.startswith("CQC Location") for c in cells):
            return index
    return next((index for index, row in enumerate(rows) if any(row)), 0)


def _is_ods_report_row(row: list[str]) -> bool:
    """NHS ODS reports have no header: 27 fields, the first an organisation code."""
    return len(row) == _ODS_REPORT_FIELDS and bool(_ODS_CODE.match(row[0].strip()))


def _published_in(rows: list[list[str]]) -> str | None:
    for row in rows:
        for cell in row:
            match = _PUBLISHED.search(str(cell))
            if match:
                try:
                    return datetime.strptime(match.group(1), "%d %B %Y").date().isoformat()
                except ValueError:
                    continue
    return None


def _trimmed(row: list[str]) -> tuple[str, ...]:
    cells = [str(cell).strip() for cell in row]
    while cells and not cells[-1]:
        cells.pop()
    return tuple(cells)
