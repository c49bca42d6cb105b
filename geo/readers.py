"""Read provider lists (CQC, NHS ODS reports, any CSV/XLSX/ODS/GeoJSON) into the canonical table."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, islice
from pathlib import Path

import pandas as pd

from geo import opendocument, providers
from geo.errors import InputError

FORMATS: tuple[str, ...] = ("cqc", "cqc_directory", "ods", "generic")

# NHS ODS report code -> (sector, what one row of it is).
ODS_REPORTS: dict[str, tuple[str, str]] = {
    "ets": (providers.NHS, "NHS trust site"),
    "etr": (providers.NHS, "NHS trust"),
    "ephp": (providers.INDEPENDENT, "Independent sector healthcare provider"),
    "ephpsite": (providers.INDEPENDENT, "Independent sector healthcare provider site"),
    "epraccur": (providers.NHS, "GP practice"),
}
# Reports whose rows are sites of a parent organisation (column 15); in the others each
# row is a provider in its own right (in epraccur column 15 is the commissioner).
_ODS_SITE_REPORTS = frozenset({"ets", "ephpsite"})

# The 27 fields of an NHS ODS CSV report (DATA-FORMATS.md §2.2), which has no header row.
ODS_REPORT_COLUMNS: tuple[str, ...] = (
    "Organisation Code",
    "Name",
    "National Grouping",
    "High Level Health Geography",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Postcode",
    "Open Date",
    "Close Date",
    "Status Code",
    "Organisation Sub-Type Code",
    "Parent Organisation Code",
    "Join Parent Date",
    "Left Parent Date",
    "Contact Telephone Number",
    "Null 19",
    "Null 20",
    "Null 21",
    "Amended Record Indicator",
    "Null 23",
    "GOR Code",
    "Null 25",
    "Prescribing Setting",
    "Null 27",
)

# Canonical name -> CQC header spellings seen across editions (matched ignoring case,
# spaces and punctuation). `care_home`, `beds` and `category` feed derived columns.
_CQC_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("Location ID",),
    "site_name": ("Location Name",),
    "provider_id": ("Provider ID",),
    "provider_name": ("Provider Name",),
    "postcode": ("Location Postal Code", "Location Post Code", "Location Postcode"),
    "lat": ("Location Latitude",),
    "lon": ("Location Longitude",),
    providers.SICBL_COLUMN: ("Location ONSPD CCG Code",),
    "care_home": ("Care home?", "Care home"),
    "beds": ("Care homes beds", "Care home beds"),
    "category": ("Location Primary Inspection Category",),
}
_SERVICE_TYPE_PREFIX = "Service type - "

_DIRECTORY_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("CQC Location ID (for office use only)", "CQC Location (for office use only"),
    "site_name": ("Name",),
    "provider_id": ("CQC Provider ID (for office use only)",),
    "provider_name": ("Provider name",),
    "postcode": ("Postcode",),
    "service_type": ("Service types",),
}

# Generic files: canonical name -> column names people use for it, most specific first.
_GENERIC_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "id", "hospitalId", "location_id", "site_code", "org_code", "code"),
    "site_name": ("site_name", "name", "site", "location_name", "hospital_name"),
    "provider_id": ("provider_id", "trustId", "trust_id", "provider_code", "trust_code"),
    "provider_name": ("provider_name", "provider", "trustName", "trust_name", "trust"),
    "sector": ("sector", "ownership", "ownership_type", "provider_sector"),
    "service_type": ("service_type", "type", "service", "site_type"),
    "capacity": ("beds", "capacity", "bed_count", "places"),
    "planning_status": ("planning_status", "engaged", "engagement", "planning"),
    "postcode": ("postcode", "pcds", "post_code", "postal_code", "pcd"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "long", "lng", "longitude", "x"),
    "official_icb_code": ("official_icb_code", "icb_code", "icb", "icb_cd"),
    providers.SICBL_COLUMN: ("official_sicbl_code", "sicbl_code", "sub_icb_code", "ccg_code"),
}
_ONS_ICB_COLUMN = re.compile(r"^icb\d\dcd$", re.IGNORECASE)
_SHEET_SKIP = ("README", "Dual_Registration_Locations")
_PREVIEW_ROWS = 20
_BLOCK_ROWS = 10_000  # rows turned into columns at a time when streaming a sheet
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_ODS_DATE = re.compile(r"^(19|20)\d{6}$")


def read_sites(
    path: str | Path,
    fmt: str | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    ods_report: str | None = None,
    sheet: str | None = None,
    sector_rules: tuple[providers.SectorRule, ...] | None = None,
) -> pd.DataFrame:
    """Read a provider list in any supported format into the canonical provider table.

    `fmt` is 'cqc', 'cqc_directory', 'ods' or 'generic' (None: `detect_format`).
    `columns` (canonical name -> the file's column) adds to or overrides the columns
    found by name; `ods_report` names an NHS ODS report (and implies fmt='ods');
    `sheet` picks a spreadsheet's sheet; `sector_rules` replaces the CQC sector rules.
    Every row of the file is in the result, with a `source` naming the file.
    """
    path = Path(path)
    _check_readable(path)
    fmt = fmt or ("ods" if ods_report else detect_format(path))
    if fmt not in _READERS:
        raise InputError(f"provider list {path.name}: format {fmt!r} is not one of {FORMATS}")
    options = {"columns": dict(columns or {}), "sheet": sheet}
    if fmt == "ods":
        options["ods_report"] = ods_report
    elif fmt != "generic":
        options["sector_rules"] = sector_rules or providers.DEFAULT_CQC_RULES
    return _READERS[fmt](path, **options)


def detect_format(path: str | Path) -> str:
    """Tell a provider list's format from its content (not only its extension).

    CQC HSCA: a row (within the first 20) whose first cell is 'Location ID'; CQC
    directory: a line starting 'Name,' that mentions 'CQC Location'; NHS ODS report:
    headerless rows of ~27 fields opening with an organisation code, with YYYYMMDD
    dates; anything else is 'generic'.
    """
    path = Path(path)
    _check_readable(path)
    kind = _container(path)
    if kind in ("ods", "xlsx"):
        previews = _ods_previews(path) if kind == "ods" else _xlsx_previews(path)
        return "cqc" if _cqc_sheet(previews) else "generic"
    if kind != "text":
        return "generic"
    rows = _text_preview(path)
    if _header_index(rows) is not None:
        return "cqc"
    if any(",".join(row).startswith("Name,") and "CQC Location" in ",".join(row) for row in rows):
        return "cqc_directory"
    return "ods" if _looks_like_ods_report(rows) else "generic"


# --- CQC HSCA Active Locations ----------------------------------------------------------


def _read_cqc(path: Path, *, columns: dict, sheet: str | None, sector_rules: tuple) -> pd.DataFrame:
    """CQC's register (ODS streamed, XLSX, CSV): one row per registered location.

    Capacity is `Care homes beds` for care homes only (blank, never 0, otherwise);
    service_type the primary inspection category, else the first ticked service type;
    sector from the CQC sector rules, with the rule that decided in `sector_rule`.
    """
    raw = _cqc_table(path, sheet)
    found = _aliased_columns(raw.columns, _CQC_ALIASES)
    _require(path, raw, found, ("site_id", "site_name"), _CQC_ALIASES)
    derived = pd.DataFrame(
        {
            "capacity": _care_home_beds(raw, found),
            "service_type": _primary_service(raw, found.get("category")),
        },
        index=raw.index,
    )
    sectors = providers.classify_sectors(raw, sector_rules)
    table = pd.concat([derived, sectors, raw], axis=1)
    mapping = {name: column for name, column in found.items() if name in _CANONICAL_NAMES}
    mapping.update({name: name for name in ("capacity", "service_type", "sector")})
    mapping.update(columns)
    return providers.to_canonical(table, mapping, source=f"CQC HSCA Active Locations ({path.name})")


def _cqc_table(path: Path, sheet: str | None) -> pd.DataFrame:
    """The CQC locations sheet as text columns, header found by scanning for 'Location ID'."""
    kind = _container(path)
    if kind == "text":
        rows = _text_preview(path)
        at = _header_index(rows)
        if at is None:
            raise InputError(f"CQC file {path.name}: no header row starting 'Location ID'")
        return _read_csv(path, skiprows=at)
    if kind not in ("ods", "xlsx"):
        raise InputError(f"CQC file {path.name}: expected an .ods, .xlsx or .csv file")
    previews = _ods_previews(path) if kind == "ods" else _xlsx_previews(path)
    name = sheet or _cqc_sheet(previews)
    if name is None:
        raise InputError(
            f"CQC file {path.name}: no sheet has a header row starting 'Location ID' "
            f"in its first {_PREVIEW_ROWS} rows"
        )
    rows = opendocument.iter_sheet_rows(path, name) if kind == "ods" else _xlsx_rows(path, name)
    return _frame_from_rows(path, rows, _header_index)


def _care_home_beds(raw: pd.DataFrame, found: dict) -> pd.Series:
    """Beds where the location is a care home with beds; blank elsewhere (never 0)."""
    if "beds" not in found:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    beds = raw[found["beds"]]
    number = pd.to_numeric(beds, errors="coerce")
    care_home = (
        raw[found["care_home"]].str.strip().str.upper().eq("Y") if "care_home" in found else True
    )
    keep = (care_home & ((number > 0) | number.isna())).fillna(False).astype(bool)
    return beds.where(keep)


def _primary_service(raw: pd.DataFrame, category: str | None) -> pd.Series:
    """The primary inspection category, else the first 'Service type - …' ticked 'Y'."""
    service = _blank_to_na(raw[category]) if category else pd.Series(pd.NA, index=raw.index)
    service = service.astype("string")
    for column in raw.columns:
        if not str(column).casefold().startswith(_SERVICE_TYPE_PREFIX.casefold()):
            continue
        ticked = raw[column].str.strip().str.upper().eq("Y").fillna(False).astype(bool)
        name = str(column)[len(_SERVICE_TYPE_PREFIX) :].strip()
        service = service.mask(service.isna() & ticked, name)
    return service


# --- older CQC care directory CSV -------------------------------------------------------


def _read_cqc_directory(
    path: Path, *, columns: dict, sheet: str | None, sector_rules: tuple
) -> pd.DataFrame:
    """`DD_Month_YYYY_CQC_directory.csv`: 15 columns after a 4-line preamble, postcodes only.

    The file has no ownership, type or charity fields, so only the provider-name rule
    can fire: councils become 'Local authority' and everyone else 'Unknown'.
    """
    del sheet  # a CSV has no sheets
    rows = _text_preview(path)
    at = next((n for n, row in enumerate(rows) if row and row[0].strip() == "Name"), None)
    if at is None:
        raise InputError(f"CQC directory {path.name}: no header line starting 'Name,'")
    raw = _read_csv(path, skiprows=at)
    found = _aliased_columns(raw.columns, _DIRECTORY_ALIASES)
    _require(path, raw, found, ("site_id", "site_name", "postcode"), _DIRECTORY_ALIASES)
    sectors = providers.classify_sectors(raw, sector_rules)
    table = pd.concat([sectors, raw], axis=1)
    mapping = {**found, "sector": "sector", **columns}
    return providers.to_canonical(table, mapping, source=f"CQC care directory ({path.name})")


# --- NHS ODS headerless CSV reports -----------------------------------------------------


def _read_ods_report(
    path: Path, *, columns: dict, sheet: str | None, ods_report: str | None
) -> pd.DataFrame:
    """An NHS ODS report (ets, etr, ephp, ephpsite, epraccur): 27 headerless fields.

    The report fixes the sector. Closed organisations are kept, with `closed` True,
    for the caller to decide about. Postcodes only: no coordinates.
    """
    del sheet
    report = _ods_report_code(path, ods_report)
    sector, kind = ODS_REPORTS[report]
    raw = _read_csv(path, header=None)
    if raw.shape[1] < 15:
        raise InputError(
            f"ODS report {path.name}: has {raw.shape[1]} columns; expected the 27 of an NHS "
            "ODS report (organisation code, name, …, postcode in 10, parent in 15)"
        )
    names = [*ODS_REPORT_COLUMNS, *(f"Column {n}" for n in range(28, raw.shape[1] + 1))]
    raw.columns = names[: raw.shape[1]]
    derived = pd.DataFrame(
        {"sector": sector, "service_type": kind, "closed": raw["Close Date"].notna()},
        index=raw.index,
    )
    table = pd.concat([derived, raw], axis=1)
    mapping = {
        "site_id": "Organisation Code",
        "site_name": "Name",
        "postcode": "Postcode",
        "sector": "sector",
        "service_type": "service_type",
    }
    if report in _ODS_SITE_REPORTS:
        mapping["provider_id"] = "Parent Organisation Code"
    else:
        mapping.update(provider_id="Organisation Code", provider_name="Name")
    mapping.update(columns)
    return providers.to_canonical(table, mapping, source=f"NHS ODS {report} ({path.name})")


def _ods_report_code(path: Path, ods_report: str | None) -> str:
    """The report asked for, else the one the file is named after ('ets.csv', 'epraccur (1).csv')."""
    code = (ods_report or "").strip().casefold() or _report_from_name(path.name)
    if code in ODS_REPORTS:
        return code
    problem = (
        f"report {ods_report!r} is not one of"
        if ods_report
        else "cannot tell the report from its name; give --ods-report, one of"
    )
    raise InputError(f"ODS report {path.name}: {problem} {', '.join(ODS_REPORTS)}")


def _report_from_name(name: str) -> str:
    match = re.match(r"^(ephpsite|ephp|epraccur|ets|etr)(?![a-z])", name.casefold())
    return match.group(1) if match else ""


# --- generic files ----------------------------------------------------------------------


def _read_generic(path: Path, *, columns: dict, sheet: str | None) -> pd.DataFrame:
    """Any CSV, XLSX, ODS or GeoJSON with named columns, found through a small alias table.

    Needs a name column and either coordinates (or point geometry) or a postcode.
    Sector labels ('NHS Sector', 'Private', 'VCSE', …) are normalised, unknown ones
    flagged in `problems`.
    """
    raw = _generic_table(path, sheet)
    found = _aliased_columns(raw.columns, _GENERIC_ALIASES)
    found.setdefault("official_icb_code", _ons_icb_column(raw.columns))
    found = {name: column for name, column in found.items() if column is not None}
    if "geometry_lat" in raw.columns:
        found.update(lat="geometry_lat", lon="geometry_lon")
    found.update(columns)
    _require_generic(path, raw, found)
    return providers.to_canonical(raw, found, source=f"provider list ({path.name})")


def _generic_table(path: Path, sheet: str | None) -> pd.DataFrame:
    kind = _container(path)
    if kind == "geo":
        return _geo_table(path)
    if kind == "ods":
        return _frame_from_rows(path, opendocument.iter_sheet_rows(path, sheet), _first_filled)
    if kind == "xlsx":
        return _frame_from_rows(path, _xlsx_rows(path, sheet), _first_filled)
    return _read_csv(path)


def _geo_table(path: Path) -> pd.DataFrame:
    """A GeoJSON/GeoPackage's attributes, with point geometry as WGS84 `geometry_lat/lon`."""
    import geopandas

    try:
        frame = geopandas.read_file(path)
    except Exception as error:  # pyogrio raises several types for unreadable files
        raise InputError(f"provider list {path.name}: not a readable geo file ({error})") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geometry = frame.geometry
    not_points = geometry.notna() & ~geometry.is_empty & (geometry.geom_type != "Point")
    if not_points.any():
        first = int(not_points.to_numpy().nonzero()[0][0])
        raise InputError(
            f"provider list {path.name}: feature {first + 1} is a {geometry.iloc[first].geom_type}; "
            f"expected point geometry for sites ({int(not_points.sum())} features are not points)"
        )
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table = table.astype({c: "str" for c in table.columns if table[c].dtype == object})
    points = geometry.where(geometry.notna() & ~geometry.is_empty)
    table["geometry_lat"] = points.y.astype("Float64")
    table["geometry_lon"] = points.x.astype("Float64")
    return table


def _ons_icb_column(names: Iterable[object]) -> str | None:
    return next((str(name) for name in names if _ONS_ICB_COLUMN.match(str(name))), None)


def _require_generic(path: Path, raw: pd.DataFrame, found: dict) -> None:
    """A generic list needs a site name and a way to place it: coordinates or a postcode."""
    located = ("lat" in found and "lon" in found) or "postcode" in found
    if "site_name" in found and located:
        return
    wanted = []
    if "site_name" not in found:
        wanted.append(f"a site name column ({_listing(_GENERIC_ALIASES['site_name'])})")
    if not located:
        wanted.append(
            f"either latitude ({_listing(_GENERIC_ALIASES['lat'])}) and longitude "
            f"({_listing(_GENERIC_ALIASES['lon'])}) columns or a postcode column "
            f"({_listing(_GENERIC_ALIASES['postcode'])})"
        )
    raise InputError(
        f"provider list {path.name}: expected {' and '.join(wanted)}; "
        f"columns found: {_listing(raw.columns)}"
    )


# --- shared helpers: containers, previews, rows to frames -------------------------------


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"provider list {path.name}: file not found at {path}")
    if path.stat().st_size == 0:
        raise InputError(f"provider list {path.name}: the file is empty")


