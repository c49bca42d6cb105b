"""Numbers as board papers write them: thousands separators, counts with plurals, careful
percentages; and names cut to a length a heading or table cell can hold.
"""

from __future__ import annotations

import pandas as pd

from geo.model.text import counted

NAME_LIMIT = 100  # characters of a name in a briefing's headings, sentences and tables


def shorten(text: object, limit: int = NAME_LIMIT) -> str:
    """Text on one line, cut at `limit` characters with an ellipsis: a name from a file
    (a provider, an ICB) can be any length, a heading or table cell cannot. Downloads
    of the data keep the whole name."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def format_number(value: float) -> str:
    """A whole number with thousands separators: 1213 -> '1,213'."""
    return f"{round(float(value)):,}"


def format_per_head(value: float | None) -> str:
    """A figure per 100,000 people to one decimal place: 12.345 -> '12.3'; 'not known' when missing."""
    if value is None or pd.isna(value):
        return "not known"
    return f"{float(value):,.1f}"


def format_count(count: float, noun: str) -> str:
    """A count with its noun, plural when it is not 1: '1 site', '2 sites', '1,213 sites'."""
    return counted(count, noun)


def format_percent(share: float | None) -> str:
    """A 0..1 share as a whole percentage that never says 0% or 100% when it is not exact.

    Board papers quote these figures, so 0.3% reads 'under 1%' and 99.7% reads
    'over 99%'; a missing share reads 'not known', never 'nan%'.
    """
    if share is None or pd.isna(share):
        return "not known"
    percent = float(share) * 100
    if 0 < percent < 0.5:
        return "under 1%"
    if 99.5 <= percent < 100:
        return "over 99%"
    return f"{int(percent + 0.5)}%"


def format_ordinal(number: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 4 -> '4th', 11 -> '11th', 12 -> '12th', 22 -> '22nd'."""
    if 11 <= number % 100 <= 13:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def format_capacity(capacity: float | None, sites: int) -> str:
    """A capacity figure, or 'not known' when it is missing (or zero across sites that exist)."""
    if capacity is None or pd.isna(capacity) or (capacity == 0 and sites > 0):
        return "not known"
    return format_number(capacity)
