"""Read NHS England's monthly activity extracts into provider x commissioner figures.

RTT waiting times ("Full CSV data file", DATA-FORMATS-2.md §1) and DM01 diagnostics
(§2) are each one CSV, usually zipped, with one row per provider x commissioner x
treatment function (RTT) or test (DM01). `read_rtt` and `read_dm01` find the header
(current files have it on line 1; older RTT files have preamble rows above it), read
only the columns they need by name, and sum each provider x commissioner into the
measures of `geo.model.evidence` (ACTIVITY_COLUMNS):

- RTT: patients waiting (Part_2, `Total All`) and completed pathways (Part_1A + Part_1B).
  A provider x commissioner's pre-computed total (`C_999`) is used where the file has it,
  else the sum of its treatment functions; never both.
- DM01: diagnostic tests (`Total Activity`) and patients waiting for a test (`Total WL`),
  the 15 tests summed with the `TOTAL` rows left out, or `TOTAL` where only it is present.

A blank cell is "not reported", never 0: a provider x commissioner whose cells are all
blank gets NA. Blank commissioner parents (NHS England hubs, `NONC`) are kept as NA.
Every provider is kept (trusts too); the evidence join decides which matter. Bad rows are
returned as problems beside the figures (`read_activity_file`), whose `row` is the data
row of the file (0 = the first below the header).
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from geo.io import limits
from geo.model import problems
from geo.model.errors import InputError
from geo.model.evidence import (
    ACTIVITY_COLUMNS,
    COMPLETED_PATHWAYS,
    DIAGNOSTIC_TESTS,
    DM01,
    PATIENTS_WAITING,
    RTT,
    WAITING_FOR_TEST,
)

ACTIVITY_DTYPES: dict[str, str] = {
    **dict.fromkeys(ACTIVITY_COLUMNS, "string"),
    "value": "Float64",
}
HEADER_SEARCH_ROWS = 30  # lines looked through for the header (older files have a preamble)
_HEAD_BYTES = 64 * 1024

# Each slot a reader needs -> the header names it may go by, the current one first.
_COMMON: dict[str, tuple[str, ...]] = {
    "period": ("Period", "Period Name"),
    "provider_parent_code": ("Provider Parent Org Code",),
    "provider_code": ("Provider Org Code",),
    "provider_name": ("Provider Org Name",),
    "commissioner_parent_code": ("Commissioner Parent Org Code",),
    "commissioner_code": ("Commissioner Org Code",),
    "commissioner_name": ("Commissioner Org Name",),
}
_RTT: dict[str, tuple[str, ...]] = {
    **_COMMON,
    "part": ("RTT Part Type",),
    # Some months label the code column `Treatment Function Name` (NHSRtt:R/utils.R).
    "function": ("Treatment Function Code", "Treatment Function Name"),
    "total_all": ("Total All",),
}
_DM01: dict[str, tuple[str, ...]] = {
    **_COMMON,
    "test": ("Diagnostic Tests",),
    "total_wl": ("Total WL",),
    "total_activity": ("Total Activity",),
}
# Optional: older RTT files give the financial year here and only a month name in `Period`.
_YEAR = ("Year",)
_CODE_SLOTS = (
    "provider_parent_code",
    "provider_code",
    "commissioner_parent_code",
    "commissioner_code",
)
# What marks each extract's header row, beside `Provider Org Code`.
HEADER_MARKERS: dict[str, str] = {RTT: "RTT Part Type", DM01: "Diagnostic Tests"}
_LABELS = {RTT: "RTT waiting times", DM01: "DM01 diagnostics"}

_RTT_MEASURES = {
    "PART_2": PATIENTS_WAITING,
    "PART_1A": COMPLETED_PATHWAYS,
    "PART_1B": COMPLETED_PATHWAYS,
}
_RTT_TOTALS = frozenset({"C_999", "TOTAL"})  # the code, or its name where names stand in
_DM01_MEASURES = {"total_activity": DIAGNOSTIC_TESTS, "total_wl": WAITING_FOR_TEST}
_DM01_TOTAL = "TOTAL"


@dataclass(frozen=True)
class ActivityFile:
    """An activity extract read: the figures (ACTIVITY_COLUMNS) and the problems found."""

    rows: pd.DataFrame
    problems: pd.DataFrame
    header_row: int  # the header's line in the CSV, from 0


def read_rtt(path: str | Path, *, published: str | None = None) -> pd.DataFrame:
    """Patients waiting and completed pathways per provider x commissioner, from an RTT full
    CSV (or the zip holding it); `published` is the publisher's date for it, if known."""
    return read_activity_file(path, RTT, published=published).rows


