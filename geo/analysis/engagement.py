"""Which providers take part in ICS planning: read engagement lists and apply them to sites.

An engagement list is a small CSV or XLSX an ICS keeps of the independent and voluntary
providers it plans with. Matching it to provider sites (`geo.analysis.matching`) is by
provider id first, then by a normalised name; near-miss names are reported with a score
and applied only on request. Rows that give the same site different statuses are reported
as conflicts and settled by one rule (STATUS_RULE); a list that matches no provider is
not applied at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from geo.analysis.matching import (
    ACCEPTED_MATCH,
    EVERYWHERE,
    MATCHED_BY,
    Matches,
    SiteIndex,
    exactly_matched,
    match_rows,
    objects,
)
from geo.io import tables
from geo.model.errors import InputError
from geo.model.evidence import COMMISSIONED, COMMISSIONED_ELSEWHERE, NO_EVIDENCE
from geo.model.providers import (
    ENGAGED,
    NOT_ENGAGED,
    PLANNING_STATUSES,
    UNKNOWN_STATUS,
    normalise_planning_statuses,
    unrecognised_planning_statuses,
)
from geo.model.text import counted, identity_text, identity_texts, trimmed_text
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
    "planning_status",
    "matched_by",
    "matched_provider_name",
    "score",
    "sites_matched",
    "applied",
    "conflict",
    "note",
    "sites_not_iv",
)
# Optional columns of a status an analyst set in the app's editor
# (geo.publish.engagement_edits): a row with EDITED_ON is that decision, and it wins over
# the list's other rows for the sites it names (EDIT_RULE).
EDIT_NOTE, EDITED_ON, EDITED_BY = "edit_note", "edited_on", "edited_by"
EDIT_COLUMNS: tuple[str, ...] = (EDIT_NOTE, EDITED_ON, EDITED_BY)
EDIT_RULE = "a status set in the app's editor wins over the list's other rows for its sites"
# Which status a site keeps when applied rows give it different ones: 'not engaged' over
# 'engaged', so a conflicting row never hides a gap, and either over 'unknown' (a blank).
_PRIORITY = {NOT_ENGAGED: 2, ENGAGED: 1, UNKNOWN_STATUS: 0}
STATUS_RULE = "'not engaged' wins over 'engaged', and either over a blank status"

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
    names one). Rows giving one site different statuses are settled by STATUS_RULE and
    named in the report's `conflict` column; a status set in the app's editor wins
    (EDIT_RULE). An approximate match is applied when its score reaches
    `accept_fuzzy_above` or when an analyst accepted it (the row's ACCEPTED_MATCH column
    names the matched provider). NHS and local-authority sites keep their status. With no list, or a list none of whose rows is applied (it matches no
    provider), the provider list's own `planning_status` stands (blanks become 'unknown').
    """
    _check_sites(sites)
    result = sites.copy()
    status = _current_statuses(result)
    if engagement is None:
        result["planning_status"] = status
        return result, _empty_report()
    _check_engagement(engagement)
    index = SiteIndex(result)
    matches = match_rows(index, engagement, accept_fuzzy_above)
    listed, conflicts = _decided_statuses(index, engagement, matches)
    if matches.applied.any():
        status = _statuses_after(status, index, engagement, listed)
    result["planning_status"] = status
    return result, _report(engagement, matches, index, result, conflicts)


def count_matching_rows(sites: pd.DataFrame, engagement: pd.DataFrame) -> int:
    """How many list rows name a provider among `sites` by ID or exact name (in any ICB):
    a list with none would mark every independent and voluntary site 'not engaged'."""
    _check_sites(sites)
    return int(exactly_matched(SiteIndex(sites), engagement).sum())


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


# --- statuses --------------------------------------------------------------------------


def _decided_statuses(
    index: SiteIndex, engagement: pd.DataFrame, matches: Matches
) -> tuple[pd.Series, pd.Series]:
    """The status each site position is given (NA where no row names it) and per row the
    conflict it is part of: the list's rows by STATUS_RULE, then the editor's by EDIT_RULE."""
    edited = _edited(engagement)
    listed, conflicts = _listed_statuses(index, engagement, matches, matches.applied & ~edited)
    if not edited.any():
        return listed, conflicts
    by_editor, among_edits = _listed_statuses(index, engagement, matches, matches.applied & edited)
    return by_editor.fillna(listed), conflicts.fillna(among_edits)


def _edited(engagement: pd.DataFrame) -> np.ndarray:
    """Which rows are statuses set in the app's editor."""
    if EDITED_ON not in engagement.columns:
        return np.zeros(len(engagement), dtype=bool)
    return engagement[EDITED_ON].notna().to_numpy(bool)


