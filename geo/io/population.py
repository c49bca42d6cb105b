"""ONS mid-year population estimates, by sub-ICB location (sapeicb…xlsx) and by LSOA (sapelsoa…xlsx).

Both workbooks (DATA-FORMATS-2.md §8) have front sheets, then one sheet per year named
`Mid-2024 ICB 2024` or `Mid-2024 LSOA 2021`, with title rows above a header on row 4:
area codes and names, `Total`, then single years of age `F0`…`F90` and `M0`…`M90`
(90 = 90 and over). Columns are found by their headers, never by position; numbers
stored as text with thousands commas are read as numbers. What is read is one compact
row per area: its code, its ICB code where the file gives one, the total, and the people
aged 65 and over where single years of age are given (NA where they are not).
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from geo.io import limits, tables
from geo.model.errors import InputError
from geo.model.text import cell_text

# ONS names each year's sheet 'Mid-<year> <area> <geography year>'.
SHEET = re.compile(r"^\s*Mid-(\d{4})\s+(ICB|LSOA)\s+(\d{4})\s*$", re.IGNORECASE)
AREA_COLUMNS: tuple[str, ...] = ("area_code", "area_name", "icb_code", "total", "aged_65_plus")
_HEADER_ROWS = 12  # the header is on row 4; a title block a few rows longer is tolerated
_OLDEST = 90
_SIXTY_FIVE = 65


@dataclass(frozen=True)
class PopulationFile:
    """One year of one ONS population workbook: what areas it counts and on which geography."""

    level: str  # 'sicbl' (the ICB workbook's rows are sub-ICB locations) or 'lsoa'
    year: str  # the mid-year of the estimate, '2024'
    geography: str  # the year of the areas' boundaries, '2024' for ICB 2024, '2021' for LSOA 2021
    areas: pd.DataFrame  # AREA_COLUMNS
    file: str
    sheet: str
    has_ages: bool  # single years of age were given, so aged_65_plus is known

    @property
    def label(self) -> str:
        """The estimate in words, for a figure's basis: 'ONS mid-2024 estimates (ICB 2024 areas)'."""
        areas = "ICB" if self.level == "sicbl" else "LSOA"
        return f"ONS mid-{self.year} population estimates ({areas} {self.geography} areas)"


_SHEET_NAME = re.compile(rb'<sheet\b[^>]*\bname="([^"]*)"')


def sheet_names(path: Path) -> list[str]:
    """An .xlsx workbook's sheet names, from its workbook part alone (nothing else is read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = (
                archive.read("xl/workbook.xml") if "xl/workbook.xml" in archive.namelist() else b""
            )
    except (zipfile.BadZipFile, OSError):
        return []
    return [html.unescape(name.decode("utf-8", "replace")) for name in _SHEET_NAME.findall(part)]


def year_sheets(names: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """Sheet name -> (level, year, geography) for each year's sheet of a population workbook."""
    found: dict[str, tuple[str, str, str]] = {}
    for name in names:
        match = SHEET.match(name)
        if match:
            level = "sicbl" if match.group(2).upper() == "ICB" else "lsoa"
            found[name] = (level, match.group(1), match.group(3))
    return found


def _open(path: Path):
    """The workbook, once its parts are known to be within the limits (a zip bomb is refused
    before anything is expanded). Read with calamine: openpyxl takes minutes over the
    6 million cells of the single-year-of-age LSOA sheet, calamine seconds."""
    from python_calamine import CalamineWorkbook

    subject, within = f"population file {path.name}", limits.current()
    try:
        with zipfile.ZipFile(path) as archive:
            limits.check_zip(archive, subject, within)
            parts = [name for name in archive.namelist() if name.casefold().endswith(".xml")]
            limits.scan_members(archive, parts, subject, within)
        return CalamineWorkbook.from_path(str(path))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(f"{subject}: not a readable .xlsx workbook ({error})") from None


