"""Data files (CSV, XLSX, OpenDocument) as tables of text, down to the text of one cell."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from geo.io import opendocument
from geo.model import text
from geo.model.errors import InputError

PREVIEW_ROWS = 20  # rows read to tell a format or find a header
_PREVIEW_BYTES = 64 * 1024  # read for those rows
_BLOCK_ROWS = 10_000  # rows turned into columns at a time when streaming a sheet

Rows = list[list[str]]
# What spreadsheets save text as: UTF-8 (with or without BOM), else Excel's Windows-1252.
_TEXT_ENCODINGS = ("utf-8-sig", "cp1252")


class SheetPreview(NamedTuple):
    """A sheet's name, its first rows as text, and how many rows it has if the file says."""

    name: str | None  # None for a CSV file, which has no sheets
    rows: Rows
    size: int | None  # XLSX records its sheets' sizes; ODS does not


# --- text files -------------------------------------------------------------------------


def preview_text(path: Path) -> Rows:
    """The first lines of a text file as CSV rows, decoded as UTF-8 or Windows-1252."""
    with open(path, "rb") as file:
        head = file.read(_PREVIEW_BYTES)
    text = decode_text(head, f"provider list {path.name}", partial=len(head) == _PREVIEW_BYTES)
    lines = text.splitlines()[:PREVIEW_ROWS]
    return list(csv.reader(lines))


def decode_text(data: bytes, subject: str, *, partial: bool = False) -> str:
    """Bytes as text in UTF-8 (BOM or not), else Windows-1252, the two a spreadsheet saves;
    `partial` forgives a character cut at the end. InputError naming `subject` otherwise."""
    utf8, windows = _TEXT_ENCODINGS
    try:
        return data.decode(utf8)
    except UnicodeDecodeError as error:
        if partial and error.start >= len(data) - 4:  # cut mid-character at the end
            return data[: error.start].decode(utf8)
    try:
        return data.decode(windows)
    except UnicodeDecodeError:
        raise InputError(f"{subject}: neither UTF-8 nor Windows-1252 text") from None


def read_csv_text(path: Path, **options) -> pd.DataFrame:
    """A provider list's CSV as text columns (blank cells missing, blank rows dropped)."""
    frame = read_csv_cells(path, "provider list", na_values=[""], **options)
    return frame.dropna(how="all").reset_index(drop=True)


def read_csv_cells(path: Path, what: str, **options) -> pd.DataFrame:
    """A CSV with every cell as text ('' when blank), in UTF-8 (BOM or not) or Windows-1252.

    InputError names `what` ('engagement list') and the file when it is empty,
    unreadable, or in neither encoding; `options` go to `pandas.read_csv`.
    """
    for encoding in _TEXT_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, **options)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"{what} {path.name}: has no rows or columns") from None
        except pd.errors.ParserError as error:
            raise InputError(f"{what} {path.name}: not a readable CSV ({error})") from None
    raise InputError(f"{what} {path.name}: neither UTF-8 nor Windows-1252 text")


# --- spreadsheets -----------------------------------------------------------------------


def preview_sheets(path: Path, container: str) -> Iterator[SheetPreview]:
    """Each sheet of an 'odf' or 'xlsx' spreadsheet, lazily, opening the file once.

    A caller that stops at the sheet it wants (and closes the iterator) never
    reads the sheets behind it.
    """
    if container == "odf":
        with contextlib.closing(opendocument.iter_sheet_previews(path, PREVIEW_ROWS)) as sheets:
            for name, rows in sheets:
                yield SheetPreview(name, rows, None)
    else:
        yield from _xlsx_previews(path)


def sheet_rows(path: Path, container: str, sheet: str | None) -> Iterator[list[str]]:
    """One sheet's rows (None: the first sheet) of an 'odf' or 'xlsx' spreadsheet, as text."""
    if container == "odf":
        return opendocument.iter_sheet_rows(path, sheet)
    return _xlsx_rows(path, sheet)


def first_filled(rows: Rows) -> int | None:
    """Where a plain table's header is: the first row with anything in it."""
    return next((n for n, row in enumerate(rows) if any(cell.strip() for cell in row)), None)


def frame_from_rows(
    path: Path, rows: Iterator[list[str]], find_header: Callable[[Rows], int | None]
) -> pd.DataFrame:
    """Stream spreadsheet rows into text columns, header first, a block of rows at a time,
    so a 122-column sheet is never held whole as Python row lists."""
    preview = list(islice(rows, PREVIEW_ROWS))
    at = find_header(preview)
    if at is None:
        raise InputError(f"provider list {path.name}: no header row in the first rows")
    names = _unique_names(_without_trailing_blanks(preview[at]))
    blocks: list[pd.DataFrame] = []
    block: Rows = []
    for number, row in enumerate(chain(preview[at + 1 :], rows), start=at + 2):
        if not any(row):
            continue
        if len(row) > len(names) and any(cell.strip() for cell in row[len(names) :]):
            raise InputError(
                f"provider list {path.name}: row {number} has values beyond the "
                f"{len(names)} columns of the header"
            )
        block.append(row)
        if len(block) == _BLOCK_ROWS:
            blocks.append(_text_frame(block, names))
            block = []
    blocks.append(_text_frame(block, names))
    return pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]


def _text_frame(block: Rows, names: list[str]) -> pd.DataFrame:
    """Rows of text as a frame of string columns, blank cells missing (as pandas reads CSV)."""
    width = len(names)
    columns = zip(*(_padded(row, width) for row in block), strict=True) if block else [()] * width
    frame = {}
    for name, values in zip(names, columns, strict=True):
        text = pd.Series(values, dtype="str")
        frame[name] = text.mask(text.eq(""))
    return pd.DataFrame(frame)


def _padded(row: list[str], width: int) -> list[str]:
    return row[:width] if len(row) >= width else [*row, *([""] * (width - len(row)))]


def _without_trailing_blanks(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique the way pandas' CSV reader does ('x', 'x.1'); blanks named."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"Unnamed: {position - 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(f"{name}.{count}" if count else name)
    return names


# --- XLSX workbooks ---------------------------------------------------------------------


def _xlsx_previews(path: Path) -> Iterator[SheetPreview]:
    workbook = _open_workbook(path)
    try:
        for worksheet in workbook.worksheets:
            size = worksheet.max_row  # as the file records it (some writers record it wrong)
            worksheet.reset_dimensions()
            rows = islice(worksheet.iter_rows(values_only=True), PREVIEW_ROWS)
            preview = [[_xlsx_text(value) for value in row] for row in rows]
            plausible = size is not None and size >= len(preview)
            yield SheetPreview(worksheet.title, preview, size if plausible else None)
    finally:
        workbook.close()


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[str]]:
    """A workbook sheet's rows as text, read-only so memory stays small."""
    workbook = _open_workbook(path)
    try:
        names = {text.name_key(name): name for name in workbook.sheetnames}
        name = workbook.sheetnames[0] if sheet is None else names.get(text.name_key(sheet))
        if name is None:
            raise InputError(
                f"spreadsheet {path.name}: has no sheet {sheet!r}; its sheets are: "
                f"{', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[name]
        worksheet.reset_dimensions()
        for row in worksheet.iter_rows(values_only=True):
            yield [_xlsx_text(value) for value in row]
    finally:
        workbook.close()


def _open_workbook(path: Path):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, InvalidFileException…
        raise InputError(f"spreadsheet {path.name}: not a readable .xlsx file ({error})") from None


def _xlsx_text(value: object) -> str:
    """A workbook cell as the text an .ods cell of the same value gives (dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)
