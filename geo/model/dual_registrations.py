"""Count each place once: a home registered under two providers is one site with two providers.

CQC registers some care homes twice, once under the operator and once under the
company that owns the building (DATA-FORMATS-2.md §9). The pairs come from CQC's own
marks when the file has them (`primary_id_pairs`, `sheet_pairs`), else from the same
name, postcode and beds under two providers (`same_place_pairs`). `merge_pairs` keeps
the primary record of each pair, puts the other's provider on it, and marks the other
with a DUAL_REGISTRATION problem, which leaves it out of every count.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geo.model import problems
from geo.model.providers import ProviderList
from geo.model.text import label_key, name_key, trimmed_text

# Where each pair came from, as the problem and the notes say it.
BY_PRIMARY_ID = "CQC Primary ID"
BY_SHEET = "CQC Dual_Registration_Locations sheet"
BY_SAME_PLACE = "same name, postcode and beds"

OTHER_PROVIDER_IDS = "other_provider_ids"
OTHER_PROVIDER_NAMES = "other_provider_names"
_SEPARATOR = "; "
_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"", "n", "no", "false", "0"})


def primary_id_pairs(sites: pd.DataFrame, primary_column: str) -> pd.Series:
    """Secondary row -> primary row, from the main sheet's `Primary ID (Dual registration
    locations)`: a row whose primary is another location in the file."""
    own = trimmed_text(sites["site_id"])
    primary = trimmed_text(sites[primary_column])
    return _pairs_by_id(own, primary.where(primary.ne(own).fillna(False)))


def sheet_pairs(sites: pd.DataFrame, sheet: pd.DataFrame) -> pd.Series:
    """Secondary row -> primary row, from the `Dual_Registration_Locations` sheet.

    Its `Primary ID` is a flag (`Y` on the primary location) in the layouts seen; a
    location ID there is taken as the primary's ID. A flagged-off row pairs with the
    flagged row of its linked provider that links back to it, or, when that provider
    has several, the one of the same location name; anything less certain is not paired.
    """
    column = {name_key(name): name for name in sheet.columns}
    location = trimmed_text(sheet[column.get("locationid", sheet.columns[0])])
    flag = _sheet_column(sheet, column, "primaryid")
    if flag.dropna().map(label_key).isin(_YES | _NO).all():
        primary_location = _flagged_primaries(sheet, column, location, flag)
    else:
        primary_location = flag.where(flag.ne(location).fillna(False))
    linked = pd.Series(primary_location.to_numpy(), index=location.to_numpy()).dropna()
    linked = linked[~linked.index.duplicated()]
    own = trimmed_text(sites["site_id"])
    return _pairs_by_id(own, own.map(linked).astype("string"))


def same_place_pairs(sites: pd.DataFrame) -> pd.Series:
    """Secondary row -> primary row for rows with the same name, postcode and beds as an
    earlier row of another provider: the earlier is kept as the primary."""
    key = pd.DataFrame(
        {
            "name": trimmed_text(sites["site_name"]).map(label_key, na_action="ignore"),
            "postcode": trimmed_text(sites["postcode"]),
            "beds": sites["capacity"],
            "provider": trimmed_text(sites["provider_id"]),
        },
        index=sites.index,
    )
    key = key[key.notna().all(axis=1)]
    place = key.groupby(["name", "postcode", "beds"], sort=False).ngroup()
    primary = pd.Series(key.index, index=key.index).groupby(place).transform("first")
    primary_provider = key["provider"].reindex(primary.to_numpy()).to_numpy()
    other = (primary.index != primary.to_numpy()) & (key["provider"].to_numpy() != primary_provider)
    return primary[other]


def merge_pairs(listed: ProviderList, pairs: pd.Series, method: str) -> ProviderList:
    """Each secondary row marked as a dual registration of its primary, and the
    secondary's provider added to the primary's OTHER_PROVIDER_IDS/NAMES (both always
    present, empty when a site has one provider)."""
    sites = listed.sites.copy()
    for column in (OTHER_PROVIDER_IDS, OTHER_PROVIDER_NAMES):
        sites[column] = pd.Series(pd.NA, index=sites.index, dtype="string")
    pairs = pairs[pairs.index.isin(sites.index) & pairs.isin(sites.index)]
    pairs = pairs[~pairs.index.isin(pairs.to_numpy())]  # a primary is never merged away
    if pairs.empty:
        return replace(listed, sites=sites)
    for source, target in (
        ("provider_id", OTHER_PROVIDER_IDS),
        ("provider_name", OTHER_PROVIDER_NAMES),
    ):
        sites[target] = _others(sites, pairs, source)
    secondary = pd.Series(sites.index.isin(pairs.index), index=sites.index)
    primary_ids = trimmed_text(sites["site_id"]).reindex(pairs.to_numpy()).to_numpy()
    detail = pd.Series(pd.NA, index=sites.index, dtype="string")
    detail[pairs.index] = [f"{primary} ({method})" for primary in primary_ids]
    merged = problems.found(
        secondary, problems.DUAL_REGISTRATION, "site_id", sites["site_id"], problems.NOTE, detail
    )
    return replace(listed, sites=sites, problems=problems.concat([listed.problems, merged]))


def _others(sites: pd.DataFrame, pairs: pd.Series, source: str) -> pd.Series:
    """Per primary row, its secondaries' distinct `source` values other than its own, joined."""
    values = trimmed_text(sites[source])
    own = values.reindex(pairs.to_numpy()).to_numpy()
    theirs = values.reindex(pairs.index).to_numpy()
    table = pd.DataFrame({"primary": pairs.to_numpy(), "own": own, "other": theirs}).dropna()
    table = table[table["own"].ne(table["other"])].drop_duplicates(["primary", "other"])
    joined = table.groupby("primary", sort=False)["other"].agg(_SEPARATOR.join)
    return joined.reindex(sites.index).astype("string")


def _pairs_by_id(own: pd.Series, primary_id: pd.Series) -> pd.Series:
    """Row -> row of the location whose ID is `primary_id` (first such row), where there is one."""
    row_of = pd.Series(own.index, index=own.to_numpy())
    row_of = row_of[~row_of.index.duplicated() & row_of.index.notna()]
    wanted = primary_id.dropna()
    return wanted.map(row_of).dropna().astype(own.index.dtype)


def _sheet_column(sheet: pd.DataFrame, column: dict, key: str) -> pd.Series:
    if key in column:
        return trimmed_text(sheet[column[key]])
    return pd.Series(pd.NA, index=sheet.index, dtype="string")


def _flagged_primaries(
    sheet: pd.DataFrame, column: dict, location: pd.Series, flag: pd.Series
) -> pd.Series:
    """For each flagged-off row, the location ID of its pair's primary (NA where unsure)."""
    provider = _sheet_column(sheet, column, "providerid")
    linked = _sheet_column(sheet, column, "linkedorganisationid")
    name = _sheet_column(sheet, column, "locationname").map(label_key, na_action="ignore")
    is_primary = flag.map(label_key, na_action="ignore").isin(_YES).fillna(False).astype(bool)
    primary_location = pd.Series(pd.NA, index=sheet.index, dtype="string")
    for row in sheet.index[~is_primary & linked.notna()]:
        candidates = is_primary & provider.eq(linked[row]).fillna(False)
        back = candidates & linked.eq(provider[row]).fillna(False)
        candidates = back if back.any() else candidates
        if candidates.sum() > 1:
            candidates &= name.eq(name[row]).fillna(False)
        if candidates.sum() == 1:
            primary_location[row] = location[candidates].iloc[0]
    return primary_location
