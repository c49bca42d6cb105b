"""Tables as downloads that are safe to open in Excel (CSV and XLSX).

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel as a formula ("CSV injection"), so a provider named `=HYPERLINK(...)` could
run something on a board member's machine. Text cells like that are prefixed with
an apostrophe, which Excel shows as plain text; numbers are left alone.
"""

from __future__ import annotations

import io

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot be read by a spreadsheet as formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if _is_text(safe[column]):
            safe[column] = safe[column].map(_neutralise_cell, na_action="ignore")
    safe.columns = [_neutralise_cell(str(column)) for column in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with a byte-order mark (so Excel reads accents), formulas neutralised."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """The frame as an XLSX workbook, text cells stored as text with formulas neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_formulas(_plain_columns(frame)).to_excel(
            writer, index=False, sheet_name=sheet_name
        )
    return buffer.getvalue()


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)


def _neutralise_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry and make nullable dtypes plain, which openpyxl cannot write otherwise."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return plain.astype(object).where(plain.notna(), None)
