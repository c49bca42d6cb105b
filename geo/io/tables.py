"""Data files (CSV, XLSX, OpenDocument) as tables of text, down to the text of one cell.

Every table is read within the limits of `geo.io.limits` (bytes unpacked, rows, columns,
characters in a cell), checked as it streams in.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pandas as pd

from geo.io import limits, opendocument
from geo.model import problems, text
from geo.model.errors import InputError

PREVIEW_ROWS = 20  # rows read to tell a format or find a header
_PREVIEW_BYTES = 64 * 1024  # read for those rows
_BLOCK_ROWS = 10_000  # rows turned into columns at a time when streaming a sheet

Rows = list[list[str]]
# What spreadsheets save text as: UTF-8 (with or without BOM), else Excel's Windows-1252.
_UTF8_SIG, _WINDOWS, _BOM = "utf-8-sig", "cp1252", b"\xef\xbb\xbf"
_LINES_SHOWN = 10  # line numbers a problem quotes
_RENAMED = re.compile(r"^(.+)\.\d+$")  # how pandas and `_unique_names` rename a repeated name


class TextTable(NamedTuple):
    """A file's table as text columns, and what was noticed about the file as a whole
    (a problems table of `geo.model.problems.FILE_KINDS`: its encoding, its header)."""

    frame: pd.DataFrame
    noticed: pd.DataFrame


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
    partial = len(head) == _PREVIEW_BYTES
    text = decode_text(head, f"provider list {path.name}", partial=partial).text
    lines = text.splitlines()[:PREVIEW_ROWS]
    return list(csv.reader(lines))


class Decoded(NamedTuple):
    """Text, and the lines (counted from 1) that were not UTF-8 and were read as Windows-1252."""

    text: str
    windows_lines: tuple[int, ...]


def decode_text(data: bytes, subject: str, *, partial: bool = False) -> Decoded:
    """Bytes as text, line by line: UTF-8 (BOM or not) where a line is, else Windows-1252,
    the two a spreadsheet saves, so a file pasted together from both reads right.

    `partial` forgives a character cut at the end. InputError naming `subject` and the
    line when a line is in neither encoding.
    """
    try:
        return Decoded(data.decode(_UTF8_SIG), ())
    except UnicodeDecodeError:
        pass
    decoder = _LineDecoder(subject)
    lines = data.removeprefix(_BOM).split(b"\n")
    if partial:
        lines[-1] = _without_cut_character(lines[-1])
    text = "\n".join(decoder.decode(line) for line in lines)
    return Decoded(text, tuple(decoder.windows_lines))


def read_csv_text(path: Path, **options) -> TextTable:
    """A provider list's CSV as text columns (blank cells missing, blank rows dropped)."""
    table = read_csv_cells(path, "provider list", na_values=[""], **options)
    return table._replace(frame=table.frame.dropna(how="all").reset_index(drop=True))


def read_csv_cells(path: Path, what: str, **options) -> TextTable:
    """A CSV with every cell as text ('' when blank), in UTF-8 (BOM or not) or, line by
    line where a line is not UTF-8, Windows-1252; with what was noticed about the file
    (lines read as Windows-1252, the line the header was taken from, names it repeats).

    InputError names `what` ('engagement list') and the file when it is empty,
    unreadable, or in neither encoding; `options` go to `pandas.read_csv`.
    """
    subject = f"{what} {path.name}"
    within = limits.current()
    limits.check_file_size(path.stat().st_size, subject, within)
    bounded = {**options, "nrows": min(options.get("nrows") or within.rows + 1, within.rows + 1)}
    try:
        utf8 = True
        frame = _read_csv(path, subject, bounded, encoding=_UTF8_SIG)
    except UnicodeDecodeError:
        utf8 = False
        with open(path, "rb") as file:
            text = _LineDecodedText(file, subject)
            frame = _read_csv(text, subject, bounded)
        windows_lines = tuple(text.decoder.windows_lines)
    _check_csv_within(frame, subject, within, options)
    noticed = [] if utf8 else [_not_utf8(windows_lines)]
    if options.get("header", "infer") is not None:
        at = options.get("skiprows") or 0
        names = [str(name) for name in frame.columns]
        header = _csv_header(path, subject, options, utf8) if _renamed(names) else names
        if len(header) == len(names):
            noticed.append(_header_noticed(at if isinstance(at, int) else 0, header, names))
    return TextTable(frame, problems.concat(noticed))


def _check_csv_within(
    frame: pd.DataFrame, subject: str, within: limits.Limits, options: dict
) -> None:
    """Refuse a CSV table with more rows or columns, or longer cells, than the limits."""
    limits.check_rows(len(frame), subject, within)
    limits.check_columns(frame.shape[1], subject, within)
    skipped = options.get("skiprows")
    first = (skipped if isinstance(skipped, int) else 0) + (
        1 if options.get("header", 0) is None else 2
    )
    limits.check_cells(frame, subject, within, first)


