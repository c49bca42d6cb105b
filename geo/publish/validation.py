"""The row-by-row validation report analysts see before a provider list is published.

Every input row is accepted, accepted with a warning, or rejected, with its row number,
the column(s) at fault and a reason naming the value, so nothing is dropped silently.
England is tested here by a bounding box only; sites inside it but outside every ICB
(Wales, Scotland near the border, the sea) are flagged later by spatial assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.geocode import offline as geocode
from geo.io import exports
from geo.model import postcodes, problems, settings
from geo.model.errors import InputError
from geo.model.numbers import read_numbers
from geo.model.providers import ProviderList
from geo.model.text import counted
from geo.model.vocabulary import ENGLAND_BOX_TEXT, in_england, looks_swapped

ACCEPTED = "accepted"
WARNING = "warning"
REJECTED = "rejected"
STATUSES: tuple[str, ...] = (ACCEPTED, WARNING, REJECTED)

# A column a reader may add with each row's line or row number in the file; without it
# rows are numbered by position (1 = the first data row).
ROW_COLUMN = "source_row"
REPORT_COLUMNS: tuple[str, ...] = ("row", "site_id", "site_name", "status", "column", "reason")

_MB = 1024 * 1024
# Where a file's coordinates can be: lat/lon, or a grid reference read into those slots.
_COORDINATE_COLUMNS = ("lat", "lon", "easting", "northing")


@dataclass(frozen=True)
class ValidationReport:
    """What will happen to each row of a provider list, and the rows on each side.

    `rows`: one per input row (REPORT_COLUMNS, several issues joined with '; ');
    `accepted`: the usable sites (accepted and warning rows, input columns unchanged);
    `rejected`: the rejected input rows, `row` and `reason` first, every input column
    kept; `counts`: accepted, warning, rejected and total, which always add up.
    """

    file_name: str
    rows: pd.DataFrame
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    counts: dict[str, int]

    def summary(self) -> str:
        """One line for the command line and the upload page."""
        c = self.counts
        return (
            f"{self.file_name}: {counted(c['total'], 'row')}: {c['accepted']:,} accepted, "
            f"{c['warning']:,} accepted with a warning, {c['rejected']:,} rejected"
        )


def validate_sites(listed: ProviderList, *, file_name: str) -> ValidationReport:
    """Judge every row of a provider list (read and geocoded), from its sites and the
    problems its reader found, so an analyst sees exactly which rows will be published
    and why the others will not."""
    sites = listed.sites
    _check_columns(sites, file_name)
    facts = _Facts(sites, listed.problems)
    issues = _Issues(len(facts.table))
    for rule in _RULES:
        rule(facts, issues)
    return _report(sites, facts, issues.verdicts(), file_name)


def rejected_csv(report: ValidationReport) -> bytes:
    """The rejected rows with their reasons as a CSV that is safe to open in Excel."""
    return exports.csv_bytes(report.rejected)


def check_upload_size(n_bytes: int, file_name: str) -> None:
    """Refuse a file over the upload limit (setting ICS_UPLOAD_LIMIT_MB) before reading it."""
    limit = _upload_limit_mb()
    if n_bytes <= limit * _MB:
        return
    size = n_bytes / _MB
    shown = f"{size:,.0f}" if round(size) > limit else f"{size:,.1f}"
    raise InputError(
        f"{file_name} is {shown} MB; the upload limit is {limit:g} MB (setting ICS_UPLOAD_LIMIT_MB)"
    )


def _upload_limit_mb() -> float:
    value = settings.get_setting("upload_limit_mb")
    try:
        limit = float(value)
    except ValueError:
        limit = float("nan")
    if not limit > 0:
        raise InputError(
            f'setting ICS_UPLOAD_LIMIT_MB is "{value}"; expected a number of megabytes above 0'
        )
    return limit


def _check_columns(sites: pd.DataFrame, file_name: str) -> None:
    missing = [column for column in ("site_name", "lat", "lon") if column not in sites.columns]
    if missing:
        raise InputError(
            f"{file_name}: the site table has no column(s) {', '.join(missing)}; expected the "
            "canonical provider table from geo.io.readers.read_sites"
        )


# --- what is known about each row -------------------------------------------------------


class _Facts:
    """The columns the rules read, by position, typed and trimmed once, and the reader's
    problems with the position of their row and the sentence that says them."""

    def __init__(self, sites: pd.DataFrame, found: pd.DataFrame) -> None:
        table = sites.reset_index(drop=True)
        self.table = table
        self.row = _row_numbers(table)
        self.site_id = _text(table, "site_id")
        self.site_name = _text(table, "site_name")
        self.postcode = _text(table, "postcode")
        self.status = _text(table, "geocode_status")
        self.source = _text(table, "geocode_source")
        self.lat = read_numbers(table["lat"]).numbers  # only finite numbers are coordinates
        self.lon = read_numbers(table["lon"]).numbers
        self.problems = _positioned(problems.of_rows(found), sites.index)
        self.located = (self.lat.notna() & self.lon.notna()).to_numpy(dtype=bool)
        self.n = len(table)

    def reasons(self, kind: str, column: str) -> pd.Series:
        """Per row, the sentence of its problem of this kind in this column (NA where none)."""
        reasons = pd.Series(pd.NA, index=self.table.index, dtype="string")
        hits = self.problems[(self.problems["kind"] == kind) & (self.problems["column"] == column)]
        reasons.iloc[hits["position"].to_numpy()] = hits["reason"].to_numpy()
        return reasons


def _positioned(found: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """The problems of rows still in the table, with each row's position and the sentence."""
    positions = index.get_indexer(found["row"])
    kept = found[positions >= 0].assign(position=positions[positions >= 0])
    reasons = [problems.sentence(problem) for problem in kept.to_dict("records")]
    return kept.assign(reason=pd.Series(reasons, index=kept.index, dtype="string"))


