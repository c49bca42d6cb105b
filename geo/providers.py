"""The canonical provider-site table, and the rules that give each site its sector.

Every reader (CQC, NHS ODS, generic) produces this one table so that assignment,
metrics, maps and briefings never care where a provider list came from.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError

# The columns every provider list is turned into, in this order. Publishers'
# other columns are passed through after these, unrenamed.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "site_id",
    "site_name",
    "provider_id",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "planning_status",
    "postcode",
    "lat",
    "lon",
    "official_icb_code",
    "source",
)

NHS = "NHS"
LOCAL_AUTHORITY = "Local authority"
INDEPENDENT = "Independent"
VOLUNTARY = "Voluntary"
UNKNOWN = "Unknown"
SECTORS: tuple[str, ...] = (NHS, LOCAL_AUTHORITY, INDEPENDENT, VOLUNTARY, UNKNOWN)

# Independent and voluntary: the sectors whose place in ICS planning this tool measures.
IV_SECTORS: tuple[str, ...] = (INDEPENDENT, VOLUNTARY)

ENGAGED = "engaged"
NOT_ENGAGED = "not engaged"
UNKNOWN_STATUS = "unknown"
PLANNING_STATUSES: tuple[str, ...] = (ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS)

# Canonical columns that follow CANONICAL_COLUMNS in every canonical table, before the
# publisher's own columns: the publisher's sub-ICB (E38) code, from which
# `attach_official_icb` derives `official_icb_code`, and `problems`, always last: what
# was wrong with the row's values (semicolon-joined, empty when the row is fine).
SICBL_COLUMN = "official_sicbl_code"
PROBLEMS_COLUMN = "problems"
CANONICAL_EXTRAS: tuple[str, ...] = (SICBL_COLUMN, PROBLEMS_COLUMN)

_NUMBER_COLUMNS = ("capacity", "lat", "lon")
CANONICAL_DTYPES: dict[str, str] = {
    name: "Float64" if name in _NUMBER_COLUMNS else "string"
    for name in (*CANONICAL_COLUMNS, *CANONICAL_EXTRAS)
}

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
        problem = _regex_problem(pattern)
        if problem:
            return f"{label} {problem}"
    return None


def _regex_problem(pattern: str | None) -> str | None:
    if not pattern:
        return None
    try:
        re.compile(pattern)
    except re.error as error:
        return f"{pattern!r} is not a valid regular expression ({error})"
    return None


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


def load_sector_rules(path: str | Path) -> tuple[SectorRule, ...]:
    """Read a user's sector-rule table (CSV: name, sector, column, match, values, exclude,
    description), so an analyst can change the rules without touching code.

    `values` holds '|'-separated values for match=equals and the pattern for match=regex.
    """
    path = Path(path)
    table = _read_text_csv(path)
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
        problem = _regex_problem(fields[column])
        if problem:
            raise InputError(f"{where}, column {column}: {problem}")
    values = fields["values"]
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
    )


_RULE_FIELDS = ("name", "sector", "column", "match", "values", "exclude", "description")
_SECTOR_NAMES = {sector.casefold(): sector for sector in SECTORS}


def _check_unique_names(file_name: str, rules: tuple[SectorRule, ...]) -> None:
    """Rule names are what users see in `sector_rule`, so two rules may not share one."""
    names = pd.Series([rule.name for rule in rules])
    duplicated = sorted(set(names[names.duplicated()]))
    if duplicated:
        raise InputError(
            f"sector rules file {file_name}: column name has duplicate rule names: "
            f"{', '.join(duplicated)}"
        )


def _rule_hits(rule: SectorRule, texts: list[str]) -> np.ndarray:
    """Which of a column's distinct (trimmed) values `rule` claims."""
    if rule.match == "equals":
        wanted = {value.strip().casefold() for value in rule.values}
        hits = [text.casefold() in wanted for text in texts]
    elif rule.match == "regex":
        pattern = re.compile(rule.pattern, re.IGNORECASE)
        hits = [pattern.search(text) is not None for text in texts]
    else:
        hits = [text.casefold() not in _BLANK_MARKERS for text in texts]
    if rule.exclude:
        exclude = re.compile(rule.exclude, re.IGNORECASE)
        hits = [hit and exclude.search(text) is None for hit, text in zip(hits, texts, strict=True)]
    return np.array(hits, dtype=bool)


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A column as codes into its distinct trimmed values (blank cells get code -1), so
    each rule tests every distinct value once."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=None))
    return codes, [_cell_text(value) or "" for value in uniques]


