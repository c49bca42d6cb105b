"""An analyst's sector-rule file (CSV), read into the ordered rules of `geo.model.sectors`.

So an analyst can change how sites get their sector without touching code; every
problem names the file, the row as a spreadsheet shows it, and the column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.io import tables
from geo.model import problems
from geo.model.errors import InputError
from geo.model.registers import REGISTER_NAMES
from geo.model.sectors import MATCH_KINDS, SECTORS, SectorRule, regex_problem

_RULE_FIELDS = ("name", "sector", "column", "match", "values", "exclude", "description")
_SECTOR_NAMES = {sector.casefold(): sector for sector in SECTORS}


def load_sector_rules(path: str | Path) -> tuple[SectorRule, ...]:
    """Read a user's sector-rule table (CSV: name, sector, column, match, values, exclude,
    description), so an analyst can change the rules without touching code.

    `values` holds '|'-separated values for match=equals, the pattern for match=regex and
    the register's name (`geo.model.registers.REGISTER_NAMES`) for match=register.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"sector rules file {path.name}: not found at {path}")
    read = tables.read_csv_cells(path, "sector rules file")
    _check_no_repeated_columns(path.name, read.noticed)
    table = read.frame
    missing = [name for name in ("name", "sector", "column", "match") if name not in table]
    if missing:
        found = ", ".join(map(str, table.columns)) or "nothing"
        raise InputError(
            f"sector rules file {path.name}: missing column(s) {', '.join(missing)}; expected "
            f"name, sector, column, match, values, exclude, description; found {found}"
        )
    if table.empty:
        raise InputError(f"sector rules file {path.name}: has a header but no rules")
    records = table.to_dict("records")
    # Row numbers as a spreadsheet shows them: the header is row 1.
    rules = tuple(_rule_from_row(path.name, n, r) for n, r in enumerate(records, start=2))
    _check_unique_names(path.name, rules)
    return rules


def _check_no_repeated_columns(file_name: str, noticed: pd.DataFrame) -> None:
    """A column named twice would leave one of the two unread, so it is refused."""
    repeated = noticed[noticed["kind"] == problems.DUPLICATE_COLUMN]["column"].tolist()
    if repeated:
        raise InputError(
            f"sector rules file {file_name}: the header names column(s) {', '.join(repeated)} "
            "more than once; keep one of each"
        )


def _rule_from_row(file_name: str, number: int, record: dict) -> SectorRule:
    """One SectorRule from one row of an override file, or an InputError naming the row."""
    where = f"sector rules file {file_name}: row {number}"
    fields = {name: str(record.get(name) or "").strip() for name in _RULE_FIELDS}
    sector = _SECTOR_NAMES.get(fields["sector"].casefold())
    if sector is None:
        raise InputError(
            f"{where}, column sector: {fields['sector']!r} is not a sector; "
            f"expected one of {', '.join(SECTORS)}"
        )
    match = fields["match"].casefold()
    if match not in MATCH_KINDS:
        raise InputError(
            f"{where}, column match: {fields['match']!r} is not a match kind; "
            f"expected one of {', '.join(MATCH_KINDS)}"
        )
    for required in ("name", "column") + (("values",) if match != "present" else ()):
        if not fields[required]:
            raise InputError(f"{where}, column {required}: is empty (match={match})")
    for column in ("values", "exclude") if match == "regex" else ("exclude",):
        problem = regex_problem(fields[column])
        if problem:
            raise InputError(f"{where}, column {column}: {problem}")
    values = fields["values"]
    if match == "register" and values not in REGISTER_NAMES:
        raise InputError(
            f"{where}, column values: {values!r} is not a register; "
            f"expected one of {', '.join(REGISTER_NAMES)}"
        )
    return SectorRule(
        name=fields["name"],
        sector=sector,
        description=fields["description"],
        column=fields["column"],
        match=match,
        values=frozenset(v.strip() for v in values.split("|") if v.strip())
        if match == "equals"
        else frozenset(),
        pattern=values if match == "regex" else None,
        exclude=fields["exclude"] or None,
        register=values if match == "register" else None,
    )


def _check_unique_names(file_name: str, rules: tuple[SectorRule, ...]) -> None:
    """Rule names are what users see in `sector_rule`, so two rules may not share one."""
    names = pd.Series([rule.name for rule in rules])
    duplicated = sorted(set(names[names.duplicated()]))
    if duplicated:
        raise InputError(
            f"sector rules file {file_name}: column name has duplicate rule names: "
            f"{', '.join(duplicated)}"
        )
