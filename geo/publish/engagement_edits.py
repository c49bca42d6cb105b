"""Engagement kept up to date in the app: one ICB's independent and voluntary providers as
a table an analyst edits, and the changes saved as the next engagement version.

A change is a row of the engagement list naming the provider (by ID, else name) in that
ICB, with the analyst's note, date and name (`engagement.EDIT_COLUMNS`); such a row wins
over the list's other rows for the provider's sites there (`engagement.EDIT_RULE`). A
later change of the same provider in the same ICB replaces the earlier one.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd

from geo import workspace
from geo.analysis.engagement import (
    EDIT_COLUMNS,
    EDIT_NOTE,
    EDITED_BY,
    EDITED_ON,
    ENGAGEMENT_COLUMNS,
)
from geo.io import exports
from geo.model import access
from geo.model.errors import InputError
from geo.model.providers import ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS
from geo.model.sectors import IV_SECTORS
from geo.publish import publishing
from geo.store.versions import Store, Version

# The editor's columns: who, how many sites in the ICB, and what the analyst may change.
EDITOR_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "provider_name",
    "sites",
    "planning_status",
    EDIT_NOTE,
    EDITED_ON,
)
EDITABLE: tuple[str, ...] = ("planning_status", EDIT_NOTE, EDITED_ON)
# A provider whose sites in the ICB have different statuses shows the one that matters most.
_SHOWN_FIRST = (NOT_ENGAGED, ENGAGED, UNKNOWN_STATUS)


def providers_of_icb(
    sites: pd.DataFrame, icb_code: str, current: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per independent or voluntary provider with sites in the ICB (EDITOR_COLUMNS):
    its sites there, their status now, and the note and date of its last change in the app."""
    iv = sites[sites["sector"].isin(IV_SECTORS) & (sites["icb_code"] == icb_code)]
    grouped = iv.assign(
        _key=_provider_keys(iv),
        _rank=iv["planning_status"].map({s: n for n, s in enumerate(_SHOWN_FIRST)}),
    ).sort_values(["_key", "_rank"])
    providers = grouped.groupby("_key", sort=False).agg(
        provider_id=("provider_id", "first"),
        provider_name=("provider_name", "first"),
        sites=("site_id", "size"),
        planning_status=("planning_status", "first"),
    )
    edits = _last_edits(current, icb_code)
    providers = providers.join(edits, how="left")
    providers[EDITED_ON] = pd.to_datetime(providers[EDITED_ON], errors="coerce").dt.date
    providers = providers.sort_values("provider_name", key=lambda n: n.str.casefold())
    return providers.reset_index(drop=True).astype(
        {"provider_id": "string", "provider_name": "string", "planning_status": "string"}
    )[list(EDITOR_COLUMNS)]


