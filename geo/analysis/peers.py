"""Where one ICB stands among its peers on figures per head: what the ICB panel and briefing say.

`geo.analysis.population.per_head` gives every ICB's figures per 100,000 people and
`peer_ranks` ranks them; here they become, for one ICB, a few standings (value, rank among
all ICBs, rank in its region, national median) that a page or a briefing shows as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.analysis.population import peer_ranks

# The per-head measures shown first for an ICB, with the words for each.
HEADLINE_MEASURES: dict[str, str] = {
    "sites_per_100k": "provider sites per 100,000 people",
    "iv_capacity_per_100k": "independent and voluntary beds per 100,000 people",
    "care_home_beds_per_100k_65_plus": "care-home beds per 100,000 people aged 65+",
}


@dataclass(frozen=True)
class Standing:
    """One ICB's figure on one per-head measure and where it ranks (None where not known)."""

    measure: str
    label: str
    value: float | None
    rank: int | None
    of: int
    national_median: float | None
    rank_in_region: int | None = None
    of_in_region: int | None = None
    region_median: float | None = None


@dataclass(frozen=True)
class Population:
    """One ICB's population and what it rests on (its year and basis)."""

    population: float | None
    year: str
    basis: str
    not_known_reason: str | None = None


def icb_population(per_head: pd.DataFrame, icb_code: str) -> Population:
    """The ICB's population row of the per-head table, as a Population."""
    row = per_head.set_index("icb_code").loc[icb_code]
    reason = row.get("population_not_known_reason")
    return Population(
        population=_number(row["population"]),
        year=str(row["population_year"]),
        basis=str(row["population_basis"]),
        not_known_reason=None if pd.isna(reason) else str(reason),
    )


def icb_standings(
    per_head: pd.DataFrame,
    icb_code: str,
    icb_regions: pd.DataFrame | None = None,
    measures: dict[str, str] | None = None,
) -> list[Standing]:
    """The ICB's standing on each of `measures` (HEADLINE_MEASURES by default) among the ICBs
    of `per_head` (the OUTSIDE row left out), and in its region when `icb_regions` is given."""
    icbs = per_head[per_head["icb_code"].isin(_icb_codes(per_head))]
    regions = (
        None
        if icb_regions is None
        else icb_regions.set_index("icb_code")["region_code"].astype(object)
    )
    standings = []
    for measure, label in (measures or HEADLINE_MEASURES).items():
        ranks = peer_ranks(icbs, measure, regions).set_index("icb_code").loc[icb_code]
        standings.append(
            Standing(
                measure=measure,
                label=label,
                value=_number(ranks["value"]),
                rank=_whole(ranks["rank"]),
                of=int(ranks["of"]),
                national_median=_number(ranks["national_median"]),
                rank_in_region=_whole(ranks.get("rank_in_region")),
                of_in_region=_whole(ranks.get("of_in_region")),
                region_median=_number(ranks.get("region_median")),
            )
        )
    return standings


def _icb_codes(per_head: pd.DataFrame) -> pd.Series:
    """The rows that are ICBs: those with a population basis (the OUTSIDE row has none)."""
    return per_head.loc[per_head["population_basis"].notna(), "icb_code"]


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _whole(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