def _listed_statuses(
    index: SiteIndex, engagement: pd.DataFrame, matches: Matches, chosen: np.ndarray
) -> tuple[pd.Series, pd.Series]:
    """The status the `chosen` applied rows give each site position (by STATUS_RULE; NA
    where no row names it), and per list row the conflict it is part of (NA for none).

    Rows with the same key, ICB and status form one group, expanded to its sites once.
    """
    applied = pd.DataFrame(
        {
            "space": matches.space,
            "key": matches.key,
            "scope": matches.scope,
            "status": engagement["planning_status"].to_numpy(dtype=object),
            "row": engagement["row"].to_numpy(),
        }
    )[chosen]
    applied["group"] = applied.groupby(["space", "key", "scope", "status"], dropna=False).ngroup()
    groups = applied.drop_duplicates("group").set_index("group").sort_index()
    links = _group_links(index, groups)
    links["rank"] = groups["status"].map(_PRIORITY).reindex(links["group"]).to_numpy()
    by_rank = {rank: status for status, rank in _PRIORITY.items()}
    listed = links.groupby("position")["rank"].max().map(by_rank)
    conflicts = _conflicts(links, groups, applied)
    return (
        listed.reindex(range(len(index.iv))).astype("string"),
        conflicts.reindex(range(len(engagement))).astype("string"),
    )


