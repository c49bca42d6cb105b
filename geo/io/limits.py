"""How much of a file the readers will take: the limits in settings, checked while streaming.

A small file can expand without limit: a zip member that inflates a thousandfold, one
cell of a gigabyte, an empty row repeated fifty million times. Every reader of data
files (CSV, XLSX, OpenDocument, zipped geo files) checks what it reads against these
limits as it goes, so it stops with a message naming the file, the limit and the
setting long before time or memory run out; publishing from the page or the command
line reads through them alike.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pandas as pd

from geo.model import settings
from geo.model.errors import InputError

_MB = 1024 * 1024
# What zipfile raises for a damaged, encrypted or oddly compressed member.
ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError)
# Bytes of XML one character of a cell can take (&#x10FFFF; is ten), and room for a tag.
_XML_BYTES_PER_CHAR, _TAG_BYTES = 10, 4096


@dataclass(frozen=True)
class Limits:
    """What a reader takes from one file: bytes unpacked, rows, columns, characters in a cell."""

    unpacked_bytes: int
    rows: int
    columns: int
    cell_chars: int

    @property
    def xml_run_bytes(self) -> int:
        """The longest run of XML between two tags that a cell within the limit can need."""
        return self.cell_chars * _XML_BYTES_PER_CHAR + _TAG_BYTES


_SETTINGS = {
    "unpacked_bytes": ("unpacked_limit_mb", _MB),
    "rows": ("row_limit", 1),
    "columns": ("column_limit", 1),
    "cell_chars": ("cell_limit", 1),
}


def current() -> Limits:
    """The limits as the settings give them now; InputError naming a setting that is no
    whole number above 0."""
    values = {}
    for field, (name, unit) in _SETTINGS.items():
        raw = settings.get_setting(name)
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not number > 0 or number == float("inf"):
            env = settings.SETTINGS[name].env
            raise InputError(f'setting {env} is "{raw}"; expected a number above 0')
        values[field] = int(number * unit)
    return Limits(**values)


def check_file_size(size: int, subject: str, limits: Limits) -> None:
    """Refuse a file (or an unpacked part of one) larger than ICS_UNPACKED_LIMIT_MB."""
    if size > limits.unpacked_bytes:
        shown, limit = _mb(size), _mb(limits.unpacked_bytes)
        if shown == limit:  # over by less than rounding shows
            shown, limit = f"{size:,} bytes", f"{limits.unpacked_bytes:,} bytes"
        raise InputError(
            f"{subject} is {shown} unpacked, over the limit of {limit} "
            "(setting ICS_UNPACKED_LIMIT_MB); split the file or remove what is not needed"
        )


def check_zip(archive: zipfile.ZipFile, subject: str, limits: Limits) -> None:
    """Refuse a zip whose members declare more than ICS_UNPACKED_LIMIT_MB, one or together,
    before any is read (a zip bomb declares what it will inflate to)."""
    members = archive.infolist()
    for member in members:
        check_file_size(member.file_size, f"{subject}: {member.filename}", limits)
    check_file_size(sum(member.file_size for member in members), subject, limits)


def check_rows(rows: int, subject: str, limits: Limits) -> None:
    """Refuse a table once it has more rows than ICS_ROW_LIMIT (empty rows count: they take time)."""
    if rows > limits.rows:
        raise InputError(
            f"{subject}: has more than {limits.rows:,} rows (setting ICS_ROW_LIMIT); if most "
            "are empty, delete them, else split the file"
        )


def check_columns(columns: int, subject: str, limits: Limits) -> None:
    """Refuse a row wider than ICS_COLUMN_LIMIT columns."""
    if columns > limits.columns:
        raise InputError(
            f"{subject}: has a row of {columns:,} columns, more than {limits.columns:,} "
            "(setting ICS_COLUMN_LIMIT); delete the columns that are not needed"
        )


def check_cells(frame: pd.DataFrame, subject: str, limits: Limits, first_row: int) -> None:
    """Refuse a table with a cell longer than ICS_CELL_LIMIT characters, naming the first
    such cell; `first_row` is the file's number for the frame's first row."""
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue  # numbers have no length to speak of
        lengths = values.str.len()
        over = (lengths > limits.cell_chars).fillna(False).to_numpy(dtype=bool)
        if over.any():
            at = int(np.flatnonzero(over)[0])
            raise InputError(
                f"{subject}: row {first_row + at}, column {column} has {int(lengths.iloc[at]):,} "
                f"characters, more than {limits.cell_chars:,} (setting ICS_CELL_LIMIT)"
            )


class GuardedMember:
    """A zip member's stream that refuses to go past the limits while it is read: more
    bytes than ICS_UNPACKED_LIMIT_MB, or (for XML) a run between two tags longer than
    a cell within ICS_CELL_LIMIT needs; a damaged member is an InputError too."""

    def __init__(self, stream: BinaryIO, subject: str, limits: Limits) -> None:
        self._stream = stream
        self._subject = subject
        self._limits = limits
        self._read = 0
        self._run = 0  # bytes since the last '<'

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes, checked."""
        try:
            data = self._stream.read(size)
        except ZIP_ERRORS as error:
            raise InputError(
                f"{self._subject} cannot be read, the file is damaged ({error})"
            ) from None
        self._read += len(data)
        check_file_size(self._read, self._subject, self._limits)
        self._check_runs(data)
        return data

    def close(self) -> None:
        self._stream.close()

    def _check_runs(self, data: bytes) -> None:
        opens = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("<"))
        if len(opens) == 0:
            longest, self._run = self._run + len(data), self._run + len(data)
        else:
            inner = int(np.diff(opens).max()) - 1 if len(opens) > 1 else 0
            longest = max(self._run + int(opens[0]), inner)
            self._run = len(data) - int(opens[-1]) - 1
        if max(longest, self._run) > self._limits.xml_run_bytes:
            raise InputError(
                f"{self._subject} holds a cell or tag longer than {self._limits.cell_chars:,} "
                "characters (setting ICS_CELL_LIMIT); is the file damaged?"
            )


def scan_members(
    archive: zipfile.ZipFile, names: Iterable[str], subject: str, limits: Limits
) -> None:
    """Read the named members through GuardedMember before another library parses them whole."""
    for name in names:
        try:
            stream = archive.open(name)
        except ZIP_ERRORS as error:
            raise InputError(
                f"{subject}: {name} cannot be read, the file is damaged ({error})"
            ) from None
        with stream:
            guarded = GuardedMember(stream, f"{subject}: {name}", limits)
            while guarded.read(1 << 20):
                pass


def _mb(size: int) -> str:
    return f"{size / _MB:,.0f} MB" if size >= 10 * _MB else f"{size / _MB:,.1f} MB"
