"""Whether a site counts: open and active, or kept for the record only (closed, dormant, merged).

Readers keep every row of a provider list and say of each whether it counts: a closed
or dormant organisation, one not yet open, or the second record of a place registered
twice is kept in the published table, flagged, and left out of every figure. The
analysis leaves them out in one place (`counted_sites`), so metrics, maps, the explorer
and briefings all count the same sites.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo.model import problems

OPEN = "open"
CLOSED = "closed"
DORMANT = "dormant"
PROPOSED = "proposed"
MERGED = "merged"  # a dual registration counted under its primary record
STATUSES: tuple[str, ...] = (OPEN, CLOSED, DORMANT, PROPOSED, MERGED)
# The problem kind that puts a row in each status other than open, worst first: a
# closed organisation's dual registration is still closed.
_KIND_STATUS: dict[str, str] = {
    problems.CLOSED: CLOSED,
    problems.DORMANT: DORMANT,
    problems.PROPOSED: PROPOSED,
    problems.DUAL_REGISTRATION: MERGED,
}

# The columns every reader adds after the canonical ones: `counted` (False: kept for the
# record, left out of every figure), `status` (one of STATUSES) and `status_reason`.
COUNTED = "counted"
STATUS = "status"
STATUS_REASON = "status_reason"
STATUS_COLUMNS: tuple[str, ...] = (COUNTED, STATUS, STATUS_REASON)


def with_status(sites: pd.DataFrame, found: pd.DataFrame, *, after: str) -> pd.DataFrame:
    """`sites` with STATUS_COLUMNS inserted after column `after`, from the problems that
    discount a row (closed, dormant, proposed, merged; the first one found decides).

    A publisher's own column of the same name is kept as 'raw_<name>'.
    """
    status = pd.Series(OPEN, index=sites.index, dtype="string")
    reason = pd.Series(pd.NA, index=sites.index, dtype="string")
    discounting = found[found["kind"].isin(_KIND_STATUS) & found["row"].isin(sites.index)]
    order = discounting["kind"].map(list(_KIND_STATUS).index)
    first = discounting.assign(order=order).sort_values("order", kind="stable")
    first = first.drop_duplicates("row").drop(columns="order")
    status[first["row"]] = first["kind"].map(_KIND_STATUS).to_numpy()
    reason[first["row"]] = [problems.sentence(record) for record in first.to_dict("records")]
    table = sites.rename(columns={name: f"raw_{name}" for name in STATUS_COLUMNS})
    at = table.columns.get_loc(after) + 1
    table.insert(at, COUNTED, (status == OPEN).astype("boolean"))
    table.insert(at + 1, STATUS, status)
    table.insert(at + 2, STATUS_REASON, reason)
    return table


def counted_mask(sites: pd.DataFrame) -> pd.Series:
    """Which sites count in figures: all of them when the table has no `counted` column
    (a list published before sites were flagged)."""
    if COUNTED not in sites.columns:
        return pd.Series(True, index=sites.index)
    return sites[COUNTED].astype("boolean").fillna(True).astype(bool)


def counted_sites(sites: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The sites that count, and how many were left out, by status (none: empty)."""
    keep = counted_mask(sites)
    left_out = sites.loc[~keep, STATUS] if STATUS in sites.columns else pd.Series(dtype="string")
    counts = left_out.fillna("not counted").value_counts()
    return sites[keep], {str(status): int(count) for status, count in counts.items()}


def status_sentence(left_out: dict[str, int]) -> str | None:
    """What was left out, in words: '3 sites are kept but not counted: 2 closed, 1 merged …'."""
    total = sum(left_out.values())
    if not total:
        return None
    parts = _status_parts(left_out.items())
    sites = "site is" if total == 1 else "sites are"
    return (
        f"{total:,} {sites} kept in the table but not counted in any figure, chart, map or "
        f"briefing: {', '.join(parts)}."
    )


def _status_parts(counts: Iterable[tuple[str, int]]) -> list[str]:
    ordered = sorted(
        counts, key=lambda item: STATUSES.index(item[0]) if item[0] in STATUSES else 99
    )
    return [
        f"{count:,} dual registration{'' if count == 1 else 's'} merged into the primary record"
        if status == MERGED
        else f"{count:,} {status}"
        for status, count in ordered
    ]
