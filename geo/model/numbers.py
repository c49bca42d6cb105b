"""Numbers read from outside (a file's cell, a shared link, a postcode file): finite and plausible, or absent.

One rule for every number the app takes from someone else. Text that is no number,
`nan`, `inf` and `1e999` (which overflows to infinity), and numbers outside the range
the quantity can plausibly take, are treated as absent; the caller is told which, so
it can say so. A number that got in anyway would make totals infinite, maps blank
and links unusable.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo.model.text import map_distinct, trimmed_text


class Plausible(NamedTuple):
    """The range [low, high] a quantity's values can plausibly take."""

    low: float = -math.inf
    high: float = math.inf


ANY = Plausible()  # any finite number


class ReadNumbers(NamedTuple):
    """Numbers read from a column: the usable ones (Float64, absent where not), and masks
    of the non-blank cells that were no finite number and that were out of range."""

    numbers: pd.Series
    not_a_number: pd.Series
    too_low: pd.Series
    too_high: pd.Series


def read_number(value: object, plausible: Plausible = ANY) -> float | None:
    """A single number from outside (a URL parameter, a setting) if it is a finite
    number within `plausible`; else None, to be treated as absent."""
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number) or not plausible.low <= number <= plausible.high:
        return None
    return number


def read_numbers(values: pd.Series, plausible: Plausible = ANY) -> ReadNumbers:
    """A column of numbers from outside, by the rule of `read_number`: text trimmed and
    thousands commas ('1,234') allowed; blank cells are absent without being bad."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        number = values.astype("Float64")
        blank = number.isna()
    else:
        text = trimmed_text(values)
        blank = text.isna()
        cleaned = map_distinct(text, _without_thousands_commas)
        number = pd.to_numeric(pd.Series(cleaned, index=text.index), errors="coerce")
        number = number.astype("Float64")
    finite = pd.Series(
        np.isfinite(number.to_numpy(dtype=float, na_value=np.nan)), index=number.index
    )
    not_a_number = ~blank & ~finite
    too_low = finite & (number < plausible.low).fillna(False).astype(bool)
    too_high = finite & (number > plausible.high).fillna(False).astype(bool)
    usable = finite & ~too_low & ~too_high
    return ReadNumbers(
        number.where(usable), not_a_number.astype(bool), too_low.astype(bool), too_high.astype(bool)
    )


def _without_thousands_commas(value: str | None) -> str | None:
    return None if value is None else re.sub(r"(?<=\d),(?=\d{3}\b)", "", value)
