"""Sub-ICB → ICB and ICB → NHS region lookups, so publishers' E38 codes give an ICB of any vintage."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from geo.io import tables
from geo.io.boundaries import load_boundaries
from geo.model.errors import InputError

# sicbl_ods_code: the sub-ICB's ODS code ('15F', 'A3A8R'), NA where the file has none; the
# code NHS activity data name commissioners by (`geo.analysis.evidence`).
LOOKUP_COLUMNS: tuple[str, ...] = (
    "sicbl_code",
    "icb_code",
    "icb_name",
    "vintage",
    "sicbl_ods_code",
)
REGION_COLUMNS: tuple[str, ...] = ("icb_code", "region_code", "region_name", "vintage")

# Both spellings ONS uses: SICBL24CD/ICB24NM in its lookup files, and the lower-case
# sicbl24_code/icb24_name of the LSOA lookups as republished (e.g. by geographr).
_CODE_COLUMN = re.compile(r"^(SICBL|ICB|NHSER)(\d\d)_?(CD|NM|code|name)$", re.IGNORECASE)
# The sub-ICB's ODS code beside its GSS code: SICBL24CDH (ONS), sicbl24_code_nhs (LSOA21
# lookup as republished), sicbl22_code_h (LSOA11).
_ODS_COLUMN = re.compile(r"^SICBL(\d\d)_?(CDH|code_nhs|code_h)$", re.IGNORECASE)
_TABLE_SUFFIXES = (".csv", ".txt")

# ICB codes were identical in the April 2023 and April 2024 releases (only the 2022 set
# differs: E54000052/53 became E54000063/64), so either year's rows serve the other.
_SAME_ICB_CODES: dict[str, tuple[str, ...]] = {"2023": ("2024",), "2024": ("2023",)}
_LISTED = 10


def load_sicbl_to_icb(path: str | Path) -> pd.DataFrame:
    """Read which ICB each sub-ICB location belongs to, one row per (sicbl, icb, vintage).

    Accepts an ONS lookup CSV (SICBL24CD, ICB24CD, ICB24NM, NHSER24CD, ...), an
    LSOA lookup CSV (sicbl24_code, icb24_code, icb26_code, ...; every ICB vintage
    present gives its own rows) or a sub-ICB boundary layer carrying ICBxxCD (no
    ICB names then). A sub-ICB split between ICBs keeps one row per ICB: see
    `ambiguous_sicbls`.
    """
    path = Path(path)
    if path.suffix.lower() not in _TABLE_SUFFIXES:
        return _lookup_from_layer(path)
    table = _read_table(path)
    columns = _code_columns(table.columns)
    pairs = _pairings(path, columns, child="SICBL", parent="ICB", expected=_SICBL_EXPECTED)
    frames = [_pairs(path, table, columns, child, parent) for child, parent in pairs]
    return _assemble(path, frames, LOOKUP_COLUMNS)


def load_icb_to_region(path: str | Path) -> pd.DataFrame:
    """Read which NHS England region each ICB belongs to, from a lookup CSV with NHSERxxCD."""
    path = Path(path)
    if path.suffix.lower() not in _TABLE_SUFFIXES:
        raise InputError(f"lookup file {path.name}: expected a CSV lookup with ICB and NHSER codes")
    table = _read_table(path)
    columns = _code_columns(table.columns)
    pairs = _pairings(path, columns, child="ICB", parent="NHSER", expected=_REGION_EXPECTED)
    frames = [_pairs(path, table, columns, child, parent) for child, parent in pairs]
    renamed = [_rename_region(frame) for frame in frames]
    return _assemble(path, renamed, REGION_COLUMNS)


def sicbl_to_icb_map(lookup: pd.DataFrame, vintage: str) -> dict[str, str]:
    """The sub-ICB → ICB mapping of one vintage, leaving out sub-ICBs split between ICBs.

    Asked for 2023 with no 2023 rows, it serves the 2024 rows (and the reverse):
    ICB codes were the same in both. Split sub-ICBs (Frimley D4U1Y in 2026) are
    listed by `ambiguous_sicbls` so callers can report them.
    """
    rows = _rows_for(lookup, vintage)
    targets = rows.groupby("sicbl_code")["icb_code"].nunique()
    unique = rows[rows["sicbl_code"].isin(targets.index[targets == 1])]
    return dict(zip(unique["sicbl_code"], unique["icb_code"], strict=True))


def ambiguous_sicbls(lookup: pd.DataFrame, vintage: str) -> dict[str, list[str]]:
    """Sub-ICBs that map to more than one ICB in this vintage, with those ICBs (sorted)."""
    rows = _rows_for(lookup, vintage)
    targets = rows.groupby("sicbl_code")["icb_code"].apply(lambda codes: sorted(set(codes)))
    return {sicbl: icbs for sicbl, icbs in targets.items() if len(icbs) > 1}


# Reading


def _read_table(path: Path) -> pd.DataFrame:
    """A lookup CSV as text, with or without the byte-order mark ArcGIS Hub adds, by the
    one rule for text files (`geo.io.tables`)."""
    if not path.is_file():
        raise InputError(f"lookup file {path.name}: not found at {path}")
    return tables.read_csv_cells(path, "lookup file").frame


def _lookup_from_layer(path: Path) -> pd.DataFrame:
    """Sub-ICB → ICB pairs from a sub-ICB boundary layer that carries ICBxxCD."""
    layer = load_boundaries(path)
    if layer["kind"].iloc[0] != "sicbl" or "parent_icb_code" not in layer.columns:
        raise InputError(
            f"lookup file {path.name}: a {layer['kind'].iloc[0]} boundary layer without ICB "
            "codes; expected a sub-ICB layer carrying ICBxxCD, or a lookup CSV"
        )
    blank = layer.loc[layer["parent_icb_code"].isna(), "code"]
    if len(blank):
        raise InputError(
            f"lookup file {path.name}: sub-ICBs with no ICB code: {_listing(list(blank))}"
        )
    frame = pd.DataFrame(
        {
            "sicbl_code": layer["code"],
            "icb_code": layer["parent_icb_code"],
            "icb_name": pd.Series(pd.NA, index=layer.index, dtype="str"),
            "vintage": layer["vintage"],
            "sicbl_ods_code": layer["ods_code"],
        }
    )
    return _assemble(path, [frame], LOOKUP_COLUMNS)


# Columns


def _code_columns(columns) -> dict[tuple[str, str], dict[str, str]]:
    """{(prefix, vintage): {"code": column, "name": column}} for every ONS code column."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for column in columns:
        match = _CODE_COLUMN.match(str(column))
        if match:
            prefix, yy, part = match.group(1).upper(), match.group(2), match.group(3).lower()
            role = "code" if part in ("cd", "code") else "name"
            found.setdefault((prefix, f"20{yy}"), {})[role] = str(column)
    return {key: parts for key, parts in found.items() if "code" in parts}


