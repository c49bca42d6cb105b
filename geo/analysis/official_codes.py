"""Publishers' sub-ICB codes as ICBs of the chosen vintage: the lookup first, then ONS's code history.

A code the vintage's lookup holds gives its ICB (unless the sub-ICB lies in several
ICBs, as Frimley does in 2026). An older code is followed forward through the code
history (`geo.io.code_history`) to the sub-ICBs of the vintage it became: when they
all lie in one ICB the code maps cleanly; when its area went to several ICBs (Black
Country and West Birmingham CCG in July 2022) it is reported as split, never guessed.
A site whose code cannot be mapped is placed by its coordinates, and the notes say so,
code by code, with how many sites carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from geo.io import lookups
from geo.model import problems, providers
from geo.model.errors import InputError

MAPPED = "mapped"  # every successor lies in one ICB
SPLIT = "split"  # its area went to more than one ICB
UNMAPPED = "unmapped"  # no successor the lookup knows

# Added to every site: how its official ICB was found from its sub-ICB code, or why not.
SOURCE_COLUMN = "official_icb_from"
_LISTED = 10

Note = tuple[str, str]  # (text, level): pipeline.Note's fields, without importing it


@dataclass(frozen=True)
class Traced:
    """Where an old sub-ICB code ended up in one vintage, by the code history."""

    code: str
    status: str  # MAPPED, SPLIT or UNMAPPED
    successors: tuple[str, ...] = ()  # the vintage's sub-ICB codes its area went to
    icbs: tuple[str, ...] = ()  # their ICBs
    lost: tuple[str, ...] = ()  # successors the lookup does not know and the history ends at


def trace_successors(
    code: str, successors: Mapping[str, Iterable[str]], icbs_of: Mapping[str, Iterable[str]]
) -> Traced:
    """Follow `code` forward through `successors` (old → new codes) to codes `icbs_of` knows.

    A code the lookup knows ends its branch; a code with no successor that the lookup
    does not know is lost. Mapped only when nothing is lost and all lie in one ICB.
    """
    found, lost, seen = set(), set(), {code}
    waiting = list(successors.get(code, ()))
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in icbs_of:
            found.add(current)
        elif successors.get(current):
            waiting.extend(successors[current])
        else:
            lost.add(current)
    icbs = tuple(sorted({icb for sub_icb in found for icb in icbs_of[sub_icb]}))
    status = MAPPED if len(icbs) == 1 and not lost else SPLIT if len(icbs) > 1 else UNMAPPED
    return Traced(code, status, tuple(sorted(found)), icbs, tuple(sorted(lost)))


def successor_table(history: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Old code -> the codes that replaced it (all of them, for a split), from a code history."""
    grouped = history.groupby("previous_code", sort=True)["code"]
    return {previous: tuple(sorted(set(codes))) for previous, codes in grouped}


def attach_official_codes(
    sites: pd.DataFrame,
    lookup: pd.DataFrame | None,
    vintage: str,
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Note]]:
    """Fill `official_icb_code` from each site's sub-ICB code, and say what could not be.

    Sites that already carry an official ICB code keep it. The sites come back with
    SOURCE_COLUMN saying, per site, how its code was mapped or why it was not.
    """
    column = providers.SICBL_COLUMN
    if column not in sites.columns or sites[column].isna().all():
        return sites, []
    if lookup is None:
        count = int(sites[column].notna().sum())
        return sites, [
            (
                f"{_sites(count)} {'carries' if count == 1 else 'carry'} the publisher's sub-ICB code but no sub-ICB→ICB lookup "
                "was given (--lookup), so their ICB comes from their coordinates alone.",
                problems.NOTE,
            )
        ]
    try:
        icbs_of = _icbs_of(lookup, vintage)
    except InputError as error:
        return sites, [(f"Official sub-ICB codes not used: {error}", problems.NOTE)]
    codes = _codes(sites)
    unknown = sorted(set(codes.dropna()) - set(icbs_of))
    follow = successor_table(history) if history is not None else {}
    traced = {code: trace_successors(code, follow, icbs_of) for code in unknown}
    mapping = {code: icbs[0] for code, icbs in icbs_of.items() if len(icbs) == 1}
    mapping.update({code: t.icbs[0] for code, t in traced.items() if t.status == MAPPED})
    blank = _blank_official(sites)
    attached = providers.attach_official_icb(sites, mapping)
    reasons = {
        code: _reason(code, icbs_of, traced, vintage, history) for code in set(codes.dropna())
    }
    attached[SOURCE_COLUMN] = codes.map(reasons).where(blank).astype("string")
    counts = codes[blank].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return attached, _notes(counts, icbs_of, traced, vintage, history)