def _group_links(index: SiteIndex, groups: pd.DataFrame) -> pd.DataFrame:
    """(group, position) for every site each group of rows names."""
    frames = [
        pd.DataFrame({"group": pd.Series(dtype="int64"), "position": pd.Series(dtype="int64")})
    ]
    for space, part in groups.groupby("space"):
        linked = index.sites_of(space, part["key"].to_numpy(), part["scope"].to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "group": part.index.to_numpy()[linked["item"].to_numpy()],
                    "position": linked["position"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _conflicts(links: pd.DataFrame, groups: pd.DataFrame, applied: pd.DataFrame) -> pd.Series:
    """Per applied row whose sites another row gives the opposite status: which rows, and
    what was kept ('conflicts with rows 5, 9 (not engaged): not engaged kept')."""
    decided = links[links["rank"] > _PRIORITY[UNKNOWN_STATUS]]
    ranks = decided.groupby("position")["rank"].nunique()
    clashing = decided[decided["position"].isin(ranks.index[ranks > 1])]
    pairs = clashing.merge(clashing, on="position", suffixes=("", "_other"))
    pairs = pairs[pairs["rank"] != pairs["rank_other"]].drop_duplicates(["group", "group_other"])
    involved = applied[applied["group"].isin(pairs["group_other"])]
    rows_of = involved.groupby("group")["row"].agg(list)
    texts = {}
    for group, others in pairs.groupby("group")["group_other"]:
        rows = sorted(row for other in others for row in rows_of[other])
        other_status = groups.loc[others.iloc[0], "status"]
        texts[group] = f"conflicts with {_row_list(rows)} ({other_status}): {NOT_ENGAGED} kept"
    return applied["group"].map(texts)


def _row_list(rows: list[int]) -> str:
    """'row 5', 'rows 5, 9' or 'rows 5, 9, 12, 14, 20 and 3 more'."""
    shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}"


def _statuses_after(
    status: pd.Series, index: SiteIndex, engagement: pd.DataFrame, listed: pd.Series
) -> pd.Series:
    """I+V sites: the status the list gives them, else 'not engaged' where the list covers
    their ICB; other sites unchanged."""
    result = status.copy()
    result[index.iv & _coverage(index, engagement)] = NOT_ENGAGED
    chosen = index.iv & listed.notna().to_numpy()
    result[chosen] = listed.to_numpy()[chosen]
    return result


def _coverage(index: SiteIndex, engagement: pd.DataFrame) -> np.ndarray:
    """Sites in the ICBs the list speaks for: all, unless every row names an ICB."""
    scopes = index.scopes(engagement["icb_code"])
    if not index.has_icbs or len(scopes) == 0 or (scopes == EVERYWHERE).any():
        return np.ones(len(index.iv), dtype=bool)
    return np.isin(index.site_icb, scopes[scopes >= 0])


# --- the match report --------------------------------------------------------------------


def _report(
    engagement: pd.DataFrame,
    matches: Matches,
    index: SiteIndex,
    sites: pd.DataFrame,
    conflicts: pd.Series,
) -> pd.DataFrame:
    """One row per engagement-list row: its status, how it was matched, whether it was
    applied, the conflict it is part of, and notes."""
    names = objects(sites["provider_name"])
    first = matches.first_site
    columns = {
        "row": engagement["row"].astype("int64").to_numpy(),
        "provider_id": engagement["provider_id"].astype("string").array,
        "provider_name": engagement["provider_name"].astype("string").array,
        "planning_status": engagement["planning_status"].astype("string").array,
        "matched_by": _labels(matches.how, MATCHED_BY),
        "matched_provider_name": pd.array(
            np.where(first >= 0, names[np.maximum(first, 0)], None), dtype="string"
        ),
        "score": pd.array(matches.score, dtype="Float64"),
        "sites_matched": matches.sites,
        "applied": matches.applied,
        "conflict": conflicts.to_numpy(),
        "note": _notes(engagement, matches, index).array,
        "sites_not_iv": matches.statutory,
    }
    return pd.DataFrame(columns).astype(_REPORT_DTYPES)


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pd.api.extensions.ExtensionArray:
    """Text for small integer codes, made in Arrow (no per-row Python strings)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(labels))
    return pd.array(dictionary.cast(pa.string()), dtype="string")


def _notes(engagement: pd.DataFrame, matches: Matches, index: SiteIndex) -> pd.Series:
    """Per row: why its ICB was not used, which matched sites keep their status, and
    whether approximate matching left it out; '; ' between them."""
    statutory = pd.Series(matches.statutory)
    parts = [
        pd.Series(
            "sites have no icb_code yet, so this row applied in every ICB",
            index=statutory.index,
        ).where(engagement["icb_code"].notna().to_numpy() & (not index.has_icbs)),
        statutory.map(
            lambda n: (
                f"{counted(n, 'matched site')} "
                f"{'is' if n == 1 else 'are'} not independent or voluntary: status kept"
            )
        ).where(statutory > 0),
        pd.Series(
            "not compared approximately: the list has more unmatched names than can be "
            "compared in time; give this provider's ID",
            index=statutory.index,
        ).where(matches.not_compared),
        pd.Series("approximate match accepted by an analyst", index=statutory.index).where(
            matches.accepted
        ),
        _accepted_elsewhere_notes(engagement, matches),
        _edit_notes(engagement),
    ]
    notes = pd.Series(pd.NA, index=statutory.index, dtype="string")
    for part in parts:
        part = part.astype("string")
        notes = part.where(notes.isna(), notes + "; " + part).fillna(notes)
    return notes.fillna("")


def _accepted_elsewhere_notes(engagement: pd.DataFrame, matches: Matches) -> pd.Series:
    """'accepted match X is no longer the closest name: not applied', where it says so."""
    notes = pd.Series(pd.NA, index=range(len(engagement)), dtype="string")
    if ACCEPTED_MATCH not in engagement.columns:
        return notes
    accepted = engagement[ACCEPTED_MATCH].astype("string").reset_index(drop=True)
    text = "accepted match " + accepted + " is no longer the closest name: not applied"
    return text.where(matches.accepted_elsewhere, notes)


def _edit_notes(engagement: pd.DataFrame) -> pd.Series:
    """'set in the app on 2025-03-01 by ada: called them', for the editor's rows."""
    notes = pd.Series(pd.NA, index=range(len(engagement)), dtype="string")
    if EDITED_ON not in engagement.columns:
        return notes
    column = {
        name: engagement[name].astype("string").reset_index(drop=True)
        if name in engagement.columns
        else notes
        for name in EDIT_COLUMNS
    }
    text = "set in the app on " + column[EDITED_ON]
    text = text.where(column[EDITED_BY].fillna("") == "", text + " by " + column[EDITED_BY])
    return text.where(column[EDIT_NOTE].fillna("") == "", text + ": " + column[EDIT_NOTE])


_REPORT_DTYPES = {
    "row": "int64",
    "provider_id": "string",
    "provider_name": "string",
    "planning_status": "string",
    "matched_by": "string",
    "matched_provider_name": "string",
    "score": "Float64",
    "sites_matched": "int64",
    "applied": "bool",
    "conflict": "string",
    "note": "string",
    "sites_not_iv": "int64",
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
    odd = set(engagement["planning_status"].dropna().unique()) - set(PLANNING_STATUSES)
    if odd:
        raise InputError(f"engagement list: planning_status {sorted(odd)[0]!r} is not a status")


def _current_statuses(sites: pd.DataFrame) -> pd.Series:
    """The provider list's own statuses (publisher-given), blanks and odd ones 'unknown';
    statuses the open-data evidence gave (`geo.analysis.evidence`) are kept as they are."""
    if "planning_status" not in sites.columns:
        return pd.Series(UNKNOWN_STATUS, index=sites.index, dtype="string")
    given = sites["planning_status"]
    from_evidence = given.isin(_EVIDENCE_STATUSES).fillna(False).astype(bool)
    return normalise_planning_statuses(given).mask(from_evidence, given.astype("string"))


_EVIDENCE_STATUSES = (COMMISSIONED, COMMISSIONED_ELSEWHERE, NO_EVIDENCE)