def changed_providers(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The editor's rows whose status, note or date the analyst changed."""
    changed = pd.Series(False, index=after.index)
    for column in EDITABLE:
        old = before[column].astype("object").where(before[column].notna(), None)
        new = after[column].astype("object").where(after[column].notna(), None)
        changed |= old.ne(new)
    return after[changed]


def edited_list(
    current: pd.DataFrame | None,
    changes: pd.DataFrame,
    icb_code: str,
    *,
    author: str,
    today: date,
) -> pd.DataFrame:
    """The next engagement list: the current one without earlier changes of these providers
    in this ICB, then a row per change (dated `today` unless the analyst gave a date)."""
    _check_changes(changes)
    base = _as_list(current)
    keys = set(_provider_keys(changes))
    earlier = base[EDITED_ON].notna() & (base["icb_code"] == icb_code)
    base = base[~(earlier & _provider_keys(base).isin(keys)).fillna(False)]
    start = int(base["row"].max()) + 1 if len(base) else 2
    dates = pd.Series(changes[EDITED_ON], dtype="object").map(
        lambda d: (d if pd.notna(d) else today).isoformat()
    )
    rows = pd.DataFrame(
        {
            "provider_id": changes["provider_id"].to_numpy(),
            "provider_name": changes["provider_name"].to_numpy(),
            "icb_code": icb_code,
            "planning_status": changes["planning_status"].to_numpy(),
            "row": range(start, start + len(changes)),
            EDIT_NOTE: changes[EDIT_NOTE].to_numpy(),
            EDITED_ON: dates.to_numpy(),
            EDITED_BY: author.strip(),
        }
    )
    combined = pd.concat([base, _typed(rows)], ignore_index=True)
    return _typed(combined)


def publish_edits(
    store: Store, changes: pd.DataFrame, icb_code: str, *, by: access.Identity, today: date
) -> Version:
    """Save the changes as the next version of the engagement list, by `by` (an analyst:
    `publishing.publish` checks the role before anything is written)."""
    current = current_list(store)
    table = edited_list(current, changes, icb_code, author=by.author, today=today)
    n = len(changes)
    prepared = publishing.Prepared(
        kind="engagement",
        dataset=workspace.ENGAGEMENT,
        file_name=f"{n} {'change' if n == 1 else 'changes'} in {icb_code}, made in the app",
        checksum=hashlib.sha256(exports.csv_bytes(table)).hexdigest(),
        table=table,
        report=None,
        counts={"accepted": len(table), "warned": 0, "rejected": 0},
        notes=[f"{n:,} provider {'status' if n == 1 else 'statuses'} set in {icb_code}"],
        fmt="engagement edits",
    )
    return publishing.publish(prepared, store, by=by)


def current_list(store: Store) -> pd.DataFrame | None:
    """The current engagement version (what the editor builds on), or None when none is
    published."""
    if store.current_version(workspace.ENGAGEMENT) is None:
        return None
    return store.load(workspace.ENGAGEMENT)


def _provider_keys(frame: pd.DataFrame) -> pd.Series:
    """Which provider a row is: its ID, else its name (in upper case, so they compare)."""
    ids = frame["provider_id"].astype("string").str.strip().str.upper()
    names = "NAME:" + frame["provider_name"].astype("string").str.strip().str.upper()
    return ids.fillna(names)


def _last_edits(current: pd.DataFrame | None, icb_code: str) -> pd.DataFrame:
    """Per provider key, the note and date of its last change in this ICB."""
    empty = pd.DataFrame(columns=[EDIT_NOTE, EDITED_ON])
    if current is None or EDITED_ON not in current.columns:
        return empty
    edits = current[current[EDITED_ON].notna() & (current["icb_code"] == icb_code)]
    edits = edits.assign(_key=_provider_keys(edits)).sort_values("row")
    return edits.drop_duplicates("_key", keep="last").set_index("_key")[[EDIT_NOTE, EDITED_ON]]


def _as_list(current: pd.DataFrame | None) -> pd.DataFrame:
    """The current list with the editor's columns (blank where it has none)."""
    columns = [*ENGAGEMENT_COLUMNS, *EDIT_COLUMNS]
    if current is None:
        return _typed(pd.DataFrame(columns=columns))
    missing = {name: pd.NA for name in columns if name not in current.columns}
    return _typed(current.assign(**missing))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Text columns as strings (blank as missing) and `row` as whole numbers."""
    text = [c for c in table.columns if c != "row"]
    typed = table.astype({c: "string" for c in text} | {"row": "int64"})
    for name in text:
        typed[name] = typed[name].str.strip().replace("", pd.NA)
    return typed


def _check_changes(changes: pd.DataFrame) -> None:
    odd = sorted(set(changes["planning_status"].dropna()) - set(_SHOWN_FIRST))
    if odd:
        raise InputError(f"engagement editor: {odd[0]!r} is not a status")
    if changes["planning_status"].isna().any():
        raise InputError("engagement editor: choose engaged or not engaged for every row changed")
