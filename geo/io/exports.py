"""Tables as downloads that are safe to open in Excel (CSV and XLSX).

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel as a formula ("CSV injection"), so a provider named `=HYPERLINK(...)` could
run something on a board member's machine. Text cells like that are prefixed with
an apostrophe, which Excel shows as plain text; numbers are left alone.

Excel (and the XML an XLSX is written in) cannot hold every character: control
characters other than tab, line feed and carriage return, lone surrogates, U+FFFE and
U+FFFF. A name with a vertical tab in it would make the whole download fail, so
`excel_text` replaces them (a vertical tab or form feed by a space; the rest are
removed) before the formula check. An XLSX cell holds at most 32,767 characters, so
longer text is cut there with an ellipsis; a CSV keeps the text whole.
"""

from __future__ import annotations

import io

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_LIMIT = 32_767  # characters in one Excel cell
_SPACED = "\x0b\x0c\x1c\x1d\x1e\x1f"  # separators that read as a break: a space instead
_NOT_IN_EXCEL = str.maketrans(
    {
        **{chr(c): None for c in (*range(0x00, 0x09), *range(0x0E, 0x1C))},
        **dict.fromkeys(_SPACED, " "),
        **{chr(c): None for c in range(0xD800, 0xE000)},  # lone surrogates
        "\ufffe": None,
        "\uffff": None,
    }
)


def excel_text(text: str) -> str:
    """Text with the characters Excel cannot hold replaced: a vertical tab or form feed by
    a space, other control characters, lone surrogates and U+FFFE/U+FFFF removed."""
    return text if text.isprintable() else text.translate(_NOT_IN_EXCEL)


def spreadsheet_safe(frame: pd.DataFrame, *, cell_limit: int | None = None) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names Excel can hold and cannot read as
    formulas; text longer than `cell_limit` characters is cut with an ellipsis."""
    safe = frame.copy()
    for column in safe.columns:
        if _is_text(safe[column]):
            safe[column] = safe[column].map(
                lambda value: _safe_cell(value, cell_limit), na_action="ignore"
            )
    safe.columns = [_safe_cell(str(column), cell_limit) for column in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with a byte-order mark (so Excel reads accents), Excel-safe."""
    return spreadsheet_safe(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """The frame as an XLSX workbook, text cells stored as text, Excel-safe."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        spreadsheet_safe(_plain_columns(frame), cell_limit=XLSX_CELL_LIMIT).to_excel(
            writer, index=False, sheet_name=sheet_name
        )
    return buffer.getvalue()


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)


def _safe_cell(value: object, limit: int | None) -> object:
    """Text Excel can hold, cut at `limit`, that no spreadsheet reads as a formula."""
    if not isinstance(value, str):
        return value
    text = excel_text(value)
    if text.startswith(_FORMULA_STARTS) or text.lstrip().startswith(_FORMULA_STARTS):
        text = "'" + text  # a formula behind spaces is still treated as one, to be safe
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry and make nullable dtypes plain, which openpyxl cannot write otherwise."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return plain.astype(object).where(plain.notna(), None)
