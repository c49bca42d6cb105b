"""Recognise a data file once, from its first rows: what it holds and where its table starts.

`sniff(path) -> Format` is the one recogniser. The command line, the upload page,
`fetch --from`, the column-mapping preview and the readers take its answer instead
of looking again. Its rules, tried in this order:

1. Container, by the bytes: 'odf' (OpenDocument spreadsheet), 'xlsx', 'json' (CQC API
   location records: JSON with a `locationId` key and no GeoJSON feature type in its
   first 64 KB; or OCDS contract releases, DATA-FORMATS-2.md §3: a .json or .jsonl
   file whose first 64 KB has an `"ocid"` key and no GeoJSON feature type, held as
   'contracts'), 'geo' (GeoJSON, GeoPackage, Shapefile, zipped or not), 'zip' (the
   Charity Commission's register extract, `publicextract.charity.zip`), else 'csv' (any
   delimited text). Old .xls workbooks, damaged spreadsheets and unreadable geo files
   are refused (NotUsedError).
2. NHS ODS report (DATA-FORMATS.md §2): a CSV with no header row whose records, as far
   as the first 20, have exactly the 27 fields of `NHS_ODS_COLUMNS`, the first an
   organisation code (3-10 capitals or digits) and the eleventh (Open Date) a YYYYMMDD
   date. The report is the one the file's name starts with ('ets.csv'), if any.
3. CQC API location records flattened to a table: a row holding `locationId` (as the API
   spells it) and at least one more of the API's keys (`providerId`, `onspdLatitude`,
   `postalCode`, …), so neither an analyst's list nor the HSCA file is taken for it.
   CQC HSCA active locations (§1): a row within the first 20 of a sheet that holds
   `Location ID` and at least one more of CQC's column names (ignoring case, spaces and
   punctuation), so an analyst's own list with a `Location ID` column is not CQC's.
   In a spreadsheet, the first such sheet other than README and Dual_Registration_Locations.
4. The older CQC care directory: a row whose first cell is `Name`, with a `CQC Location…` column.
   The Regulator of Social Housing's list of registered providers: a row whose first cell is
   `Organisation name`, with a `Designation` column (DATA-FORMATS-2.md §5).
   NHS England's RTT and DM01 full extracts: a row within the first 30 holding `Provider
   Org Code` with `RTT Part Type` or `Diagnostic Tests` (DATA-FORMATS-2.md §1-2), its vintage
   the month of its first row's `Period`; the DSPT export: a row with `Code`, `Organisation
   Name`, `Status` (or `Latest Status`) and `Primary Sector` (§7). Each may be a zip holding
   just the CSV, as NHS England ships them.
5. Otherwise the first filled row of the first filled sheet is the header, and its
   columns say the rest: ONS boundaries (polygons with ICB, sub-ICB or region code
   columns), ONS's code history (`Changes.csv`: GEOGCD and GEOGCD_P), a sub-ICB → ICB
   lookup, a generic provider list (a name, a location and a sector), an engagement
   list; anything else holds 'unknown', with the reason.

An 'as at' or 'produced on' date above the header is the publication date.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pyogrio

from geo.io import code_history, limits, population, tables
from geo.io.activity import HEADER_SEARCH_ROWS, activity_header, head_rows, period_in_rows
from geo.io.boundaries import detect_layer, gdal_source
from geo.io.dspt import is_dspt_header, saved_on
from geo.io.registers import (
    CHARITY_COLUMNS,
    CHARITY_MEMBER,
    charity_extract_header,
    is_rsh_header,
    rsh_file_date,
)
from geo.model import sectors
from geo.model.errors import InputError
from geo.model.text import name_key

# The publishers a recognised file is credited to (geo.fetch.catalogue holds their licences).
ONS = "Office for National Statistics"
CQC = "Care Quality Commission"
NHS_ODS = "NHS England (Organisation Data Service)"
CHARITY_COMMISSION = "Charity Commission for England and Wales"
RSH = "Regulator of Social Housing"
NHS_ENGLAND = "NHS England"  # RTT and DM01 statistics
DSPT_PUBLISHER = "NHS England (Data Security and Protection Toolkit)"
CABINET_OFFICE = "Cabinet Office"  # Find a Tender and Contracts Finder
UNKNOWN_PUBLISHER = "unknown"

# Formats taken from a folder, the preferred first when two files hold the same table.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".xlsm", ".ods")
SPATIAL_SUFFIXES: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".zip", ".shp")
RELEASE_SUFFIXES: tuple[str, ...] = (".jsonl",)  # OCDS releases as JSON lines (.json above)
DATA_SUFFIXES: tuple[str, ...] = TABLE_SUFFIXES + SPATIAL_SUFFIXES + RELEASE_SUFFIXES

# What a provider list can be read as: each has its reader in geo.io.readers.
SITE_FORMATS: tuple[str, ...] = ("cqc", "cqc_directory", "cqc_api", "nhs_ods", "generic")
# The provider lists whose sectors CQC's sector rules decide (and so the registers they use).
RULE_FORMATS: tuple[str, ...] = ("cqc", "cqc_directory", "cqc_api")
BOUNDARY_KINDS: tuple[str, ...] = ("icb", "sicbl", "nhser")
# The voluntary-sector registers (geo.io.registers reads them).
REGISTER_FORMATS: tuple[str, ...] = ("charity_register", "rsh_register")
# Evidence of NHS commissioning (geo.io.activity, geo.io.dspt read them).
EVIDENCE_FORMATS: tuple[str, ...] = ("rtt", "dm01", "dspt")
UNKNOWN = "unknown"

# NHS ODS report code -> (sector, what one row of it is).
NHS_ODS_REPORTS: dict[str, tuple[str, str]] = {
    "ets": (sectors.NHS, "NHS trust site"),
    "etr": (sectors.NHS, "NHS trust"),
    "ephp": (sectors.INDEPENDENT, "Independent sector healthcare provider"),
    "ephpsite": (sectors.INDEPENDENT, "Independent sector healthcare provider site"),
    "epraccur": (sectors.NHS, "GP practice"),
}

# The 27 fields of an NHS ODS CSV report (DATA-FORMATS.md §2.2), which has no header row.
NHS_ODS_COLUMNS: tuple[str, ...] = (
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

_PUBLISHERS: dict[str, str] = {
    "cqc": CQC,
    "cqc_api": CQC,
    "cqc_directory": CQC,
    "nhs_ods": NHS_ODS,
    **dict.fromkeys((*BOUNDARY_KINDS, "sicbl_lookup", "code_history"), ONS),
    "charity_register": CHARITY_COMMISSION,
    "rsh_register": RSH,
    "rtt": NHS_ENGLAND,
    "dm01": NHS_ENGLAND,
    "dspt": DSPT_PUBLISHER,
    "contracts": CABINET_OFFICE,
    "population": ONS,
}


@dataclass(frozen=True)
class Format:
    """What a data file is and where its table is, so nothing opens it again to decide."""

    # 'odf', 'xlsx', 'csv' (any delimited text), 'geo', 'zip' (of text) or 'json' (CQC API records)
    container: str
    # one of SITE_FORMATS, BOUNDARY_KINDS, 'sicbl_lookup', 'code_history', 'engagement',
    # 'charity_register', 'rsh_register', 'rtt', 'dm01', 'dspt', 'contracts' (OCDS releases),
    # 'population', 'unknown'
    holds: str
    columns: tuple[str, ...] = ()  # the header as written; () for a headerless NHS ODS report
    sheet: str | None = None  # the spreadsheet's sheet the table is on
    header_row: int | None = None  # where the header is in that sheet or file (0-based)
    rows: int | None = None  # rows below the header, where the file says cheaply
    vintages: tuple[str, ...] = ("",)  # one cache entry per vintage ("" when undated)
    published: str | None = None  # the publisher's 'as at' date, ISO
    nhs_ods_report: str | None = None  # 'ets', 'epraccur', …: from the name, or as told
    reason: str = ""  # for 'unknown': why the app has no use for it

    @property
    def kind(self) -> str | None:
        """What the cache files it as ('sites', 'icb', 'sicbl_lookup', …); None when unknown."""
        if self.holds in SITE_FORMATS:
            return "sites"
        return None if self.holds == UNKNOWN else self.holds

    @property
    def site_format(self) -> str:
        """How to read it as a provider list: its own format, else 'generic' (columns by name)."""
        return self.holds if self.holds in SITE_FORMATS else "generic"

    @property
    def publisher(self) -> str:
        """Who published it, as far as its layout says."""
        return _PUBLISHERS.get(self.holds, UNKNOWN_PUBLISHER)


class NotUsedError(InputError):
    """A file the app cannot use; `reason` says why, for a list of ignored files."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.reason = reason


