"""An engagement list's match report as an analyst reviews it before publishing.

Each row of the list is one kind of match: exact (by provider ID or name), approximate
(a similar name, applied only once an analyst accepts it), unmatched, or matched to sites
that are not independent or voluntary (which keep their own status). Accepted
approximate rows carry the provider name accepted (`matching.ACCEPTED_MATCH`), so the
published version applies them too.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from geo.analysis import engagement
from geo.analysis.matching import ACCEPTED_MATCH
from geo.model.errors import InputError

EXACT = "exact"
APPROXIMATE = "approximate"
UNMATCHED = "unmatched"
NOT_IV = "not independent or voluntary"
MATCH_KINDS: tuple[str, ...] = (EXACT, APPROXIMATE, UNMATCHED, NOT_IV)


def match_report(sites: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """The match report of `listed` against the sites every page uses (assigned to ICBs,
    so rows naming an ICB are matched within it), with each row's `kind`."""
    _, report = engagement.apply_engagement(sites, listed)
    return report.assign(kind=match_kinds(report))


def match_kinds(report: pd.DataFrame) -> pd.Series:
    """Each report row's kind (MATCH_KINDS): approximate and unmatched first, then exact
    matches that reach any site that is not independent or voluntary."""
    how = report["matched_by"]
    kinds = np.select(
        [how == "none", how == "fuzzy name", report["sites_not_iv"] > 0],
        [UNMATCHED, APPROXIMATE, NOT_IV],
        EXACT,
    )
    return pd.Series(kinds, index=report.index, dtype="string")


def kind_counts(report: pd.DataFrame) -> dict[str, int]:
    """How many rows of each kind, every kind named (0 where none)."""
    counts = report["kind"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in MATCH_KINDS}


def accept_matches(
    listed: pd.DataFrame, report: pd.DataFrame, rows: Collection[int]
) -> pd.DataFrame:
    """The list with the approximate matches of `rows` (spreadsheet row numbers) accepted:
    each such row's ACCEPTED_MATCH names the provider it was matched to."""
    approximate = report[report["kind"] == APPROXIMATE].set_index("row")
    wrong = sorted(set(rows) - set(approximate.index))
    if wrong:
        raise InputError(
            f"engagement list: row(s) {', '.join(map(str, wrong))} have no approximate match "
            "to accept"
        )
    names = approximate["matched_provider_name"].reindex(sorted(set(rows)))
    return listed.assign(**{ACCEPTED_MATCH: listed["row"].map(names).astype("string")})
