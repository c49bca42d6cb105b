"""Tests for geo/model/palette.py: one sequential scale for the app's map and the briefing."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.model.palette import NOT_KNOWN_COLOUR, SEQUENTIAL_COLOURS, class_colour


@pytest.mark.parametrize(
    ("share", "colour"),
    [
        (0.0, SEQUENTIAL_COLOURS[0]),
        (0.19, SEQUENTIAL_COLOURS[0]),
        (0.2, SEQUENTIAL_COLOURS[1]),  # a value on a break goes to the class above
        (0.77, SEQUENTIAL_COLOURS[3]),
        (1.0, SEQUENTIAL_COLOURS[4]),  # the top stays in the last class
    ],
)
def test_a_share_takes_the_colour_of_its_fifth(share, colour):
    assert class_colour(share) == colour


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_a_share_not_known_is_grey_never_a_colour_of_the_scale(missing):
    assert class_colour(missing) == NOT_KNOWN_COLOUR
    assert NOT_KNOWN_COLOUR not in SEQUENTIAL_COLOURS


def test_the_scale_is_viridis_light_for_low_shares_dark_for_high():
    assert SEQUENTIAL_COLOURS == ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
