"""Problems as data: one row per cell that could not be used as the file gave it.

A reader never writes English about a bad value. It records where (`row`, `column`),
what was wrong (`kind`, a short code), the cell as the file gave it (`value`) and how
much it matters (`severity`). Validation decides each row from these fields, and
`sentence` words a problem, once, wherever a person reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from geo.model.sectors import UNKNOWN
from geo.model.text import cell_text
from geo.model.vocabulary import MAX_SITE_CAPACITY

# How much a problem matters; an analysis note carries one of these as its level too.
ERROR = "error"  # the value was needed: unless it is made good some other way, the row is rejected
WARNING = "warning"  # the row is kept, with the value left empty or counted as a default
NOTE = "note"  # worth knowing; nothing is lost
SEVERITIES: tuple[str, ...] = (ERROR, WARNING, NOTE)

# What was wrong with a value, in the order a report lists a row's problems.
NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative"
TOO_LARGE = "too_large"
UNKNOWN_SECTOR = "unknown_sector"
UNKNOWN_PLANNING_STATUS = "unknown_planning_status"
INVALID_POSTCODE = "invalid_postcode"
# A row's own evidence overrides or discounts it; `detail` names that evidence.
SECTOR_CONTRADICTS_CODE = "sector_contradicts_code"
CLOSED = "closed"
DORMANT = "dormant"
PROPOSED = "proposed"
UNKNOWN_STATUS_CODE = "unknown_status_code"
DUAL_REGISTRATION = "dual_registration"
# NHS England's activity extracts (geo.io.activity).
NOT_A_PERIOD = "not_a_period"
DTA_OVER_WAITING = "dta_over_waiting"
_SAYS: dict[str, str] = {
    NOT_A_NUMBER: "is not a number",
    NEGATIVE: "is negative",
    TOO_LARGE: f"is more than any one site plausibly has (over {MAX_SITE_CAPACITY:,})",
    UNKNOWN_SECTOR: f"not recognised, counted as {UNKNOWN}",
    UNKNOWN_PLANNING_STATUS: "not recognised (expected engaged or not engaged)",
    INVALID_POSTCODE: "is not a UK postcode",
    SECTOR_CONTRADICTS_CODE: "contradicts NHS trust code {detail}; counted as NHS",
    CLOSED: "marks it closed; kept, not counted",
    DORMANT: "marks it dormant; kept, not counted",
    PROPOSED: "marks it proposed, not yet open; kept, not counted",
    UNKNOWN_STATUS_CODE: "is not a known status code; counted as open",
    DUAL_REGISTRATION: "is a dual registration of {detail}; merged into it, counted once",
    NOT_A_PERIOD: "is not a month (expected e.g. RTT-June-2026); the row's period is left empty",
    DTA_OVER_WAITING: (
        "waiting with a decision to admit (Part_2A) is more than all waiting for {detail}; "
        "kept as published"
    ),
}
KINDS: tuple[str, ...] = tuple(_SAYS)
_NUMBER_KINDS = frozenset({NOT_A_NUMBER, NEGATIVE, TOO_LARGE})

# Problems of the file as a whole (its encoding, its header), not of one row: their `row`
# is FILE_ROW and `column` the file's column concerned, or "".
FILE_ROW = -1
NOT_UTF8 = "not_utf8"  # value: the lines read as Windows-1252 ("3, 7")
DUPLICATE_COLUMN = "duplicate_column"  # column: the name; value: what its repeats are called
HEADER_ROW = "header_row"  # value: the row (a CSV's line) the header was taken from, from 1
_FILE_SAYS: dict[str, str] = {
    NOT_UTF8: "lines not in UTF-8, read as Windows-1252 (check their accented letters): {value}",
    DUPLICATE_COLUMN: 'the header has "{column}" more than once; the repeats are read as {value}',
    HEADER_ROW: "the header was taken from row {value}; the rows above it were skipped",
}
FILE_KINDS: tuple[str, ...] = tuple(_FILE_SAYS)

# `row` is the row's label in the canonical table (readers number rows 0, 1, … in file
# order), or FILE_ROW for a problem of the whole file; `column` the canonical column, or the file's quantity when the slot held
# another one (an easting read into `lat`).
DTYPES: dict[str, str] = {
    "row": "int64",
    "column": "string",
    "kind": "string",
    "value": "string",
    "severity": "string",
}
COLUMNS: tuple[str, ...] = tuple(DTYPES)
# An optional last column, only on tables that have a problem citing evidence from
# elsewhere in its row (the trust code that decides a sector, the record merged into).
DETAIL = "detail"


def empty() -> pd.DataFrame:
    """A problems table without rows, typed: what a clean file has."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in DTYPES.items()})


def found(
    bad: pd.Series,
    kind: str,
    column: str,
    values: pd.Series,
    severity: str,
    detail: pd.Series | None = None,
) -> pd.DataFrame:
    """One problem per row where `bad` is true, quoting that row's cell of `values` as given;
    `detail` (per row) adds the DETAIL column with the evidence the sentence cites."""
    bad = bad.fillna(False).astype(bool)
    cells = values[bad]
    table = pd.DataFrame(
        {
            "row": cells.index,
            "column": column,
            "kind": kind,
            "value": [cell_text(cell) for cell in cells],
            "severity": severity,
        },
        columns=list(COLUMNS),
    )
    if detail is not None:
        table[DETAIL] = [cell_text(cell) for cell in detail[bad]]
    # The row labels keep the table's own index type; the rest is text.
    return table.astype({name: "string" for name in table.columns if name != "row"})


def about_file(kind: str, value: str, column: str = "", severity: str = NOTE) -> pd.DataFrame:
    """A problems table of one problem of the file as a whole (one of FILE_KINDS)."""
    row = {"row": FILE_ROW, "column": column, "kind": kind, "value": value, "severity": severity}
    return pd.DataFrame([row], columns=list(COLUMNS)).astype(DTYPES)


def of_file(table: pd.DataFrame) -> pd.DataFrame:
    """The problems of a table that are about the file as a whole, not one of its rows."""
    return table[table["row"] == FILE_ROW]


def of_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The problems of a table that are about one row each."""
    return table[table["row"] != FILE_ROW]


def concat(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Several problems tables as one, in order; still typed when none has a row."""
    filled = [table for table in tables if not table.empty]
    if not filled:
        return empty()
    joined = pd.concat(filled, ignore_index=True)
    return joined.astype({DETAIL: "string"}) if DETAIL in joined.columns else joined


def sentence(problem: Mapping[str, object]) -> str:
    """A problem as a person reads it: 'capacity: "ten" is not a number; left empty'."""
    kind = str(problem["kind"])
    if kind in _FILE_SAYS:
        return _FILE_SAYS[kind].format(column=problem["column"], value=problem["value"])
    detail = problem.get(DETAIL)
    says = _SAYS[kind].format(detail=detail if isinstance(detail, str) else "(not given)")
    text = f'{problem["column"]}: "{problem["value"]}" {says}'
    if kind in _NUMBER_KINDS and problem["severity"] == WARNING:
        return text + "; left empty"
    return text
