"""Tests for geo/model/text.py: one cell's text, and what a value is for IDs and matching."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.model.text import cell_text, counted, identity_text, identity_texts

ZWSP = "\u200b"  # zero-width space
RLO = "\u202e"  # right-to-left override


@pytest.mark.parametrize(
    ("given", "identity"),
    [
        ("S0001" + ZWSP, "S0001"),
        (ZWSP + "S0001", "S0001"),
        ("S00" + RLO + "01", "S0001"),
        ("\ufeffS0001", "S0001"),  # a byte-order mark left at the start of a cell
        ("S0001\x0b", "S0001"),  # vertical tab
        ("Cafe\u0301", "Caf\u00e9"),  # e + combining acute is é (NFC)
        ("St\u00a0 Mary's", "St Mary's"),  # a no-break space and a space are one space
        (207994.0, "207994"),
    ],
)
def test_invisible_characters_and_unicode_forms_do_not_change_what_a_value_is(given, identity):
    assert identity_text(given) == identity


@pytest.mark.parametrize("given", [ZWSP, ZWSP * 3, " \u200d\u2060 ", RLO, "\x0b", "", None])
def test_a_value_of_only_invisible_characters_is_blank(given):
    assert identity_text(given) is None
    assert cell_text(given) is None


def test_the_text_shown_keeps_the_characters_the_file_gave():
    assert cell_text(" Caf\u00e9 " + RLO + "Ltd ") == "Caf\u00e9 " + RLO + "Ltd"
    assert cell_text("S0001" + ZWSP) == "S0001" + ZWSP


def test_identity_texts_of_a_column_are_typed_and_blank_where_nothing_is_left():
    given = pd.Series(["S0001", "S0001" + ZWSP, ZWSP, None], dtype=object)

    result = identity_texts(given)

    assert result.dtype == "string"
    assert result.tolist()[:2] == ["S0001", "S0001"]
    assert result.isna().tolist() == [False, False, True, True]


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (1, "site", "1 site"),
        (0, "site", "0 sites"),
        (2, "site", "2 sites"),
        (1213, "site", "1,213 sites"),
        (1, "I+V site", "1 I+V site"),
        (3, "I+V site", "3 I+V sites"),
        (2, "entry", "2 entries"),
        (2, "day", "2 days"),
        (2, "ICS", "2 ICSs"),
        (2, "match", "2 matches"),
    ],
)
def test_a_count_takes_the_singular_only_for_one(count, noun, text):
    assert counted(count, noun) == text


def test_an_irregular_plural_is_given_by_the_caller():
    assert [counted(n, "person", "people") for n in (1, 2)] == ["1 person", "2 people"]