def read_dm01(path: str | Path, *, published: str | None = None) -> pd.DataFrame:
    """Diagnostic tests and patients waiting for one per provider x commissioner, from a DM01
    full extract (or the zip holding it)."""
    return read_activity_file(path, DM01, published=published).rows


def read_activity_file(
    path: str | Path, source: str, *, published: str | None = None
) -> ActivityFile:
    """An RTT or DM01 extract (`source` RTT or DM01) read into figures and problems."""
    path = Path(path)
    what = f"{_LABELS[source]} file {path.name}"
    at, header = _find_header(path, source, what)
    slots = _RTT if source == RTT else _DM01
    columns = _columns_by_slot(header, slots, at, what)
    frame = _read_columns(path, at, columns)
    notes = [problems.about_file(problems.HEADER_ROW, str(at + 1))] if at else []
    frame, found = _tidied(frame)
    if source == RTT:
        rows, more = _rtt_measures(frame)
    else:
        rows, more = _dm01_measures(frame)
    rows = rows.assign(source=source, file=path.name, published=published)
    table = rows.reindex(columns=list(ACTIVITY_COLUMNS)).astype(ACTIVITY_DTYPES)
    ordered = table.sort_values(["period", "provider_code", "commissioner_code", "measure"])
    return ActivityFile(
        ordered.reset_index(drop=True), problems.concat([*notes, *found, *more]), at
    )


# --- finding the header ---------------------------------------------------------------------


def activity_header(rows: list[list[str]]) -> tuple[str, int] | None:
    """(RTT or DM01, the header's row) if one of the first rows is an activity extract's
    header: `Provider Org Code` with `RTT Part Type` or `Diagnostic Tests`."""
    for number, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = {cell.strip() for cell in row}
        if "Provider Org Code" not in cells:
            continue
        for source, marker in HEADER_MARKERS.items():
            if marker in cells:
                return source, number
    return None


def period_of(text: object, year: object = None) -> str | None:
    """'YYYY-MM' from a period cell ('RTT-June-2026', 'DM01-MAY-2026'); an older file's
    month name alone with its financial `year` ('2015-16'); None when it says neither."""
    value = str(text or "").strip()
    match = _PERIOD.search(value)
    if match:
        month = _MONTHS.get(match.group(1)[:3].casefold())
        return f"{match.group(2)}-{month:02d}" if month else None
    month = _MONTHS.get(value[:3].casefold()) if value.isalpha() else None
    first_year = re.match(r"\s*(\d{4})", str(year or ""))
    if month and first_year:
        calendar_year = int(first_year.group(1)) + (1 if month <= 3 else 0)
        return f"{calendar_year}-{month:02d}"
    return None


def period_in_rows(rows: list[list[str]], at: int) -> str | None:
    """The month of the first data row under the header at `at`, for a file's vintage."""
    header = [cell.strip() for cell in rows[at]]
    column = next((header.index(name) for name in _COMMON["period"] if name in header), None)
    first = next((row for row in rows[at + 1 :] if any(cell.strip() for cell in row)), None)
    if column is None or first is None or column >= len(first):
        return None
    year = first[header.index(_YEAR[0])] if _YEAR[0] in header[: len(first)] else None
    return period_of(first[column], year)


_PERIOD = re.compile(r"([A-Za-z]{3,})[-\s_]+(\d{4})\s*$")
_MONTHS = {name[:3].casefold(): number for number, name in enumerate(calendar.month_name) if name}


def head_rows(path: Path, what: str) -> list[list[str]]:
    """The first lines of the CSV (in its zip, if zipped) as rows, for finding a header."""
    with open_csv(path, what) as file:
        head = file.read(_HEAD_BYTES)
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) == _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return list(csv.reader(lines[:HEADER_SEARCH_ROWS]))


