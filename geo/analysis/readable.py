"""Tables as people read them: human column labels, the headline share first and sorted on.

Screens and XLSX downloads show the labels; CSV downloads keep the machine names
(`sites_local_authority`), which scripts and the command line read. Every label is
one line of COLUMN_LABELS: a new column gets its label there, and a column with no
label keeps its machine name rather than disappearing.
"""

from __future__ import annotations

import pandas as pd

from geo.model.sectors import SECTORS, sector_slug

SHARE_COLUMN = "iv_outside_share"  # the share that matters: what the map colours and ranks
# What each planning-status column counts (geo.analysis.metrics STATUS_SLUGS), in words.
_STATUS_NOUNS = {
    "engaged": "engaged (engagement list)",
    "not_engaged": "not engaged (engagement list)",
    "commissioned": "NHS-commissioned by the ICB (open data)",
    "commissioned_elsewhere": "NHS-commissioned by another ICB only (open data)",
    "no_evidence": "with no evidence of NHS commissioning (open data)",
    "unknown": "status unknown",
}

COLUMN_LABELS: dict[str, str] = {
    # per-area figures (geo.analysis.metrics)
    "icb_code": "ICB code",
    "icb_name": "ICB",
    "vintage": "Boundaries",
    "sites_total": "All sites",
    **{f"sites_{sector_slug(s)}": f"{s} sites" for s in SECTORS},
    "capacity_total": "All capacity (beds)",
    **{f"capacity_{sector_slug(s)}": f"{s} capacity (beds)" for s in SECTORS},
    "iv_sites": "I+V sites",
    **{f"iv_sites_{slug}": f"I+V sites {noun}" for slug, noun in _STATUS_NOUNS.items()},
    "iv_capacity": "I+V capacity (beds)",
    **{
        f"iv_capacity_{slug}": f"I+V capacity {noun} (beds)" for slug, noun in _STATUS_NOUNS.items()
    },
    "iv_sites_capacity_missing": "I+V sites with no bed count",
    SHARE_COLUMN: "Share of I+V capacity outside NHS planning",
    "status_basis": "Planning status rests on",
    "iv_sites_outside": "I+V sites outside NHS planning",
    "planning_basis": "This site's status rests on",
    "evidence_summary": "Evidence of NHS commissioning",
    "evidence_status": "Evidence status",
    "iv_sites_basis_list": "I+V sites whose status an engagement list gives",
    "iv_sites_basis_open_data": "I+V sites whose status open data gives",
    "iv_sites_evidence_checked": "I+V sites checked against open data",
    "iv_capacity_evidence_checked": "I+V capacity checked against open data (beds)",
    "iv_sites_evidence_outside": "I+V sites with no NHS-commissioning evidence for their ICB",
    "iv_capacity_evidence_outside": "I+V capacity with no NHS-commissioning evidence for their ICB (beds)",
    "iv_no_evidence_share": "Share of I+V capacity with no NHS-commissioning evidence",
    "share_basis": "Share measured by",
    "rank": "Rank (1 = highest share)",
    "iv_share_unknown": "Share of I+V with status unknown",
    "share_not_known_reason": "Why the share is not known",
    # population and figures per head (geo.analysis.population)
    "population": "Population",
    "population_65_plus": "Population aged 65+",
    "population_year": "Population year (mid-year estimate)",
    "population_basis": "Population from",
    "population_not_known_reason": "Why the population is not known",
    "sites_per_100k": "Sites per 100,000 people",
    **{f"sites_{sector_slug(s)}_per_100k": f"{s} sites per 100,000 people" for s in SECTORS},
    **{f"capacity_{sector_slug(s)}_per_100k": f"{s} beds per 100,000 people" for s in SECTORS},
    "iv_capacity_per_100k": "I+V beds per 100,000 people",
    "care_home_beds_per_100k_65_plus": "Care-home beds per 100,000 people aged 65+",
    "iv_capacity_outside_per_100k": "I+V beds outside NHS planning per 100,000 people",
    # sites (geo.model.providers, geo.analysis.spatial)
    "site_id": "Site ID",
    "site_name": "Site",
    "provider_id": "Provider ID",
    "provider_name": "Provider",
    "sector": "Sector",
    "service_type": "Service type",
    "capacity": "Capacity (beds)",
    "planning_status": "Planning status",
    "postcode": "Postcode",
    "lat": "Latitude",
    "lon": "Longitude",
    "official_icb_code": "Official ICB code",
    "source": "Source",
    "assignment": "How the ICB was found",
    "assignment_reason": "Why",
    "official_icb_agrees": "Official ICB agrees",
    "border_distance_m": "Distance to another ICB (m)",
    "region_code": "NHS region code",
    "region_name": "NHS region",
}
# What a reader looks for first in a table of areas: which area, its share, and why it is
# not known where it is not; the other columns follow in their own order.
LEADING_COLUMNS: tuple[str, ...] = (
    "icb_name",
    SHARE_COLUMN,
    "rank",
    "status_basis",
    "iv_sites_outside",
    "iv_sites",
    "share_not_known_reason",
)


def label(column: str) -> str:
    """The column's human label, or its own name when it has none."""
    return COLUMN_LABELS.get(column, column)


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with human column labels (unlabelled columns keep their names)."""
    return frame.rename(columns=label)


def by_share(table: pd.DataFrame) -> pd.DataFrame:
    """Areas sorted by the share not engaged, highest first, unknown shares last (then by
    name), with the leading columns first; machine names kept."""
    order = table.sort_values(
        [SHARE_COLUMN, "icb_name"], ascending=[False, True], na_position="last", kind="stable"
    )
    leading = [column for column in LEADING_COLUMNS if column in order.columns]
    rest = [column for column in order.columns if column not in leading]
    return order[leading + rest].reset_index(drop=True)