def read_population(path: str | Path, year: str | None = None) -> PopulationFile:
    """Read one year (None: the newest) of an ONS ICB or LSOA population workbook."""
    path = Path(path)
    workbook = _open(path)
    sheets = year_sheets(workbook.sheet_names)
    if not sheets:
        raise InputError(
            f"population file {path.name}: has no sheet named like 'Mid-2024 ICB 2024' or "
            "'Mid-2024 LSOA 2021'; is it an ONS mid-year population estimates workbook?"
        )
    chosen = [name for name, (_, y, _) in sheets.items() if year is None or y == year]
    if not chosen:
        years = ", ".join(sorted({y for _, y, _ in sheets.values()}))
        raise InputError(f"population file {path.name}: has no mid-{year} sheet; it has {years}")
    sheet = max(chosen, key=lambda name: sheets[name][1])
    level, mid_year, geography = sheets[sheet]
    rows = iter(workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
    areas, has_ages = _areas(rows, level, f"population file {path.name}, sheet {sheet}")
    return PopulationFile(level, mid_year, geography, areas, path.name, sheet, has_ages)


def _areas(rows, level: str, subject: str) -> tuple[pd.DataFrame, bool]:
    preview = list(islice(rows, _HEADER_ROWS))
    at = next((n for n, row in enumerate(preview) if _is_header(row)), None)
    if at is None:
        raise InputError(f"{subject}: no header row with a 'Total' column in its first rows")
    header = [str(cell).strip() for cell in preview[at]]
    code = _column(header, rf"^{'SICBL' if level == 'sicbl' else 'LSOA'} \d{{4}} Code$", subject)
    name = _column(header, rf"^{'SICBL' if level == 'sicbl' else 'LSOA'} \d{{4}} Name$", None)
    icb = _column(header, r"^ICB \d{4} Code$", subject if level == "sicbl" else None)
    total = _column(header, r"^Total$", subject)
    older = [f"{sex}{age}" for sex in "FM" for age in range(_SIXTY_FIVE, _OLDEST + 1)]
    has_ages = all(column in header for column in older)
    ages = [header.index(column) for column in older] if has_ages else []
    records = []
    for number, row in enumerate([*preview[at + 1 :], *rows], start=at + 2):
        area = cell_text(row[code]) if code < len(row) else None
        if area is None:
            continue
        older = _sum(row, ages, subject, number) if has_ages else np.nan
        records.append(
            (
                area.upper(),
                cell_text(row[name]) if name is not None and name < len(row) else None,
                cell_text(row[icb]).upper() if icb is not None and cell_text(row[icb]) else None,
                _number(row, total, subject, number),
                older,
            )
        )
    if not records:
        raise InputError(f"{subject}: has a header but no areas below it")
    areas = pd.DataFrame.from_records(records, columns=list(AREA_COLUMNS))
    for column in ("area_code", "area_name", "icb_code"):
        areas[column] = areas[column].astype("string")
    for column in ("total", "aged_65_plus"):
        areas[column] = areas[column].astype("Float64")
    duplicated = areas["area_code"].duplicated()
    if duplicated.any():
        raise InputError(
            f"{subject}: area {areas.loc[duplicated, 'area_code'].iloc[0]} is listed twice"
        )
    return areas, has_ages


def _is_header(row: list) -> bool:
    cells = {str(cell).strip() for cell in row}
    return "Total" in cells and any(cell.endswith(" Code") for cell in cells)


def _column(header: list[str], pattern: str, subject: str | None) -> int | None:
    """Where the column whose header matches is; a missing one is an error when `subject` is given."""
    found = [n for n, cell in enumerate(header) if re.match(pattern, cell, re.IGNORECASE)]
    if found:
        return found[0]
    if subject is None:
        return None
    wanted = pattern.strip("^$").replace(r"\d{4}", "<year>").replace("\\", "")
    raise InputError(f"{subject}: has no '{wanted}' column; its columns start {header[:6]}")


def _number(row: list, at: int, subject: str, number: int) -> float:
    value = row[at] if at < len(row) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if np.isfinite(value) and value >= 0:
            return float(value)
        raise InputError(f"{subject}, row {number}: {value} is not a number of people")
    text = cell_text(value)
    if text is None:
        return np.nan
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise InputError(
            f"{subject}, row {number}: '{text[:40]}' is not a number of people"
        ) from None
    if not np.isfinite(value) or value < 0:
        raise InputError(f"{subject}, row {number}: '{text[:40]}' is not a number of people")
    return value


def _sum(row: list, columns: list[int], subject: str, number: int) -> float:
    return float(sum(np.nan_to_num(_number(row, at, subject, number)) for at in columns))


# --- the LSOA -> ICB lookup, for ICBs ONS publishes no estimates for ------------------------------

_LSOA_CODE = re.compile(r"^lsoa(\d\d)_?(code|cd)$", re.IGNORECASE)
_ICB_CODE = re.compile(r"^icb(\d\d)_?(code|cd)$", re.IGNORECASE)


def load_lsoa_to_icb(path: str | Path) -> pd.DataFrame:
    """LSOA -> ICB for every ICB vintage a lookup CSV carries (lsoa21_code/LSOA21CD and
    icb24_code, icb26_code/ICB24CD...): columns lsoa_code, lsoa_year, icb_code, vintage."""
    path = Path(path)
    table = tables.read_csv_cells(path, "lookup").frame
    lsoa = [name for name in table.columns if _LSOA_CODE.match(str(name))]
    icbs = [name for name in table.columns if _ICB_CODE.match(str(name))]
    if not lsoa or not icbs:
        raise InputError(
            f"lookup {path.name}: needs an LSOA code column (lsoa21_code or LSOA21CD) and an "
            "ICB code column (icb24_code or ICB24CD) to sum LSOA populations into ICBs"
        )
    lsoa_year = "20" + _LSOA_CODE.match(str(lsoa[0])).group(1)
    frames = [
        pd.DataFrame(
            {
                "lsoa_code": table[lsoa[0]].astype("string").str.strip().str.upper(),
                "lsoa_year": lsoa_year,
                "icb_code": table[column].astype("string").str.strip().str.upper(),
                "vintage": "20" + _ICB_CODE.match(str(column)).group(1),
            }
        )
        for column in icbs
    ]
    lookup = pd.concat(frames, ignore_index=True)
    return lookup[lookup["lsoa_code"].notna() & lookup["icb_code"].notna()].reset_index(drop=True)
