"""What the sector rules could not decide, and saying so: per row in `sector_rule`, per file in a note.

A file that lacks a column a sector rule needs cannot run that rule. Where the rule
might have changed a row's answer, the row is not decided:

- Independent is a conclusion by elimination (not NHS, not a council, not a charity),
  so a row the rules call Independent is left Unknown when a rule that could have
  called it something else comes earlier and could not run. CQC's API location
  records carry no provider name, charity number or ownership type: without this,
  Devon County Council's homes and national charities all came out Independent.
- A row no rule claimed is Unknown either way; its `sector_rule` says which rules could
  not run instead of 'no rule matched'.

Such rows carry `sector_rule` 'undecided: <rule> needs <column>; …'. A provider list
without a sector column carries 'no sector column'; a sector the analyst set for the
whole file, 'set_for_file'. `sector_notes` turns these into sentences for the upload
page, the analysis notes and the command line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from geo.model import problems, sectors
from geo.model.errors import InputError
from geo.model.providers import ProviderList
from geo.model.registers import Register
from geo.model.text import name_key

UNDECIDED_PREFIX = "undecided: "
NO_SECTOR_COLUMN = "no sector column"
SET_FOR_FILE = "set_for_file"
_NEEDS = " needs "
_SEPARATOR = "; "

Note = tuple[str, str]  # (text, level), as pipeline.Note holds them


def classify_with_coverage(
    raw: pd.DataFrame,
    rules: tuple[sectors.SectorRule, ...] = sectors.DEFAULT_CQC_RULES,
    registers: Mapping[str, Register] | None = None,
) -> pd.DataFrame:
    """`sectors.classify_sectors`, with the rows the missing columns leave open marked undecided.

    Only a missing column leaves a row undecided; a register that was not loaded is
    reported by `sectors.rules_not_run` (its rule simply does not fire), since without
    the registers the rules still decide as the publisher's own columns allow.

    Rows called Independent after a rule of another sector that could not run become
    Unknown; rows no rule claimed say which rules could not run. Both get `sector_rule`
    'undecided: <rule> needs <column>; …'. A file with every column is unchanged.
    """
    missing = rules_without_columns(raw.columns, rules)
    if rules and len(missing) == len(rules):  # no rule can run: nothing is decided
        reason = pd.Series(_undecided(list(missing)), index=raw.index, dtype="string")
        unknown = pd.Series(sectors.UNKNOWN, index=raw.index, dtype="string")
        return pd.DataFrame({"sector": unknown, "sector_rule": reason})
    classified = sectors.classify_sectors(raw, rules, registers)
    if not missing:
        return classified
    why = {name: _undecided(blockers) for name, blockers in _blockers(rules, missing).items()}
    fired = classified["sector_rule"].astype("string")
    reason = fired.map(why).astype("string")
    undecided = reason.notna().to_numpy(dtype=bool)
    sector = classified["sector"].to_numpy(dtype=object).copy()
    sector[undecided] = sectors.UNKNOWN
    rule = np.where(
        undecided, reason.fillna("").to_numpy(dtype=object), fired.to_numpy(dtype=object)
    )
    return pd.DataFrame({"sector": sector, "sector_rule": rule}, index=raw.index, dtype="string")


def rules_without_columns(
    columns: pd.Index, rules: tuple[sectors.SectorRule, ...]
) -> tuple[sectors.SectorRule, ...]:
    """The rules whose column the file lacks (matched as classify_sectors matches them)."""
    keys = {name_key(column) for column in columns}
    return tuple(rule for rule in rules if name_key(rule.column) not in keys)


def set_sector_for_file(listed: ProviderList, sector: str) -> ProviderList:
    """Every site given `sector`, with `sector_rule` 'set_for_file' so it stays visible, and
    the problems of the file's own sector labels dropped: they no longer count."""
    if sector not in sectors.SECTORS:
        raise InputError(f"sector {sector!r} is not one of {', '.join(sectors.SECTORS)}")
    sites = listed.sites.assign(
        sector=pd.Series(sector, index=listed.sites.index, dtype="string"),
        sector_rule=pd.Series(SET_FOR_FILE, index=listed.sites.index, dtype="string"),
    )
    kept = listed.problems[listed.problems["column"] != "sector"].reset_index(drop=True)
    return replace(listed, sites=sites, problems=kept)


def sector_notes(sites: pd.DataFrame) -> list[Note]:
    """Sentences for what the sector rules could not decide, or what the analyst set."""
    if "sector_rule" not in sites.columns or sites.empty:
        return []
    rule = sites["sector_rule"].astype("string")
    notes = []
    undecided = rule[rule.str.startswith(UNDECIDED_PREFIX).fillna(False)]
    if len(undecided):
        notes.append((_undecided_sentence(undecided, len(sites)), problems.WARNING))
    without = int(rule.eq(NO_SECTOR_COLUMN).sum())
    if without:
        notes.append(
            (
                f"The list has no sector column, so {_rows(without)} are counted as Unknown "
                "sector: map a sector column, or on the Upload page choose one sector for "
                "every row.",
                problems.WARNING,
            )
        )
    chosen = sites.loc[rule.eq(SET_FOR_FILE).fillna(False), "sector"]
    for sector, count in chosen.value_counts().items():
        notes.append(
            (
                f"Sector set to {sector} for every row of the file ({_rows(int(count))}; "
                f"sector_rule {SET_FOR_FILE}).",
                problems.NOTE,
            )
        )
    return notes


def _blockers(
    rules: tuple[sectors.SectorRule, ...], missing: tuple[sectors.SectorRule, ...]
) -> dict[str, list[sectors.SectorRule]]:
    """Per deciding rule (and NO_RULE), the rules that could not run and might have overruled it."""
    order = {rule.name: position for position, rule in enumerate(rules)}
    blockers = {sectors.NO_RULE: list(missing)}
    for rule in rules:
        if rule.sector == sectors.INDEPENDENT:
            earlier = [m for m in missing if order[m.name] < order[rule.name]]
            blockers[rule.name] = [m for m in earlier if m.sector != sectors.INDEPENDENT]
    return {name: found for name, found in blockers.items() if found}


def _undecided(blockers: list[sectors.SectorRule]) -> str:
    parts = [f"{rule.name}{_NEEDS}{rule.column}" for rule in blockers]
    return UNDECIDED_PREFIX + _SEPARATOR.join(parts)


def _undecided_sentence(reasons: pd.Series, total: int) -> str:
    """'12 of 20 rows have no sector: the file has no column for rules …', counted per rule."""
    per_rule: Counter[str] = Counter()
    for reason, count in reasons.value_counts().items():
        for part in str(reason).removeprefix(UNDECIDED_PREFIX).split(_SEPARATOR):
            per_rule[part] += int(count)
    listed = "; ".join(
        f"{part.replace(_NEEDS, ' needs column ')} ({_rows(count)})"
        for part, count in per_rule.items()
    )
    return (
        f"{len(reasons):,} of {_rows(total)} have no sector (Unknown): the file lacks the "
        f"columns these sector rules need, so they could not run: {listed}. Independent is "
        "only given when the rules for NHS, council and voluntary providers could run."
    )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"