def sniff(
    path: str | Path, told: str | None = None, *, nhs_ods_report: str | None = None
) -> Format:
    """What a file is, from one look at its first rows, by the rules in this module's docstring.

    `told` is what the user says a provider list is (one of SITE_FORMATS): that format's
    header is then looked for instead of judging. `nhs_ods_report` is the NHS ODS report
    the user names; it implies told='nhs_ods'. NotUsedError if the file cannot be read.
    """
    path = Path(path)
    told = told or ("nhs_ods" if nhs_ods_report else None)
    _check_request(path, told)
    container = _container(path)
    if container == "json":
        found = _sniff_json(path, told)
    elif container == "geo":
        found = _sniff_geo(path)
        found = replace(found, holds=told) if told else found
    elif container == "zip":
        found = _readable(path, lambda: _sniff_zip(path))
    else:
        found = _readable(path, lambda: _sniff_table(path, container, told))
    if found.holds == "nhs_ods":
        return replace(found, nhs_ods_report=nhs_ods_report or _report_in_name(path.name))
    return found


# --- containers ---------------------------------------------------------------------------

_Found = TypeVar("_Found")


def _readable(path: Path, look: Callable[[], _Found]) -> _Found:
    """What `look` finds, any failure to read the file turned into NotUsedError saying so."""
    try:
        return look()
    except NotUsedError:
        raise
    except Exception as error:  # any reader's failure means: not a file we can use
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NotUsedError(path, f"could not be read ({reason})") from None


