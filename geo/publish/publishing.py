"""The analyst's one path from a file to a published version, shared by the upload page and the CLI.

`prepare` reads a provider list, engagement list or boundary file, places sites
(coordinates, grid references or postcodes) and judges every row, without touching
the store; `publish` then stores what was accepted as the dataset's next version.
"""

from __future__ import annotations

import getpass
import hashlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from geo import workspace
from geo.analysis import engagement, pipeline
from geo.fetch import catalogue
from geo.fetch.registers import registers_for
from geo.geocode.offline import bng_to_latlon, geocode_sites, postcode_file_from_settings
from geo.io import boundaries, readers, recognise
from geo.model import access, errors, problems, sector_coverage, settings, status, trust_codes
from geo.model.errors import InputError
from geo.model.progress import StepProgress
from geo.model.providers import ProviderList
from geo.model.registers import Register
from geo.model.text import counted
from geo.publish import validation
from geo.publish.mapping import GRID_FIELDS, preview
from geo.store.versions import Store, Version

KINDS: tuple[str, ...] = ("sites", "engagement", "boundaries")
GEOCODE_CHOICES: tuple[str, ...] = ("offline", "online")
UPLOAD_TYPES: dict[str, tuple[str, ...]] = {
    "sites": ("csv", "xlsx", "ods", "geojson", "json", "gpkg", "zip"),
    "engagement": ("csv", "xlsx"),
    "boundaries": ("geojson", "json", "gpkg", "zip"),
}
# (step, share of the work done): what `prepare` is doing, for a progress bar.

