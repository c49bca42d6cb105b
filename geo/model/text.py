"""The text of one cell, and free-text labels matched whatever their case and punctuation.

Every reader and rule sees a cell the same way: trimmed, None when blank, and Excel's
whole floats (207994.0) without their '.0'. A cell holding only invisible characters
(a zero-width space, a right-to-left mark) is blank too.

What a value *is* (an ID, a code, a key to match or find duplicates by) is its
`identity_text`: Unicode NFC, invisible format and control characters removed, runs of
whitespace as one space. `S0001` and `S0001` followed by a zero-width space are the
same site. Text shown to people keeps the characters as the file gave them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd


def name_key(name: object) -> str:
    """A column or sheet name with case, spaces and punctuation ignored."""
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def cell_text(value: object) -> str | None:
    """A cell as trimmed text, None when blank (or only invisible characters); whole floats
    (Excel's 207994.0) lose '.0'."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.isprintable():  # nearly every cell: nothing invisible to look for
        return text or None
    return text if _identity(text) else None


# Unicode categories that never show: controls (tab, vertical tab, NUL…) and format
# characters (zero-width space and joiners, bidi marks and overrides, soft hyphen, BOM).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})


def identity_text(value: object) -> str | None:
    """What a value is, for IDs, codes, matching and duplicates: NFC, invisible characters
    removed, whitespace runs as one space, trimmed; None when nothing visible is left."""
    text = cell_text(value)
    return None if text is None else _identity(text)


def _identity(text: str) -> str | None:
    if not text.isprintable():
        text = "".join(_visible(char) for char in text)
    return " ".join(unicodedata.normalize("NFC", text).split()) or None


def _visible(char: str) -> str:
    if char.isspace():
        return " "
    return "" if unicodedata.category(char) in _INVISIBLE_CATEGORIES else char


def identity_texts(values: pd.Series) -> pd.Series:
    """A column of `identity_text`s (computed once per distinct value), NA where nothing is left."""
    return pd.Series(map_distinct(values, identity_text), index=values.index, dtype="string")


def map_distinct(values: pd.Series, func: Callable[[object], object]) -> np.ndarray:
    """`func` applied once per distinct cell (None for blanks), spread back over the rows."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=None))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:] = [*(func(value) for value in uniques), func(None)]
    return mapped[codes]


def trimmed_text(values: pd.Series) -> pd.Series:
    """A column as trimmed text with NA for blanks; whole floats lose their '.0'."""
    return pd.Series(map_distinct(values, cell_text), index=values.index, dtype="string")


def label_key(label: object) -> str:
    """A label with case, '&' and punctuation evened out: 'Not-Engaged ' -> 'not engaged'."""
    text = (cell_text(label) or "").casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def lookup_labels(
    values: pd.Series, key: Callable[[object], str], labels: dict[str, str], default: str
) -> tuple[pd.Series, pd.Series]:
    """Labels looked up once per distinct value: the result, and which cells were known."""
    found = map_distinct(values, lambda value: labels.get(key(value)))
    known = pd.Series(found != None, index=values.index)  # noqa: E711 (elementwise)
    result = pd.Series(found, index=values.index, dtype="string").fillna(default)
    return result, known


def unrecognised_labels(
    values: pd.Series, key: Callable[[object], str], labels: dict[str, str]
) -> list[str]:
    """The distinct non-blank cells whose `key` is not among `labels`, sorted, for a warning."""
    distinct = {cell_text(value) for value in values.unique()} - {None}
    return sorted(value for value in distinct if key(value) not in labels)


def counted(count: float, noun: str, plural: str | None = None) -> str:
    """A count with its noun, plural unless it is 1: '1 site', '2 sites', '1,213 sites',
    '3 entries'; `plural` for a word the rule gets wrong ('1 person', '2 people')."""
    number = round(float(count))
    return f"{number:,} {noun if number == 1 else (plural or plural_of(noun))}"


def plural_of(noun: str) -> str:
    """The plural of a noun phrase's last word: 'site' -> 'sites', 'entry' -> 'entries',
    'I+V site' -> 'I+V sites'."""
    head, _, last = noun.rpartition(" ")
    consonant_y = last.endswith("y") and last[-2:-1] not in tuple("aeiou")
    word = (
        last[:-1] + "ies"
        if consonant_y
        else last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s")
    )
    return f"{head} {word}" if head else word
