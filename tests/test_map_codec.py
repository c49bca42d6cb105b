"""Tests for geo/maps/codec.py: the payload's integers survive packing, whatever their size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.maps.codec import (
    combine_digits,
    decode_optional,
    encode_optional,
    pack_bits,
    pack_varints,
    split_digits,
    unpack_bits,
    unpack_varints,
    zigzag_decode,
    zigzag_encode,
)
from geo.model.errors import InputError


def test_varints_round_trip_from_zero_to_forty_bits():
    values = np.array([0, 1, 127, 128, 16_383, 16_384, 2**21, 2**35 + 7, 2**40], dtype=np.int64)
    assert unpack_varints(pack_varints(values), len(values)).tolist() == values.tolist()


def test_small_values_take_one_byte_each():
    packed = pack_varints(np.arange(120))
    assert len(packed) == 160  # 120 bytes as base64


def test_an_empty_column_packs_to_nothing():
    assert pack_varints(np.array([], dtype=np.int64)) == ""
    assert unpack_varints("", 0).tolist() == []


def test_a_column_of_the_wrong_length_is_refused():
    with pytest.raises(InputError, match="a column holds 3 values; expected 4"):
        unpack_varints(pack_varints(np.array([1, 2, 3])), 4)


def test_zigzag_keeps_small_deltas_small_and_reverses():
    deltas = np.array([0, -1, 1, -2, 2, -70_000, 70_000])
    assert zigzag_encode(deltas).tolist() == [0, 1, 2, 3, 4, 139_999, 140_000]
    assert zigzag_decode(zigzag_encode(deltas)).tolist() == deltas.tolist()


def test_mixed_radix_digits_split_back():
    digits = {
        "a": (np.array([0, 2, 1]), 3),
        "b": (np.array([4, 0, 3]), 5),
        "c": (np.array([0, 41, 7]), 42),
    }
    combined = combine_digits(digits)
    split = split_digits(combined, [[name, radix] for name, (_, radix) in digits.items()])
    assert {name: values.tolist() for name, values in split.items()} == {
        name: values.tolist() for name, (values, _) in digits.items()
    }


def test_optional_numbers_keep_missing_apart_from_zero():
    values = np.array([0.0, np.nan, 2.5, 120.0])
    coded = encode_optional(values, 10)
    assert coded.tolist() == [1, 0, 26, 1201]
    decoded = decode_optional(coded, 10)
    assert decoded.isna().tolist() == [False, True, False, False]
    assert decoded.dropna().tolist() == [0.0, 2.5, 120.0]
    assert isinstance(decoded, pd.Series)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1213])
def test_bits_round_trip_whatever_the_count(n):
    flags = np.random.default_rng(n).random(n) < 0.3
    assert unpack_bits(pack_bits(flags), n).tolist() == flags.tolist()


def test_the_first_flag_is_the_lowest_bit_as_the_browser_reads_it():
    assert (
        pack_bits(np.array([True, False, False, False, False, False, False, False, False, True]))
        == "AQI="
    )  # bytes 0x01, 0x02


def test_bits_for_another_count_are_refused():
    with pytest.raises(InputError, match="expected 2 for 9 sites"):
        unpack_bits(pack_bits(np.ones(17, dtype=bool)), 9)
