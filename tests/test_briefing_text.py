"""Tests for geo/briefing/text.py: numbers and counts as a board paper writes them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.briefing import text as briefing_text
from geo.briefing.text import (
    format_capacity,
    format_count,
    format_number,
    format_ordinal,
    format_percent,
)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"),
        (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (42, "42nd"), (101, "101st"),
        (111, "111th"), (112, "112th"),
    ],
)  # fmt: skip
def test_ordinal_suffixes_follow_english_rules(number, expected):
    assert format_ordinal(number) == expected


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.0, "0%"), (0.001, "under 1%"), (0.0049, "under 1%"), (0.005, "1%"), (0.31, "31%"),
        (0.315, "32%"), (0.994, "99%"), (0.996, "over 99%"), (1.0, "100%"),
        (None, "not known"), (pd.NA, "not known"), (math.nan, "not known"),
    ],
)  # fmt: skip
def test_percent_never_says_zero_or_all_when_it_is_not_exact(share, expected):
    assert format_percent(share) == expected


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "site", "1 site"), (0, "site", "0 sites"), (2, "provider site", "2 provider sites"),
        (1213, "site", "1,213 sites"), (3, "facility", "3 facilities"), (1.0, "bed", "1 bed"),
    ],
)  # fmt: skip
def test_count_is_singular_only_for_one(count, noun, expected):
    assert format_count(count, noun) == expected


def test_numbers_get_thousands_separators():
    assert format_number(1234567) == "1,234,567"


def test_the_formatters_are_still_importable_from_briefing():
    assert (briefing_text.format_number, briefing_text.format_capacity) == (
        format_number,
        format_capacity,
    )


def test_a_name_is_put_on_one_line_and_cut_at_the_limit_with_an_ellipsis():
    assert briefing_text.shorten("Oak\nCare\t Homes") == "Oak Care Homes"
    assert briefing_text.shorten("x" * 150) == "x" * (briefing_text.NAME_LIMIT - 1) + "…"
    assert briefing_text.shorten("Oak Care Homes", limit=9) == "Oak Care…"