def _find_header(path: Path, source: str, what: str) -> tuple[int, list[str]]:
    rows = head_rows(path, what)
    found = activity_header(rows)
    if found is None or found[0] != source:
        marker = HEADER_MARKERS[source]
        raise InputError(
            f"{what}: no header row with 'Provider Org Code' and '{marker}' in its first "
            f"{HEADER_SEARCH_ROWS} lines; is this NHS England's full CSV extract?"
        )
    return found[1], rows[found[1]]


def _columns_by_slot(
    header: list[str], slots: dict[str, tuple[str, ...]], at: int, what: str
) -> dict[str, str]:
    """Slot -> the header cell as written (whitespace and all), or InputError naming the missing."""
    written = {cell.strip(): cell for cell in reversed(header)}  # the first of a repeated name
    found, missing = {}, []
    for slot, names in slots.items():
        name = next((name for name in names if name in written), None)
        if name is None:
            missing.append(" or ".join(repr(name) for name in names))
        else:
            found[slot] = written[name]
    if missing:
        raise InputError(f"{what}: its header (line {at + 1}) has no {', no '.join(missing)}")
    if _YEAR[0] in written:
        found["year"] = written[_YEAR[0]]
    return found


# --- reading --------------------------------------------------------------------------------


@contextlib.contextmanager
def open_csv(path: Path, what: str) -> Iterator[BinaryIO]:
    """The CSV's bytes: the file itself, or the one CSV inside a zip (InputError if not one)."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as file:
            yield file
        return
    with zipfile.ZipFile(path) as archive:
        limits.check_zip(archive, path.name, limits.current())
        with archive.open(zip_csv_member(archive, what)) as file:
            yield file


def zip_csv_member(archive: zipfile.ZipFile, what: str) -> str:
    """The zip's one CSV (the publisher ships exactly one), or InputError saying what it holds."""
    names = [
        name
        for name in archive.namelist()
        if name.casefold().endswith(".csv") and not name.startswith("__MACOSX/")
    ]
    if len(names) != 1:
        held = ", ".join(names) if names else "none"
        raise InputError(
            f"{what}: the zip holds {len(names)} CSV files ({held}); expected exactly one, "
            "the full extract"
        )
    return names[0]


def _read_columns(path: Path, at: int, columns: dict[str, str]) -> pd.DataFrame:
    """Only the needed columns, as text, blank cells NA, renamed to their slots."""
    what = f"activity file {path.name}"
    with open_csv(path, what) as file:
        frame = pd.read_csv(
            file,
            engine="pyarrow",
            skiprows=at,
            usecols=list(dict.fromkeys(columns.values())),
            dtype="string",
            encoding="utf-8",
            keep_default_na=False,
            na_values=[""],
        )
    frame.columns = [str(name) for name in frame.columns]
    return pd.DataFrame({slot: frame[name] for slot, name in columns.items()})