_SICBL_EXPECTED = (
    "sub-ICB and ICB code columns (SICBL24CD and ICB24CD, or sicbl24_code and icb24_code)"
)
_REGION_EXPECTED = "ICB and NHS region code columns (ICB24CD and NHSER24CD)"


def _pairings(
    path: Path, columns: dict, *, child: str, parent: str, expected: str
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Which child column pairs with each parent vintage: the same year, else the latest before."""
    children = sorted(vintage for prefix, vintage in columns if prefix == child)
    parents = sorted(vintage for prefix, vintage in columns if prefix == parent)
    if not children or not parents:
        found = ", ".join(sorted({c for parts in columns.values() for c in parts.values()}))
        raise InputError(
            f"lookup file {path.name}: expected {expected}; found code columns: {found or 'none'}"
        )
    pairings = []
    for vintage in parents:
        earlier = [year for year in children if year <= vintage] or children
        pairings.append(((child, earlier[-1]), (parent, vintage)))
    return pairings


# Assembling


def _pairs(
    path: Path, table: pd.DataFrame, columns: dict, child: tuple[str, str], parent: tuple[str, str]
) -> pd.DataFrame:
    """The distinct (child, parent, parent name) rows for one parent vintage."""
    child_column, parent_column = columns[child]["code"], columns[parent]["code"]
    name_column = columns[parent].get("name")
    for column in (child_column, parent_column):
        _require_filled(path, table, column)
    frame = pd.DataFrame(
        {
            "child": table[child_column].str.strip(),
            "parent": table[parent_column].str.strip(),
            "parent_name": _names(table, name_column),
            "vintage": parent[1],
            "sicbl_ods_code": _names(table, _ods_column(table.columns, child[1])),
        }
    )
    return frame.drop_duplicates(["child", "parent"]).rename(
        columns={"child": "sicbl_code", "parent": "icb_code", "parent_name": "icb_name"}
    )


def _ods_column(columns, vintage: str) -> str | None:
    """The column holding the sub-ICB ODS codes of this vintage, if the file has one."""
    for column in columns:
        match = _ODS_COLUMN.match(str(column))
        if match and f"20{match.group(1)}" == vintage:
            return str(column)
    return None


def _names(table: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=table.index, dtype="str")
    names = table[column].str.strip()
    return names.mask(names == "")


def _require_filled(path: Path, table: pd.DataFrame, column: str) -> None:
    """Every row has a code: a blank one would otherwise vanish from the mapping."""
    blank = table[column].str.strip() == ""
    if blank.any():
        lines = [str(i + 2) for i in table.index[blank]]  # line 1 is the header
        raise InputError(
            f"lookup file {path.name}: column {column} is empty on {len(lines)} line(s): "
            f"{_listing(lines)}; expected a code on every line"
        )


def _rename_region(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="sicbl_ods_code").rename(
        columns={"sicbl_code": "icb_code", "icb_code": "region_code", "icb_name": "region_name"}
    )


def _assemble(path: Path, frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """One table in the standard columns, sorted, remembering which file it came from."""
    lookup = pd.concat(frames, ignore_index=True)[list(columns)].astype("str")
    lookup = lookup.sort_values(["vintage", *columns[:2]], ignore_index=True)
    lookup.attrs["source"] = path.name
    return lookup


def _rows_for(lookup: pd.DataFrame, vintage: str) -> pd.DataFrame:
    """The lookup rows of this vintage, or of a vintage with the same ICB codes."""
    vintage = str(vintage)
    for candidate in (vintage, *_SAME_ICB_CODES.get(vintage, ())):
        rows = lookup[lookup["vintage"] == candidate]
        if len(rows):
            return rows
    source = lookup.attrs.get("source")
    where = f"lookup file {source}" if source else "sub-ICB lookup"
    present = ", ".join(sorted(lookup["vintage"].unique())) or "none"
    raise InputError(
        f"{where}: has no sub-ICB → ICB rows for vintage {vintage}; it covers {present}"
    )


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    rest = len(items) - _LISTED
    return f"{shown} and {rest} more" if rest > 0 else shown
