"""Read provider lists (CQC, NHS ODS reports, any CSV/XLSX/ODS/GeoJSON) into the canonical table."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from geo.io import tables
from geo.model import providers, sectors, text
from geo.model.errors import InputError

FORMATS: tuple[str, ...] = ("cqc", "cqc_directory", "ods", "generic")

# NHS ODS report code -> (sector, what one row of it is).
ODS_REPORTS: dict[str, tuple[str, str]] = {
    "ets": (sectors.NHS, "NHS trust site"),
    "etr": (sectors.NHS, "NHS trust"),
    "ephp": (sectors.INDEPENDENT, "Independent sector healthcare provider"),
    "ephpsite": (sectors.INDEPENDENT, "Independent sector healthcare provider site"),
    "epraccur": (sectors.NHS, "GP practice"),
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
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_ODS_DATE = re.compile(r"^(19|20)\d{6}$")


def read_sites(
    path: str | Path,
    fmt: str | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    ods_report: str | None = None,
    sheet: str | None = None,
    sector_rules: tuple[sectors.SectorRule, ...] | None = None,
) -> providers.ProviderList:
    """Read a provider list in any supported format into the canonical provider table,
    with the values it could not use as a problems table beside it.

    `fmt` is 'cqc', 'cqc_directory', 'ods' or 'generic' (None: `detect_format`).
    `columns` (canonical name -> the file's column) adds to or overrides the columns
    found by name; `ods_report` names an NHS ODS report (and implies fmt='ods');
    `sheet` picks a spreadsheet's sheet; `sector_rules` replaces the CQC sector rules.
    Every row of the file is in the sites, with a `source` naming the file.
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
        options["sector_rules"] = sector_rules or sectors.DEFAULT_CQC_RULES
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
    kind = tables.sniff_container(path)
    if kind in ("ods", "xlsx"):
        previews = tables.preview_sheets(path, kind)
        return "cqc" if _cqc_sheet(previews) else "generic"
    if kind != "text":
        return "generic"
    rows = tables.preview_text(path)
    if _header_index(rows) is not None:
        return "cqc"
    if any(",".join(row).startswith("Name,") and "CQC Location" in ",".join(row) for row in rows):
        return "cqc_directory"
    return "ods" if _looks_like_ods_report(rows) else "generic"


# --- CQC HSCA Active Locations ----------------------------------------------------------


def _read_cqc(
    path: Path, *, columns: dict, sheet: str | None, sector_rules: tuple
) -> providers.ProviderList:
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
    classified = sectors.classify_sectors(raw, sector_rules)
    table = pd.concat([derived, classified, raw], axis=1)
    mapping = {name: column for name, column in found.items() if name in _CANONICAL_NAMES}
    mapping.update({name: name for name in ("capacity", "service_type", "sector")})
    mapping.update(columns)
    return providers.to_canonical(table, mapping, source=f"CQC HSCA Active Locations ({path.name})")


def _cqc_table(path: Path, sheet: str | None) -> pd.DataFrame:
    """The CQC locations sheet as text columns, header found by scanning for 'Location ID'."""
    kind = tables.sniff_container(path)
    if kind == "text":
        rows = tables.preview_text(path)
        at = _header_index(rows)
        if at is None:
            raise InputError(f"CQC file {path.name}: no header row starting 'Location ID'")
        return tables.read_csv_text(path, skiprows=at)
    if kind not in ("ods", "xlsx"):
        raise InputError(f"CQC file {path.name}: expected an .ods, .xlsx or .csv file")
    previews = tables.preview_sheets(path, kind)
    name = sheet or _cqc_sheet(previews)
    if name is None:
        raise InputError(
            f"CQC file {path.name}: no sheet has a header row starting 'Location ID' "
            f"in its first {tables.PREVIEW_ROWS} rows"
        )
    rows = tables.sheet_rows(path, kind, name)
    return tables.frame_from_rows(path, rows, _header_index)


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
) -> providers.ProviderList:
    """`DD_Month_YYYY_CQC_directory.csv`: 15 columns after a 4-line preamble, postcodes only.

    The file has no ownership, type or charity fields, so only the provider-name rule
    can fire: councils become 'Local authority' and everyone else 'Unknown'.
    """
    del sheet  # a CSV has no sheets
    rows = tables.preview_text(path)
    at = next((n for n, row in enumerate(rows) if row and row[0].strip() == "Name"), None)
    if at is None:
        raise InputError(f"CQC directory {path.name}: no header line starting 'Name,'")
    raw = tables.read_csv_text(path, skiprows=at)
    found = _aliased_columns(raw.columns, _DIRECTORY_ALIASES)
    _require(path, raw, found, ("site_id", "site_name", "postcode"), _DIRECTORY_ALIASES)
    classified = sectors.classify_sectors(raw, sector_rules)
    table = pd.concat([classified, raw], axis=1)
    mapping = {**found, "sector": "sector", **columns}
    return providers.to_canonical(table, mapping, source=f"CQC care directory ({path.name})")