def _check_request(path: Path, told: str | None) -> None:
    if told is not None and told not in SITE_FORMATS:
        raise InputError(
            f"provider list {path.name}: format {told!r} is not one of {', '.join(SITE_FORMATS)}"
        )
    if not path.is_file():
        raise InputError(f"{path.name}: file not found at {path}")
    if path.stat().st_size == 0:
        raise NotUsedError(path, "is empty")


def _container(path: Path) -> str:
    """'odf', 'xlsx', 'json', 'geo' or 'csv', judged by the bytes (the suffix only for geo files)."""
    suffix = path.suffix.casefold()
    if suffix in (".json", ".jsonl") and _holds_ocds_releases(path):
        return "json"
    if suffix in (".geojson", ".json") and _holds_cqc_api_records(path):
        return "json"
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
        return "geo"
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise NotUsedError(
            path, "old Excel (.xls) files are not supported; save it as .xlsx or CSV"
        )
    if head.startswith(b"PK"):
        with contextlib.suppress(zipfile.BadZipFile):
            return _zip_container(path)
    if suffix in (".ods", ".xlsx", ".xlsm", ".zip"):
        what = "zip file" if suffix == ".zip" else f"{suffix} spreadsheet (not a zip file)"
        raise NotUsedError(path, f"is not a {what}; is the file damaged or misnamed?")
    if head.lstrip()[:1] in (b"{", b"[") and _holds_cqc_api_records(path):
        return "json"
    return "geo" if head.lstrip().startswith(b"{") else "csv"


_API_KEY = re.compile(rb'"locationId"\s*:')
_GEOJSON_TYPE = re.compile(rb'"type"\s*:\s*"Feature')
_JSON_PEEK_BYTES = 64 * 1024