def _container(path: Path) -> str:
    """'ods', 'xlsx', 'geo' or 'text', judged by the bytes; InputError for broken spreadsheets."""
    suffix = path.suffix.casefold()
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
        return "geo"
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"provider list {path.name}: old Excel (.xls) files are not supported; "
            "save it as .xlsx or CSV"
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        if "content.xml" in names:
            return "ods"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(name.casefold().endswith(".shp") for name in names):
            return "geo"  # a zipped shapefile
        raise InputError(f"provider list {path.name}: a zip file that is not a spreadsheet")
    if suffix in (".ods", ".xlsx", ".xlsm"):
        raise InputError(
            f"provider list {path.name}: is not a {suffix} spreadsheet (not a zip file); "
            "is the file damaged or misnamed?"
        )
    if head.lstrip().startswith(b"{"):
        return "geo"
    return "text"


def _text_preview(path: Path) -> list[list[str]]:
    """The first lines of a text file as CSV rows, decoded as UTF-8 or Windows-1252."""
    with open(path, "rb") as file:
        head = file.read(64 * 1024)
    text = _decode(path, head, partial=True)
    lines = text.splitlines()[:_PREVIEW_ROWS]
    return list(csv.reader(lines))


def _decode(path: Path, data: bytes, *, partial: bool) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if partial and error.start >= len(data) - 4:  # cut mid-character at the end
            return data[: error.start].decode("utf-8-sig")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(
            f"provider list {path.name}: neither UTF-8 nor Windows-1252 text"
        ) from None