def _row_numbers(table: pd.DataFrame) -> pd.Series:
    if ROW_COLUMN in table.columns:
        numbers = pd.to_numeric(table[ROW_COLUMN], errors="coerce").astype("Int64")
        if numbers.notna().all():
            return numbers
    return pd.Series(np.arange(1, len(table) + 1), index=table.index, dtype="Int64")


def _text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        return pd.Series(pd.NA, index=table.index, dtype="string")
    text = table[column].astype("string").str.strip()
    return text.mask(text == "")


# --- the rules ------------------------------------------------------------------------------


class _Issues:
    """Issues found so far, as (position, rule order, status, column, reason) rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, status: str, column: str, reason: str | pd.Series) -> None:
        """Record an issue for the rows in `mask`; `reason` is one text or one per row."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        texts = [reason] * len(positions) if isinstance(reason, str) else reason.iloc[positions]
        self.add_at(positions, status, column, texts)

    def add_at(self, positions, status: str, column, reason) -> None:
        """Record an issue at each position, with one column and reason or one per position."""
        if not len(positions):
            return
        part = pd.DataFrame(
            {
                "position": np.asarray(positions),
                "order": len(self.parts),
                "status": status,
                "column": np.asarray(column, dtype=object),
                "reason": np.asarray(reason, dtype=object),
            }
        )
        self.parts.append(part)

    def verdicts(self) -> pd.DataFrame:
        """Status, column(s) and reason(s) per position; rows without issues are accepted."""
        status = np.full(self.n, ACCEPTED, dtype=object)
        column = np.full(self.n, "", dtype=object)
        reason = np.full(self.n, "", dtype=object)
        if self.parts:
            issues = pd.concat(self.parts).sort_values(["position", "order"], kind="stable")
            at = issues["position"].to_numpy()
            statuses, columns = issues["status"].tolist(), issues["column"].tolist()
            reasons = issues["reason"].tolist()
            starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
            for start, end in zip(starts, np.r_[starts[1:], len(at)], strict=True):
                row = at[start]
                status[row] = REJECTED if REJECTED in statuses[start:end] else WARNING
                column[row] = "; ".join(dict.fromkeys(c for c in columns[start:end] if c))
                reason[row] = "; ".join(reasons[start:end])
        return pd.DataFrame({"status": status, "column": column, "reason": reason})


