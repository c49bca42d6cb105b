"""CQC's own marks on a location: dormant, or one place registered under two providers.

`Dormant (Y/N)` = Y keeps a location out of every count. A dual registration is merged
into its primary record, found, in this order of trust, from the main sheet's
`Primary ID (Dual registration locations)`, else the `Dual_Registration_Locations`
sheet (DATA-FORMATS-2.md §9; older spreadsheets without that column), else, for a CSV
without CQC's marks, the same name, postcode and beds under two providers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.io import recognise, tables
from geo.model import dual_registrations, problems
from geo.model.errors import InputError
from geo.model.providers import ProviderList
from geo.model.text import name_key, trimmed_text

DORMANT_COLUMN = "Dormant (Y/N)"
PRIMARY_ID_COLUMN = "Primary ID (Dual registration locations)"
DUAL_SHEET = "Dual_Registration_Locations"


def dormant_problems(sites: pd.DataFrame) -> pd.DataFrame:
    """A DORMANT problem for each location CQC marks `Dormant (Y/N)` = Y."""
    column = _column(sites.columns, DORMANT_COLUMN)
    if column is None:
        return problems.empty()
    flag = trimmed_text(sites[column])
    dormant = flag.str.upper().isin(["Y", "YES"]).fillna(False).astype(bool)
    return problems.found(dormant, problems.DORMANT, DORMANT_COLUMN, flag, problems.NOTE)


def merge_dual_registrations(
    listed: ProviderList, path: Path, sniffed: recognise.Format
) -> ProviderList:
    """Each dual registration merged into its primary record (see the module docstring)."""
    pairs, method = _pairs(listed.sites, path, sniffed)
    return dual_registrations.merge_pairs(listed, pairs, method)


def read_dual_sheet(path: Path, sniffed: recognise.Format) -> pd.DataFrame | None:
    """The `Dual_Registration_Locations` sheet of a CQC spreadsheet as text columns (blank
    rows dropped), or None when the file has no such sheet."""
    if sniffed.container not in ("odf", "xlsx"):
        return None
    try:
        rows = tables.sheet_rows(path, sniffed.container, DUAL_SHEET)
        return tables.frame_from_rows(path, rows, tables.first_filled).frame
    except InputError:  # no such sheet, or nothing in it
        return None


def _pairs(sites: pd.DataFrame, path: Path, sniffed: recognise.Format) -> tuple[pd.Series, str]:
    """Secondary row -> primary row, and how they were found, by the best evidence there is.

    A spreadsheet whose main sheet has the Primary ID column is CQC's own: its marks
    (even none) are used, and the sheet behind it is never read (a second pass over a
    440 MB content.xml). A CSV without marks may be anyone's extract, so it is guessed.
    """
    column = _column(sites.columns, PRIMARY_ID_COLUMN)
    marked = column is not None and trimmed_text(sites[column]).notna().any()
    spreadsheet = sniffed.container in ("odf", "xlsx")
    if marked or (column is not None and spreadsheet):
        return dual_registrations.primary_id_pairs(sites, column), dual_registrations.BY_PRIMARY_ID
    sheet = read_dual_sheet(path, sniffed) if spreadsheet else None
    if sheet is not None:  # CQC's own list, even an empty one, is better than a guess
        return dual_registrations.sheet_pairs(sites, sheet), dual_registrations.BY_SHEET
    return dual_registrations.same_place_pairs(sites), dual_registrations.BY_SAME_PLACE


def _column(columns: pd.Index, wanted: str) -> object | None:
    key = name_key(wanted)
    return next((column for column in columns if name_key(column) == key), None)