_FORMAT_LABELS: dict[str, str] = {
    "cqc": "CQC HSCA Active Locations (care directory with filters)",
    "cqc_api": "CQC API location records (JSON, or flattened to a table)",
    "cqc_directory": "CQC care directory (CSV)",
    "nhs_ods": "NHS ODS report (headerless CSV)",
    "generic": "a provider list in no known format: its columns are found by name",
    "engagement": "planning-engagement list",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_CHUNK = 1024 * 1024


@dataclass
class Prepared:
    """A file read and judged, ready to publish: the table that would be stored and why.

    `counts` (accepted, warned, rejected) add up to the input rows; `table` holds the
    accepted and warned rows; `report` is the row-by-row ValidationReport (sites only).
    """

    kind: str
    dataset: str
    file_name: str
    checksum: str
    table: pd.DataFrame
    report: validation.ValidationReport | None
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    fmt: str = ""
    publisher: str = ""

    @property
    def total(self) -> int:
        """How many rows the file had."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line for the command line and the page: rows accepted, warned and rejected."""
        c = self.counts
        return (
            f"{self.file_name}: {self.total:,} {_rows(self.total)}: {c['accepted']:,} accepted, "
            f"{c['warned']:,} accepted with a warning, {c['rejected']:,} rejected"
        )

    def rejections(self, limit: int = 5) -> list[str]:
        """The first rejected rows as 'row N: reason', for a summary."""
        if self.report is None:
            return []
        rows = self.report.rows
        rejected = rows[rows["status"] == validation.REJECTED].head(limit)
        return [
            f"row {row}: {reason}"
            for row, reason in zip(rejected["row"], rejected["reason"], strict=True)
        ]


def prepare(
    path: str | Path,
    kind: str,
    *,
    file_name: str | None = None,
    fmt: str | None = None,
    columns: Mapping[str, str] | None = None,
    ods_report: str | None = None,
    vintage: str | None = None,
    geocode: str | None = None,
    postcode_file: str | Path | None = None,
    progress: StepProgress | None = None,
    sniffed: recognise.Format | None = None,
    registers: Mapping[str, Register] | None = None,
    nhs_trusts: frozenset[str] | None = None,
    sector_for_file: str | None = None,
    store: Store | None = None,
) -> Prepared:
    """Read and judge a file the way it would be published, without changing the store.

    `kind` is 'sites', 'engagement' or 'boundaries'. Sites: `sniffed` is what
    `recognise_upload` found (None: the file is sniffed here); `fmt` (one of
    recognise.SITE_FORMATS) says what the list is instead, and `ods_report` which NHS ODS
    report it is (as `recognise.sniff` takes them); `columns` maps canonical names (and
    'easting'/'northing', which become lat/lon) to the file's columns; `geocode` 'offline'
    (ONSPD/NSPL `postcode_file`, else setting ICS_ONSPD_PATH) or 'online' (postcodes.io)
    places rows without coordinates; `registers` are the voluntary-sector registers the
    sector rules look providers up in (None: the ones in the download cache). Boundaries:
    `fmt` is the layer kind (icb, sicbl, nhser) when the file has no ONS code columns,
    `vintage` its year. `nhs_trusts` (codes of an ODS etr/ets) confirms NHS trust codes.
    `sector_for_file` (one of sectors.SECTORS) gives every row that sector, with
    `sector_rule` 'set_for_file'.
    Engagement lists: matched against the provider list every page uses (from `store`,
    else the cache), and refused if no row names one of its providers.
    """
    path = Path(path)
    _check_request(path, kind, geocode)
    step = progress or (lambda _step, _share: None)
    name = file_name or path.name
    validation.check_upload_size(path.stat().st_size, name)  # the page's limit, on the CLI too
    step(f"Reading {name}", 0.0)
    checksum = file_checksum(path)
    if kind == "sites":
        if sniffed is None or fmt is not None:
            sniffed = recognise.sniff(path, fmt, nhs_ods_report=ods_report)
        prepared = _prepare_sites(
            path,
            name,
            sniffed,
            columns,
            ods_report,
            geocode,
            postcode_file,
            step,
            registers,
            nhs_trusts,
            sector_for_file,
        )
    elif kind == "engagement":
        prepared = _prepare_engagement(path, name, columns, store)
    else:
        prepared = _prepare_boundaries(path, name, fmt, columns, vintage, sniffed)
    prepared.checksum = checksum
    step("Checked", 1.0)
    return prepared


def publish(
    prepared: Prepared,
    store: Store,
    *,
    by: access.Identity,
    dataset: str | None = None,
    source: str | None = None,
) -> Version:
    """Store what `prepare` accepted as the dataset's next version, all or nothing, if
    `by` is an analyst (checked here, not only by the page): the audit log records `by`;
    then analyse every loaded vintage with it and keep the analyses in the store for every
    page.

    `source` names the provider source a provider list is (its dataset is then the
    source's: `workspace.source_dataset`); without it, a provider list goes to `dataset`,
    else the default source.
    """
    access.require_role(by, access.ANALYST, "publish")
    if prepared.table.empty:
        raise InputError(nothing_to_publish(prepared))
    if source is not None and prepared.kind != "sites":
        raise InputError(f"{prepared.file_name}: only a provider list is published as a source")
    if source is not None:
        dataset = workspace.source_dataset(store, source)
    dataset = dataset or prepared.dataset
    if prepared.kind == "engagement":
        _engagement_matches(prepared.table, prepared.file_name, store)
    if prepared.kind == "boundaries" and dataset != prepared.dataset:
        raise InputError(
            f"dataset {dataset}: {prepared.file_name} holds the layer that is published as "
            f"{prepared.dataset}; a boundary layer's name says which layer and vintage it is",
            control=errors.DATASET,
        )
    version = store.publish(
        dataset,
        prepared.kind,
        prepared.table,
        author=by.author,
        file_name=prepared.file_name,
        checksum=prepared.checksum,
        counts=dict(prepared.counts),
        meta={"publisher": prepared.publisher, "format": prepared.fmt, "notes": prepared.notes},
        source=source,
    )
    workspace.store_analyses(store)  # the work of a first page view, done once here
    return version


def revert(store: Store, dataset: str, version: int, *, by: access.Identity) -> Version:
    """Make an earlier version of `dataset` current again, if `by` is an analyst (checked
    here, not only by the page): the audit log records `by`."""
    access.require_role(by, access.ANALYST, "revert a dataset")
    reverted = store.revert(dataset, version, author=by.author)
    workspace.store_analyses(store)  # every page's next view reads the new state's analyses
    return reverted


def withdraw(store: Store, dataset: str, *, by: access.Identity) -> Version:
    """Take `dataset` out of use (a new version with no rows, history kept), if `by` is an
    analyst (checked here, not only by the page): the audit log records `by`."""
    access.require_role(by, access.ANALYST, "withdraw a dataset")
    withdrawn = store.withdraw(dataset, author=by.author)
    workspace.store_analyses(store)
    return withdrawn


def default_author() -> str:
    """Who publishes when nobody says: setting ICS_AUTHOR, else the operating-system user."""
    configured = settings.get_setting("author").strip()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return ""


def uploads_allowed() -> bool:
    """Whether the analysts' pages are shown (setting ICS_ALLOW_UPLOADS)."""
    return settings.get_setting("allow_uploads").strip().casefold() in _TRUE


def file_checksum(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a megabyte at a time: the audit log's fingerprint."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Recognised:
    """What an uploaded file is, said before it is read: its format, in words, what `sniff`
    found (for `prepare`, so the file is not sniffed again), and for a provider list in no
    known format, its first rows for the column-mapping step."""

    fmt: str
    label: str
    preview: pd.DataFrame | None = None
    sniffed: recognise.Format | None = None


def recognise_upload(path: str | Path, kind: str, fmt: str | None = None) -> Recognised:
    """The format a file will be read as, named for the page, with a preview if it needs mapping.

    `fmt` (one of recognise.SITE_FORMATS) is the format the user says a provider list is.
    """
    path = Path(path)
    sniffed = recognise.sniff(path, fmt if kind == "sites" else None)
    if kind == "sites":
        fmt = sniffed.site_format
        listed_by_name = fmt == "generic" and sniffed.holds not in recognise.REGISTER_FORMATS
        shown = preview(path, sniffed) if listed_by_name else None
        return Recognised(fmt, _format_label(sniffed), shown, sniffed)
    if kind == "engagement":
        return Recognised("engagement", _FORMAT_LABELS["engagement"], sniffed=sniffed)
    layer = boundaries.detect_layer(list(sniffed.columns))
    if layer is None:
        return Recognised("boundaries", "a boundary file without ONS code columns", sniffed=sniffed)
    label = f"ONS {layer.kind.upper()} boundaries, {layer.vintage} vintage ({layer.code})"
    return Recognised("ons", label, sniffed=sniffed)


def site_format_label(fmt: str) -> str:
    """How the page names a provider-list format (one of recognise.SITE_FORMATS)."""
    return _FORMAT_LABELS[fmt]


def _format_label(sniffed: recognise.Format, ods_report: str | None = None) -> str:
    """How the page and the notes name what a provider list was read as."""
    if sniffed.holds in recognise.REGISTER_FORMATS:
        return f"a register ({sniffed.publisher}), not a provider list"
    label = _FORMAT_LABELS[sniffed.site_format]
    report = ods_report or sniffed.nhs_ods_report
    if sniffed.site_format == "nhs_ods" and report in recognise.NHS_ODS_REPORTS:
        label += f": {report}, one row per {recognise.NHS_ODS_REPORTS[report][1]}"
    return label


def upload_limit_mb() -> int | None:
    """Whole megabytes for an upload widget from ICS_UPLOAD_LIMIT_MB; None when the setting
    is not a number (`validation.check_upload_size` then says so)."""
    try:
        return max(1, math.ceil(float(settings.get_setting("upload_limit_mb"))))
    except ValueError:
        return None


# --- sites ------------------------------------------------------------------------------


def _prepare_sites(
    path,
    name,
    sniffed,
    columns,
    ods_report,
    geocode,
    postcode_file,
    step,
    registers,
    nhs_trusts,
    sector_for_file=None,
) -> Prepared:
    """read_sites -> one sector for the file -> grid references -> geocode -> validate_sites."""
    mapping, grid = _split_grid(name, columns)
    fmt = sniffed.site_format
    registers = registers_for(sniffed, registers)
    listed = readers.read_sites(
        path, sniffed, columns=mapping, ods_report=ods_report, registers=registers,
        nhs_trusts=nhs_trusts,
    )  # fmt: skip
    if sector_for_file:
        listed = sector_coverage.set_sector_for_file(listed, sector_for_file)
    notes = [f"read as {_format_label(sniffed, ods_report)}"]
    notes += [note.text for note in pipeline.sector_notes(listed, registers)]
    notes += _counting_notes(listed.sites)
    notes += [problems.sentence(p) for p in problems.of_file(listed.problems).to_dict("records")]
    if grid:
        listed = _from_grid(listed, grid)
        notes.append(f"lat/lon from grid references in {grid['easting']} and {grid['northing']}")
    step(f"Placing {counted(len(listed.sites), 'site')}", 0.3)
    sites = geocode_postcodes(listed.sites, geocode, postcode_file, step)
    notes += geocode_notes(sites, geocode)
    notes += [text for text, _level in sector_coverage.sector_notes(sites)]
    step("Checking every row", 0.85)
    report = validation.validate_sites(replace(listed, sites=sites), file_name=name)
    counts = {
        "accepted": report.counts[validation.ACCEPTED],
        "warned": report.counts[validation.WARNING],
        "rejected": report.counts[validation.REJECTED],
    }
    return Prepared(
        kind="sites",
        dataset=workspace.SITES,
        file_name=name,
        checksum="",
        table=report.accepted.reset_index(drop=True),
        report=report,
        counts=counts,
        notes=notes,
        fmt=fmt,
        publisher="" if fmt == "generic" else sniffed.publisher,
    )


def _counting_notes(sites: pd.DataFrame) -> list[str]:
    """What the reader decided about counting: sites left out (closed, dormant, dual
    registrations merged) and sectors taken from NHS trust codes."""
    left_out = status.counted_sites(sites)[1]
    said = [status.status_sentence(left_out), trust_codes.decided_sentence(sites)]
    return [text for text in said if text]


def _split_grid(name: str, columns: Mapping[str, str] | None) -> tuple[dict, dict]:
    """The mapping for the reader, and the easting/northing columns, which it does not know."""
    mapping = {key: value for key, value in (columns or {}).items() if value}
    grid = {key: mapping.pop(key) for key in GRID_FIELDS if key in mapping}
    if len(grid) == 1:
        given, missing = next(iter(grid)), next(k for k in GRID_FIELDS if k not in grid)
        raise InputError(
            f"{name}: column mapping names an {given} column but no {missing} column",
            control=errors.COLUMNS,
        )
    if grid:
        # The reader has no grid columns, so it reads them in the lat/lon slots, typed and
        # checked as numbers; _from_grid converts them. Mapped lat/lon columns give way.
        mapping.update(lat=grid["easting"], lon=grid["northing"])
    return mapping, grid


def _from_grid(listed: ProviderList, grid: dict[str, str]) -> ProviderList:
    """Sites whose lat/lon slots hold eastings/northings, with those turned into WGS84, and
    the problems of those slots named for what the file held."""
    sites = listed.sites.copy()
    easting, northing = sites["lat"], sites["lon"]
    lat, lon = bng_to_latlon(easting, northing)
    sites["lat"] = pd.array(lat, dtype="Float64")
    sites["lon"] = pd.array(lon, dtype="Float64")
    sites["easting"], sites["northing"] = easting, northing
    named = listed.problems["column"].replace({"lat": "easting", "lon": "northing"})
    return replace(listed, sites=sites, problems=listed.problems.assign(column=named))


def geocode_postcodes(
    sites: pd.DataFrame,
    geocode: str | None,
    postcode_file: str | Path | None = None,
    step: StepProgress | None = None,
) -> pd.DataFrame:
    """Missing coordinates filled from postcodes as asked; a status per row either way.

    The one way sites are placed by postcode, for publishing and for `assign`/`metrics`:
    `geocode` 'offline' (ONSPD/NSPL `postcode_file`, else ICS_ONSPD_PATH), 'online'
    (postcodes.io) or None (only the statuses).
    """
    step = step or (lambda _step, _share: None)

    def progress(done: int, total: int | None) -> None:
        share = done / total if total else 0.5
        step(
            f"Geocoding postcodes ({done:,} of {total:,})" if total else "Geocoding",
            0.3 + 0.5 * share,
        )

    if geocode == "offline":
        index = Path(postcode_file) if postcode_file else postcode_file_from_settings()
        if index is None:
            raise InputError(
                "offline geocoding needs an ONSPD or NSPL file: name one, or set ICS_ONSPD_PATH",
                control=errors.POSTCODE_FILE,
            )
        try:
            return geocode_sites(sites, index=index, progress=progress)
        except InputError as error:  # the postcode file named cannot be used
            raise InputError(str(error), control=errors.POSTCODE_FILE) from None
    return geocode_sites(sites, online=geocode == "online", progress=progress)


def geocode_notes(sites: pd.DataFrame, geocode: str | None) -> list[str]:
    """What geocoding did, in a line: how many postcodes were placed, or that none were asked."""
    status = sites["geocode_status"].astype("string")
    asked = ~status.isin(["coordinates given", "no postcode"])
    if not asked.any():
        return []
    found = status.str.startswith("found").fillna(False)
    if geocode is None:
        n = int(asked.sum())
        return [
            f"{n:,} {_rows(n)} without coordinates {'has' if n == 1 else 'have'} a postcode: choose a geocoder to place them"
        ]
    source = sites.loc[found, "geocode_source"].dropna().astype(str).unique()
    where = f" ({', '.join(source)})" if len(source) else ""
    return [f"{int(found.sum()):,} of {int(asked.sum()):,} postcodes geocoded{where}"]


# --- engagement lists and boundaries ----------------------------------------------------


def _prepare_engagement(path: Path, name: str, columns, store: Store | None) -> Prepared:
    listed = engagement.load_engagement(path, columns=dict(columns) if columns else None)
    statuses = listed["planning_status"].value_counts()
    notes = [", ".join(f"{count:,} {status}" for status, count in statuses.items())]
    notes.append(_engagement_matches(listed, name, store))
    return Prepared(
        kind="engagement",
        dataset=workspace.ENGAGEMENT,
        file_name=name,
        checksum="",
        table=listed,
        report=None,
        counts={"accepted": len(listed), "warned": 0, "rejected": 0},
        notes=[note for note in notes if note],
        fmt="engagement",
    )


def _engagement_matches(listed: pd.DataFrame, name: str, store: Store | None) -> str:
    """How many rows name a provider of the provider list every page uses, as a note; an
    InputError when none does, since such a list would mark every I+V site 'not engaged'."""
    current = workspace.current_sites(store)
    if current is None:
        return "no provider list is loaded yet, so the list could not be matched to one"
    sites, label = current
    matched = engagement.count_matching_rows(sites, listed)
    if matched == 0 and len(listed):
        raise InputError(
            f"engagement list {name}: none of its {len(listed):,} rows names a provider of the "
            f"provider list every page uses ({label}, {counted(len(sites), 'site')}) by ID or name; "
            "published, it would mark every independent and voluntary site 'not engaged'. "
            "Check its provider ID and name columns, or publish the provider list it was made "
            "for first"
        )
    return (
        f"{matched:,} of {counted(len(listed), 'row')} ({matched / max(len(listed), 1):.0%}) name a "
        f"provider of the provider list every page uses ({label}) by ID or name"
    )


def _prepare_boundaries(
    path: Path, name: str, layer_kind, columns, vintage, sniffed: recognise.Format | None
) -> Prepared:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = boundaries.load_boundaries(
            path, kind=layer_kind, columns=dict(columns) if columns else None, vintage=vintage
        )
    notes = [str(warning.message) for warning in caught] + boundaries.check_boundaries(layer)
    kinds = layer[["kind", "vintage"]].drop_duplicates()
    found_kind, found_vintage = kinds.iloc[0]["kind"], kinds.iloc[0]["vintage"]
    repaired = int(layer["repaired"].sum())
    return Prepared(
        kind="boundaries",
        dataset=workspace.boundary_dataset(found_kind, found_vintage),
        file_name=name,
        checksum="",
        table=layer,
        report=None,
        counts={"accepted": len(layer) - repaired, "warned": repaired, "rejected": 0},
        notes=notes,
        fmt="ons" if columns is None else "boundaries",
        publisher=_boundary_publisher(path, name, columns, found_kind, found_vintage, sniffed),
    )


def _boundary_publisher(path, name, columns, kind, vintage, sniffed) -> str:
    """ONS for a layer with ONS's columns, unless the file says it is a reconstruction."""
    header = (sniffed or recognise.sniff(path)).columns
    credit = catalogue.reconstruction_credit(name, header, kind, vintage)
    return credit or (recognise.ONS if columns is None else "")


# --- checks -----------------------------------------------------------------------------


def _check_request(path: Path, kind: str, geocode: str | None) -> None:
    if kind not in KINDS:
        raise InputError(f"{path.name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if geocode is not None and geocode not in GEOCODE_CHOICES:
        raise InputError(f"geocode {geocode!r}: expected one of {', '.join(GEOCODE_CHOICES)}")
    if not path.is_file():
        raise InputError(f"{path.name}: file not found at {path}")


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


def nothing_to_publish(prepared: Prepared) -> str:
    """Why a prepared file cannot be published: it had no rows, or every row was rejected."""
    if prepared.total == 0:
        return f"nothing to publish: {prepared.file_name} has no rows"
    if prepared.total == 1:
        return f"nothing to publish: the only row of {prepared.file_name} was rejected"
    return f"nothing to publish: all {prepared.total:,} rows of {prepared.file_name} were rejected"