def _missing_name(facts: _Facts, issues: _Issues) -> None:
    issues.add(facts.site_name.isna(), REJECTED, "site_name", "site_name: missing")


def _duplicate_ids(facts: _Facts, issues: _Issues) -> None:
    ids = facts.site_id
    repeated = (ids.notna() & ids.duplicated(keep="first")).to_numpy(dtype=bool)
    if not repeated.any():
        return
    first_row = facts.row.groupby(ids).transform("first").astype("string")
    reason = 'site_id: "' + ids + '" repeats row ' + first_row + " (first kept)"
    issues.add(repeated, REJECTED, "site_id", reason)


def _coordinates(facts: _Facts, issues: _Issues) -> None:
    """Non-numbers, missing coordinates (with why geocoding did not help), swapped, outside."""
    bad_text = _not_numbers(facts, issues)
    missing = ~facts.located & ~bad_text
    for mask, column, reason in _missing_reasons(facts, missing):
        issues.add(mask, REJECTED, column, reason)
    lat = facts.lat.to_numpy(dtype=float, na_value=np.nan)
    lon = facts.lon.to_numpy(dtype=float, na_value=np.nan)
    swapped = facts.located & looks_swapped(lat, lon)
    outside = facts.located & ~swapped & ~in_england(lat, lon)
    if not (swapped | outside).any():
        return
    pair = "lat " + _coordinate_text(facts.lat) + ", lon " + _coordinate_text(facts.lon)
    issues.add(swapped, REJECTED, "lat/lon", "lat/lon look swapped: " + pair)
    where = ", from postcode " + facts.postcode.fillna("")
    geocoded = facts.status.str.startswith("found").fillna(False).to_numpy(dtype=bool)
    reason = (
        "lat/lon: "
        + pair
        + f" is outside England ({ENGLAND_BOX_TEXT})"
        + where.where(geocoded & facts.postcode.notna().to_numpy(dtype=bool), "")
    )
    issues.add(outside, REJECTED, "lat/lon", reason)


def _not_numbers(facts: _Facts, issues: _Issues) -> np.ndarray:
    """Coordinates that were text: a rejection, or a warning when the postcode placed the row."""
    any_bad = np.zeros(facts.n, dtype=bool)
    placed = facts.located & facts.status.str.startswith("found").fillna(False).to_numpy(dtype=bool)
    for column in _COORDINATE_COLUMNS:
        reason = facts.reasons(problems.NOT_A_NUMBER, column)
        bad = reason.notna().to_numpy(dtype=bool)
        issues.add(bad & ~placed, REJECTED, column, reason)
        later = reason + "; placed by its postcode " + facts.postcode.fillna("") + " instead"
        issues.add(bad & placed, WARNING, column, later)
        any_bad |= bad & ~placed
    return any_bad


def _missing_reasons(facts: _Facts, missing: np.ndarray):
    """(mask, column, reason) for rows without coordinates, by what geocoding said."""
    status = facts.status.fillna("")
    postcode = facts.postcode
    has_postcode = postcode.notna().to_numpy(dtype=bool)
    label = facts.source.map(geocode.source_label, na_action="ignore").astype("string")
    label = label.fillna("the postcode lookup")
    checks = [
        (~has_postcode, "lat/lon", "lat/lon: missing and no postcode"),
        (
            status == postcodes.INVALID,
            "postcode",
            'lat/lon: missing and postcode "' + postcode + '" is not a UK postcode',
        ),
        (
            status == postcodes.NOT_FOUND,
            "postcode",
            "postcode: " + postcode + " not found in " + label,
        ),
        (
            status == postcodes.NO_GRID,
            "postcode",
            "postcode: " + postcode + " has no grid reference in " + label,
        ),
        (
            status.str.startswith(postcodes.FAILED_PREFIX),
            "postcode",
            "postcode: " + postcode + " could not be looked up (" + status + ")",
        ),
    ]
    claimed = np.zeros(facts.n, dtype=bool)
    for condition, column, reason in checks:
        mask = missing & ~claimed & np.asarray(condition, dtype=bool)
        claimed |= mask
        yield mask, column, reason
    left = "lat/lon: missing; postcode " + postcode.fillna("") + " was not geocoded"
    yield missing & ~claimed, "lat/lon", left