def _read_csv(path: Path, **options) -> pd.DataFrame:
    """A CSV as text columns (blank cells missing), in UTF-8 (BOM or not) or Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, **options
            )
            return frame.dropna(how="all").reset_index(drop=True)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"provider list {path.name}: has no rows or columns") from None
        except pd.errors.ParserError as error:
            raise InputError(f"provider list {path.name}: not a readable CSV ({error})") from None
    raise InputError(f"provider list {path.name}: neither UTF-8 nor Windows-1252 text")


def _ods_previews(path: Path) -> Iterator[tuple[str, list[list[str]]]]:
    return opendocument.iter_sheet_previews(path, _PREVIEW_ROWS)


def _xlsx_previews(path: Path) -> Iterator[tuple[str, list[list[str]]]]:
    for name in _xlsx_sheet_names(path):
        yield name, list(islice(_xlsx_rows(path, name), _PREVIEW_ROWS))


def _cqc_sheet(previews: Iterable[tuple[str, list[list[str]]]]) -> str | None:
    """The first sheet, other than README and dual registrations, with CQC's header."""
    skip = {_key(name) for name in _SHEET_SKIP}
    for name, rows in previews:
        if _key(name) not in skip and _header_index(rows) is not None:
            return name
    return None


def _header_index(rows: list[list[str]]) -> int | None:
    """Where CQC's header is: the first row whose first cell is 'Location ID'."""
    return next((n for n, row in enumerate(rows) if row and _key(row[0]) == "locationid"), None)