def _holds_cqc_api_records(path: Path) -> bool:
    """JSON whose first 64 KB has a `locationId` key and no GeoJSON feature type."""
    with open(path, "rb") as file:
        head = file.read(_JSON_PEEK_BYTES).removeprefix(b"\xef\xbb\xbf")
    is_json = head.lstrip()[:1] in (b"{", b"[")
    return is_json and bool(_API_KEY.search(head)) and not _GEOJSON_TYPE.search(head)


_OCID_KEY = re.compile(rb'"ocid"\s*:')


def _holds_ocds_releases(path: Path) -> bool:
    """JSON (or JSON lines) whose first 64 KB has an `ocid` key and no GeoJSON feature type."""
    with open(path, "rb") as file:
        head = file.read(_JSON_PEEK_BYTES).removeprefix(b"\xef\xbb\xbf")
    is_json = head.lstrip()[:1] in (b"{", b"[")
    return is_json and bool(_OCID_KEY.search(head)) and not _GEOJSON_TYPE.search(head)


def _sniff_json(path: Path, told: str | None) -> Format:
    """CQC API records in JSON: read only as such (their keys are found when they are read).
    OCDS contract releases are held as 'contracts' (geo.io.contracts reads them)."""
    if (
        told is None
        and path.suffix.casefold() in (".json", ".jsonl")
        and _holds_ocds_releases(path)
    ):
        return Format("json", "contracts")
    if told not in (None, "cqc_api"):
        raise NotUsedError(
            path, f"holds CQC API location records (JSON); read it as cqc_api, not {told}"
        )
    return Format("json", "cqc_api")


