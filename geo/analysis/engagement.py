"""Which providers take part in ICS planning: read engagement lists and apply them to sites.

An engagement list is a small CSV or XLSX an ICS keeps of the independent and voluntary
providers it plans with. Matching it to provider sites is by provider id first, then by
a normalised name; near-miss names are reported with a score and applied only on request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo.io import tables
from geo.model.errors import InputError
from geo.model.providers import (
    ENGAGED,
    NOT_ENGAGED,
    PLANNING_STATUSES,
    UNKNOWN_STATUS,
    normalise_planning_statuses,
    unrecognised_planning_statuses,
)
from geo.model.sectors import IV_SECTORS
from geo.model.text import identity_text, identity_texts, trimmed_text
from geo.model.vocabulary import ICB_CODE_COLUMN, is_icb_code

ENGAGEMENT_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "provider_name",
    "icb_code",
    "planning_status",
    "row",
)
REPORT_COLUMNS: tuple[str, ...] = (
    "row",
    "provider_id",
    "provider_name",
    "matched_by",
    "matched_provider_name",
    "score",
    "sites_matched",
    "applied",
    "note",
)
# A name this similar (rapidfuzz token_sort_ratio, 0-100) is offered as a fuzzy match.
FUZZY_THRESHOLD = 85.0

# The headers each engagement-list column is recognised by, compared ignoring case,
# spaces and punctuation ('Provider ID' == 'provider_id' == 'PROVIDER-ID').
_HEADERS: dict[str, tuple[str, ...]] = {
    "provider_id": (
        "provider_id",
        "CQC Provider ID",
        "CQC Provider ID (for office use only)",
        "CQC ID",
        "ODS code",
        "Organisation Code",
        "Provider Code",
    ),
    "provider_name": ("provider_name", "Provider", "name", "Organisation Name", "Organisation"),
    "icb_code": ("icb_code", "ICB", "ICB Code", "ICB GSS Code"),
    "planning_status": ("planning_status", "status", "engaged", "engagement", "engaged?"),
}
_LEGAL_WORDS = frozenset({"the", "ltd", "limited", "plc", "llp", "cic", "cio", "inc", "llc"})
_PRIORITY = {ENGAGED: 2, NOT_ENGAGED: 1, UNKNOWN_STATUS: 0}


def load_engagement(path: str | Path, *, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read an engagement list (CSV in UTF-8, UTF-8 with BOM or Windows-1252, or XLSX).

    Columns are found by their usual headers unless `columns` (output name -> header)
    says otherwise. Every listed provider counts as 'engaged' when there is no status
    column; a blank status cell means 'unknown'. `row` is the spreadsheet row number
    (the header is row 1). Fully blank rows are skipped; any other row must name a
    provider by id or name.
    """
    path = Path(path)
    table = _read_table(path)
    found = _find_columns(table, columns or {}, path.name)
    engagement = _engagement_frame(table, found)
    _check_rows(engagement, found, path.name)
    return engagement[list(ENGAGEMENT_COLUMNS)].reset_index(drop=True)


def normalise_provider_name(name: object) -> str:
    """A provider name reduced for matching: 'The Café & Co. Ltd' -> 'cafe and co'."""
    text = identity_text(name)
    if text is None:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    text = re.sub(r"['’`]", "", "".join(c for c in text if not unicodedata.combining(c)))
    words = re.sub(r"[\W_]+", " ", text).split()
    return " ".join(word for word in words if word not in _LEGAL_WORDS)


