"""Read provider lists (CQC, NHS ODS reports, any CSV/XLSX/OpenDocument/GeoJSON) into the canonical table."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from geo.io import cqc_api, cqc_registrations, ods_reports, recognise, tables
from geo.model import problems, providers, sector_coverage, sectors, status, text, trust_codes
from geo.model.errors import InputError
from geo.model.registers import Register

# Reports whose rows are sites of a parent organisation (column 15); in the others each
# row is a provider in its own right (in epraccur column 15 is the commissioner).
_NHS_ODS_SITE_REPORTS = frozenset({"ets", "ephpsite"})

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


def read_sites(
    path: str | Path,
    sniffed: recognise.Format | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    ods_report: str | None = None,
    sector_rules: tuple[sectors.SectorRule, ...] | None = None,
    registers: Mapping[str, Register] | None = None,
    nhs_trusts: frozenset[str] | None = None,
) -> providers.ProviderList:
    """Read a provider list in any supported format into the canonical provider table,
    with the values it could not use as a problems table beside it.

    `sniffed` is what `recognise.sniff` said of the file (None: it is sniffed here); it
    picks the reader and says where the table starts. `columns` (canonical name -> the
    file's column) adds to or overrides the columns found by name; `ods_report` names
    the NHS ODS report, over the one in the file's name; `sector_rules` replaces the CQC
    sector rules; `registers` (name -> Register, loaded by the caller) are what the
    rules that look a provider up in a register use: rules whose register is missing,
    or whose column the file lacks, are listed in `ProviderList.rules_not_run`. Every
    row of the file is in the sites (`ProviderList.sites`), with a `source` naming the file.

    Whatever the format, a site run by an NHS trust by its ODS code is NHS
    (`trust_codes.nhs_by_code`; `nhs_trusts`, the codes of a loaded etr/ets, confirms
    each trust), and every site says whether it counts (`status.STATUS_COLUMNS`, after
    the canonical columns): closed, dormant and merged dual registrations are kept but
    not counted.
    """
    path = Path(path)
    sniffed = sniffed or recognise.sniff(path, nhs_ods_report=ods_report)
    if sniffed.holds in recognise.REGISTER_FORMATS:
        raise InputError(
            f"{path.name}: is a register ({sniffed.publisher}) that the sector rules look "
            "providers up in, not a provider list; take it into the cache with "
            "`python -m geo fetch --from DIR`"
        )
    fmt = sniffed.site_format
    options: dict = {"columns": dict(columns or {})}
    if fmt == "nhs_ods":
        options["ods_report"] = ods_report or sniffed.nhs_ods_report
    elif fmt in recognise.RULE_FORMATS:
        options["sector_rules"] = sector_rules or sectors.DEFAULT_CQC_RULES
        options["registers"] = dict(registers or {})
    listed = trust_codes.nhs_by_code(_READERS[fmt](path, sniffed, **options), nhs_trusts)
    sites = status.with_status(listed.sites, listed.problems, after=providers.SICBL_COLUMN)
    return replace(listed, sites=sites)


# --- CQC HSCA Active Locations ----------------------------------------------------------


def _read_cqc(
    path: Path, sniffed: recognise.Format, *, columns: dict, sector_rules: tuple, registers: dict
) -> providers.ProviderList:
    """CQC's register (ODS streamed, XLSX, CSV): one row per registered location.

    Capacity is `Care homes beds` for care homes only (blank, never 0, otherwise);
    service_type the primary inspection category, else the first ticked service type;
    sector from the CQC sector rules, with the rule that decided in `sector_rule`.
    Dormant locations are noted, and dual registrations merged into their primary
    record (`cqc_registrations`).
    """
    read = _cqc_table(path, sniffed)
    raw = read.frame
    found = _aliased_columns(raw.columns, _CQC_ALIASES)
    _require(path, raw, found, ("site_id", "site_name"), _CQC_ALIASES)
    derived = pd.DataFrame(
        {
            "capacity": _care_home_beds(raw, found),
            "service_type": _primary_service(raw, found.get("category")),
        },
        index=raw.index,
    )
    classified = sector_coverage.classify_with_coverage(raw, sector_rules, registers)
    table = pd.concat([derived, classified, raw], axis=1)
    mapping = {name: column for name, column in found.items() if name in _CANONICAL_NAMES}
    mapping.update({name: name for name in ("capacity", "service_type", "sector")})
    mapping.update(columns)
    listed = providers.to_canonical(
        table, mapping, source=f"CQC HSCA Active Locations ({path.name})"
    )
    listed = _with_sector_gaps(listed, raw, classified["sector_rule"], sector_rules, registers)
    dormant = cqc_registrations.dormant_problems(listed.sites)
    listed = replace(listed, problems=problems.concat([listed.problems, dormant]))
    listed = cqc_registrations.merge_dual_registrations(listed, path, sniffed)
    return _noting(listed, read.noticed)


def _cqc_table(path: Path, sniffed: recognise.Format) -> tables.TextTable:
    """The CQC locations table as text columns, under the header `sniff` found."""
    if sniffed.container == "geo":
        raise InputError(f"CQC file {path.name}: expected an .ods, .xlsx or .csv file")
    if sniffed.header_row is None:
        raise InputError(
            f"CQC file {path.name}: no header row with a 'Location ID' column in the first "
            f"{tables.PREVIEW_ROWS} rows of any sheet"
        )
    return _table_under_header(path, sniffed)


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


# --- CQC API location records ----------------------------------------------------------


def _read_cqc_api(
    path: Path, sniffed: recognise.Format, *, columns: dict, sector_rules: tuple, registers: dict
) -> providers.ProviderList:
    """CQC Syndication API location records: JSON as the API returns them, or flattened."""
    if sniffed.container == "json":
        raw = cqc_api.load_json_records(path)
    elif sniffed.header_row is None:
        raise InputError(f"CQC API file {path.name}: no header row with a 'locationId' column")
    else:
        raw = _table_under_header(path, sniffed).frame
    return cqc_api.read_records(
        path, raw, columns=columns, sector_rules=sector_rules, registers=registers
    )


# --- older CQC care directory CSV -------------------------------------------------------


def _read_cqc_directory(
    path: Path, sniffed: recognise.Format, *, columns: dict, sector_rules: tuple, registers: dict
) -> providers.ProviderList:
    """`DD_Month_YYYY_CQC_directory.csv`: 15 columns after a 4-line preamble, postcodes only.

    The file has no ownership, type or charity fields, so only the provider-name rule
    can fire: councils become 'Local authority' and everyone else 'Unknown', their
    `sector_rule` naming the rules that could not run.
    """
    if sniffed.header_row is None:
        raise InputError(f"CQC directory {path.name}: no header line starting 'Name,'")
    read = _table_under_header(path, sniffed)
    raw = read.frame
    found = _aliased_columns(raw.columns, _DIRECTORY_ALIASES)
    _require(path, raw, found, ("site_id", "site_name", "postcode"), _DIRECTORY_ALIASES)
    classified = sector_coverage.classify_with_coverage(raw, sector_rules, registers)
    table = pd.concat([classified, raw], axis=1)
    mapping = {**found, "sector": "sector", **columns}
    listed = providers.to_canonical(table, mapping, source=f"CQC care directory ({path.name})")
    listed = _with_sector_gaps(listed, raw, classified["sector_rule"], sector_rules, registers)
    return _noting(listed, read.noticed)


def _with_sector_gaps(
    listed: providers.ProviderList,
    raw: pd.DataFrame,
    decided_by: pd.Series,
    rules: tuple,
    registers: dict,
) -> providers.ProviderList:
    """The list with what its sector rules could not decide: rules that could not run, and
    names close to a register's that were not applied."""
    return replace(
        listed,
        rules_not_run=sectors.rules_not_run(raw, decided_by, rules, registers),
        near_misses=sectors.near_misses(raw, decided_by, rules, registers),
    )


# --- NHS ODS headerless CSV reports -----------------------------------------------------


def _read_nhs_ods_report(
    path: Path, sniffed: recognise.Format, *, columns: dict, ods_report: str | None
) -> providers.ProviderList:
    """An NHS ODS report (ets, etr, ephp, ephpsite, epraccur): 27 headerless fields.

    The report fixes the sector, except in epraccur, where each row's Prescribing Setting
    says what it is (`ods_reports.classify_settings`). Closed (Close Date passed),
    dormant and proposed organisations are kept and noted as problems, for `read_sites`
    to flag. Postcodes only: no coordinates.
    """
    del sniffed  # headerless: the layout is NHS_ODS_COLUMNS
    report = _nhs_ods_report_code(path, ods_report)
    sector, kind = recognise.NHS_ODS_REPORTS[report]
    read = tables.read_csv_text(path, header=None)
    raw = read.frame
    if raw.shape[1] < 15:
        raise InputError(
            f"ODS report {path.name}: has {raw.shape[1]} columns; expected the 27 of an NHS "
            "ODS report (organisation code, name, …, postcode in 10, parent in 15)"
        )
    names = [*recognise.NHS_ODS_COLUMNS, *(f"Column {n}" for n in range(28, raw.shape[1] + 1))]
    raw.columns = names[: raw.shape[1]]
    if report == "epraccur":
        blank = pd.Series(pd.NA, index=raw.index, dtype="string")  # a file cut short
        derived = ods_reports.classify_settings(raw.get("Prescribing Setting", blank))
    else:
        rule = ods_reports.report_rule(report)
        derived = pd.DataFrame(
            {"sector": sector, "service_type": kind, "sector_rule": rule}, index=raw.index
        )
    table = pd.concat([derived, raw], axis=1)
    mapping = {
        "site_id": "Organisation Code",
        "site_name": "Name",
        "postcode": "Postcode",
        "sector": "sector",
        "service_type": "service_type",
    }
    if report in _NHS_ODS_SITE_REPORTS:
        mapping["provider_id"] = "Parent Organisation Code"
    else:
        mapping.update(provider_id="Organisation Code", provider_name="Name")
    mapping.update(columns)
    listed = providers.to_canonical(table, mapping, source=f"NHS ODS {report} ({path.name})")
    closed = ods_reports.status_problems(raw)
    listed = replace(listed, problems=problems.concat([listed.problems, closed]))
    return _noting(listed, read.noticed)


def _nhs_ods_report_code(path: Path, report: str | None) -> str:
    """The report asked for or named in the file's name ('ets.csv'), checked."""
    code = (report or "").strip().casefold()
    if code in recognise.NHS_ODS_REPORTS:
        return code
    problem = (
        f"report {report!r} is not one of"
        if report
        else "cannot tell the report from its name; give --ods-report, one of"
    )
    reports = ", ".join(recognise.NHS_ODS_REPORTS)
    raise InputError(f"ODS report {path.name}: {problem} {reports}")


# --- generic files ----------------------------------------------------------------------


def _read_generic(
    path: Path, sniffed: recognise.Format, *, columns: dict
) -> providers.ProviderList:
    """Any CSV, XLSX, ODS or GeoJSON with named columns, found through a small alias table.

    Needs a name column and either coordinates (or point geometry) or a postcode.
    Sector labels ('NHS Sector', 'Private', 'VCSE', …) are normalised, unknown ones
    recorded as problems.
    """
    if sniffed.container == "geo":
        read = tables.TextTable(_geo_table(path), problems.empty())
    else:
        read = _table_under_header(path, sniffed)
    raw = read.frame
    found = _aliased_columns(raw.columns, _GENERIC_ALIASES)
    found.setdefault("official_icb_code", _ons_icb_column(raw.columns))
    found = {name: column for name, column in found.items() if column is not None}
    if "geometry_lat" in raw.columns:
        found.update(lat="geometry_lat", lon="geometry_lon")
    found.update(columns)
    _require_generic(path, raw, found)
    if "sector" not in found and "sector_rule" not in raw.columns:
        raw = raw.assign(sector_rule=sector_coverage.NO_SECTOR_COLUMN)  # said, not silent
    listed = providers.to_canonical(raw, found, source=f"provider list ({path.name})")
    return _noting(listed, read.noticed)


def _table_under_header(path: Path, sniffed: recognise.Format) -> tables.TextTable:
    """A CSV's or spreadsheet sheet's rows as text columns, under the header `sniff` found."""
    if sniffed.container == "csv":
        return tables.read_csv_text(path, skiprows=sniffed.header_row or 0)
    rows = tables.sheet_rows(path, sniffed.container, sniffed.sheet)
    return tables.frame_from_rows(path, rows, lambda _preview: sniffed.header_row)


def _noting(listed: providers.ProviderList, noticed: pd.DataFrame) -> providers.ProviderList:
    """The list with what was noticed about its file as a whole added to its problems."""
    return replace(listed, problems=problems.concat([listed.problems, noticed]))


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
    "cqc_api": _read_cqc_api,
    "cqc_directory": _read_cqc_directory,
    "nhs_ods": _read_nhs_ods_report,
    "generic": _read_generic,
}
