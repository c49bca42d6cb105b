"""The five provider sectors and how a site gets one: CQC sector rules, free-text sector labels."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.model.errors import InputError
from geo.model.patterns import pattern_problem, search_pattern
from geo.model.text import cell_text, label_key, lookup_labels, name_key, unrecognised_labels

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
MATCH_KINDS: tuple[str, ...] = ("equals", "regex", "present")
_BLANK_MARKERS = frozenset({"", "-", "n/a", "none", "null"})


def sector_slug(sector: str) -> str:
    """The column-name form of a sector: 'Local authority' -> 'local_authority'."""
    return sector.lower().replace(" ", "_")


# --- sector rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class SectorRule:
    """One line of the sector table: which rows it claims, and the sector it gives them.

    `match` says how `column` is tested: "equals" one of `values` (case-insensitive,
    trimmed), "regex" `pattern` (case-insensitive, anywhere in the cell), or "present"
    (non-blank and not '-'). Rows whose `column` matches `exclude` are never claimed.
    """

    name: str
    sector: str
    description: str
    column: str
    match: str = "equals"
    values: frozenset[str] = frozenset()
    pattern: str | None = None
    exclude: str | None = None

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
    raw: pd.DataFrame, rules: tuple[SectorRule, ...] = DEFAULT_CQC_RULES
) -> pd.DataFrame:
    """Give each row a `sector` and the `sector_rule` that decided it, so users can see why.

    Rules are tried in order and the first that matches wins; a rule whose column the
    file lacks (found ignoring case, spaces and punctuation) simply never fires.
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
        hits = np.append(_rule_hits(rule, texts), False)[codes] & unclaimed
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
            "values": rule.pattern if rule.match == "regex" else "|".join(sorted(rule.values)),
            "exclude": rule.exclude or "",
            "description": rule.description,
        }
        for rule in rules
    ]
    columns = ["name", "sector", "column", "match", "values", "exclude", "description"]
    table = pd.DataFrame.from_records(records, columns=columns).astype("string")
    table.index = pd.RangeIndex(1, len(table) + 1, name="order")
    return table


def _rule_hits(rule: SectorRule, texts: list[str]) -> np.ndarray:
    """Which of a column's distinct (trimmed) values `rule` claims."""
    if rule.match == "equals":
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
