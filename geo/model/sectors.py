"""The five provider sectors and how a site gets one: CQC sector rules, free-text sector labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.model import registers as vcse_registers
from geo.model.errors import InputError
from geo.model.patterns import pattern_problem, search_pattern
from geo.model.registers import REGISTER_KINDS, Register
from geo.model.text import (
    cell_text,
    label_key,
    lookup_labels,
    name_key,
    trimmed_text,
    unrecognised_labels,
)

NHS = "NHS"
LOCAL_AUTHORITY = "Local authority"
INDEPENDENT = "Independent"
VOLUNTARY = "Voluntary"
UNKNOWN = "Unknown"
SECTORS: tuple[str, ...] = (NHS, LOCAL_AUTHORITY, INDEPENDENT, VOLUNTARY, UNKNOWN)
# Okabe–Ito: told apart by colour-blind readers; maps and briefings draw sectors in these.
SECTOR_COLOURS: dict[str, str] = {
    NHS: "#0072B2",
    LOCAL_AUTHORITY: "#009E73",
    INDEPENDENT: "#E69F00",
    VOLUNTARY: "#CC79A7",
    UNKNOWN: "#999999",
}

# Independent and voluntary: the sectors whose place in ICS planning this tool measures.
IV_SECTORS: tuple[str, ...] = (INDEPENDENT, VOLUNTARY)

# What `classify_sectors` puts in `sector_rule` when no rule claims a row.
NO_RULE = "no rule matched"
MATCH_KINDS: tuple[str, ...] = ("equals", "regex", "present", "register")
_BLANK_MARKERS = frozenset({"", "-", "n/a", "none", "null"})


def sector_slug(sector: str) -> str:
    """The column-name form of a sector: 'Local authority' -> 'local_authority'."""
    return sector.lower().replace(" ", "_")


# --- sector rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class SectorRule:
    """One line of the sector table: which rows it claims, and the sector it gives them.

    `match` says how `column` is tested: "equals" one of `values` (case-insensitive,
    trimmed), "regex" `pattern` (case-insensitive, anywhere in the cell), "present"
    (non-blank and not '-'), or "register": the cell, as `register`'s key, is in that
    register (`geo.model.registers`; a register not loaded claims nothing, and
    `rules_not_run` says so). Rows whose `column` matches `exclude` are never claimed.
    """

    name: str
    sector: str
    description: str
    column: str
    match: str = "equals"
    values: frozenset[str] = frozenset()
    pattern: str | None = None
    exclude: str | None = None
    register: str | None = None

    def __post_init__(self) -> None:
        problem = _rule_problem(self)
        if problem:
            raise ValueError(f"sector rule {self.name!r}: {problem}")


def _rule_problem(rule: SectorRule) -> str | None:
    """What is wrong with a rule, in words, or None."""
    if rule.sector not in SECTORS:
        return f"sector {rule.sector!r} is not one of {', '.join(SECTORS)}"
    if rule.match not in MATCH_KINDS:
        return f"match {rule.match!r} is not one of {', '.join(MATCH_KINDS)}"
    if not str(rule.column).strip():
        return "column is empty"
    if rule.match == "equals" and not rule.values:
        return "match=equals needs at least one value"
    if rule.match == "regex" and not rule.pattern:
        return "match=regex needs a pattern"
    if rule.match == "register" and rule.register not in REGISTER_KINDS:
        return f"register {rule.register!r} is not one of {', '.join(REGISTER_KINDS)}"
    for label, pattern in (("pattern", rule.pattern), ("exclude", rule.exclude)):
        problem = regex_problem(pattern)
        if problem:
            return f"{label} {problem}"
    return None


def regex_problem(pattern: str | None) -> str | None:
    """What is wrong with a rule's pattern (run by RE2, so none can hang), or None."""
    return pattern_problem(pattern)


_COUNCIL_NAMES = (
    "Department of Community Services|Social & Community Services|SCC Adult Social Care"
    "|Cheshire West and Chester Reablement Service|Council|Social Services|MBC|MDC"
    "|London Borough|Royal Borough|Borough of"
)

# Companies House numbers of registered societies (RS, IP; SP in Scotland; NP, NO in
# Northern Ireland) and charitable incorporated organisations (CE; CS in Scotland):
# DATA-FORMATS-2.md §6, e.g. RS007843, IP21410R, CE001178.
_SOCIETY_OR_CIO_NUMBER = r"^(RS|IP|SP|NP|NO|CE|CS)\d{5,6}[A-Z]?$"
# The endings the law requires of a community interest company's name (DATA-FORMATS-2.md §6).
_CIC_NAME = (
    r"\b(C\.?\s?I\.?\s?C\.?|COMMUNITY INTEREST (PUBLIC LIMITED )?COMPANY"
    r"|COMMUNITY INTEREST P\.?L\.?C\.?)\s*$"
)