def _first_filled(rows: list[list[str]]) -> int | None:
    return next((n for n, row in enumerate(rows) if any(cell.strip() for cell in row)), None)


def _looks_like_ods_report(rows: list[list[str]]) -> bool:
    """Headerless rows of ~27 fields: an organisation code first, a YYYYMMDD open date."""
    filled = [row for row in rows if any(row)]
    return bool(filled) and all(
        20 <= len(row) <= 30 and _ODS_CODE.match(row[0].strip()) and _ODS_DATE.match(row[10])
        for row in filled
    )


def _frame_from_rows(
    path: Path, rows: Iterator[list[str]], find_header: Callable[[list[list[str]]], int | None]
) -> pd.DataFrame:
    """Stream spreadsheet rows into text columns, header first, a block of rows at a time,
    so a 122-column sheet is never held whole as Python row lists."""
    preview = list(islice(rows, _PREVIEW_ROWS))
    at = find_header(preview)
    if at is None:
        raise InputError(f"provider list {path.name}: no header row in the first rows")
    names = _unique_names(_without_trailing_blanks(preview[at]))
    blocks: list[pd.DataFrame] = []
    block: list[list[str]] = []
    for number, row in enumerate(chain(preview[at + 1 :], rows), start=at + 2):
        if not any(row):
            continue
        if len(row) > len(names) and any(cell.strip() for cell in row[len(names) :]):
            raise InputError(
                f"provider list {path.name}: row {number} has values beyond the "
                f"{len(names)} columns of the header"
            )
        block.append(row)
        if len(block) == _BLOCK_ROWS:
            blocks.append(_text_frame(block, names))
            block = []
    blocks.append(_text_frame(block, names))
    return pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]