def _terminated(facts: _Facts, issues: _Issues) -> None:
    status = facts.status.fillna("")
    used = status.str.startswith(postcodes.TERMINATED_PREFIX).to_numpy(dtype=bool) & facts.located
    when = status.str.extract(r"\(terminated ?(\d*)\)", expand=False).fillna("")
    reason = (
        "postcode: "
        + facts.postcode.fillna("")
        + " is terminated"
        + (" since " + when).where(when != "", "")
        + "; its last known location is used"
    )
    issues.add(used, WARNING, "postcode", reason)


def _postcode_shape(facts: _Facts, issues: _Issues) -> None:
    """A malformed postcode on a row placed by its coordinates: worth fixing, not fatal."""
    reason = facts.reasons(problems.INVALID_POSTCODE, "postcode")
    issues.add(reason.notna().to_numpy(dtype=bool) & facts.located, WARNING, "postcode", reason)


def _reader_problems(facts: _Facts, issues: _Issues) -> None:
    """The rest of what the reader found (capacity, sector, planning status), kind by
    kind, in the words of `problems.sentence`; an error rejects the row."""
    found = facts.problems
    coordinate = (found["kind"] == problems.NOT_A_NUMBER) & found["column"].isin(
        _COORDINATE_COLUMNS
    )
    found = found[~coordinate & (found["kind"] != problems.INVALID_POSTCODE)]
    for kind in problems.KINDS:
        for severity, group in found[found["kind"] == kind].groupby("severity", sort=False):
            status = REJECTED if severity == problems.ERROR else WARNING
            issues.add_at(group["position"], status, group["column"], group["reason"])


_RULES = (
    _missing_name,
    _duplicate_ids,
    _coordinates,
    _terminated,
    _postcode_shape,
    _reader_problems,
)


# --- helpers ----------------------------------------------------------------------------------


def _coordinate_text(values: pd.Series) -> pd.Series:
    """Coordinates as people write them: at least 2 decimals, at most 6 ('53.80', '-1.5491')."""
    return values.map(_coordinate, na_action="ignore").astype("string").fillna("")


def _coordinate(value: float) -> str:
    text = f"{value:.6f}".rstrip("0")
    decimals = len(text.split(".")[1])
    return text + "0" * (2 - decimals) if decimals < 2 else text


def _report(
    sites: pd.DataFrame, facts: _Facts, verdicts: pd.DataFrame, file_name: str
) -> ValidationReport:
    index = sites.index
    rows = pd.DataFrame(
        {
            "row": facts.row.to_numpy(),
            "site_id": facts.site_id.to_numpy(),
            "site_name": facts.site_name.to_numpy(),
            "status": verdicts["status"].to_numpy(),
            "column": verdicts["column"].to_numpy(),
            "reason": verdicts["reason"].to_numpy(),
        },
        index=index,
    ).astype({"row": "Int64", "site_id": "string", "site_name": "string", "status": "string"})
    rejected_mask = (verdicts["status"] == REJECTED).to_numpy()
    rejected = sites[rejected_mask].rename(
        columns={c: f"input_{c}" for c in ("row", "reason") if c in sites.columns}
    )
    rejected.insert(0, "reason", rows.loc[rejected_mask, "reason"].to_numpy())
    rejected.insert(0, "row", rows.loc[rejected_mask, "row"].to_numpy())
    counts = {status: int((verdicts["status"] == status).sum()) for status in STATUSES}
    counts["total"] = len(sites)
    return ValidationReport(
        file_name=file_name,
        rows=rows,
        accepted=sites[~rejected_mask],
        rejected=rejected,
        counts=counts,
    )
