"""Read the Data Security and Protection Toolkit's organisation search export (DATA-FORMATS-2.md §7).

One row per organisation: its ODS code, name, latest status with the edition it was for
('22/23 Standards Met', '2024-25 Standards Exceeded', 'Not Published'), the date it was
published (DD/MM/YYYY), its sector and its ICB by name. The 2019-21 exports called two of
the columns `Latest Status` and `Commissioner (From ODS)`; both spellings are read. The
export is a browser download (its URL is not known), saved as
`DSPT search results DD_MM_YYYY HH_MM_SS.csv`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from geo.io.activity import open_csv
from geo.model.errors import InputError
from geo.model.evidence import DSPT_COLUMNS

DSPT_DTYPES: dict[str, str] = dict.fromkeys(DSPT_COLUMNS, "string")
# Column -> the header names it may go by, the current one first; None: optional.
_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("Code",),
    "name": ("Organisation Name",),
    "status": ("Status", "Latest Status"),
    "published": ("Date Of Publication",),
    "sector": ("Primary Sector",),
    "icb_name": ("Integrated Care Board (where available, from ODS)", "Commissioner (From ODS)"),
}
_REQUIRED = ("code", "name", "status")
_STATUS = re.compile(r"^(?:(\d{2}/\d{2})|(\d{4}-\d{2}))?\s*(.*)$")
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SAVED_ON = re.compile(r"(\d{2})_(\d{2})_(\d{4})")


def is_dspt_header(row: list[str]) -> bool:
    """Whether a row is the export's header: `Code`, `Organisation Name`, a status column
    and `Primary Sector`."""
    cells = {cell.strip() for cell in row}
    has_status = bool(cells & set(_HEADERS["status"]))
    return {"Code", "Organisation Name", "Primary Sector"} <= cells and has_status


def saved_on(name: str) -> str | None:
    """The date in the export's saved name ('DSPT search results 16_11_2023 11_17_41.csv'),
    ISO, or None."""
    match = _SAVED_ON.search(name)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def read_dspt(path: str | Path) -> pd.DataFrame:
    """Every organisation of a DSPT export (the CSV, or a zip holding it) in DSPT_COLUMNS:
    codes upper-case, the status split from its edition, dates ISO (NA when not a date)."""
    path = Path(path)
    what = f"DSPT export {path.name}"
    with open_csv(path, what) as file:
        raw = pd.read_csv(
            file,
            dtype="string",
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            encoding_errors="replace",
        )
    raw.columns = [str(name).strip() for name in raw.columns]
    columns = _columns(list(raw.columns), what)
    frame = pd.DataFrame(
        {slot: raw[name].str.strip() if name else pd.NA for slot, name in columns.items()},
        index=raw.index,
    )
    parts = frame["status"].str.extract(_STATUS)
    table = pd.DataFrame(
        {
            "code": frame["code"].str.upper(),
            "name": frame["name"],
            "status": parts[2].mask(parts[2] == ""),
            "edition": parts[0].fillna(parts[1]),
            "published": frame["published"].map(_iso_day, na_action="ignore"),
            "sector": frame["sector"],
            "icb_name": frame["icb_name"],
            "file": path.name,
        }
    )
    blank = table.replace("", pd.NA)
    return blank.reindex(columns=list(DSPT_COLUMNS)).astype(DSPT_DTYPES)


def _columns(header: list[str], what: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for slot, names in _HEADERS.items():
        found[slot] = next((name for name in names if name in header), None)
    missing = [
        " or ".join(repr(n) for n in _HEADERS[slot]) for slot in _REQUIRED if not found[slot]
    ]
    if missing:
        raise InputError(f"{what}: its header has no {', no '.join(missing)}")
    return found


def _iso_day(text: str) -> str | None:
    """'29/06/2023' -> '2023-06-29'; None when it is not a date."""
    match = _DAY.match(text)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