def apply_engagement(
    sites: pd.DataFrame,
    engagement: pd.DataFrame | None,
    *,
    accept_fuzzy_above: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set `planning_status` of independent and voluntary sites from an engagement list,
    and report how each list row was matched, so the user can check the matching.

    Listed providers' I+V sites take the list's status; other I+V sites become
    'not engaged', within the ICBs the list covers (every ICB, unless every list row
    names one). NHS and local-authority sites keep their status. With no list, the
    provider list's own `planning_status` stands (blanks become 'unknown').
    """
    _check_sites(sites)
    result = sites.copy()
    status = _current_statuses(result)
    if engagement is None:
        result["planning_status"] = status
        return result, _empty_report()
    _check_engagement(engagement)
    index = _SiteIndex(result)
    rows = list(engagement.itertuples())
    fuzzy = index.closest_names(rows)
    matches = [index.match(r, f, accept_fuzzy_above) for r, f in zip(rows, fuzzy, strict=True)]
    result["planning_status"] = _statuses_after(status, index, engagement, matches)
    return result, _report(engagement, matches)


# --- reading ---------------------------------------------------------------------------


def _read_table(path: Path) -> pd.DataFrame:
    """The file as text cells, blank lines kept so row numbers match the spreadsheet."""
    if not path.is_file():
        raise InputError(f"engagement list {path.name}: file not found at {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return tables.read_sheet_cells(path, "engagement list").frame
    if suffix not in (".csv", ".txt"):
        raise InputError(f"engagement list {path.name}: expected a .csv or .xlsx file")
    return tables.read_csv_cells(path, "engagement list", skip_blank_lines=False).frame


def _find_columns(table: pd.DataFrame, given: Mapping[str, str], file_name: str) -> dict:
    """Output column -> file header, from `given` or by the usual headers."""
    headers = [str(column) for column in table.columns]
    unknown = sorted(set(given) - set(_HEADERS))
    if unknown:
        raise InputError(
            f"engagement list {file_name}: cannot map {', '.join(unknown)}; "
            f"expected one of {', '.join(_HEADERS)}"
        )
    found: dict[str, str] = {}
    for name, header in given.items():
        if header not in headers:
            raise InputError(
                f"engagement list {file_name}: column {header!r} (for {name}) is not in the "
                f"file; found {', '.join(headers) or 'no columns'}"
            )
        found[name] = header
    for name, candidates in _HEADERS.items():
        if name not in found:
            header = _detect(headers, candidates, name)
            if header is not None:
                found[name] = header
    if "provider_id" not in found and "provider_name" not in found:
        expected = ", ".join((*_HEADERS["provider_id"], *_HEADERS["provider_name"]))
        raise InputError(
            f"engagement list {file_name}: no provider id or name column; expected one of "
            f"{expected}; found {', '.join(headers) or 'no columns'}"
        )
    return found


def _detect(headers: list[str], candidates: tuple[str, ...], name: str) -> str | None:
    keys = {_header_key(candidate) for candidate in candidates}
    for header in headers:
        if _header_key(header) in keys or (
            name == "icb_code" and ICB_CODE_COLUMN.fullmatch(header)
        ):
            return header
    return None


def _header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _engagement_frame(table: pd.DataFrame, found: dict) -> pd.DataFrame:
    """The output columns, trimmed, with spreadsheet row numbers; fully blank rows go."""
    cells = table.apply(trimmed_text)  # a cell of only invisible characters is blank
    blank_rows = (cells.fillna("") == "").all(axis=1)
    frame = pd.DataFrame(index=table.index)
    for name in ("provider_id", "provider_name", "icb_code"):
        values = cells[found[name]] if name in found else pd.Series(pd.NA, index=table.index)
        frame[name] = values.astype("string").replace("", pd.NA)
    frame["provider_id"] = identity_texts(frame["provider_id"]).str.upper()
    frame["icb_code"] = identity_texts(frame["icb_code"]).str.upper()
    if "planning_status" in found:
        statuses = cells[found["planning_status"]]
        frame["planning_status"] = normalise_planning_statuses(statuses)
        frame["_status_given"] = statuses
    else:
        frame["planning_status"] = pd.Series(ENGAGED, index=table.index, dtype="string")
    frame["row"] = (table.index + 2).astype("int64")
    return frame[~blank_rows]


def _check_rows(frame: pd.DataFrame, found: dict, file_name: str) -> None:
    """Every row names a provider; ICB codes are E54 codes; statuses are recognisable."""
    where = f"engagement list {file_name}"
    nameless = frame[frame["provider_id"].isna() & frame["provider_name"].isna()]
    if len(nameless):
        columns = " and ".join(found[n] for n in ("provider_id", "provider_name") if n in found)
        raise InputError(
            f"{where}: {_first_row(nameless)}: no provider id or name ({columns} blank)"
            f"{_also(nameless)}"
        )
    codes = frame["icb_code"]
    bad = frame[codes.notna() & ~is_icb_code(codes)]
    if len(bad):
        raise InputError(
            f"{where}: {_first_row(bad)}, column {found['icb_code']}: "
            f"{bad['icb_code'].iloc[0]!r} is not an ICB code; expected E54 and six digits"
            f"{_also(bad)}"
        )
    if "_status_given" in frame:
        odd = frame[
            frame["_status_given"].isin(unrecognised_planning_statuses(frame["_status_given"]))
        ]
        if len(odd):
            raise InputError(
                f"{where}: {_first_row(odd)}, column {found['planning_status']}: "
                f"{odd['_status_given'].iloc[0]!r} is not a status; expected yes/engaged/member "
                f"or no/not engaged{_also(odd)}"
            )


def _provider_id(value: object) -> str | None:
    """A provider id as matched: its identity text in upper case; None when blank."""
    text = identity_text(value)
    return None if text is None else text.upper()


def _first_row(bad: pd.DataFrame) -> str:
    return f"row {bad['row'].iloc[0]}"


def _also(bad: pd.DataFrame) -> str:
    """' (also rows 7, 9)' when more than one row has the same kind of problem."""
    others = bad["row"].iloc[1:].tolist()
    if not others:
        return ""
    shown = ", ".join(map(str, others[:5])) + (
        f" and {len(others) - 5} more" if len(others) > 5 else ""
    )
    return f" (also {'row' if len(others) == 1 else 'rows'} {shown})"


# --- matching --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    """How one engagement-list row was matched: the sites it refers to, and why."""

    sites: np.ndarray  # positions of the matched sites
    matched_by: str
    score: float
    applied: bool
    matched_provider_name: object
    note: str


class _SiteIndex:
    """Sites grouped by provider id and by normalised name, for matching list rows."""

    def __init__(self, sites: pd.DataFrame) -> None:
        names = sites["provider_name"].to_numpy(dtype=object, na_value=None)
        ids = sites["provider_id"].to_numpy(dtype=object, na_value=None)
        keys = {name: normalise_provider_name(name) for name in set(names)}
        self.names = names
        self.by_id = _positions([_provider_id(i) for i in ids])
        self.site_keys = [keys[name] or None for name in names]
        self.by_key = _positions(self.site_keys)
        self.iv = sites["sector"].isin(IV_SECTORS).fillna(False).to_numpy(bool)
        self.icbs = (
            sites["icb_code"].to_numpy(dtype=object, na_value=None) if "icb_code" in sites else None
        )
        self._choices: dict[object, tuple[list[str], list[str]]] = {}

    def match(self, row, closest: tuple[str, float] | None, accept_above: float | None) -> _Match:
        """The sites one list row refers to, how they were found, and whether to apply it."""
        icb, note = self._scope(row.icb_code)
        provider_id = _provider_id(row.provider_id) or ""
        by_id = self._within(self.by_id.get(provider_id), icb)
        if len(by_id):
            return self._found(by_id, "provider_id", 100.0, True, note)
        key = normalise_provider_name(row.provider_name)
        by_name = self._within(self.by_key.get(key), icb)
        if len(by_name):
            return self._found(by_name, "exact name", 100.0, True, note)
        if closest is not None:
            close, score = closest
            accepted = accept_above is not None and score >= accept_above
            sites = self._within(self.by_key[close], icb)
            return self._found(sites, "fuzzy name", score, accepted, note)
        return _Match(np.empty(0, dtype=int), "none", np.nan, False, pd.NA, note)

    def _scope(self, icb_code) -> tuple[str | None, str]:
        """The ICB a row is limited to (None: everywhere) and a note when it cannot be."""
        if pd.isna(icb_code):
            return None, ""
        if self.icbs is None:
            return None, "sites have no icb_code yet, so this row applied in every ICB"
        return icb_code, ""

    def _within(self, positions: np.ndarray | None, icb: str | None) -> np.ndarray:
        if positions is None:
            return np.empty(0, dtype=int)
        return positions if icb is None else positions[self.icbs[positions] == icb]

    def closest_names(self, rows: list) -> list[tuple[str, float] | None]:
        """Per list row, the most similar site name (token_sort_ratio >= FUZZY_THRESHOLD)
        in the row's scope, or None. Batched per scope with tokens sorted once."""
        closest: list[tuple[str, float] | None] = [None] * len(rows)
        wanted: dict[object, list[int]] = {}
        for number, row in enumerate(rows):
            if normalise_provider_name(row.provider_name):
                wanted.setdefault(self._scope(row.icb_code)[0], []).append(number)
        for icb, numbers in wanted.items():
            keys, sorted_keys = self._choices_in(icb)
            queries = [
                _sorted_tokens(normalise_provider_name(rows[n].provider_name)) for n in numbers
            ]
            for start in range(0, len(queries), 200):  # bounds the score matrix's memory
                scores = process.cdist(
                    queries[start : start + 200],
                    sorted_keys,
                    scorer=fuzz.ratio,
                    processor=None,
                    score_cutoff=FUZZY_THRESHOLD,
                    workers=-1,
                    dtype=np.float32,
                )
                for offset, row_scores in enumerate(scores):
                    if len(row_scores) and row_scores.max() >= FUZZY_THRESHOLD:
                        best = int(row_scores.argmax())
                        closest[numbers[start + offset]] = (keys[best], float(row_scores[best]))
        return closest

    def _choices_in(self, icb: str | None) -> tuple[list[str], list[str]]:
        """The normalised site names in scope, and the same with their words sorted."""
        if icb not in self._choices:
            if icb is None:
                keys = list(self.by_key)
            else:
                pairs = zip(self.icbs, self.site_keys, strict=True)
                keys = list(dict.fromkeys(key for code, key in pairs if code == icb and key))
            self._choices[icb] = (keys, [_sorted_tokens(key) for key in keys])
        return self._choices[icb]

    def _found(self, sites, matched_by, score, applied, note) -> _Match:
        statutory = int((~self.iv[sites]).sum())
        if statutory:
            kept = f"{statutory} matched site(s) are not independent or voluntary: status kept"
            note = f"{note}; {kept}" if note else kept
        return _Match(sites, matched_by, score, applied, self.names[sites[0]], note)


def _sorted_tokens(key: str) -> str:
    """token_sort_ratio(a, b) is ratio() of the words sorted; sorting once is much faster."""
    return " ".join(sorted(key.split()))


def _positions(keys: list[str | None]) -> dict[str, np.ndarray]:
    """Row positions of each non-blank key."""
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if key:
            groups.setdefault(key, []).append(position)
    return {key: np.array(found, dtype=int) for key, found in groups.items()}


def _statuses_after(
    status: pd.Series, index: _SiteIndex, engagement: pd.DataFrame, matches: list[_Match]
) -> pd.Series:
    """I+V sites: the best status any applied row gives them, else 'not engaged' where the
    list covers their ICB; other sites unchanged."""
    given = np.full(len(status), -1)
    for row_status, match in zip(engagement["planning_status"], matches, strict=True):
        if match.applied:
            np.maximum.at(given, match.sites, _PRIORITY[row_status])
    by_priority = {value: key for key, value in _PRIORITY.items()}
    listed = pd.Series(given, index=status.index).map(by_priority).astype("string")
    result = status.copy()
    result[index.iv & _coverage(index, engagement)] = NOT_ENGAGED
    chosen = index.iv & (given >= 0)
    result[chosen] = listed[chosen]
    return result


def _coverage(index: _SiteIndex, engagement: pd.DataFrame) -> np.ndarray:
    """Sites in the ICBs the list speaks for: all, unless every row names an ICB."""
    codes = engagement["icb_code"]
    if index.icbs is None or len(codes) == 0 or codes.isna().any():
        return np.ones(len(index.iv), dtype=bool)
    return pd.Series(index.icbs).isin(set(codes)).to_numpy(bool)


def _report(engagement: pd.DataFrame, matches: list[_Match]) -> pd.DataFrame:
    """One row per engagement-list row: how it was matched and whether it was applied."""
    report = pd.DataFrame(
        {
            "row": engagement["row"].astype("int64").to_numpy(),
            "provider_id": engagement["provider_id"].astype("string").to_numpy(),
            "provider_name": engagement["provider_name"].astype("string").to_numpy(),
            "matched_by": [m.matched_by for m in matches],
            "matched_provider_name": [m.matched_provider_name for m in matches],
            "score": [m.score for m in matches],
            "sites_matched": [len(m.sites) for m in matches],
            "applied": [m.applied for m in matches],
            "note": [m.note for m in matches],
        }
    )
    return report.astype(_REPORT_DTYPES)


_REPORT_DTYPES = {
    "row": "int64",
    "provider_id": "string",
    "provider_name": "string",
    "matched_by": "string",
    "matched_provider_name": "string",
    "score": "Float64",
    "sites_matched": "int64",
    "applied": "bool",
    "note": "string",
}


def _empty_report() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _REPORT_DTYPES.items()})


# --- checks ----------------------------------------------------------------------------


def _check_sites(sites: pd.DataFrame) -> None:
    missing = [c for c in ("provider_id", "provider_name", "sector") if c not in sites.columns]
    if missing:
        raise InputError(f"provider sites: missing column(s) {', '.join(missing)}")


def _check_engagement(engagement: pd.DataFrame) -> None:
    missing = [c for c in ENGAGEMENT_COLUMNS if c not in engagement.columns]
    if missing:
        raise InputError(
            f"engagement list: missing column(s) {', '.join(missing)}; read it with load_engagement"
        )
    odd = set(engagement["planning_status"].dropna()) - set(PLANNING_STATUSES)
    if odd:
        raise InputError(f"engagement list: planning_status {sorted(odd)[0]!r} is not a status")


def _current_statuses(sites: pd.DataFrame) -> pd.Series:
    """The provider list's own statuses (publisher-given), blanks and odd ones 'unknown'."""
    if "planning_status" not in sites.columns:
        return pd.Series(UNKNOWN_STATUS, index=sites.index, dtype="string")
    return normalise_planning_statuses(sites["planning_status"])
