"""Read the registers that show a provider is voluntary, in the formats their publishers ship.

- The Charity Commission's register extract (DATA-FORMATS-2.md §4): `publicextract.charity.zip`
  holding the tab-separated `publicextract.charity.txt`, read into the Companies House
  numbers of registered main charities.
- The Regulator of Social Housing's `List_of_registered_providers_*.xlsx` (§5), read into
  the names of non-profit registered providers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from geo.io import tables
from geo.model import registers
from geo.model.errors import InputError
from geo.model.registers import Register
from geo.model.text import cell_text, name_key

# The extract's one member, and the columns the register is read from (§4: 34 in all).
CHARITY_MEMBER = re.compile(r"^publicextract\.(\w+)\.(txt|json)$", re.IGNORECASE)
CHARITY_COLUMNS: tuple[str, ...] = (
    "date_of_extract",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_registration_status",
    "charity_company_registration_number",
)
# The RSH list's data sheet starts with this header cell; its columns by `name_key`, which
# evens out the older spellings (`Organisation Name`, `Corporate Form`).
RSH_FIRST_HEADER = "organisationname"
_RSH_NAME, _RSH_DESIGNATION = "organisationname", "designation"
_RSH_DATE = re.compile(r"(\d{1,2})_([A-Za-z]+|\d{2})_(\d{4})")


# --- Charity Commission register extract ----------------------------------------------


def read_charity_register(path: str | Path) -> Register:
    """The Companies House numbers of registered charities, from the Charity Commission's
    extract (the zip as downloaded, or the `publicextract.charity.txt` inside it).

    Only main charities (`linked_charity_number` 0) whose `charity_registration_status`
    is `Registered` count: a removed charity is no longer one, and a linked charity is
    part of its main charity. Numbers are normalised (`registers.company_number_key`),
    so the extract's '1234567' meets CQC's '01234567'.
    """
    path = Path(path)
    with _charity_text(path) as lines:
        header, records = _charity_records(path, lines)
        at = {column: header.index(column) for column in CHARITY_COLUMNS}
        entries: dict[str, str] = {}
        extract_date = ""
        for record in records:
            extract_date = extract_date or record[at["date_of_extract"]][:10]
            if _is_registered_main_charity(record, at):
                key = registers.company_number_key(
                    record[at["charity_company_registration_number"]]
                )
                if key:
                    name = record[at["charity_name"]].strip()
                    entries[key] = f"{name} (charity {record[at['registered_charity_number']]})"
    when = f", extract of {extract_date}" if extract_date else ""
    return Register(
        registers.CHARITY_COMPANIES,
        entries,
        source=f"Charity Commission register of charities{when} ({path.name})",
    )


def charity_extract_header(path: Path) -> tuple[str, tuple[str, ...], str | None]:
    """(table, header, date of extract) of a Charity Commission extract zip, from its first
    lines only: what `recognise.sniff` needs. The table is 'charity' for the one we read."""
    with zipfile.ZipFile(path) as archive:
        member = _charity_member(path, archive)
        table, edition = CHARITY_MEMBER.match(Path(member).name).groups()
        if edition.casefold() != "txt":
            return f"{table} (JSON)", (), None
        with archive.open(member) as file:
            head = file.read(64 * 1024).decode("utf-8-sig", errors="replace")
    lines = _joined_lines(head.splitlines(keepends=True))
    header = tuple(cell.strip() for cell in next(lines, "").split("\t"))
    first = next(lines, "").split("\t")
    date = first[0][:10] if header[:1] == ("date_of_extract",) and first[0] else None
    return table.casefold(), header, date


@contextmanager
def _charity_text(path: Path) -> Iterator[Iterable[str]]:
    """The extract's text lines, streamed from the zip (or the .txt itself).

    Decoded as UTF-8 (with or without a BOM) as find-that-charity does; a byte that is not
    UTF-8 becomes U+FFFD rather than failing the whole register, since only names, numbers
    and statuses are read [U: the encoding is not documented by the publisher].
    """
    if not zipfile.is_zipfile(path):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
            yield file
        return
    with zipfile.ZipFile(path) as archive:
        member = _charity_member(path, archive)
        if not member.casefold().endswith(".charity.txt"):
            raise InputError(
                f"Charity Commission extract {path.name}: holds {member}; expected "
                "publicextract.charity.txt (the text edition of the charity table)"
            )
        with (
            archive.open(member) as binary,
            io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="") as text,
        ):
            yield text


def _charity_member(path: Path, archive: zipfile.ZipFile) -> str:
    names = [name for name in archive.namelist() if CHARITY_MEMBER.match(Path(name).name)]
    if not names:
        listed = ", ".join(archive.namelist()[:5]) or "nothing"
        raise InputError(
            f"Charity Commission extract {path.name}: holds {listed}; expected "
            "publicextract.charity.txt"
        )
    return names[0]


def _charity_records(path: Path, lines: Iterable[str]) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the records of the tab-separated text, each cut to the header's width."""
    rows = csv.reader(_joined_lines(lines), delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
    header = [cell.strip() for cell in next(rows, [])]
    missing = [column for column in CHARITY_COLUMNS if column not in header]
    if missing:
        raise InputError(
            f"Charity Commission extract {path.name}: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(header[:8]) or 'nothing'}"
        )
    return header, _whole_records(rows, len(header))


def _joined_lines(lines: Iterable[str]) -> Iterator[str]:
    """Lines with the extract's embedded line breaks taken out: a line break followed by a
    tab ends a field, not the record (find-that-charity replaces b'\\r\\n\\t' with b'\\t')."""
    pending: str | None = None
    for line in lines:
        if pending is not None and line.startswith("\t"):
            pending = pending.rstrip("\r\n") + line
            continue
        if pending is not None:
            yield pending.rstrip("\r\n")
        pending = line
    if pending is not None and pending.strip("\r\n"):
        yield pending.rstrip("\r\n")


def _whole_records(rows: Iterator[list[str]], width: int) -> Iterator[list[str]]:
    """Records of `width` fields. A record cut short by a line break inside a field (one
    not followed by a tab, which the publisher does not describe [U]) is joined to the
    next line; cells past the header's width are dropped."""
    for row in rows:
        if len(row) == width:  # nearly every record
            yield row
            continue
        if not any(cell.strip() for cell in row):
            continue
        while len(row) < width:
            following = next(rows, None)
            if following is None:
                break
            row = [*row[:-1], f"{row[-1]} {following[0]}", *following[1:]]
        yield row[:width] if len(row) >= width else [*row, *([""] * (width - len(row)))]


def _is_registered_main_charity(record: list[str], at: dict[str, int]) -> bool:
    """Registered (not removed) and the main charity: `linked_charity_number` 0. A blank
    linked number is read as the main charity [U: the text edition always fills it]."""
    status = record[at["charity_registration_status"]].strip().casefold()
    linked = record[at["linked_charity_number"]].strip()
    return status == "registered" and linked in {"", "0", "0.0"}


# --- Regulator of Social Housing: registered providers ---------------------------------


def read_rsh_register(path: str | Path) -> Register:
    """The names of non-profit registered providers of social housing, from the RSH list
    (xlsx; a CSV copy is read too [U: whether RSH still publishes one]).

    The data sheet is the first visible one whose header starts `Organisation name`
    (any spelling: the older files say `Organisation Name`); hidden lookup sheets and
    blank rows are skipped. Names are kept by `registers.organisation_name_key`.
    """
    path = Path(path)
    rows = _rsh_rows(path)
    header = next(rows)
    columns = {name_key(cell): n for n, cell in enumerate(header) if cell_text(cell)}
    if _RSH_NAME not in columns or _RSH_DESIGNATION not in columns:
        raise InputError(
            f"RSH list {path.name}: expected 'Organisation name' and 'Designation' columns; "
            f"found {', '.join(cell for cell in header if cell) or 'nothing'}"
        )
    entries: dict[str, str] = {}
    for row in rows:
        cells = [*row, *([""] * (len(header) - len(row)))]
        name = cell_text(cells[columns[_RSH_NAME]])
        designation = name_key(cells[columns[_RSH_DESIGNATION]])
        key = registers.organisation_name_key(name)
        if key and designation == "nonprofit":
            entries[key] = name
    published = rsh_file_date(path.name)
    when = f" of {published}" if published else ""
    return Register(
        registers.RSH_NON_PROFIT,
        entries,
        source=f"Regulator of Social Housing list of registered providers{when} ({path.name})",
    )


def rsh_file_date(name: str) -> str | None:
    """The ISO date in an RSH file's name ('List_of_registered_providers_29_June_2026.xlsx')."""
    match = _RSH_DATE.search(name)
    if not match:
        return None
    day, month, year = match.groups()
    for form in ("%d %B %Y", "%d %m %Y", "%d %b %Y"):
        try:
            return datetime.strptime(f"{day} {month} {year}", form).date().isoformat()
        except ValueError:
            continue
    return None


def is_rsh_header(row: list[str]) -> bool:
    """Whether a row is the RSH list's header: `Organisation name` first, a `Designation`."""
    keys = [name_key(cell) for cell in row]
    return bool(keys) and keys[0] == RSH_FIRST_HEADER and _RSH_DESIGNATION in keys


def _rsh_rows(path: Path) -> Iterator[list[str]]:
    """The data table's rows as text, header first, blank rows left out."""
    if not zipfile.is_zipfile(path):
        table = tables.read_csv_cells(path, "RSH list").frame
        yield [str(column) for column in table.columns]
        yield from (row for row in table.to_numpy(dtype=str).tolist() if any(row))
        return
    for rows in _visible_sheets(path):
        for number, row in enumerate(rows):
            if number >= tables.PREVIEW_ROWS:
                break
            if is_rsh_header(row):
                yield row
                yield from (cells for cells in rows if any(cells))
                return
    raise InputError(
        f"RSH list {path.name}: no visible sheet has a header starting 'Organisation name' "
        f"in its first {tables.PREVIEW_ROWS} rows"
    )


def _visible_sheets(path: Path) -> Iterator[Iterator[list[str]]]:
    """Each visible sheet's rows as text (a hidden lookup sheet is never the data)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, InvalidFileException…
        raise InputError(f"RSH list {path.name}: not a readable .xlsx file ({error})") from None
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state == "visible":
                sheet.reset_dimensions()  # some writers record the size wrong
                yield (_row_text(row) for row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _row_text(row: tuple) -> list[str]:
    """A sheet row as trimmed text ('' for an empty cell)."""
    return [cell_text(value) or "" for value in row]
