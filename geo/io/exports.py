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
SHEET_NAME_LIMIT = 31  # characters in an Excel sheet name
_NOT_IN_SHEET_NAMES = frozenset("[]:*?/\\")
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
    """The frame as UTF-8 CSV with a byte-order mark (so Excel reads accents), Excel-safe,
    distances in whole metres."""
    return spreadsheet_safe(whole_metres(frame)).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, *, sheet_name: str) -> bytes:
    """The frame as an XLSX workbook on a sheet named for what it holds (Excel's rules
    applied: `sheet_title`), text cells stored as text, Excel-safe, distances in whole metres."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        spreadsheet_safe(_plain_columns(whole_metres(frame)), cell_limit=XLSX_CELL_LIMIT).to_excel(
            writer, index=False, sheet_name=sheet_title(sheet_name)
        )
    return buffer.getvalue()


def whole_metres(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every distance column (a name ending `_m`, in metres) rounded to whole
    metres: a distance measured between simplified shapes is not known to a millimetre."""
    distances = [
        column
        for column in frame.columns
        if str(column).endswith("_m") and pd.api.types.is_numeric_dtype(frame[column])
    ]
    if not distances:
        return frame
    rounded = frame.copy()
    for column in distances:
        rounded[column] = pd.to_numeric(frame[column]).astype("Float64").round().astype("Int64")
    return rounded


def sheet_title(name: str) -> str:
    """A name Excel accepts for a sheet: without the characters it forbids (`[]:*?/\\`),
    at most 31 characters, never blank."""
    title = "".join(" " if char in _NOT_IN_SHEET_NAMES else char for char in excel_text(name))
    title = " ".join(title.split()).strip("'")[:SHEET_NAME_LIMIT].strip()
    return title or "Sheet1"


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
