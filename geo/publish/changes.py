"""What publishing a provider source would change for everyone, said before it is published.

Publishing adds a new source or replaces one; every page then sees the union of the
sources (`geo.analysis.merging`). `source_changes` compares that union before and after,
site by site, and counts per ICB the sites added, removed and changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo import workspace
from geo.analysis import merging, spatial
from geo.model.errors import InputError
from geo.store.versions import Store, check_source_name

ADD = "add"
REPLACE = "replace"
_CHANGE_COLUMNS: dict[str, str] = {
    "icb_code": "string",
    "icb_name": "string",
    "added": "int64",
    "removed": "int64",
    "changed": "int64",
}


@dataclass(frozen=True)
class SourceChanges:
    """Per ICB (icb_code, icb_name, added, removed, changed), and the totals, of one publish."""

    by_icb: pd.DataFrame
    added: int
    removed: int
    changed: int
    sites_before: int
    sites_after: int


def check_source_choice(store: Store, source: str, action: str) -> str:
    """The source name, checked against what the analyst chose: `ADD` a new source (its name
    not yet taken) or `REPLACE` an existing one."""
    check_source_name(source)
    exists = store.source_dataset(source) is not None
    if action == ADD and exists:
        raise InputError(
            f"provider source {source} already exists: choose 'replace' to publish a new "
            "version of it, or give the new source another name"
        )
    if action == REPLACE and not exists:
        known = ", ".join(store.sources()["source"]) or "none yet"
        raise InputError(f"no provider source named {source} to replace; the sources are: {known}")
    if action not in (ADD, REPLACE):
        raise InputError(f"publishing action {action!r}: expected {ADD} or {REPLACE}")
    return source


def source_changes(
    store: Store, source: str, table: pd.DataFrame, vintage: str | None = None
) -> SourceChanges:
    """What everyone would see change if `table` became provider source `source`'s current
    version: sites added, removed and changed, per ICB of `vintage` (None: the default)."""
    icbs = workspace.icb_boundaries(store, vintage)
    named = workspace.published_sources(store)
    before = merging.merge_sources(named).sites if named else table.iloc[:0]
    others = [(name, sites) for name, sites in named if name != source]
    position = next((n for n, (name, _) in enumerate(named) if name == source), len(others))
    after = merging.merge_sources([*others[:position], (source, table), *others[position:]]).sites
    return _compare(_placed(before, icbs), _placed(after, icbs))


def _placed(sites: pd.DataFrame, icbs) -> pd.DataFrame:
    """Sites with their ICB (none without boundaries) and the key that says which site each is."""
    sites = sites.reset_index(drop=True)
    if icbs is None:
        assigned = sites.assign(icb_code=pd.NA, icb_name=pd.NA)
    else:
        assigned = pd.DataFrame(spatial.assign_sites(sites, icbs))
    return assigned.assign(key=_keys(assigned)).drop_duplicates("key")


def _keys(sites: pd.DataFrame) -> pd.Series:
    """A site's identity across versions: its shared ID, else name and postcode, else name
    and coordinates."""
    keys = merging.site_keys(sites)
    name = (
        sites["site_name"].astype("string")
        if "site_name" in sites
        else pd.Series("", index=sites.index)
    )
    where = sites["lat"].astype("string") + "," + sites["lon"].astype("string")
    fallback = "at:" + name.fillna("") + "|" + where.fillna("")
    return ("id:" + keys["id"]).fillna("place:" + keys["place"]).fillna(fallback)


def _compare(before: pd.DataFrame, after: pd.DataFrame) -> SourceChanges:
    old, new = before.set_index("key"), after.set_index("key")
    added = new.loc[new.index.difference(old.index)]
    removed = old.loc[old.index.difference(new.index)]
    both = new.index.intersection(old.index)
    differ = pd.Series(False, index=both)
    for column in merging.COMPARED_COLUMNS:
        if column in old and column in new:
            kept, other = old.loc[both], new.loc[both]
            differ |= merging.differing(
                merging.compared_values(kept, column), merging.compared_values(other, column)
            )
    changed = new.loc[both[differ.to_numpy()]]
    table = pd.concat(
        [_per_icb(added, "added"), _per_icb(removed, "removed"), _per_icb(changed, "changed")],
        axis=1,
    ).fillna(0)
    table = table.reset_index().rename(columns={"level_0": "icb_code", "level_1": "icb_name"})
    table = table.astype(_CHANGE_COLUMNS).sort_values("icb_code", ignore_index=True)
    return SourceChanges(table, len(added), len(removed), int(differ.sum()), len(old), len(new))


def _per_icb(sites: pd.DataFrame, name: str) -> pd.Series:
    """How many of `sites` each ICB has (sites outside every ICB under '(none)')."""
    codes = sites["icb_code"].astype("string").fillna("(none)")
    names = sites["icb_name"].astype("string").fillna("outside every ICB")
    counts = pd.DataFrame({"icb_code": codes, "icb_name": names}).value_counts()
    return counts.rename(name)
