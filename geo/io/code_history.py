"""ONS Code History Database `Changes.csv`: which sub-ICB (CCG) code replaced which, and when.

CQC still publishes the pre-2022 CCG codes (E38000220 Birmingham and Solihull CCG,
E38000250 Black Country and West Birmingham CCG) that no current sub-ICB → ICB lookup
holds. ONS's Code History Database records every GSS code change as one row of
`Changes.csv`: the new code (GEOGCD) and the code it came from (GEOGCD_P). What we
rely on (columns as listed by users of the file; see README "Old sub-ICB codes"):

    GEOGCD, GEOGNM, GEOGNMW, GEOGCD_P, GEOGNM_P, GEOGNMW_P, SI_ID, SI_TITLE,
    OPER_DATE, ENTITYCD, YEAR

- Only GEOGCD and GEOGCD_P are required; the names, OPER_DATE and YEAR are kept
  when present. OPER_DATE is read as DD/MM/YYYY with or without a time, or ISO [U].
- A merger is several rows with the same GEOGCD; a split, or part of an area moving
  to another, is several rows with the same GEOGCD_P (ONS lists boundary transfers
  this way for local authorities; that it does so for the July 2022 sub-ICB changes
  is [U], and a successor that is missing would make a split look like a recode).
- Rows whose GEOGCD equals GEOGCD_P (a name change) and rows of other entities
  (ENTITYCD, else the code's first three characters, other than E38) are dropped.
- The file is UTF-8 with or without a byte-order mark, else Windows-1252 [U].

NHS ODS's successor file (`succ.csv`) is not used: ODS codes of sub-ICBs survived the
2022 boundary changes (Black Country and West Birmingham CCG, D2P2L, became the
smaller Black Country sub-ICB, still D2P2L), so it cannot say that part of an area
moved to another ICB.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from geo.io import tables
from geo.model.errors import InputError

HISTORY_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "previous_code",
    "previous_name",
    "operational",
    "year",
)
# The columns that make a table ONS's Changes.csv (recognise.sniff looks for both).
REQUIRED_COLUMNS: tuple[str, ...] = ("GEOGCD", "GEOGCD_P")
SUB_ICB_ENTITY = "E38"

_OPTIONAL = {
    "GEOGNM": "name",
    "GEOGNM_P": "previous_name",
    "OPER_DATE": "operational",
    "YEAR": "year",
}
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
_GSS = re.compile(r"^[EWSNKLM]\d{8}$")


def load_code_history(path: str | Path) -> pd.DataFrame:
    """The sub-ICB (E38) code changes in ONS's Changes.csv, one row per (previous → new) code.

    Columns HISTORY_COLUMNS; `operational` is an ISO date where the file gives one.
    Sorted by date then code, so a chain of changes reads in order.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"code history {path.name}: not found at {path}")
    raw = tables.read_csv_cells(path, "code history").frame
    missing = [column for column in REQUIRED_COLUMNS if column not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns[:12]))
        raise InputError(
            f"code history {path.name}: no column(s) {', '.join(missing)}; expected ONS's "
            f"Code History Database Changes.csv (GEOGCD, GEOGCD_P, …); found {found}"
        )
    history = _sub_icb_changes(raw)
    history.attrs["source"] = path.name
    return history


def _sub_icb_changes(raw: pd.DataFrame) -> pd.DataFrame:
    """The E38 rows, renamed, trimmed and typed; name-only changes left out."""
    code = raw["GEOGCD"].str.strip().str.upper()
    previous = raw["GEOGCD_P"].str.strip().str.upper()
    entity = raw["ENTITYCD"].str.strip() if "ENTITYCD" in raw.columns else code.str[:3]
    keep = (
        entity.eq(SUB_ICB_ENTITY)
        & previous.str.startswith(SUB_ICB_ENTITY)
        & code.map(_is_gss)
        & previous.map(_is_gss)
        & code.ne(previous)
    )
    table = pd.DataFrame({"code": code[keep], "previous_code": previous[keep]})
    for column, name in _OPTIONAL.items():
        values = raw.loc[keep, column].str.strip() if column in raw.columns else None
        table[name] = values if values is not None else pd.NA
    table["operational"] = table["operational"].map(_iso_date, na_action="ignore")
    table = table[list(HISTORY_COLUMNS)].astype("string").drop_duplicates(["code", "previous_code"])
    return table.sort_values(["operational", "code", "previous_code"], ignore_index=True)


def _is_gss(code: str) -> bool:
    return bool(_GSS.match(code))


def _iso_date(value: str) -> str | None:
    """'01/07/2022', '01/07/2022 00:00:00' or '2022-07-01' as '2022-07-01'; None if neither."""
    day = value.strip().split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(day, fmt).date().isoformat()
        except ValueError:
            continue
    return None
