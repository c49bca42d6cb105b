"""Stream the rows of an OpenDocument spreadsheet (.ods) in little memory.

CQC publishes its register as a 24 MB .ods whose content.xml is about 440 MB;
pandas' odf engine needs over 3 GB for it. Here the XML is parsed with
`lxml.etree.iterparse` straight out of the zip, one row at a time, and each row
is cleared once read, so memory stays flat whatever the file's size. Repeated rows
and cells are counted before they are expanded, against the limits of `geo.io.limits`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from geo.io import limits
from geo.model.errors import InputError

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

_TABLE = f"{{{_TABLE_NS}}}table"
_ROW = f"{{{_TABLE_NS}}}table-row"
_CELL = f"{{{_TABLE_NS}}}table-cell"
_COVERED_CELL = f"{{{_TABLE_NS}}}covered-table-cell"
_TABLE_NAME = f"{{{_TABLE_NS}}}name"
_ROWS_REPEATED = f"{{{_TABLE_NS}}}number-rows-repeated"
_COLUMNS_REPEATED = f"{{{_TABLE_NS}}}number-columns-repeated"
_VALUE_TYPE = f"{{{_OFFICE_NS}}}value-type"
_PARAGRAPH = f"{{{_TEXT_NS}}}p"
_SPACE = f"{{{_TEXT_NS}}}s"
_SPACE_COUNT = f"{{{_TEXT_NS}}}c"
_TAB = f"{{{_TEXT_NS}}}tab"
_LINE_BREAK = f"{{{_TEXT_NS}}}line-break"
_NO_ATTRIBUTE = f"{{{_OFFICE_NS}}}no-such-attribute"

# Which attribute holds a typed cell's value; strings and unknown types use their text.
_TYPED_VALUES: dict[str, str] = {
    "float": f"{{{_OFFICE_NS}}}value",
    "percentage": f"{{{_OFFICE_NS}}}value",
    "currency": f"{{{_OFFICE_NS}}}value",
    "date": f"{{{_OFFICE_NS}}}date-value",
    "time": f"{{{_OFFICE_NS}}}time-value",
    "boolean": f"{{{_OFFICE_NS}}}boolean-value",
}


def iter_sheet_rows(path: str | Path, sheet: str | None = None) -> Iterator[list[str]]:
    """Yield each row of one sheet (the first if `sheet` is None) as a list of strings.

    Sheet names match exactly or ignoring case, spaces and underscores. Repeated
    cells and rows are expanded, except trailing empty ones (LibreOffice pads every
    sheet to 16,384 columns and a million rows); an empty row between filled rows
    comes out as `[]`. Parsing stops at the end of the sheet asked for.
    """
    path = Path(path)
    wanted = None if sheet is None else _sheet_key(sheet)
    seen: list[str] = []
    inside = False
    for event, value in _iter_events(path):
        if event == "sheet":
            seen.append(value)
            inside = wanted is None or _sheet_key(value) == wanted
        elif event == "row" and inside:
            yield value
        elif event == "end" and inside:
            return
    if not seen:
        raise InputError(f"spreadsheet {path.name}: has no sheets")
    raise InputError(
        f"spreadsheet {path.name}: has no sheet {sheet!r}; its sheets are: {', '.join(seen)}"
    )


def sheet_names(path: str | Path) -> list[str]:
    """The names of the sheets in an .ods file, in order (reads the whole file once)."""
    return [value for event, value in _iter_events(Path(path)) if event == "sheet"]


def iter_sheet_previews(path: str | Path, rows: int = 20) -> Iterator[tuple[str, list[list[str]]]]:
    """Yield (sheet name, its first `rows` rows) sheet by sheet, lazily.

    For recognising a file by its header without reading it all: each preview is
    yielded as soon as it is full, so a caller that stops at the sheet it wants
    never parses the rest of that sheet or the sheets behind it.
    """
    name = ""
    preview: list[list[str]] = []
    done = False
    for event, value in _iter_events(Path(path)):
        if event == "sheet":
            name, preview, done = value, [], False
        elif event == "row" and not done:
            preview.append(value)
            if len(preview) >= rows:
                done = True
                yield name, preview
        elif event == "end" and not done:
            yield name, preview


def _sheet_key(name: str) -> str:
    return "".join(name.split()).replace("_", "").casefold()


def _iter_events(path: Path) -> Iterator[tuple[str, Any]]:
    """('sheet', name) at each table's start, ('row', values) per row, ('end', name) after.

    Trailing empty rows of a table are never emitted.
    """
    reading = _Reading(f"spreadsheet {path.name}", limits.current())
    with _open_content(path, reading) as content:
        try:
            yield from _parse_events(content, reading)
        except etree.XMLSyntaxError as error:
            raise InputError(
                f"spreadsheet {path.name}: content.xml is not valid XML ({error})"
            ) from None


class _Reading:
    """What is being read (for messages) and the limits it is read within."""

    def __init__(self, subject: str, within: limits.Limits) -> None:
        self.subject = subject
        self.limits = within

    def count(self, text: str | None, default: int = 1) -> int:
        """A repeat count from an attribute; InputError when it is not a whole number."""
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            raise InputError(
                f"{self.subject}: content.xml has a repeat count of {text!r}; expected a whole number"
            ) from None


def _parse_events(content, reading: _Reading) -> Iterator[tuple[str, Any]]:
    name = ""
    pending_empty_rows = 0
    emitted = 0
    for action, element in etree.iterparse(
        content,
        events=("start", "end"),
        tag=(_TABLE, _ROW),
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
    ):
        if element.tag == _TABLE:
            if action == "start":
                name, pending_empty_rows, emitted = element.get(_TABLE_NAME, ""), 0, 0
                yield "sheet", name
            else:
                _release(element)
                yield "end", name
            continue
        if action == "start":
            continue
        values = _row_values(element, reading, name)
        repeats = reading.count(element.get(_ROWS_REPEATED))
        _release(element)
        if not values:
            pending_empty_rows += repeats
            continue
        emitted += pending_empty_rows + repeats  # counted before any is expanded
        limits.check_rows(emitted, f"{reading.subject}: sheet {name}", reading.limits)
        for _ in range(pending_empty_rows):
            yield "row", []
        pending_empty_rows = 0
        yield "row", values
        for _ in range(repeats - 1):
            yield "row", list(values)


def _open_content(path: Path, reading: _Reading):
    """The open content.xml stream of an .ods file, read within the limits, or InputError
    saying why not (a zip member declaring more than the limits, before it is read)."""
    if not path.is_file():
        raise InputError(f"spreadsheet {path.name}: file not found at {path}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"spreadsheet {path.name}: is not an OpenDocument spreadsheet (not a zip file: {error})"
        ) from None
    try:
        limits.check_zip(archive, reading.subject, reading.limits)
        stream = archive.open("content.xml")
    except KeyError:
        archive.close()
        raise InputError(
            f"spreadsheet {path.name}: is not an OpenDocument spreadsheet (no content.xml inside)"
        ) from None
    except limits.ZIP_ERRORS as error:
        archive.close()
        raise InputError(
            f"spreadsheet {path.name}: content.xml cannot be read, the file is damaged ({error})"
        ) from None
    except BaseException:
        archive.close()
        raise
    subject = f"{reading.subject}: content.xml"
    return _ClosingStream(archive, limits.GuardedMember(stream, subject, reading.limits))


class _ClosingStream:
    """content.xml as a context manager that also closes the zip it came from."""

    def __init__(self, archive: zipfile.ZipFile, stream) -> None:
        self._archive = archive
        self._stream = stream

    def __enter__(self):
        return self._stream

    def __exit__(self, *exc_info) -> None:
        self._stream.close()
        self._archive.close()


def _release(element) -> None:
    """Free a parsed element and the already-read siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _row_values(row, reading: _Reading, sheet: str) -> list[str]:
    """A row's cell values, repeated cells expanded and trailing empty cells dropped;
    InputError before a row wider than the column limit is expanded.

    The hot loop of the module (a CQC file has some seven million cells), so the
    common cases — an empty cell, a one-paragraph string — are handled inline.
    """
    values: list[str] = []
    pending_empty = 0
    widest = reading.limits.columns
    for cell in row.iterchildren(_CELL, _COVERED_CELL):
        get = cell.get
        value_type = get(_VALUE_TYPE)
        if value_type is None or value_type == "string":
            children = len(cell)
            if children == 0:
                value = ""
            elif children == 1 and len(first := cell[0]) == 0:
                value = first.text or ""
            else:
                value = _cell_text(cell, reading)
        else:
            value = get(_TYPED_VALUES.get(value_type, _NO_ATTRIBUTE)) or _cell_text(cell, reading)
        repeats = get(_COLUMNS_REPEATED)
        if value == "":
            pending_empty += 1 if repeats is None else reading.count(repeats)
            continue
        if pending_empty or repeats is not None:
            width = len(values) + pending_empty + reading.count(repeats)
            if width > widest:  # counted before it is expanded
                limits.check_columns(width, f"{reading.subject}: sheet {sheet}", reading.limits)
            values.extend([""] * pending_empty)
            pending_empty = 0
        if repeats is None:
            values.append(value)
        else:
            values.extend([value] * reading.count(repeats))
    limits.check_columns(len(values), f"{reading.subject}: sheet {sheet}", reading.limits)
    return values


def _cell_text(cell, reading: _Reading) -> str:
    """A cell's paragraphs' text joined by newlines."""
    return "\n".join(_paragraph_text(p, reading) for p in cell.iterchildren(_PARAGRAPH))


def _paragraph_text(element, reading: _Reading) -> str:
    """The text of a <text:p>, with <text:s>, <text:tab> and <text:line-break> honoured;
    a run of spaces longer than a cell may hold is refused before it is made."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == _SPACE:
            spaces = reading.count(child.get(_SPACE_COUNT))
            if spaces > reading.limits.cell_chars:
                raise InputError(
                    f"{reading.subject}: a cell holds a run of {spaces:,} spaces, more than "
                    f"{reading.limits.cell_chars:,} characters (setting ICS_CELL_LIMIT)"
                )
            parts.append(" " * spaces)
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _LINE_BREAK:
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_paragraph_text(child, reading))
        parts.append(child.tail or "")
    return "".join(parts)