def _tidied(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Codes trimmed and upper-cased (blank -> NA), names trimmed, the period as 'YYYY-MM'
    (in place, column by column, so a month's file is never held twice)."""
    raw = frame["period"]
    for slot in _CODE_SLOTS:
        frame[slot] = _blank_as_na(frame[slot].str.strip().str.upper())
    for slot in ("provider_name", "commissioner_name"):
        frame[slot] = _blank_as_na(frame[slot].str.strip())
    years = frame["year"] if "year" in frame else pd.Series("", index=frame.index)
    keys = raw.fillna("") + _SEPARATOR + years.fillna("")
    periods = {key: period_of(*key.split(_SEPARATOR)) for key in keys.unique()}
    frame["period"] = keys.map(periods).astype("string")
    bad = frame["period"].isna()
    return frame, [problems.found(bad, problems.NOT_A_PERIOD, "Period", raw, problems.ERROR)]


_SEPARATOR = "\x1f"


def _blank_as_na(values: pd.Series) -> pd.Series:
    return values.mask(values == "")


def _numbers(frame: pd.DataFrame, slot: str, column: str) -> tuple[pd.Series, pd.DataFrame]:
    """A count column as numbers, blank NA; a cell that is not a number is NA and a problem."""
    text = frame[slot].str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("Float64")
    bad = values.isna() & text.notna() & (text != "")
    found = problems.found(bad, problems.NOT_A_NUMBER, column, frame[slot], problems.WARNING)
    return values, found


# --- summing --------------------------------------------------------------------------------

_PAIR = ["period", "provider_code", "commissioner_code"]
_FIRSTS = ["provider_name", "provider_parent_code", "commissioner_name", "commissioner_parent_code"]


def _rtt_measures(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Part_2 and Part_1A + Part_1B per provider x commissioner, C_999 where it is given."""
    value, found = _numbers(frame, "total_all", "Total All")
    part = frame["part"].str.strip().str.upper()
    is_total = frame["function"].str.strip().str.upper().isin(_RTT_TOTALS).fillna(False)
    wanted = part.isin([*_RTT_MEASURES, "PART_2A"]).fillna(False)
    rows = frame[wanted].assign(part=part[wanted], value=value[wanted])
    rows = rows[_one_way(rows, is_total[wanted], [*_PAIR, "part"], prefer_total=True)]
    dta = rows[rows["part"] == "PART_2A"]
    rows = rows[rows["part"] != "PART_2A"].assign(measure=lambda t: t["part"].map(_RTT_MEASURES))
    summed = _summed(rows)
    return summed, [found, _dta_over_waiting(dta, summed)]


def _dm01_measures(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Total Activity and Total WL per provider x commissioner, the 15 tests else TOTAL."""
    is_total = (frame["test"].str.strip().str.upper() == _DM01_TOTAL).fillna(False)
    kept = frame[_one_way(frame, is_total, _PAIR, prefer_total=False)]
    found, parts = [], []
    for slot, measure in _DM01_MEASURES.items():
        column = "Total Activity" if slot == "total_activity" else "Total WL"
        value, bad = _numbers(kept, slot, column)
        found.append(bad)
        parts.append(kept.assign(value=value, measure=measure))
    return _summed(pd.concat(parts)), found


def _one_way(
    rows: pd.DataFrame, is_total: pd.Series, keys: list[str], *, prefer_total: bool
) -> pd.Series:
    """Which rows to sum so a group is counted once: its total rows or its detail rows.

    `prefer_total`: the total where a group has one, else the detail (RTT's C_999); or the
    detail where a group has any, else the total (DM01's TOTAL).
    """
    preferred = is_total if prefer_total else ~is_total
    has_preferred = preferred.groupby([rows[key] for key in keys], dropna=False).transform("any")
    return preferred == has_preferred


def _summed(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per provider x commissioner x measure: values summed (all blank -> NA)."""
    grouped = rows.groupby([*_PAIR, "measure"], dropna=False, sort=False)
    names = grouped[_FIRSTS].first()
    values = grouped["value"].sum(min_count=1)
    return names.assign(value=values).reset_index()


def _dta_over_waiting(dta: pd.DataFrame, summed: pd.DataFrame) -> pd.DataFrame:
    """A problem where more wait with a decision to admit (Part_2A) than wait in all (Part_2):
    a known data error, flagged and not capped (DATA-FORMATS-2.md §1)."""
    if dta.empty:
        return problems.empty()
    by_pair = dta.groupby(_PAIR, dropna=False)
    with_dta = by_pair["value"].sum(min_count=1).rename("dta")
    first_row = by_pair.apply(lambda group: group.index[0], include_groups=False).rename("row")
    waiting = summed[summed["measure"] == PATIENTS_WAITING].set_index(_PAIR)["value"]
    pairs = pd.concat([with_dta, first_row], axis=1).join(waiting.rename("waiting"), how="left")
    over = pairs[(pairs["dta"] > pairs["waiting"]).fillna(False)]
    if over.empty:
        return problems.empty()
    labels = pd.Index(over["row"].astype("int64"))
    detail = pd.Series(
        [
            f"{provider}/{'no commissioner' if pd.isna(commissioner) else commissioner} "
            f"(Part_2 {waiting:g})"
            for (_, provider, commissioner), waiting in zip(
                over.index, over["waiting"], strict=True
            )
        ],
        index=labels,
    )
    values = pd.Series([f"{value:g}" for value in over["dta"]], index=labels)
    bad = pd.Series(True, index=labels)
    return problems.found(
        bad, problems.DTA_OVER_WAITING, "Total All", values, problems.WARNING, detail
    )
