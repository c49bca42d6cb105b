"""Provider sources merged into the one site table every page sees, and what changes when one is replaced.

Each published provider list is a named source. Their union is one table in which a site
listed by two sources is one row: the same CQC location ID or ODS code, else the same
site name and postcode (both normalised). The earlier source's values win; where the
later one says something else, that is a row of the conflicts table, not a silent choice.
Each row says which sources list it in `sources` ('cqc-directory, nhs-trust-sites').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from geo.analysis.matching import id_keys, normalise_provider_names
from geo.model.postcodes import normalise_postcodes

SOURCES_COLUMN = "sources"
SOURCE_SEPARATOR = ", "
# The site fields compared when two sources describe one site (conflicts) and when a
# source's new version changes a site (the change preview).
COMPARED_COLUMNS: tuple[str, ...] = (
    "site_name",
    "provider_id",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "postcode",
    "lat",
    "lon",
)
# IDs that name one site wherever it is listed: a CQC location ID ('1-1000210669') or an
# ODS code (letters and digits, at least one letter: 'RJ121', '8HG63'). Other IDs are a
# list's own row numbers and never merge two sources' rows.
_SHARED_ID = re.compile(r"1-\d{4,}|(?=[0-9A-Z]*[A-Z])[0-9A-Z]{3,9}")
_CONFLICT_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "site_name": "string",
    "column": "string",
    "kept_source": "string",
    "kept_value": "string",
    "other_source": "string",
    "other_value": "string",
}


@dataclass(frozen=True)
class MergedSites:
    """The union of the sources: one row per site with its `sources`, and the values the
    sources disagree on (site_id, site_name, column, kept_source, kept_value,
    other_source, other_value)."""

    sites: pd.DataFrame
    conflicts: pd.DataFrame


def merge_sources(named: list[tuple[str, pd.DataFrame]]) -> MergedSites:
    """One site table from `(source name, sites)` pairs, earlier sources winning conflicts."""
    merged: pd.DataFrame | None = None
    conflicts: list[pd.DataFrame] = []
    for name, sites in named:
        listed = sites.reset_index(drop=True).assign(**{SOURCES_COLUMN: name})
        if merged is None:
            merged = listed
            continue
        matched = _matches(merged, listed)
        conflicts.append(_conflicts(merged, listed, matched, name))
        merged = _joined(merged, listed, matched, name)
    if merged is None:
        return MergedSites(
            pd.DataFrame({SOURCES_COLUMN: pd.Series(dtype="string")}), _no_conflicts()
        )
    merged[SOURCES_COLUMN] = merged[SOURCES_COLUMN].astype("string")
    found = [c for c in conflicts if len(c)]
    return MergedSites(merged, pd.concat(found, ignore_index=True) if found else _no_conflicts())


def site_keys(sites: pd.DataFrame) -> pd.DataFrame:
    """Per row, the keys that say which site it is: `id` (a CQC location ID or ODS code)
    and `place` (normalised name and postcode); NA where a row has none."""
    ids = id_keys(_column(sites, "site_id"))
    ids = ids.where(ids.fillna("").str.fullmatch(_SHARED_ID.pattern), None)
    names = normalise_provider_names(_column(sites, "site_name").fillna(""))
    postcodes = normalise_postcodes(_column(sites, "postcode")).str.upper()
    place = (names + "|" + postcodes.astype("str")).where((names != "") & postcodes.notna(), None)
    return pd.DataFrame({"id": ids.astype("string"), "place": place.astype("string")})


def _matches(merged: pd.DataFrame, listed: pd.DataFrame) -> pd.Series:
    """For each row of `listed`, the row of `merged` describing the same site (by ID, else
    by name and postcode), or NA."""
    known, new = site_keys(merged), site_keys(listed)
    by_id = _first_row(known["id"])
    by_place = _first_row(known["place"])
    found = new["id"].map(by_id)
    found = found.fillna(new["place"].map(by_place))
    return found.astype("Int64")


def _first_row(keys: pd.Series) -> pd.Series:
    """Key -> the first row carrying it."""
    present = keys.dropna()
    return pd.Series(present.index, index=present.to_numpy()).groupby(level=0).first()


def _joined(
    merged: pd.DataFrame, listed: pd.DataFrame, matched: pd.Series, name: str
) -> pd.DataFrame:
    """`merged` with `name` added to the sources of matched rows and the unmatched rows appended."""
    merged = merged.copy()
    rows = matched.dropna().astype(int).unique()
    merged.loc[rows, SOURCES_COLUMN] = merged.loc[rows, SOURCES_COLUMN] + SOURCE_SEPARATOR + name
    added = listed[matched.isna().to_numpy()]
    if added.empty:
        return merged
    return pd.concat([merged, added], ignore_index=True)


def _conflicts(
    merged: pd.DataFrame, listed: pd.DataFrame, matched: pd.Series, name: str
) -> pd.DataFrame:
    """Where a later source says something else about a site an earlier one listed."""
    pairs = matched.dropna().astype(int)
    if pairs.empty:
        return _no_conflicts()
    kept = merged.loc[pairs.to_numpy()].reset_index(drop=True)
    other = listed.loc[pairs.index].reset_index(drop=True)
    found = []
    for column in COMPARED_COLUMNS:
        if column not in kept or column not in other:
            continue
        differ = differing(compared_values(kept, column), compared_values(other, column))
        if differ.any():
            found.append(
                pd.DataFrame(
                    {
                        "site_id": kept.loc[differ, "site_id"] if "site_id" in kept else pd.NA,
                        "site_name": kept.loc[differ, "site_name"]
                        if "site_name" in kept
                        else pd.NA,
                        "column": column,
                        "kept_source": kept.loc[differ, SOURCES_COLUMN]
                        .str.split(SOURCE_SEPARATOR)
                        .str[0],
                        "kept_value": kept.loc[differ, column].astype("string"),
                        "other_source": name,
                        "other_value": other.loc[differ, column].astype("string"),
                    }
                )
            )
    if not found:
        return _no_conflicts()
    return pd.concat(found, ignore_index=True).astype(_CONFLICT_COLUMNS)


def differing(left: pd.Series, right: pd.Series) -> pd.Series:
    """Whether two aligned columns differ: text compared trimmed and case-folded, numbers
    within a millionth, and a blank differing only from a value."""
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right)
    if numeric:
        a, b = left.astype("Float64"), right.astype("Float64")
        same = ((a - b).abs() < 1e-6).fillna(False) | (a.isna() & b.isna())
    else:
        a = left.astype("string").str.strip().str.casefold()
        b = right.astype("string").str.strip().str.casefold()
        same = (a == b).fillna(False) | (a.isna() & b.isna())
    return ~same.astype(bool).to_numpy()


def compared_values(sites: pd.DataFrame, column: str) -> pd.Series:
    """A column as compared: postcodes in one form ('e10aa' is 'E1 0AA'), names as matched
    ("St Thomas' Hospital" is 'ST THOMAS HOSPITAL')."""
    if column == "postcode":
        return normalise_postcodes(sites[column])
    if column in ("site_name", "provider_name"):
        return normalise_provider_names(sites[column].astype("string").fillna(""))
    return sites[column]


def _column(sites: pd.DataFrame, name: str) -> pd.Series:
    """A column of `sites`, or an all-NA text column where the table has none."""
    if name in sites:
        return sites[name].astype("string")
    return pd.Series(pd.NA, index=sites.index, dtype="string")


def _no_conflicts() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _CONFLICT_COLUMNS.items()})