# The CQC sector rules, applied in this order; the first rule that claims a row wins.
DEFAULT_CQC_RULES: tuple[SectorRule, ...] = (
    SectorRule(
        name="nhs_body",
        sector=NHS,
        description="The provider is an NHS body (trust or foundation trust).",
        column="Provider Ownership Type",
        values=frozenset({"NHS Body"}),
    ),
    SectorRule(
        name="nhs_healthcare_organisation",
        sector=NHS,
        description="CQC registers the location as an NHS healthcare organisation.",
        column="Location Type/Sector",
        values=frozenset({"NHS Healthcare Organisation"}),
    ),
    SectorRule(
        name="council_name",
        sector=LOCAL_AUTHORITY,
        description="The provider's name is a council's (Skills for Care's rule).",
        column="Provider Name",
        match="regex",
        pattern=_COUNCIL_NAMES,
        exclude="The Council of St Monica Trust",
    ),
    SectorRule(
        name="charity_number",
        sector=VOLUNTARY,
        description="The provider has a registered charity number.",
        column="Provider Charity Number",
        match="present",
    ),
    SectorRule(
        name="charity_register_company",
        sector=VOLUNTARY,
        description="The provider's Companies House number is a registered charity's "
        "(the Charity Commission's register of charities, main charities only).",
        column="Provider Companies House Number",
        match="register",
        register=vcse_registers.CHARITY_COMPANIES,
    ),
    SectorRule(
        name="society_or_cio_prefix",
        sector=VOLUNTARY,
        description="The provider's Companies House number is a registered society's "
        "(RS, IP, SP, NP, NO: co-operative and community benefit societies) or a "
        "charitable incorporated organisation's (CE, CS).",
        column="Provider Companies House Number",
        match="regex",
        pattern=_SOCIETY_OR_CIO_NUMBER,
    ),
    SectorRule(
        name="rsh_non_profit",
        sector=VOLUNTARY,
        description="The provider's name is a non-profit registered provider's in the "
        "Regulator of Social Housing's list (the same name, ignoring case, punctuation and "
        "'Limited'; close names are reported, not applied).",
        column="Provider Name",
        match="register",
        register=vcse_registers.RSH_NON_PROFIT,
    ),
    SectorRule(
        name="cic_name",
        sector=VOLUNTARY,
        description="The provider's name ends as a community interest company's must "
        "('CIC', 'C.I.C.', 'Community Interest Company').",
        column="Provider Name",
        match="regex",
        pattern=_CIC_NAME,
    ),
    SectorRule(
        name="gp_practice",
        sector=NHS,
        description="GP practices (primary medical services) hold NHS contracts.",
        column="Location Type/Sector",
        values=frozenset({"Primary Medical Services"}),
    ),
    SectorRule(
        name="independent_type",
        sector=INDEPENDENT,
        description="Any other registered type: social care, independent healthcare, "
        "independent ambulance, dentist.",
        column="Location Type/Sector",
        values=frozenset(
            {
                "Social Care Org",
                "Independent Healthcare Org",
                "Independent Ambulance",
                "Primary Dental Care",
            }
        ),
    ),
)


def classify_sectors(
    raw: pd.DataFrame,
    rules: tuple[SectorRule, ...] = DEFAULT_CQC_RULES,
    registers: Mapping[str, Register] | None = None,
) -> pd.DataFrame:
    """Give each row a `sector` and the `sector_rule` that decided it, so users can see why.

    Rules are tried in order and the first that matches wins; a rule whose column the
    file lacks (found ignoring case, spaces and punctuation), or whose register is not
    in `registers` (name -> Register), never fires: `rules_not_run` says which and where.
    """
    columns = {rule.column: _find_column(raw.columns, rule.column) for rule in rules}
    if rules and not any(columns.values()):
        wanted = ", ".join(sorted(columns))
        raise InputError(f"sector rules: the provider list has none of the columns {wanted}")
    sector = np.full(len(raw), UNKNOWN, dtype=object)
    fired = np.full(len(raw), NO_RULE, dtype=object)
    unclaimed = np.ones(len(raw), dtype=bool)
    distinct: dict[object, tuple[np.ndarray, list[str]]] = {}
    for rule in rules:
        column = columns[rule.column]
        if column is None:
            continue
        if column not in distinct:
            distinct[column] = _distinct_text(raw[column])
        codes, texts = distinct[column]
        hits = np.append(_rule_hits(rule, texts, registers or {}), False)[codes] & unclaimed
        sector[hits] = rule.sector
        fired[hits] = rule.name
        unclaimed &= ~hits
    return pd.DataFrame({"sector": sector, "sector_rule": fired}, index=raw.index, dtype="string")


