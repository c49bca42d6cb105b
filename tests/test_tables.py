"""Tests for geo/io/tables.py's one rule for text files: UTF-8 (with or without BOM), else
Windows-1252, else a message naming the file, for every CSV an analyst hands the app."""

from __future__ import annotations

import pytest

from geo.analysis.engagement import load_engagement
from geo.geocode.offline import load_postcode_index
from geo.io import tables
from geo.io.sector_rules import load_sector_rules
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
        assert tables.decode_text(data, "list.csv") == "Café"


def test_a_character_cut_at_the_end_of_a_partial_read_is_left_out():
    cut = "Café".encode()[:-1]

    assert tables.decode_text(cut, "list.csv", partial=True) == "Caf"
    assert tables.decode_text(cut, "list.csv") == "CafÃ"  # a whole file: Windows-1252


@pytest.mark.parametrize("what", sorted(READERS))
def test_every_reader_names_its_file_when_the_text_is_in_neither_encoding(tmp_path, what):
    read, header = READERS[what]
    path = tmp_path / "list.csv"
    path.write_bytes(header + b"," + UNDECODABLE + b"\nA,B,C,D,E\n")

    with pytest.raises(InputError, match=f"^{what} list.csv: neither UTF-8 nor Windows-1252 text"):
        read(path)


@pytest.mark.parametrize("what", ["engagement list", "sector rules file"])
def test_an_empty_file_is_named_as_having_no_rows_or_columns(tmp_path, what):
    read, _ = READERS[what]
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(InputError, match=f"^{what} empty.csv: has no rows or columns"):
        read(path)
