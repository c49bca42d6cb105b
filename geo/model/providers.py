"""The canonical provider-site table: one shape for every provider list, whoever published it.

Every reader (CQC, NHS ODS, generic) produces this one table so that assignment,
metrics, maps and briefings never care where a provider list came from, and beside it
a table of the values it could not use (`geo.model.problems`). Sectors and the rules
that give each site one live in `geo.model.sectors`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from geo.model import numbers, problems, sectors
from geo.model.errors import InputError
from geo.model.postcodes import is_postcode, normalise_postcodes
from geo.model.sectors import (
    UNKNOWN,
)
from geo.model.text import (
    identity_text,
    identity_texts,
    label_key,
    lookup_labels,
    trimmed_text,
    unrecognised_labels,
)
from geo.model.vocabulary import MAX_SITE_CAPACITY

# The columns every provider list is turned into, in this order. Publishers'
# other columns are passed through after these, unrenamed.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "site_id",
    "site_name",
    "provider_id",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "planning_status",
    "postcode",
    "lat",
    "lon",
    "official_icb_code",
    "source",
)

ENGAGED = "engaged"
NOT_ENGAGED = "not engaged"
UNKNOWN_STATUS = "unknown"
PLANNING_STATUSES: tuple[str, ...] = (ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS)

# Canonical columns that follow CANONICAL_COLUMNS in every canonical table, before the
# publisher's own columns: the publisher's sub-ICB (E38) code, from which
# `attach_official_icb` derives `official_icb_code`.
SICBL_COLUMN = "official_sicbl_code"
CANONICAL_EXTRAS: tuple[str, ...] = (SICBL_COLUMN,)

# A number that is not one leaves its cell empty: fatal for a coordinate, not for capacity.
_NUMBER_SEVERITY: dict[str, str] = {
    "capacity": problems.WARNING,
    "lat": problems.ERROR,
    "lon": problems.ERROR,
}
_NUMBER_COLUMNS = tuple(_NUMBER_SEVERITY)
# Columns that say which site or provider a row is: compared, matched and checked for
# duplicates, so kept as `identity_text` (invisible characters removed, NFC).
_IDENTITY_COLUMNS = ("site_id", "provider_id")
# Where a number column's values can be; lat/lon take any finite number, because a list
# of grid references is read into them before being converted.
_PLAUSIBLE: dict[str, numbers.Plausible] = {"capacity": numbers.Plausible(0, MAX_SITE_CAPACITY)}
CANONICAL_DTYPES: dict[str, str] = {
    name: "Float64" if name in _NUMBER_COLUMNS else "string"
    for name in (*CANONICAL_COLUMNS, *CANONICAL_EXTRAS)
}


# --- planning statuses ----------------------------------------------------------------

_STATUS_LABELS: dict[str, str] = {
    **dict.fromkeys(["yes", "y", "true", "engaged", "member"], ENGAGED),
    **dict.fromkeys(
        ["no", "n", "false", "not engaged", "non engaged", "not member", "non member"],
        NOT_ENGAGED,
    ),
    **dict.fromkeys(["", "unknown", "not known"], UNKNOWN_STATUS),
}


def normalise_planning_statuses(values: pd.Series) -> pd.Series:
    """Map free-text statuses ('Yes', 'member', 'N') onto PLANNING_STATUSES; else 'unknown'."""
    return _match_statuses(values)[0]


def unrecognised_planning_statuses(values: pd.Series) -> list[str]:
    """The distinct non-blank statuses `normalise_planning_statuses` could not place, sorted."""
    return unrecognised_labels(values, label_key, _STATUS_LABELS)


def _match_statuses(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Planning statuses for free-text labels, and a mask of the cells that were recognised."""
    return lookup_labels(values, label_key, _STATUS_LABELS, UNKNOWN_STATUS)


# --- postcodes, capacity and the canonical table --------------------------------------