def _renamed(names: list[str]) -> bool:
    """Whether pandas may have renamed a repeated header name ('x', 'x.1')."""
    return any(
        (match := _RENAMED.match(name)) is not None and match.group(1) in names for name in names
    )


def _csv_header(path: Path, subject: str, options: dict, utf8: bool) -> list[str]:
    """A CSV's header row as written, read again only when pandas may have renamed a name."""
    header_options = {"header": None, "nrows": 1}
    header_options |= {k: v for k, v in options.items() if k in ("skiprows", "skip_blank_lines")}
    if utf8:
        first = _read_csv(path, subject, header_options, encoding=_UTF8_SIG)
    else:
        with open(path, "rb") as file:
            first = _read_csv(_LineDecodedText(file, subject), subject, header_options)
    return [str(cell) for cell in first.iloc[0]] if len(first) else []


def _read_csv(source, subject: str, options: dict, **encoding) -> pd.DataFrame:
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, **encoding, **options)
    except pd.errors.EmptyDataError:
        raise InputError(f"{subject}: has no rows or columns") from None
    except pd.errors.ParserError as error:
        reason = " ".join(str(error).split())
        raise InputError(f"{subject}: not a readable CSV ({reason})") from None


def _not_utf8(lines: tuple[int, ...]) -> pd.DataFrame:
    """The problem of a file some of whose lines were read as Windows-1252."""
    shown = ", ".join(map(str, lines[:_LINES_SHOWN]))
    if len(lines) > _LINES_SHOWN:
        shown += f", … ({len(lines):,} lines in all)"
    return problems.about_file(problems.NOT_UTF8, shown)


class _LineDecoder:
    """Decodes a text file's lines in order, each as UTF-8 if it is, else as Windows-1252."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.line = 0
        self.windows_lines: list[int] = []

    def decode(self, line: bytes) -> str:
        """The next line as text; InputError naming it when it is in neither encoding."""
        self.line += 1
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            pass
        try:
            text = line.decode(_WINDOWS)
        except UnicodeDecodeError:
            raise InputError(
                f"{self.subject}: line {self.line} is neither UTF-8 nor Windows-1252 text"
            ) from None
        self.windows_lines.append(self.line)
        return text


class _LineDecodedText(io.TextIOBase):
    """A binary text file read as text through a `_LineDecoder`, for `pandas.read_csv`."""

    def __init__(self, file: BinaryIO, subject: str) -> None:
        self._file = file
        self._pending = ""
        self.decoder = _LineDecoder(subject)
        self._first = True

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        """Up to `size` characters (all the rest when `size` is negative or None)."""
        wanted = -1 if size is None else size
        parts, have = [self._pending], len(self._pending)
        while wanted < 0 or have < wanted:
            line = self._file.readline()
            if not line:
                break
            if self._first:
                line, self._first = line.removeprefix(_BOM), False
            text = self.decoder.decode(line)
            parts.append(text)
            have += len(text)
        text = "".join(parts)
        cut = len(text) if wanted < 0 else wanted
        self._pending = text[cut:]
        return text[:cut]


def _without_cut_character(line: bytes) -> bytes:
    """A line whose last UTF-8 character may have been cut off by a partial read, without it."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(line) - 3 and error.reason == "unexpected end of data":
            return line[: error.start]
    return line


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
    """Where a plain table's header is: the first row with anything in it, unless only
    titles (rows of one filled cell, such as a cell merged across the table) stand above
    the first row with more: then that row."""
    filled = [n for n, row in enumerate(rows) if _filled(row)]
    wider = next((n for n in filled if _filled(rows[n]) > 1), None)
    if not filled or wider is None:
        return filled[0] if filled else None
    return wider


def _filled(row: list[str]) -> int:
    return sum(1 for cell in row if cell.strip())


def frame_from_rows(
    path: Path, rows: Iterator[list[str]], find_header: Callable[[Rows], int | None]
) -> TextTable:
    """Stream spreadsheet rows into text columns, header first, a block of rows at a time,
    so a 122-column sheet is never held whole as Python row lists; with what was noticed
    about the header (the row it was taken from, names it repeats)."""
    preview = list(islice(rows, PREVIEW_ROWS))
    at = find_header(preview)
    if at is None:
        raise InputError(f"provider list {path.name}: no header row in the first rows")
    header = _without_trailing_blanks(preview[at])
    names = _unique_names(header)
    width, within, subject = len(names), limits.current(), f"provider list {path.name}"
    _check_cells_of_row(header, at + 1, names, subject, within)
    blocks: list[pd.DataFrame] = []
    block: Rows = []
    for number, row in enumerate(chain(preview[at + 1 :], rows), start=at + 2):
        if not any(row):
            continue
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                raise InputError(
                    f"provider list {path.name}: row {number} has values beyond the "
                    f"{width} columns of the header"
                )
            row = row[:width]  # blank cells beyond the header are not kept
        _check_cells_of_row(row, number, names, subject, within)
        block.append(row)
        if len(block) == _BLOCK_ROWS:
            blocks.append(_text_frame(block, names))
            block = []
    blocks.append(_text_frame(block, names))
    frame = pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]
    return TextTable(frame, _header_noticed(at, header, names))


