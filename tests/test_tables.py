"""Tests for geo/io/tables.py's one rule for text files: UTF-8 (with or without BOM), else
Windows-1252, else a message naming the file, for every CSV an analyst hands the app."""

from __future__ import annotations

import pytest

from geo.analysis.engagement import load_engagement
from geo.geocode.offline import load_postcode_index
from geo.io import tables
from geo.io.sector_rules import load_sector_rules
from geo.model import problems
from geo.model.errors import InputError

UNDECODABLE = b"\x81"  # invalid UTF-8, and a byte Windows-1252 leaves undefined

# What each reader calls its file, and a first line it would otherwise accept.
READERS = {
    "provider list": (tables.read_csv_text, b"name,postcode"),
    "engagement list": (load_engagement, b"provider_name,planning_status"),
    "sector rules file": (load_sector_rules, b"name,sector,column,match,values"),
    "postcode file": (load_postcode_index, b"pcds,lat,long"),
}


def test_utf8_with_or_without_a_byte_order_mark_and_windows_1252_read_alike():
    for data in ("Café".encode(), "\ufeffCafé".encode(), "Café".encode("cp1252")):
        assert tables.decode_text(data, "list.csv").text == "Café"


def test_a_character_cut_at_the_end_of_a_partial_read_is_left_out():
    cut = "Café".encode()[:-1]

    assert tables.decode_text(cut, "list.csv", partial=True).text == "Caf"
    assert tables.decode_text(cut, "list.csv").text == "CafÃ"  # a whole file: Windows-1252


MIXED = (
    b"name,town\n"
    + "Café Ñandú,Leeds\n".encode()  # saved as UTF-8
    + "Crème Brûlée,York\n".encode("cp1252")  # pasted in from a Windows-1252 file
    + "Zoë,Hull\n".encode()
)


def test_a_file_mixing_utf8_and_windows_1252_lines_is_decoded_line_by_line():
    decoded = tables.decode_text(MIXED, "list.csv")

    assert decoded.text.splitlines()[1:] == ["Café Ñandú,Leeds", "Crème Brûlée,York", "Zoë,Hull"]
    assert decoded.windows_lines == (3,)


def test_a_mixed_csv_is_read_line_by_line_and_the_windows_1252_lines_are_named(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(MIXED)

    table = tables.read_csv_text(path)

    assert table.frame["name"].tolist() == ["Café Ñandú", "Crème Brûlée", "Zoë"]
    (noticed,) = table.noticed.to_dict("records")
    assert (noticed["row"], noticed["kind"], noticed["value"]) == (
        problems.FILE_ROW,
        problems.NOT_UTF8,
        "3",
    )
    assert problems.sentence(noticed) == (
        "lines not in UTF-8, read as Windows-1252 (check their accented letters): 3"
    )


def test_a_mixed_csv_larger_than_pandas_reads_at_once_names_every_windows_1252_line(tmp_path):
    rows = [
        f"Café {n},Leeds\n".encode("cp1252" if n % 50_000 == 7 else "utf-8") for n in range(200_000)
    ]
    path = tmp_path / "list.csv"
    path.write_bytes(b"name,town\n" + b"".join(rows))

    table = tables.read_csv_cells(path, "provider list")

    assert table.frame["name"].str.startswith("Café ").all()
    assert table.noticed["value"].tolist() == ["9, 50009, 100009, 150009"]


def test_a_utf8_file_has_nothing_noticed(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("name,town\nCafé Ñandú,Leeds\n".encode())

    assert tables.read_csv_text(path).noticed.empty


def test_a_line_in_neither_encoding_is_named_by_its_number(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(MIXED + b"Bad " + UNDECODABLE + b",Leeds\n")

    with pytest.raises(InputError, match=r"^provider list list\.csv: line 5 is neither UTF-8"):
        tables.read_csv_text(path)


@pytest.mark.parametrize("what", sorted(READERS))
def test_every_reader_names_its_file_when_the_text_is_in_neither_encoding(tmp_path, what):
    read, header = READERS[what]
    path = tmp_path / "list.csv"
    path.write_bytes(header + b"," + UNDECODABLE + b"\nA,B,C,D,E\n")

    with pytest.raises(
        InputError, match=f"^{what} list.csv: line 1 is neither UTF-8 nor Windows-1252 text"
    ):
        read(path)


@pytest.mark.parametrize("what", ["engagement list", "sector rules file"])
def test_an_empty_file_is_named_as_having_no_rows_or_columns(tmp_path, what):
    read, _ = READERS[what]
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(InputError, match=f"^{what} empty.csv: has no rows or columns"):
        read(path)