def rules_table(rules: tuple[SectorRule, ...] = DEFAULT_CQC_RULES) -> pd.DataFrame:
    """The rules as a table in the override-file format, in order, for display and the README."""
    records = [
        {
            "name": rule.name,
            "sector": rule.sector,
            "column": rule.column,
            "match": rule.match,
            "values": _rule_values(rule),
            "exclude": rule.exclude or "",
            "description": rule.description,
        }
        for rule in rules
    ]
    columns = ["name", "sector", "column", "match", "values", "exclude", "description"]
    table = pd.DataFrame.from_records(records, columns=columns).astype("string")
    table.index = pd.RangeIndex(1, len(table) + 1, name="order")
    return table


@dataclass(frozen=True)
class RuleNotRun:
    """A sector rule that could not be tried: what it lacked (a 'column' of the file or a
    'register' not loaded), and on how many rows it might have decided the sector."""

    rule: str
    lacks: str  # "column" or "register"
    name: str  # the column or register it lacks
    rows: int


@dataclass(frozen=True)
class NearMiss:
    """A value close to, but not the same as, an entry of a register a rule looks names up
    in: reported for a person to check, never applied."""

    rule: str
    value: str  # as the provider list writes it
    entry: str  # as the register writes it
    score: float  # 0-100
    rows: int


def rules_not_run(
    raw: pd.DataFrame,
    decided_by: pd.Series,
    rules: tuple[SectorRule, ...] = DEFAULT_CQC_RULES,
    registers: Mapping[str, Register] | None = None,
) -> tuple[RuleNotRun, ...]:
    """The rules `classify_sectors` could not try on `raw`, with the rows each might have
    decided: rows no earlier rule claimed (`decided_by` is its `sector_rule`), and where
    only a register was missing, those of them with a value to look up."""
    found: list[RuleNotRun] = []
    for reached, rule in _rows_reaching(decided_by, rules):
        column = _find_column(raw.columns, rule.column)
        if column is None:
            found.append(RuleNotRun(rule.name, "column", rule.column, int(reached.sum())))
        elif rule.match == "register" and rule.register not in (registers or {}):
            filled = _filled(raw[column]).to_numpy(dtype=bool)
            rows = int((reached & filled).sum())
            found.append(RuleNotRun(rule.name, "register", str(rule.register), rows))
    return tuple(item for item in found if item.rows)


def near_misses(
    raw: pd.DataFrame,
    decided_by: pd.Series,
    rules: tuple[SectorRule, ...] = DEFAULT_CQC_RULES,
    registers: Mapping[str, Register] | None = None,
) -> tuple[NearMiss, ...]:
    """Values close to an entry of a name register (`registers.close_entries`), held by
    rows that reached its rule and ended in another sector: most rows first."""
    found: list[NearMiss] = []
    sector_of = {rule.name: rule.sector for rule in rules}
    outcome = decided_by.astype("string").map(sector_of).fillna(UNKNOWN).to_numpy(dtype=object)
    for reached, rule in _rows_reaching(decided_by, rules):
        register = (registers or {}).get(rule.register or "")
        column = _find_column(raw.columns, rule.column)
        if register is None or column is None or not REGISTER_KINDS[rule.register].by_name:
            continue
        values = raw.loc[reached & (outcome != rule.sector), column]
        counts = _filled_text(values).value_counts()
        keys = vcse_registers.register_keys(rule.register, counts.index)
        for (value, rows), close in zip(
            counts.items(), vcse_registers.close_entries(keys, register), strict=True
        ):
            if close is not None:
                entry, score = close
                found.append(NearMiss(rule.name, value, register.entries[entry], score, rows))
    return tuple(sorted(found, key=lambda miss: (-miss.rows, miss.value)))


def gap_sentences(not_run: tuple[RuleNotRun, ...], misses: tuple[NearMiss, ...] = ()) -> list[str]:
    """What `rules_not_run` and `near_misses` found, as a person reads it."""
    lines = []
    for item in not_run:
        if item.lacks == "register":
            kind = REGISTER_KINDS[item.name]
            lines.append(
                f"Sector rule {item.rule} could not run on {_rows(item.rows)}: {kind.label} is "
                f"not loaded; run `python -m geo fetch` (or `fetch --from DIR` with "
                f"{kind.how_to_get}) and read the file again."
            )
    lacking = [item for item in not_run if item.lacks == "column"]
    if lacking:
        listed = "; ".join(f"{item.rule} ({item.name!r}, {_rows(item.rows)})" for item in lacking)
        lines.append(f"Sector rules that could not run, the file having no such column: {listed}.")
    if misses:
        shown = "; ".join(
            f"{miss.value!r} ~ {miss.entry!r} ({miss.rule}, {miss.rows:,} rows)"
            for miss in misses[:10]
        )
        more = f" and {len(misses) - 10} more" if len(misses) > 10 else ""
        lines.append(
            f"{len(misses)} provider names are close to a register's but not the same, so "
            f"were not applied; check them: {shown}{more}."
        )
    return lines