def _zip_container(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        try:
            limits.check_zip(archive, path.name, limits.current())
        except InputError as error:  # a zip that unpacks to more than the limit
            raise NotUsedError(path, str(error).removeprefix(f"{path.name}: ")) from None
        names = set(archive.namelist())
    if any(CHARITY_MEMBER.match(Path(name).name) for name in names):
        return "zip"  # the Charity Commission's register extract
    if "content.xml" in names:
        return "odf"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(name.casefold().endswith(SPATIAL_SUFFIXES) for name in names):
        return "geo"  # a zipped shapefile (or GeoPackage, GeoJSON)
    if any(name.casefold().endswith(".csv") for name in names):
        return "zip"  # a zipped CSV: NHS England's activity extracts
    raise NotUsedError(path, "is a zip file holding neither a spreadsheet nor a geo file")


# --- geo files ----------------------------------------------------------------------------


def _sniff_geo(path: Path) -> Format:
    info = _readable(path, lambda: pyogrio.read_info(gdal_source(path)))
    columns = tuple(str(field) for field in info["fields"])
    holds, vintages, reason = _by_columns(columns, info["geometry_type"])
    return Format(
        "geo", holds, columns, rows=int(info["features"]), vintages=vintages, reason=reason
    )


# --- zips of text: the Charity Commission's register extract, NHS England's extracts -------


def _sniff_zip(path: Path) -> Format:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if any(CHARITY_MEMBER.match(Path(name).name) for name in names):
        return _sniff_charity_extract(path)
    rows = head_rows(path, f"zip file {path.name}")
    return _table_format(path, "zip", _find_table([tables.SheetPreview(None, rows, None)], None))


def _sniff_charity_extract(path: Path) -> Format:
    """A `publicextract.<table>.zip`: the charity table's text edition is the register."""
    table, header, extract_date = charity_extract_header(path)
    if table != "charity":
        return Format(
            "zip",
            UNKNOWN,
            header,
            reason=f"Charity Commission table {table} is not used (only publicextract.charity, "
            "the text edition)",
        )
    missing = [column for column in CHARITY_COLUMNS if column not in header]
    if missing:
        return Format(
            "zip", UNKNOWN, header, reason=f"a charity extract without {', '.join(missing)}"
        )
    return Format(
        "zip",
        "charity_register",
        header,
        header_row=0,
        vintages=(extract_date or "",),
        published=extract_date,
    )


# --- tables: CSV and spreadsheets ---------------------------------------------------------

_SKIPPED_SHEETS = frozenset({"readme", "dualregistrationlocations"})
# CQC's HSCA column names (DATA-FORMATS.md §1, with spellings seen across editions),
# one of which must sit beside `Location ID` for a header to be CQC's.
_CQC_COLUMNS = frozenset(
    name_key(column)
    for column in (
        "Location Name",
        "Location HSCA start date",
        "Dormant (Y/N)",
        "Care home?",
        "Location ODS Code",
        "Care homes beds",
        "Location Type/Sector",
        "Location Primary Inspection Category",
        "Location Region",
        "Location Local Authority",
        "Location ONSPD CCG Code",
        "Location Postal Code",
        "Location Post Code",
        "Location Latitude",
        "Location Longitude",
        "Provider ID",
        "Provider Name",
    )
)
# The CQC API's keys (cqc_api.py), exactly as the API spells them: one of them must sit
# beside `locationId` for a flattened table to be taken for API records.
_CQC_API_COLUMNS = frozenset(
    {
        "providerId",
        "organisationType",
        "registrationStatus",
        "registrationDate",
        "postalCode",
        "onspdLatitude",
        "onspdLongitude",
        "onspdCcgCode",
        "numberOfBeds",
        "careHome",
        "gacServiceTypes",
        "localAuthority",
        "odsCode",
    }
)
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_ODS_DATE = re.compile(r"^(19|20)\d{6}$")
_PUBLISHED = re.compile(r"(?:as at|produced on)\s+(\d{1,2} [A-Za-z]+ \d{4})", re.IGNORECASE)
_REPORT_IN_NAME = re.compile(
    rf"^({'|'.join(sorted(NHS_ODS_REPORTS, key=len, reverse=True))})(?![a-z])"
)


@dataclass(frozen=True)
class _Table:
    """Where a table was found: its sheet, header row and what that header says it is."""

    holds: str | None  # None: to be judged by the header's column names
    preview: tables.SheetPreview
    header_row: int | None
    above: list[list[str]]  # the rows read before the header, for a publication date


def _sniff_table(path: Path, container: str, told: str | None) -> Format:
    if container == "csv":
        preview = tables.preview_text(path)
        if told == "nhs_ods" or (told is None and _is_nhs_ods_report(preview)):
            return Format("csv", "nhs_ods", rows=_text_rows(path))
        table = _find_table([tables.SheetPreview(None, preview, None)], told)
    elif told == "nhs_ods":
        return Format(container, "nhs_ods")
    elif container == "xlsx" and told is None and (years := _population_years(path)):
        return Format(container, "population", vintages=years[:1])  # the newest year is used
    else:
        with contextlib.closing(tables.preview_sheets(path, container)) as sheets:
            table = _find_table(sheets, told)
    return _table_format(path, container, table)


def _population_years(path: Path) -> tuple[str, ...]:
    """The mid-years an ONS population workbook has sheets for, newest first; () if it is not one."""
    years = {year for _, year, _ in population.year_sheets(population.sheet_names(path)).values()}
    return tuple(sorted(years, reverse=True))


def _find_table(sheets: Iterable[tables.SheetPreview], told: str | None) -> _Table:
    """CQC's (or the directory's) sheet and header if a sheet has one, else the first filled.

    Sheets are read in order and reading stops at a publisher's header, so a CQC
    spreadsheet is never parsed past its locations sheet's first rows.
    """
    wanted = _HEADER_RULES if told is None else {told: _HEADER_RULES.get(told)}
    first: _Table | None = None
    above: list[list[str]] = []
    for sheet in sheets:
        if sheet.name is not None and name_key(sheet.name) in _SKIPPED_SHEETS:
            above += sheet.rows
            continue
        for holds, rule in wanted.items():
            at = rule(sheet.rows, told is not None) if rule else None
            if at is not None:
                return _Table(holds, sheet, at, above + sheet.rows[:at])
        at = tables.first_filled(sheet.rows)
        if first is None and at is not None:
            first = _Table(told, sheet, at, list(above))
            if told == "generic":
                break
        above += sheet.rows
    if first is None:
        return _Table(told or UNKNOWN, tables.SheetPreview(None, [], None), None, above)
    if told in ("cqc", "cqc_api", "cqc_directory"):
        return _Table(told, first.preview, None, first.above)  # its header was not found
    return first


def _cqc_header(rows: list[list[str]], told: bool) -> int | None:
    """A row with `Location ID` and, unless the user said the file is CQC's, another CQC column."""
    for number, row in enumerate(rows):
        keys = {name_key(cell) for cell in row}
        if "locationid" in keys and (told or keys & _CQC_COLUMNS):
            return number
    return None


def _directory_header(rows: list[list[str]], told: bool) -> int | None:
    """A row starting `Name` with, unless the user said the file is the directory, a `CQC Location…` column."""
    for number, row in enumerate(rows):
        named = bool(row) and name_key(row[0]) == "name"
        if named and (told or any(name_key(cell).startswith("cqclocation") for cell in row)):
            return number
    return None


def _rsh_header(rows: list[list[str]], told: bool) -> int | None:
    """A row starting `Organisation name` with a `Designation` column: the RSH's list."""
    del told  # never a provider list the user names
    return next((number for number, row in enumerate(rows) if is_rsh_header(row)), None)


def _cqc_api_header(rows: list[list[str]], told: bool) -> int | None:
    """A row with `locationId` and, unless the user said the file is API records, another API key."""
    for number, row in enumerate(rows):
        cells = {cell.strip() for cell in row}
        if "locationId" in cells and (told or cells & _CQC_API_COLUMNS):
            return number
    return None


def _activity_rule(source: str) -> Callable[[list[list[str]], bool], int | None]:
    """The header rule of NHS England's RTT or DM01 extract."""

    def rule(rows: list[list[str]], told: bool) -> int | None:
        del told  # never a provider list the user names
        found = activity_header(rows)
        return found[1] if found is not None and found[0] == source else None

    return rule


def _dspt_header(rows: list[list[str]], told: bool) -> int | None:
    """A row with `Code`, `Organisation Name`, a status and `Primary Sector`: the DSPT export."""
    del told
    rows = rows[:HEADER_SEARCH_ROWS]
    return next((number for number, row in enumerate(rows) if is_dspt_header(row)), None)


# Tried in this order: the API's camel-case `locationId` before the HSCA file's `Location ID`.
_HEADER_RULES = {
    "cqc_api": _cqc_api_header,
    "cqc": _cqc_header,
    "cqc_directory": _directory_header,
    "rsh_register": _rsh_header,
    "rtt": _activity_rule("rtt"),
    "dm01": _activity_rule("dm01"),
    "dspt": _dspt_header,
}


def _table_format(path: Path, container: str, table: _Table) -> Format:
    at, preview = table.header_row, table.preview
    columns = _trimmed(preview.rows[at]) if at is not None else ()
    holds, vintages, reason = table.holds, ("",), ""
    if holds is None:
        holds, vintages, reason = _by_columns(columns, None)
    elif holds == UNKNOWN:
        reason = "has no rows"
    published = _published_in(table.above)
    if holds in ("cqc", "cqc_api", "cqc_directory"):
        vintages = (published or "",)
    if holds == "rsh_register":
        published = rsh_file_date(path.name)
        vintages = (published or "",)
    if holds in ("rtt", "dm01"):
        vintages = (period_in_rows(preview.rows, at) or "",)
    if holds == "dspt":
        published = saved_on(path.name)
        vintages = (published or "",)
    return Format(
        container,
        holds,
        columns,
        sheet=preview.name,
        header_row=at,
        rows=_rows_below(path, container, preview, at),
        vintages=vintages,
        published=published,
        reason=reason,
    )


def _rows_below(
    path: Path, container: str, preview: tables.SheetPreview, at: int | None
) -> int | None:
    """Rows under the header: counted in a CSV, as recorded in an XLSX, unknown in an ODS."""
    if at is None:
        return None
    if container == "csv":
        return _text_rows(path) - sum(1 for row in preview.rows[: at + 1] if row)
    return None if preview.size is None else max(preview.size - at - 1, 0)


def _text_rows(path: Path) -> int:
    """Non-blank CSV records, counted by lines with quotes balanced (fast on big files)."""
    records, quoted = 0, False
    with open(path, "rb") as file:
        for line in file:
            if not quoted and line.strip():
                records += 1
            quoted ^= line.count(b'"') % 2 == 1
    return records


def _is_nhs_ods_report(rows: list[list[str]]) -> bool:
    """Headerless records of exactly 27 fields: an organisation code, then …, a YYYYMMDD open date."""
    filled = [row for row in rows if any(cell.strip() for cell in row)]
    return bool(filled) and all(
        len(row) == len(NHS_ODS_COLUMNS)
        and _ODS_CODE.match(row[0].strip())
        and _ODS_DATE.match(row[10].strip())
        for row in filled
    )


def _report_in_name(name: str) -> str | None:
    """The NHS ODS report a file is named after ('ets.csv', 'epraccur (1).csv'), if any."""
    match = _REPORT_IN_NAME.match(name.casefold())
    return match.group(1) if match else None


def _published_in(rows: list[list[str]]) -> str | None:
    for row in rows:
        for cell in row:
            match = _PUBLISHED.search(str(cell))
            if match:
                with contextlib.suppress(ValueError):
                    return datetime.strptime(match.group(1), "%d %B %Y").date().isoformat()
    return None


def _trimmed(row: list[str]) -> tuple[str, ...]:
    cells = [str(cell).strip() for cell in row]
    while cells and not cells[-1]:
        cells.pop()
    return tuple(cells)


# --- judging by column names --------------------------------------------------------------

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


def _by_columns(columns: tuple[str, ...], geometry: str | None) -> tuple[str, tuple[str, ...], str]:
    """(holds, vintages, reason) of a table or layer judged by its column names alone."""
    if geometry and "polygon" in geometry.lower():
        return _boundaries_by_columns(columns)
    if set(code_history.REQUIRED_COLUMNS) <= set(columns):
        return "code_history", ("",), ""
    sub_icb_years, icb_years = _code_years(columns)
    if sub_icb_years and icb_years:
        return "sicbl_lookup", tuple(sorted(icb_years)), ""
    if _is_site_list(columns, geometry):
        return "generic", ("",), ""
    if icb_years:
        return (
            UNKNOWN,
            ("",),
            (
                "has ICB codes but no sub-ICB codes, so it is not a sub-ICB → ICB lookup "
                "and the app does not use it"
            ),
        )
    if any("planning_status" in c.lower() or "engag" in c.lower() for c in columns):
        return "engagement", ("",), ""
    return UNKNOWN, ("",), _why_not_used(columns, geometry)


def _boundaries_by_columns(columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], str]:
    layer = detect_layer(list(columns))
    if layer is not None:
        return layer.kind, (layer.vintage,), ""
    for column in columns:
        match = _AREA_CODE_COLUMN.match(column)
        if match:
            prefix = match.group(1).upper()
            area = _AREA_NAMES.get(prefix, f"{prefix} areas")
            return UNKNOWN, ("",), f"{area} boundaries are not used by the app"
    return (
        UNKNOWN,
        ("",),
        (
            "polygons without ICB, sub-ICB or NHS region code columns (such as ICB23CD, "
            "SICBL23CD, NHSER24CD), so not a boundary layer the app uses"
        ),
    )


def _code_years(columns: tuple[str, ...]) -> tuple[set[str], set[str]]:
    sub_icb, icb = set(), set()
    for column in columns:
        match = _CODE_COLUMN.match(column)
        if match:
            years = sub_icb if match.group(1).upper() == "SICBL" else icb
            years.add(f"20{match.group(2)}")
    return sub_icb, icb


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
