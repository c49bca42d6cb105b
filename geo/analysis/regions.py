"""One NHS region at a glance: its figures, its ICBs side by side, its I+V sites outside NHS planning.

A regional lead works across the ICBs of a region: the region's figures are the ICBs'
sums (geo.analysis.metrics.region_rollup, shares recomputed from the sums), its ICBs
are compared on the headline share, and the sites list is the one to act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.analysis import filters, metrics, readable
from geo.model.errors import InputError

# The ICBs of a region side by side: which ICB, its share and the counts behind it.
ICB_COLUMNS: tuple[str, ...] = (
    "icb_name",
    readable.SHARE_COLUMN,
    "rank",
    "status_basis",
    "iv_sites_outside",
    "iv_sites",
    "share_not_known_reason",
    "sites_total",
    "icb_code",
)
# The region's list of independent and voluntary sites outside NHS planning, ICB by ICB.
SITE_COLUMNS: tuple[str, ...] = (
    "icb_name",
    "site_name",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "postcode",
    "planning_status",
    "planning_basis",
    "evidence_summary",
    "border_distance_m",
    "site_id",
    "icb_code",
)


@dataclass(frozen=True)
class RegionSummary:
    """What the region panel shows and what its download holds."""

    code: str
    name: str
    figures: pd.Series  # the region's row of metrics.region_rollup (METRIC_COLUMNS)
    icbs: pd.DataFrame  # its ICBs' metrics, ICB_COLUMNS, highest share first, unknown last
    outside: pd.DataFrame  # its I+V sites outside NHS planning, SITE_COLUMNS, by ICB then site
    regions_ranked: int  # how many regions have a known share, which figures["rank"] is among


def region_summary(
    gap_metrics: pd.DataFrame, icb_regions: pd.DataFrame | None, assigned: pd.DataFrame, code: str
) -> RegionSummary:
    """The region `code`'s figures, ICBs and I+V sites outside NHS planning, from the per-ICB
    metrics, the ICB-to-region lookup and the assigned sites of the same analysis."""
    members = _member_icbs(icb_regions, code)
    rollup = metrics.region_rollup(gap_metrics, icb_regions)
    figures = rollup.set_index("icb_code").loc[code]
    icbs = gap_metrics[gap_metrics["icb_code"].isin(members)]
    icbs = icbs.assign(iv_sites_outside=metrics.iv_sites_outside(icbs))
    in_region = assigned[assigned["icb_code"].isin(members).fillna(False).astype(bool)]
    sites = filters.iv_outside(in_region)
    outside = sites.sort_values(["icb_name", "site_name"], kind="stable")
    return RegionSummary(
        code=code,
        name=str(figures["icb_name"]),
        figures=figures,
        icbs=readable.by_share(icbs[list(ICB_COLUMNS)]),
        outside=outside.reindex(columns=list(SITE_COLUMNS)).reset_index(drop=True),
        regions_ranked=int(rollup["rank"].notna().sum()),
    )


def _member_icbs(icb_regions: pd.DataFrame | None, code: str) -> list[str]:
    """The ICB codes the lookup puts in region `code`; InputError when there are none."""
    if icb_regions is None:
        raise InputError("no NHS regions are loaded, so there is no region to show")
    members = icb_regions.loc[icb_regions["region_code"].astype(str) == code, "icb_code"]
    if members.empty:
        known = ", ".join(sorted(icb_regions["region_code"].astype(str).unique()))
        raise InputError(f"NHS region {code}: no ICB lies in it; the regions loaded are {known}")
    return members.astype(str).tolist()