def _text_frame(block: list[list[str]], names: list[str]) -> pd.DataFrame:
    """Rows of text as a frame of string columns, blank cells missing (as pandas reads CSV)."""
    width = len(names)
    columns = zip(*(_padded(row, width) for row in block), strict=True) if block else [()] * width
    frame = {}
    for name, values in zip(names, columns, strict=True):
        text = pd.Series(values, dtype="str")
        frame[name] = text.mask(text.eq(""))
    return pd.DataFrame(frame)


def _padded(row: list[str], width: int) -> list[str]:
    return row[:width] if len(row) >= width else [*row, *([""] * (width - len(row)))]


def _without_trailing_blanks(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique the way pandas' CSV reader does ('x', 'x.1'); blanks named."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"Unnamed: {position - 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(f"{name}.{count}" if count else name)
    return names


def _xlsx_sheet_names(path: Path) -> list[str]:
    workbook = _open_workbook(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[str]]:
    """A workbook sheet's rows as text, read-only so memory stays small."""
    workbook = _open_workbook(path)
    try:
        names = {_key(name): name for name in workbook.sheetnames}
        name = workbook.sheetnames[0] if sheet is None else names.get(_key(sheet))
        if name is None:
            raise InputError(
                f"spreadsheet {path.name}: has no sheet {sheet!r}; its sheets are: "
                f"{', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[name]
        worksheet.reset_dimensions()
        for row in worksheet.iter_rows(values_only=True):
            yield [_xlsx_text(value) for value in row]
    finally:
        workbook.close()


def _open_workbook(path: Path):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, InvalidFileException…
        raise InputError(f"spreadsheet {path.name}: not a readable .xlsx file ({error})") from None


def _xlsx_text(value: object) -> str:
    """A workbook cell as the text an .ods cell of the same value gives (dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --- column aliases ---------------------------------------------------------------------

_CANONICAL_NAMES = frozenset({*providers.CANONICAL_COLUMNS, providers.SICBL_COLUMN})


def _key(name: object) -> str:
    """A column or sheet name with case, spaces and punctuation ignored."""
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def _aliased_columns(names: Iterable[object], aliases: Mapping[str, tuple[str, ...]]) -> dict:
    """Canonical name -> the file's column, for every alias found (first alias wins)."""
    by_key: dict[str, object] = {}
    for name in names:
        by_key.setdefault(_key(name), name)
    found = {}
    for canonical, spellings in aliases.items():
        column = next((by_key[_key(s)] for s in spellings if _key(s) in by_key), None)
        if column is not None:
            found[canonical] = column
    return found


def _require(
    path: Path, raw: pd.DataFrame, found: dict, needed: tuple[str, ...], aliases: Mapping
) -> None:
    missing = [name for name in needed if name not in found]
    if missing:
        expected = "; ".join(f"{name}: {_listing(aliases[name])}" for name in missing)
        raise InputError(
            f"provider list {path.name}: missing column(s) {expected}; "
            f"columns found: {_listing(raw.columns)}"
        )


def _listing(names: Iterable[object], limit: int = 15) -> str:
    names = [str(name) for name in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _blank_to_na(values: pd.Series) -> pd.Series:
    return values.where(values.str.strip().ne("").fillna(False).astype(bool))


_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "cqc": _read_cqc,
    "cqc_directory": _read_cqc_directory,
    "ods": _read_ods_report,
    "generic": _read_generic,
}
