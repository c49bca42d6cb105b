"""Stream the rows of an OpenDocument spreadsheet (.ods) in little memory.

CQC publishes its register as a 24 MB .ods whose content.xml is about 440 MB;
pandas' odf engine needs over 3 GB for it. Here the XML is parsed with
`lxml.etree.iterparse` straight out of the zip, one row at a time, and each row
is cleared once read, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

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
    with _open_content(path) as content:
        try:
            yield from _parse_events(content)
        except etree.XMLSyntaxError as error:
            raise InputError(
                f"spreadsheet {path.name}: content.xml is not valid XML ({error})"
            ) from None


def _parse_events(content) -> Iterator[tuple[str, Any]]:
    name = ""
    pending_empty_rows = 0
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
                name, pending_empty_rows = element.get(_TABLE_NAME, ""), 0
                yield "sheet", name
            else:
                _release(element)
                yield "end", name
            continue
        if action == "start":
            continue
        values = _row_values(element)
        repeats = int(element.get(_ROWS_REPEATED, "1"))
        _release(element)
        if not values:
            pending_empty_rows += repeats
            continue
        for _ in range(pending_empty_rows):
            yield "row", []
        pending_empty_rows = 0
        yield "row", values
        for _ in range(repeats - 1):
            yield "row", list(values)


def _open_content(path: Path):
    """The open content.xml stream of an .ods file, or InputError saying why not."""
    if not path.is_file():
        raise InputError(f"spreadsheet {path.name}: file not found at {path}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"spreadsheet {path.name}: is not an OpenDocument spreadsheet (not a zip file: {error})"
        ) from None
    try:
        return _ClosingStream(archive, archive.open("content.xml"))
    except KeyError:
        archive.close()
        raise InputError(
            f"spreadsheet {path.name}: is not an OpenDocument spreadsheet (no content.xml inside)"
        ) from None


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


def _row_values(row) -> list[str]:
    """A row's cell values, repeated cells expanded and trailing empty cells dropped.

    The hot loop of the module (a CQC file has some seven million cells), so the
    common cases — an empty cell, a one-paragraph string — are handled inline.
    """
    values: list[str] = []
    pending_empty = 0
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
                value = _cell_text(cell)
        else:
            value = get(_TYPED_VALUES.get(value_type, _NO_ATTRIBUTE)) or _cell_text(cell)
        repeats = get(_COLUMNS_REPEATED)
        if value == "":
            pending_empty += 1 if repeats is None else int(repeats)
            continue
        if pending_empty:
            values.extend([""] * pending_empty)
            pending_empty = 0
        if repeats is None:
            values.append(value)
        else:
            values.extend([value] * int(repeats))
    return values


def _cell_text(cell) -> str:
    """A cell's paragraphs' text joined by newlines."""
    return "\n".join(_paragraph_text(p) for p in cell.iterchildren(_PARAGRAPH))


def _paragraph_text(element) -> str:
    """The text of a <text:p>, with <text:s>, <text:tab> and <text:line-break> honoured."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == _SPACE:
            parts.append(" " * int(child.get(_SPACE_COUNT, "1")))
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _LINE_BREAK:
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_paragraph_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