def read_sheet_cells(path: Path, what: str) -> TextTable:
    """The first sheet of an .xlsx workbook with every cell as text ('' when blank), its
    first row the header and blank rows kept (trailing ones dropped), so row numbers match
    the spreadsheet; streamed within the limits, as `pandas.read_excel` would not be."""
    rows = sheet_rows(path, "xlsx", None)
    header = _without_trailing_blanks(next(rows, []))
    if not header:
        raise InputError(f"{what} {path.name}: has no rows or columns")
    names = _unique_names(header)
    width, within = len(names), limits.current()
    kept: Rows = []
    blank = 0  # blank rows not yet kept: kept only when a filled row follows
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            blank += 1
            continue
        if any(cell.strip() for cell in row[width:]):
            raise InputError(
                f"{what} {path.name}: row {number} has values beyond the {width} columns "
                "of the header"
            )
        _check_cells_of_row(row, number, names, f"{what} {path.name}", within)
        kept.extend([[""] * width] * blank)
        kept.append(_padded(row, width))
        blank = 0
    frame = (
        pd.DataFrame(kept, columns=names, dtype="str")
        if kept
        else pd.DataFrame({name: pd.Series(dtype="str") for name in names})
    )
    return TextTable(frame, _header_noticed(0, header, names))


def _header_noticed(at: int, header: list[str], names: list[str]) -> pd.DataFrame:
    """The header's problems: taken from below the first row (`at`, from 0), names repeated."""
    noticed = [problems.about_file(problems.HEADER_ROW, str(at + 1))] if at else []
    repeats: dict[str, list[str]] = {}
    for given, name in zip(header, names, strict=True):
        if given.strip() and given != name:
            repeats.setdefault(given, []).append(name)
    for given, renamed in repeats.items():
        noticed.append(problems.about_file(problems.DUPLICATE_COLUMN, ", ".join(renamed), given))
    return problems.concat(noticed)


def _check_cells_of_row(
    row: list[str], number: int, names: list[str], subject: str, within: limits.Limits
) -> None:
    """Refuse a row with a cell longer than the cell limit, naming the row and column."""
    if max(map(len, row), default=0) > within.cell_chars:
        at = next(n for n, cell in enumerate(row) if len(cell) > within.cell_chars)
        column = names[at] if at < len(names) else f"{at + 1}"
        raise InputError(
            f"{subject}: row {number}, column {column} has {len(row[at]):,} "
            f"characters, more than {within.cell_chars:,} (setting ICS_CELL_LIMIT)"
        )


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
    taken = set(header)
    seen: dict[str, int] = {}
    names = []
    for position, given in enumerate(header, start=1):
        name = given or f"Unnamed: {position - 1}"
        if name in seen:
            while f"{name}.{seen[name]}" in taken:
                seen[name] += 1
            renamed = f"{name}.{seen[name]}"
            seen[name] += 1
            taken.add(renamed)
            name = renamed
        else:
            seen[name] = 1
        names.append(name)
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
        within, subject = limits.current(), f"spreadsheet {path.name}: sheet {name}"
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number > within.rows:  # openpyxl makes up the rows a sheet skips, one by one
                limits.check_rows(number, subject, within)
            if len(row) > within.columns:
                limits.check_columns(len(row), subject, within)
            yield [_xlsx_text(value) for value in row]
    finally:
        workbook.close()


def _open_workbook(path: Path):
    """The workbook, read-only, once its parts are known to be within the limits: openpyxl
    reads shared strings and styles whole, so a part that would expand is refused first."""
    from openpyxl import load_workbook

    _check_workbook_parts(path, f"spreadsheet {path.name}")
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, InvalidFileException…
        raise InputError(f"spreadsheet {path.name}: not a readable .xlsx file ({error})") from None


def _check_workbook_parts(path: Path, subject: str) -> None:
    within = limits.current()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{subject}: not a readable .xlsx file ({error})") from None
    with archive:
        limits.check_zip(archive, subject, within)
        parts = [name for name in archive.namelist() if name.casefold().endswith(".xml")]
        limits.scan_members(archive, parts, subject, within)


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