def _icbs_of(lookup: pd.DataFrame, vintage: str) -> dict[str, tuple[str, ...]]:
    """Each sub-ICB of the vintage and the ICB(s) it lies in (several for a split one)."""
    single = {code: (icb,) for code, icb in lookups.sicbl_to_icb_map(lookup, vintage).items()}
    several = {
        code: tuple(icbs) for code, icbs in lookups.ambiguous_sicbls(lookup, vintage).items()
    }
    return {**single, **several}


def _codes(sites: pd.DataFrame) -> pd.Series:
    codes = sites[providers.SICBL_COLUMN].astype("string").str.strip().str.upper()
    return codes.mask(codes == "")


def _blank_official(sites: pd.DataFrame) -> pd.Series:
    """Rows with no official ICB code of their own: the ones the sub-ICB code decides."""
    if "official_icb_code" not in sites.columns:
        return pd.Series(True, index=sites.index)
    given = sites["official_icb_code"].astype("string").str.strip()
    return (given.isna() | given.eq("")).fillna(True).astype(bool)


def _reason(
    code: str,
    icbs_of: Mapping[str, tuple[str, ...]],
    traced: Mapping[str, Traced],
    vintage: str,
    history: pd.DataFrame | None,
) -> str:
    """How one sub-ICB code gave an ICB, or why it did not, for the sites that carry it."""
    if code in icbs_of:
        icbs = icbs_of[code]
        if len(icbs) == 1:
            return f"sub-ICB {code} in the {vintage} lookup: ICB {icbs[0]}"
        return (
            f"sub-ICB {code} lies in several {vintage} ICBs ({', '.join(icbs)}): "
            "placed by coordinates"
        )
    found = traced[code]
    became = ", ".join(found.successors)
    if found.status == MAPPED:
        return f"old sub-ICB code {code} became {became} (ONS code history): ICB {found.icbs[0]}"
    if found.status == SPLIT:
        return (
            f"old sub-ICB code {code} was split between {vintage} ICBs {', '.join(found.icbs)} "
            "(ONS code history): placed by coordinates"
        )
    why = "no ONS code history loaded" if history is None else "not in the ONS code history"
    return f"sub-ICB code {code} is not in the {vintage} lookup ({why}): placed by coordinates"


def _notes(
    counts: pd.Series,
    icbs_of: Mapping[str, tuple[str, ...]],
    traced: Mapping[str, Traced],
    vintage: str,
    history: pd.DataFrame | None,
) -> list[Note]:
    """One note per outcome that is not plain: mapped through the history, split, unknown."""
    notes = [
        (
            f"Sub-ICB {code} lies in several {vintage} ICBs ({', '.join(icbs_of[code])}), so "
            f"the sites carrying it are placed by their coordinates: {_sites(counts[code])}.",
            problems.NOTE,
        )
        for code in counts.index
        if code in icbs_of and len(icbs_of[code]) > 1
    ]
    by_status = {status: [] for status in (MAPPED, SPLIT, UNMAPPED)}
    for code, count in counts.items():
        if code in traced:
            by_status[traced[code].status].append((code, int(count)))
    if by_status[MAPPED]:
        listed = [
            f"{code} → {', '.join(traced[code].successors)} (ICB {traced[code].icbs[0]}): "
            f"{_sites(count)}"
            for code, count in by_status[MAPPED]
        ]
        notes.append(
            (
                f"Older sub-ICB (CCG) codes mapped to {vintage} ICBs through the ONS code "
                f"history: {_listing(listed)}.",
                problems.NOTE,
            )
        )
    if by_status[SPLIT]:
        listed = [
            f"{code} (ICBs {', '.join(traced[code].icbs)}): {_sites(count)}"
            for code, count in by_status[SPLIT]
        ]
        notes.append(
            (
                f"Old sub-ICB (CCG) codes whose area was split between {vintage} ICBs, so their "
                f"sites are placed by their coordinates, not guessed: {_listing(listed)}.",
                problems.WARNING,
            )
        )
    if by_status[UNMAPPED]:
        listed = [f"{code}: {_sites(count)}" for code, count in by_status[UNMAPPED]]
        total = sum(count for _, count in by_status[UNMAPPED])
        why = (
            "and no ONS code history was loaded to follow older codes (`python -m geo fetch`, "
            "or --code-history FILE)"
            if history is None
            else "nor does the ONS code history lead to one"
        )
        notes.append(
            (
                f"{_sites(total)} {'has' if total == 1 else 'have'} a sub-ICB code the {vintage} lookup does not map to an "
                f"ICB, {why}; they are placed by their coordinates (without coordinates, "
                f"outside every ICB): {_listing(listed)}.",
                problems.WARNING,
            )
        )
    return notes


def _sites(count: int) -> str:
    return f"{count:,} site" if count == 1 else f"{count:,} sites"


def _listing(items: list[str]) -> str:
    shown = "; ".join(items[:_LISTED])
    rest = len(items) - _LISTED
    return f"{shown}; and {rest} more" if rest > 0 else shown
