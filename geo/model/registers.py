"""Public registers that show a provider is voluntary (VCSE), as keys a sector rule looks up.

A register is read elsewhere (`geo.io.registers`) and passed in; here is what one is,
how a value is turned into the key it is looked up by (a Companies House number, an
organisation's name), and the near misses of a name lookup, which are reported and
never applied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from geo.model.text import cell_text

# The registers a sector rule can name (`SectorRule.register`).
CHARITY_COMPANIES = "charity_companies"  # Companies House numbers of registered charities
RSH_NON_PROFIT = "rsh_non_profit"  # names of non-profit registered providers of social housing

# A name this similar (rapidfuzz ratio of the sorted words, 0-100) to a register's but not
# equal to it is a near miss: reported for a person to check, never applied.
NEAR_MISS_SCORE = 90.0


@dataclass(frozen=True)
class Register:
    """One register as loaded: its name (one of REGISTER_KINDS), key -> the entry as the
    register writes it, and where it came from in words (for notes)."""

    name: str
    entries: Mapping[str, str] = field(repr=False)
    source: str = ""

    def __contains__(self, key: object) -> bool:
        return key in self.entries


def company_number_key(value: object) -> str | None:
    """A Companies House number as Companies House writes it: upper-case, no spaces, and
    numeric ones left-padded to 8 digits ('1234567' -> '01234567'); None when blank."""
    text = cell_text(value)
    if text is None:
        return None
    number = re.sub(r"\s+", "", text).upper()
    if number in {"", "-", "N/A", "NONE", "NULL"}:
        return None
    if number.isdigit():
        return number.zfill(8)
    # A two-letter prefix with its digits cut short ('RS7843'): padded the same way. Not
    # seen in a real file [U]; numbers with a letter suffix ('IP21410R') are left as they are.
    prefixed = re.fullmatch(r"([A-Z]{2})(\d{1,5})", number)
    if prefixed:
        return prefixed.group(1) + prefixed.group(2).zfill(6)
    return number


_LEGAL_WORDS = frozenset({"the", "ltd", "limited", "plc", "llp"})


def organisation_name_key(value: object) -> str | None:
    """An organisation's name with case, accents, '&', punctuation and the words 'The',
    'Limited', 'Ltd', 'PLC' and 'LLP' evened out, so 'The Riverside Group Ltd.' and
    'Riverside Group Limited' meet; None when blank. Nothing else is dropped: a match on
    this key is exact, not approximate."""
    text = cell_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    text = re.sub(r"['’`]", "", "".join(c for c in text if not unicodedata.combining(c)))
    words = [word for word in re.sub(r"[\W_]+", " ", text).split() if word not in _LEGAL_WORDS]
    return " ".join(words) or None


@dataclass(frozen=True)
class RegisterKind:
    """What a register is, for rules and notes: its label, the key its values are looked
    up by, whether those keys are names (then near misses are reported) and how to get it."""

    label: str
    key: Callable[[object], str | None]
    by_name: bool
    how_to_get: str


REGISTER_KINDS: dict[str, RegisterKind] = {
    CHARITY_COMPANIES: RegisterKind(
        label="the Charity Commission's register of charities",
        key=company_number_key,
        by_name=False,
        how_to_get="publicextract.charity.zip",
    ),
    RSH_NON_PROFIT: RegisterKind(
        label="the Regulator of Social Housing's list of registered providers",
        key=organisation_name_key,
        by_name=True,
        how_to_get="List_of_registered_providers_*.xlsx",
    ),
}
REGISTER_NAMES: tuple[str, ...] = tuple(REGISTER_KINDS)


def register_keys(name: str, values: Iterable[object]) -> list[str | None]:
    """Each value as the key register `name` is looked up by."""
    key = REGISTER_KINDS[name].key
    return [key(value) for value in values]


def close_entries(keys: list[str], register: Register) -> list[tuple[str, float] | None]:
    """Per key not in the register, its closest entry key scoring at least NEAR_MISS_SCORE
    (words sorted, so word order does not count), or None; keys in the register get None."""
    choices = list(register.entries)
    closest: list[tuple[str, float] | None] = [None] * len(keys)
    wanted = [n for n, key in enumerate(keys) if key and key not in register]
    if not wanted or not choices:
        return closest
    sorted_choices = [_sorted_words(choice) for choice in choices]
    for start in range(0, len(wanted), 200):  # bounds the score matrix's memory
        batch = wanted[start : start + 200]
        scores = process.cdist(
            [_sorted_words(keys[n]) for n in batch],
            sorted_choices,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=NEAR_MISS_SCORE,
            dtype=np.float32,
        )
        for number, row in zip(batch, scores, strict=True):
            if len(row) and row.max() >= NEAR_MISS_SCORE:
                best = int(row.argmax())
                closest[number] = (choices[best], float(row[best]))
    return closest


def _sorted_words(key: str) -> str:
    return " ".join(sorted(key.split()))