def parse_capacity(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Capacity (beds, places) as Float64, and a mask of the non-blank cells that were not
    a plausible number (0 to MAX_SITE_CAPACITY). Blank stays NA, never 0."""
    read = numbers.read_numbers(values, _PLAUSIBLE["capacity"])
    return read.numbers, read.not_a_number | read.too_low | read.too_high


@dataclass(frozen=True)
class ProviderList:
    """A provider list read: its sites in the canonical shape, and what was wrong with them.

    `sites` has CANONICAL_COLUMNS, then CANONICAL_EXTRAS, then the publisher's columns;
    `problems` has a row per value that could not be used (`geo.model.problems`), its
    `row` a label of `sites`' index. A bad value is left empty (or defaulted) in `sites`.
    `rules_not_run` and `near_misses` are what the sector rules could not decide
    (`sectors.rules_not_run`, `sectors.near_misses`), for the report to say.
    """

    sites: pd.DataFrame
    problems: pd.DataFrame
    rules_not_run: tuple[sectors.RuleNotRun, ...] = ()
    near_misses: tuple[sectors.NearMiss, ...] = ()


def to_canonical(raw: pd.DataFrame, mapping: Mapping[str, str], *, source: str) -> ProviderList:
    """Turn a publisher's table into the canonical provider table, so nothing downstream
    cares where the list came from, with a problem row for every value it could not use.

    `mapping` is canonical name -> raw column. The sites have CANONICAL_COLUMNS, then
    CANONICAL_EXTRAS, then every unmapped raw column unrenamed (one whose name clashes
    with a canonical column becomes 'raw_<name>'). A raw column already named like a
    canonical column is used as that column when `mapping` leaves it out. Missing
    columns are NA; `sector` defaults to 'Unknown', `planning_status` to 'unknown'.
    """
    columns = _resolve_mapping(raw, mapping, source)
    found: list[pd.DataFrame] = []
    table = pd.DataFrame(index=raw.index)
    for name in (*CANONICAL_COLUMNS, SICBL_COLUMN):
        picked = raw[columns[name]] if name in columns else None
        table[name], bad = _canonical_column(name, picked, raw.index, source)
        found.extend(bad)
    sites = pd.concat([table, _passthrough(raw, columns)], axis=1)
    return ProviderList(sites, problems.concat(found))


def _resolve_mapping(raw: pd.DataFrame, mapping: Mapping[str, str], source: str) -> dict:
    """Check the mapping against the file and add identity mappings for canonical names."""
    allowed = (*CANONICAL_COLUMNS, SICBL_COLUMN)
    for name, column in mapping.items():
        if name not in allowed:
            raise InputError(
                f"{source}: column mapping names {name!r}, which is not a canonical column; "
                f"expected one of {', '.join(allowed)}"
            )
        if column not in raw.columns:
            raise InputError(f"{source}: {_missing_column_message(raw, column, name)}")
    columns = dict(mapping)
    used = set(mapping.values())
    for name in allowed:
        if name not in columns and name in raw.columns and name not in used:
            columns[name] = name
    return columns


def _missing_column_message(raw: pd.DataFrame, column: object, name: str) -> str:
    found = [str(c) for c in raw.columns]
    close = difflib.get_close_matches(str(column), found, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
    return f"column {column!r} (mapped to {name}) is not in the file{hint} Found: {listed}"


def _canonical_column(
    name: str, values: pd.Series | None, index: pd.Index, source: str
) -> tuple[pd.Series, list[pd.DataFrame]]:
    """One canonical column, typed, and the problems of the rows whose value was bad."""
    if values is None:
        default = {"sector": UNKNOWN, "planning_status": UNKNOWN_STATUS, "source": source}
        return pd.Series(default.get(name), index=index, dtype=CANONICAL_DTYPES[name]), []
    if name in _NUMBER_COLUMNS:
        return _number_column(name, values)
    text = trimmed_text(values)
    if name == "sector":
        labels, known = sectors.match_sector_labels(text)
        kind = problems.UNKNOWN_SECTOR
        return labels, [problems.found(~known, kind, name, text, problems.WARNING)]
    if name == "planning_status":
        statuses, known = _match_statuses(text)
        kind = problems.UNKNOWN_PLANNING_STATUS
        return statuses, [problems.found(~known, kind, name, text, problems.WARNING)]
    if name == "postcode":
        postcodes = normalise_postcodes(identity_texts(text))
        bad = text.notna() & ~is_postcode(postcodes)
        kind = problems.INVALID_POSTCODE
        return postcodes, [problems.found(bad, kind, name, text, problems.WARNING)]
    if name in ("official_icb_code", SICBL_COLUMN):
        return identity_texts(text).str.upper(), []
    if name in _IDENTITY_COLUMNS:
        return identity_texts(text), []
    if name == "source":
        return text.fillna(source), []
    return text, []


def _number_column(name: str, values: pd.Series) -> tuple[pd.Series, list[pd.DataFrame]]:
    """A number column as Float64; cells that are no finite number, or out of the column's
    plausible range (capacity below 0 or above CAPACITY_MAX), are NA with a problem."""
    read = numbers.read_numbers(values, _PLAUSIBLE.get(name, numbers.ANY))
    severity = _NUMBER_SEVERITY[name]
    found = [
        problems.found(read.not_a_number, problems.NOT_A_NUMBER, name, values, severity),
        problems.found(read.too_low, problems.NEGATIVE, name, values, severity),
        problems.found(read.too_high, problems.TOO_LARGE, name, values, severity),
    ]
    return read.numbers, found


def _passthrough(raw: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The raw columns the mapping did not use, renamed only where they would clash."""
    used = set(columns.values())
    rest = raw[[column for column in raw.columns if column not in used]]
    taken = set(CANONICAL_COLUMNS) | set(CANONICAL_EXTRAS)
    return rest.rename(columns=lambda c: f"raw_{c}" if c in taken else c)


# --- official ICB from the publisher's sub-ICB code -----------------------------------


def attach_official_icb(
    sites: pd.DataFrame, sicbl_to_icb: Mapping[str, str], *, sicbl_column: str = SICBL_COLUMN
) -> pd.DataFrame:
    """Fill blank `official_icb_code` from the publisher's sub-ICB (E38) code, using the
    lookup of the chosen vintage; codes already there are kept. See `unmapped_sicbl_codes`."""
    codes = _sicbl_codes(sites, sicbl_column)
    lookup = {_code(k): _code(v) for k, v in sicbl_to_icb.items()}
    derived = codes.map(lookup).astype("string")
    result = sites.copy()
    current = (
        identity_texts(result["official_icb_code"])
        if "official_icb_code" in result
        else pd.Series(pd.NA, index=result.index, dtype="string")
    )
    result["official_icb_code"] = current.fillna(derived)
    return result


def unmapped_sicbl_codes(
    sites: pd.DataFrame, sicbl_to_icb: Mapping[str, str], *, sicbl_column: str = SICBL_COLUMN
) -> pd.DataFrame:
    """Sub-ICB codes the lookup does not know, with how many sites carry each (most first),
    so the caller can say '12 sites have sub-ICB code E38000999 that the 2023 lookup does
    not know'."""
    codes = _sicbl_codes(sites, sicbl_column)
    known = {_code(k) for k in sicbl_to_icb}
    unknown = codes[codes.notna() & ~codes.isin(known)]
    counts = unknown.value_counts().rename_axis("sicbl_code").reset_index(name="sites")
    counts = counts.sort_values(["sites", "sicbl_code"], ascending=[False, True])
    return counts.reset_index(drop=True).astype({"sicbl_code": "string", "sites": "int64"})


def _sicbl_codes(sites: pd.DataFrame, sicbl_column: str) -> pd.Series:
    if sicbl_column not in sites.columns:
        raise InputError(
            f"provider sites: no column {sicbl_column!r} with sub-ICB codes to look ICBs up from"
        )
    return identity_texts(sites[sicbl_column]).str.upper()


def _code(value: object) -> str:
    """A code as matched: its identity text, upper case."""
    return (identity_text(value) or "").upper()
