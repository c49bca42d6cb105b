"""NHS trusts known by their ODS codes: a site whose organisation code is a trust's is NHS.

A publisher's sector column can be wrong: the NHS website's 2020 hospital list files
244 sites of NHS trusts (Solent NHS Trust, R1C) under "Independent Sector". The ODS
code cannot be: NHS trusts and their sites have codes of their own shape. So a site
whose organisation code is a trust's is NHS whatever the list says, and where the
list said another sector the row carries a warning naming both.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace

import pandas as pd

from geo.model import problems, sectors
from geo.model.providers import ProviderList
from geo.model.text import trimmed_text

# ODS code shapes (DATA-FORMATS.md §2): an NHS trust is `R` and two letters or digits
# (R1C Solent NHS Trust; all 218 trusts of the April 2022 `etr` in
# ../shared/data/nhs_trusts_2022_hq_points.geojson have this shape), a care trust `T`
# and two (TAF Camden and Islington NHS Foundation Trust); a trust's site is its code and
# two more (R1CA7). A five-character `T` code is not a trust's site: in the NHS website's
# 2020 list TP9FD is a site of Community Health And Eyecare Limited (AAV).
TRUST_CODE = re.compile(r"[RT][A-Z0-9]{2}")
TRUST_SITE_CODE = re.compile(r"R[A-Z0-9]{2}[A-Z0-9]{2}")
RULE = "nhs_trust_code"
SECTOR_RULE_COLUMN = "sector_rule"
_OTHER_SECTORS = frozenset({sectors.INDEPENDENT, sectors.VOLUNTARY, sectors.LOCAL_AUTHORITY})


def trust_of(codes: pd.Series) -> pd.Series:
    """The NHS trust each ODS code belongs to (its first three characters), NA for codes
    that are neither a trust's nor a trust site's."""
    text = trimmed_text(codes).str.upper()
    shaped = text.str.fullmatch(TRUST_CODE.pattern) | text.str.fullmatch(TRUST_SITE_CODE.pattern)
    return text.str[:3].where(shaped.fillna(False).astype(bool))


def site_trusts(sites: pd.DataFrame) -> pd.Series:
    """The NHS trust that runs each site, by its provider's ODS code, else (no provider
    code) by the site's own: NA where neither is a trust's."""
    blank = pd.Series(pd.NA, index=sites.index, dtype="string")
    provider = trimmed_text(sites["provider_id"]) if "provider_id" in sites else blank
    site = trimmed_text(sites["site_id"]) if "site_id" in sites else blank
    return trust_of(provider.fillna(site))


def nhs_by_code(listed: ProviderList, trusts: Collection[str] | None = None) -> ProviderList:
    """Sites run by an NHS trust are NHS, whatever the list's sector said, with the rule in
    `sector_rule` and a SECTOR_CONTRADICTS_CODE warning where the list said otherwise.

    `trusts`, the codes of an ODS `etr`/`ets` list when one is loaded, confirms each
    trust: a code of a trust's shape that the list lacks is left as the list says.
    """
    sites = listed.sites
    trust = site_trusts(sites)
    if trusts is not None:
        known = {str(code).strip().upper() for code in trusts}
        trust = trust.where(trust.isin(known))
    nhs = trust.notna().to_numpy()
    sector = sites["sector"].astype("string")
    said_other = sector.isin(_OTHER_SECTORS).to_numpy() & nhs
    found = _without_unknown_labels(listed.problems, sites.index[nhs], trust)
    contradicts = pd.Series(said_other, index=sites.index)
    found = problems.concat(
        [
            found,
            problems.found(
                contradicts,
                problems.SECTOR_CONTRADICTS_CODE,
                "sector",
                sector,
                problems.WARNING,
                detail=trust,
            ),
        ]
    )
    changed = nhs & sector.ne(sectors.NHS).fillna(True).to_numpy()
    return replace(listed, sites=_decided_by_code(sites, changed), problems=found)


def _without_unknown_labels(found: pd.DataFrame, rows: pd.Index, trust: pd.Series) -> pd.DataFrame:
    """An unrecognised sector label on a trust's row is a contradiction, not an Unknown."""
    relabel = (found["kind"] == problems.UNKNOWN_SECTOR) & found["row"].isin(rows)
    if not relabel.any():
        return found
    found = found.copy()
    found.loc[relabel, "kind"] = problems.SECTOR_CONTRADICTS_CODE
    found[problems.DETAIL] = found.get(problems.DETAIL, pd.Series(pd.NA, index=found.index))
    found.loc[relabel, problems.DETAIL] = trust[found.loc[relabel, "row"]].to_numpy()
    return found.astype({problems.DETAIL: "string"})


def _decided_by_code(sites: pd.DataFrame, changed) -> pd.DataFrame:
    """The sites with NHS in `sector` and RULE in `sector_rule` where the code changed it
    (a `sector_rule` column is added, empty elsewhere, when the list had none)."""
    sites = sites.copy()
    sites.loc[changed, "sector"] = sectors.NHS
    if SECTOR_RULE_COLUMN not in sites.columns:
        sites[SECTOR_RULE_COLUMN] = pd.Series(pd.NA, index=sites.index, dtype="string")
    sites.loc[changed, SECTOR_RULE_COLUMN] = RULE
    return sites


def decided_sentence(sites: pd.DataFrame) -> str | None:
    """How many sites' sector their NHS trust code decided, in words (None: none)."""
    if SECTOR_RULE_COLUMN not in sites.columns:
        return None
    count = int(sites[SECTOR_RULE_COLUMN].eq(RULE).fillna(False).sum())
    if not count:
        return None
    sites_word = "site is" if count == 1 else "sites are"
    return (
        f"{count:,} {sites_word} counted as NHS by their NHS trust's ODS code, whatever the "
        "list's sector column said (sector_rule nhs_trust_code)."
    )