def _rows(count: int) -> str:
    return f"{count:,} row{'s' if count != 1 else ''}"


def _rows_reaching(decided_by: pd.Series, rules: tuple[SectorRule, ...]):
    """Each rule with the rows no earlier rule claimed (a boolean array)."""
    decided = decided_by.astype("string").fillna(NO_RULE).to_numpy(dtype=object)
    earlier: set[str] = set()
    for rule in rules:
        yield ~np.isin(decided, list(earlier)), rule
        earlier.add(rule.name)


def _filled(values: pd.Series) -> pd.Series:
    """Which cells hold a value, not blank or a blank marker like '-'."""
    return _filled_text(values).notna()


def _filled_text(values: pd.Series) -> pd.Series:
    """Cells as trimmed text, NA where blank or a blank marker like '-'."""
    text = trimmed_text(values)
    return text.mask(text.str.casefold().isin(_BLANK_MARKERS).fillna(False).astype(bool))


def _rule_values(rule: SectorRule) -> str:
    """The `values` cell of a rule in the override-file format."""
    if rule.match == "regex":
        return rule.pattern or ""
    if rule.match == "register":
        return rule.register or ""
    return "|".join(sorted(rule.values))


def _rule_hits(rule: SectorRule, texts: list[str], registers: Mapping[str, Register]) -> np.ndarray:
    """Which of a column's distinct (trimmed) values `rule` claims."""
    if rule.match == "register":
        register = registers.get(rule.register or "")
        if register is None:
            hits = [False] * len(texts)
        else:
            keys = vcse_registers.register_keys(rule.register, texts)
            hits = [key is not None and key in register for key in keys]
    elif rule.match == "equals":
        wanted = {value.strip().casefold() for value in rule.values}
        hits = [text.casefold() in wanted for text in texts]
    elif rule.match == "regex":
        pattern = search_pattern(rule.pattern)
        hits = [pattern.search(text) is not None for text in texts]
    else:
        hits = [text.casefold() not in _BLANK_MARKERS for text in texts]
    if rule.exclude:
        exclude = search_pattern(rule.exclude)
        hits = [hit and exclude.search(text) is None for hit, text in zip(hits, texts, strict=True)]
    return np.array(hits, dtype=bool)


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A column as codes into its distinct trimmed values (blank cells get code -1), so
    each rule tests every distinct value once."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=None))
    return codes, [cell_text(value) or "" for value in uniques]


def _find_column(columns: pd.Index, wanted: str) -> object | None:
    """The column called `wanted`, tolerating case, spacing and punctuation drift."""
    if wanted in columns:
        return wanted
    key = name_key(wanted)
    for column in columns:
        if name_key(column) == key:
            return column
    return None


# --- free-text sector labels ----------------------------------------------------------

_SECTOR_LABELS: dict[str, str] = {
    **dict.fromkeys(
        ["nhs", "nhs trust", "nhs foundation trust", "nhs body", "nhs healthcare"], NHS
    ),
    **dict.fromkeys(
        ["independent", "private", "independent healthcare", "for profit"], INDEPENDENT
    ),
    **dict.fromkeys(
        [
            "voluntary",
            "charity",
            "charitable",
            "vcse",
            "vcs",
            "third",
            "not for profit",
            "non profit",
            "nonprofit",
            "voluntary and community",
            "social enterprise",
        ],
        VOLUNTARY,
    ),
    **dict.fromkeys(["local authority", "council", "la", "local government"], LOCAL_AUTHORITY),
    **dict.fromkeys(["", "unknown", "not known"], UNKNOWN),
}
_SECTOR_NOISE = re.compile(r"(\s(sector|organisation|organization|org|provider|providers))+$")


def normalise_sector_labels(values: pd.Series) -> pd.Series:
    """Map free-text sector labels ('NHS Sector', 'Private', 'VCSE', 'Council') onto SECTORS.

    Blank and unrecognised labels become 'Unknown'; `unrecognised_sector_labels` lists
    the latter so the caller can warn.
    """
    return match_sector_labels(values)[0]


def unrecognised_sector_labels(values: pd.Series) -> list[str]:
    """The distinct non-blank labels `normalise_sector_labels` could not place, sorted."""
    return unrecognised_labels(values, _sector_key, _SECTOR_LABELS)


def match_sector_labels(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`normalise_sector_labels`, and a mask of the cells it recognised (blanks count), so
    the canonical table can note the others as problems."""
    return lookup_labels(values, _sector_key, _SECTOR_LABELS, UNKNOWN)


def _sector_key(label: object) -> str:
    """A sector label's key without trailing words like 'sector': 'Third Sector' -> 'third'."""
    key = label_key(label)
    return _SECTOR_NOISE.sub("", key) or key