# --- NHS ODS headerless CSV reports -----------------------------------------------------


def _read_ods_report(
    path: Path, *, columns: dict, sheet: str | None, ods_report: str | None
) -> providers.ProviderList:
    """An NHS ODS report (ets, etr, ephp, ephpsite, epraccur): 27 headerless fields.

    The report fixes the sector. Closed organisations are kept, with `closed` True,
    for the caller to decide about. Postcodes only: no coordinates.
    """
    del sheet
    report = _ods_report_code(path, ods_report)
    sector, kind = ODS_REPORTS[report]
    raw = tables.read_csv_text(path, header=None)
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


def _read_generic(path: Path, *, columns: dict, sheet: str | None) -> providers.ProviderList:
    """Any CSV, XLSX, ODS or GeoJSON with named columns, found through a small alias table.

    Needs a name column and either coordinates (or point geometry) or a postcode.
    Sector labels ('NHS Sector', 'Private', 'VCSE', …) are normalised, unknown ones
    recorded as problems.
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
    kind = tables.sniff_container(path)
    if kind == "geo":
        return _geo_table(path)
    if kind in ("ods", "xlsx"):
        rows = tables.sheet_rows(path, kind, sheet)
        return tables.frame_from_rows(path, rows, tables.first_filled)
    return tables.read_csv_text(path)


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


# --- shared helpers: readable files, CQC's header, ODS reports --------------------------


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"provider list {path.name}: file not found at {path}")
    if path.stat().st_size == 0:
        raise InputError(f"provider list {path.name}: the file is empty")


def _cqc_sheet(previews: Iterable[tuple[str, list[list[str]]]]) -> str | None:
    """The first sheet, other than README and dual registrations, with CQC's header."""
    skip = {text.name_key(name) for name in _SHEET_SKIP}
    for name, rows in previews:
        if text.name_key(name) not in skip and _header_index(rows) is not None:
            return name
    return None


def _header_index(rows: list[list[str]]) -> int | None:
    """Where CQC's header is: the first row whose first cell is 'Location ID'."""
    return next(
        (n for n, row in enumerate(rows) if row and text.name_key(row[0]) == "locationid"), None
    )


def _looks_like_ods_report(rows: list[list[str]]) -> bool:
    """Headerless rows of ~27 fields: an organisation code first, a YYYYMMDD open date."""
    filled = [row for row in rows if any(row)]
    return bool(filled) and all(
        20 <= len(row) <= 30 and _ODS_CODE.match(row[0].strip()) and _ODS_DATE.match(row[10])
        for row in filled
    )


# --- column aliases ---------------------------------------------------------------------

_CANONICAL_NAMES = frozenset({*providers.CANONICAL_COLUMNS, providers.SICBL_COLUMN})


def _aliased_columns(names: Iterable[object], aliases: Mapping[str, tuple[str, ...]]) -> dict:
    """Canonical name -> the file's column, for every alias found (first alias wins)."""
    by_key: dict[str, object] = {}
    for name in names:
        by_key.setdefault(text.name_key(name), name)
    found = {}
    for canonical, spellings in aliases.items():
        column = next(
            (by_key[text.name_key(s)] for s in spellings if text.name_key(s) in by_key), None
        )
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


_READERS: dict[str, Callable[..., providers.ProviderList]] = {
    "cqc": _read_cqc,
    "cqc_directory": _read_cqc_directory,
    "ods": _read_ods_report,
    "generic": _read_generic,
}