def _cell_text(value: object) -> str | None:
    """A cell as trimmed text, None when blank; whole floats (Excel's 207994.0) lose '.0'."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _map_distinct(values: pd.Series, func) -> np.ndarray:
    """`func` applied once per distinct cell (None for blanks), spread back over the rows."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=None))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:] = [*(func(value) for value in uniques), func(None)]
    return mapped[codes]


def _find_column(columns: pd.Index, wanted: str) -> object | None:
    """The column called `wanted`, tolerating case, spacing and punctuation drift."""
    if wanted in columns:
        return wanted
    key = _column_key(wanted)
    for column in columns:
        if _column_key(column) == key:
            return column
    return None


def _column_key(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def _trimmed_text(values: pd.Series) -> pd.Series:
    """A column as trimmed text with NA for blanks; whole floats lose their '.0'."""
    return pd.Series(_map_distinct(values, _cell_text), index=values.index, dtype="string")


def _read_text_csv(path: Path) -> pd.DataFrame:
    """A small user CSV as text, in UTF-8 (with or without BOM) or Windows-1252."""
    if not path.is_file():
        raise InputError(f"file {path.name}: not found at {path}")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InputError(f"file {path.name}: not a readable CSV ({error})") from None
    raise InputError(f"file {path.name}: neither UTF-8 nor Windows-1252 text")


# --- free-text sector labels and planning statuses ------------------------------------

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

_STATUS_LABELS: dict[str, str] = {
    **dict.fromkeys(["yes", "y", "true", "engaged", "member"], ENGAGED),
    **dict.fromkeys(
        ["no", "n", "false", "not engaged", "non engaged", "not member", "non member"],
        NOT_ENGAGED,
    ),
    **dict.fromkeys(["", "unknown", "not known"], UNKNOWN_STATUS),
}


def normalise_sector_labels(values: pd.Series) -> pd.Series:
    """Map free-text sector labels ('NHS Sector', 'Private', 'VCSE', 'Council') onto SECTORS.

    Blank and unrecognised labels become 'Unknown'; `unrecognised_sector_labels` lists
    the latter so the caller can warn.
    """
    return _lookup_labels(values, _sector_key, _SECTOR_LABELS, UNKNOWN)[0]


def unrecognised_sector_labels(values: pd.Series) -> list[str]:
    """The distinct non-blank labels `normalise_sector_labels` could not place, sorted."""
    return _unrecognised(values, _sector_key, _SECTOR_LABELS)


def normalise_planning_statuses(values: pd.Series) -> pd.Series:
    """Map free-text statuses ('Yes', 'member', 'N') onto PLANNING_STATUSES; else 'unknown'."""
    return _lookup_labels(values, _label_key, _STATUS_LABELS, UNKNOWN_STATUS)[0]


def unrecognised_planning_statuses(values: pd.Series) -> list[str]:
    """The distinct non-blank statuses `normalise_planning_statuses` could not place, sorted."""
    return _unrecognised(values, _label_key, _STATUS_LABELS)


def _label_key(label: object) -> str:
    """A label with case, '&' and punctuation evened out: 'Not-Engaged ' -> 'not engaged'."""
    text = (_cell_text(label) or "").casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _sector_key(label: object) -> str:
    """A sector label's key without trailing words like 'sector': 'Third Sector' -> 'third'."""
    key = _label_key(label)
    return _SECTOR_NOISE.sub("", key) or key


def _lookup_labels(
    values: pd.Series, key, labels: dict[str, str], default: str
) -> tuple[pd.Series, pd.Series]:
    """Labels looked up once per distinct value: the result, and which cells were known."""
    found = _map_distinct(values, lambda value: labels.get(key(value)))
    known = pd.Series(found != None, index=values.index)  # noqa: E711 (elementwise)
    result = pd.Series(found, index=values.index, dtype="string").fillna(default)
    return result, known


def _unrecognised(values: pd.Series, key, labels: dict[str, str]) -> list[str]:
    distinct = {_cell_text(value) for value in values.unique()} - {None}
    return sorted(value for value in distinct if key(value) not in labels)


# --- postcodes, capacity and the canonical table --------------------------------------

_POSTCODE_SHAPE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(value: object) -> str | None:
    """A postcode in ONS `pcds` form ('e10aa' -> 'E1 0AA'); other shapes are returned
    trimmed as given, and blanks as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    compact = re.sub(r"\s+", "", str(value)).upper()
    if not compact:
        return None
    if _POSTCODE_SHAPE.match(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    return str(value).strip()


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """`normalise_postcode` over a column: string dtype, NA for blanks, same index."""
    normalised = _map_distinct(values, normalise_postcode)
    return pd.Series(normalised, index=values.index, dtype="string")


def _is_postcode(value: str | None) -> bool:
    return value is not None and _POSTCODE_SHAPE.match(value.replace(" ", "")) is not None


def parse_capacity(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Capacity (beds, places) as Float64, and a mask of the non-blank cells that were not
    a number of zero or more. Blank stays NA, never 0."""
    number, bad = _parse_numbers(values)
    negative = (number < 0).fillna(False).astype(bool)
    return number.mask(negative), bad | negative


def to_canonical(raw: pd.DataFrame, mapping: Mapping[str, str], *, source: str) -> pd.DataFrame:
    """Turn a publisher's table into the canonical provider table, so nothing downstream
    cares where the list came from.

    `mapping` is canonical name -> raw column. The result has CANONICAL_COLUMNS, then
    CANONICAL_EXTRAS (`problems` last), then every unmapped raw column unrenamed (one
    whose name clashes with a canonical column becomes 'raw_<name>'). A raw column already
    named like a canonical column is used as that column when `mapping` leaves it out.
    Missing columns are NA; `sector` defaults to 'Unknown', `planning_status` to 'unknown'.
    """
    columns = _resolve_mapping(raw, mapping, source)
    checks: list[pd.Series] = []
    table = pd.DataFrame(index=raw.index)
    for name in (*CANONICAL_COLUMNS, SICBL_COLUMN):
        picked = raw[columns[name]] if name in columns else None
        table[name], problems = _canonical_column(name, picked, raw.index, source)
        checks.extend(problems)
    if PROBLEMS_COLUMN in raw.columns:
        checks.insert(0, _trimmed_text(raw[PROBLEMS_COLUMN]))
    table[PROBLEMS_COLUMN] = _join_problems(checks, raw.index)
    return pd.concat([table, _passthrough(raw, columns)], axis=1)


def _resolve_mapping(raw: pd.DataFrame, mapping: Mapping[str, str], source: str) -> dict:
    """Check the mapping against the file and add identity mappings for canonical names."""
    allowed = (*CANONICAL_COLUMNS, SICBL_COLUMN)
    for name, column in mapping.items():
        if name not in allowed:
            raise InputError(
                f"{source}: column mapping names {name!r}, which is not a canonical column; "
                f"expected one of {', '.join(allowed)}"
            )
        if column not in raw.columns:
            raise InputError(f"{source}: {_missing_column_message(raw, column, name)}")
    columns = dict(mapping)
    used = set(mapping.values())
    for name in allowed:
        if name not in columns and name in raw.columns and name not in used:
            columns[name] = name
    return columns


def _missing_column_message(raw: pd.DataFrame, column: object, name: str) -> str:
    found = [str(c) for c in raw.columns]
    close = difflib.get_close_matches(str(column), found, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
    return f"column {column!r} (mapped to {name}) is not in the file{hint} Found: {listed}"


def _canonical_column(
    name: str, values: pd.Series | None, index: pd.Index, source: str
) -> tuple[pd.Series, list[pd.Series]]:
    """One canonical column, typed, and a problem message per row where its value was bad."""
    if values is None:
        default = {"sector": UNKNOWN, "planning_status": UNKNOWN_STATUS, "source": source}
        return pd.Series(default.get(name), index=index, dtype=CANONICAL_DTYPES[name]), []
    if name in _NUMBER_COLUMNS:
        number, bad = parse_capacity(values) if name == "capacity" else _parse_numbers(values)
        what = "a number of zero or more" if name == "capacity" else "a number"
        return number, [_problem(bad, values, f"{name} {{}} is not {what}")]
    text = _trimmed_text(values)
    if name == "sector":
        sectors, known = _lookup_labels(text, _sector_key, _SECTOR_LABELS, UNKNOWN)
        return sectors, [_problem(~known, text, "sector {} not recognised")]
    if name == "planning_status":
        statuses, known = _lookup_labels(text, _label_key, _STATUS_LABELS, UNKNOWN_STATUS)
        message = "planning status {} not recognised (expected engaged or not engaged)"
        return statuses, [_problem(~known, text, message)]
    if name == "postcode":
        postcodes = normalise_postcodes(text)
        shaped = _map_distinct(postcodes, _is_postcode).astype(bool)
        bad = text.notna() & ~shaped
        return postcodes, [_problem(bad, text, "postcode {} is not a UK postcode")]
    if name in ("official_icb_code", SICBL_COLUMN):
        return text.str.upper(), []
    if name == "source":
        return text.fillna(source), []
    return text, []


def _parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers as Float64 and a mask of non-blank cells that were not finite numbers."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        number = values.astype("Float64")
        blank = number.isna()
    else:
        text = _trimmed_text(values)
        blank = text.isna()
        cleaned = _map_distinct(text, _without_thousands_commas)
        number = pd.to_numeric(pd.Series(cleaned, index=text.index), errors="coerce")
        number = number.astype("Float64")
    finite = number.notna() & (number.abs() != float("inf")).fillna(False)
    number = number.where(finite)
    bad = ~blank & ~finite.astype(bool)
    return number, bad.astype(bool)


def _without_thousands_commas(value: str | None) -> str | None:
    return None if value is None else re.sub(r"(?<=\d),(?=\d{3}\b)", "", value)


def _problem(bad: pd.Series, values: pd.Series, template: str) -> pd.Series:
    """A message per bad row (NA elsewhere), quoting the value as the file gave it."""
    bad = bad.fillna(False).astype(bool)
    messages = pd.Series(pd.NA, index=bad.index, dtype="string")
    if bad.any():
        messages[bad] = [template.format(repr(_cell_text(v))) for v in values[bad]]
    return messages


def _join_problems(checks: list[pd.Series], index: pd.Index) -> pd.Series:
    """Semicolon-join the messages of each row; empty string where a row had none."""
    columns = [check.to_numpy(dtype=object, na_value=None) for check in checks]
    joined = ["; ".join(m for m in row if m is not None) for row in zip(*columns, strict=True)]
    return pd.Series(joined or "", index=index, dtype="string")


def _passthrough(raw: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The raw columns the mapping did not use, renamed only where they would clash."""
    used = set(columns.values()) | {PROBLEMS_COLUMN}
    rest = raw[[column for column in raw.columns if column not in used]]
    taken = set(CANONICAL_COLUMNS) | set(CANONICAL_EXTRAS)
    return rest.rename(columns=lambda c: f"raw_{c}" if c in taken else c)


# --- official ICB from the publisher's sub-ICB code -----------------------------------


def attach_official_icb(
    sites: pd.DataFrame, sicbl_to_icb: Mapping[str, str], *, sicbl_column: str = SICBL_COLUMN
) -> pd.DataFrame:
    """Fill blank `official_icb_code` from the publisher's sub-ICB (E38) code, using the
    lookup of the chosen vintage; codes already there are kept. See `unmapped_sicbl_codes`."""
    codes = _sicbl_codes(sites, sicbl_column)
    lookup = {str(k).strip().upper(): str(v).strip().upper() for k, v in sicbl_to_icb.items()}
    derived = codes.map(lookup).astype("string")
    result = sites.copy()
    current = (
        _trimmed_text(result["official_icb_code"])
        if "official_icb_code" in result
        else pd.Series(pd.NA, index=result.index, dtype="string")
    )
    result["official_icb_code"] = current.fillna(derived)
    return result


def unmapped_sicbl_codes(
    sites: pd.DataFrame, sicbl_to_icb: Mapping[str, str], *, sicbl_column: str = SICBL_COLUMN
) -> pd.DataFrame:
    """Sub-ICB codes the lookup does not know, with how many sites carry each (most first),
    so the caller can say '12 sites have sub-ICB code E38000999 that the 2023 lookup does
    not know'."""
    codes = _sicbl_codes(sites, sicbl_column)
    known = {str(k).strip().upper() for k in sicbl_to_icb}
    unknown = codes[codes.notna() & ~codes.isin(known)]
    counts = unknown.value_counts().rename_axis("sicbl_code").reset_index(name="sites")
    counts = counts.sort_values(["sites", "sicbl_code"], ascending=[False, True])
    return counts.reset_index(drop=True).astype({"sicbl_code": "string", "sites": "int64"})


def _sicbl_codes(sites: pd.DataFrame, sicbl_column: str) -> pd.Series:
    if sicbl_column not in sites.columns:
        raise InputError(
            f"provider sites: no column {sicbl_column!r} with sub-ICB codes to look ICBs up from"
        )
    return _trimmed_text(sites[sicbl_column]).str.upper()
