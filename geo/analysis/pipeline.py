"""From files to figures: read boundaries and a provider list, assign sites, compute the gaps.

The CLI and the app both call `analyse`, so a number on screen is the number
`python -m geo metrics` writes for the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis import engagement, metrics, spatial
from geo.io import boundaries, lookups, readers, recognise
from geo.io.sector_rules import load_sector_rules
from geo.model import providers, sectors
from geo.model.errors import InputError


@dataclass(frozen=True)
class Inputs:
    """The files one analysis is made from; only boundaries and sites are required."""

    boundaries: Path
    sites: Path
    sites_format: str | None = None
    ods_report: str | None = None
    engagement: Path | None = None
    accept_fuzzy_above: float | None = None
    sub_icbs: Path | None = None
    regions: Path | None = None
    lookup: Path | None = None
    sector_rules: Path | None = None


@dataclass
class Analysis:
    """What an analysis produced: every site with its ICB, the per-ICB metrics, and notes."""

    icbs: gpd.GeoDataFrame
    assigned: gpd.GeoDataFrame
    metrics: pd.DataFrame
    engagement_report: pd.DataFrame | None = None
    regions: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)
    provenance: pd.DataFrame | None = None
    icb_regions: pd.DataFrame | None = None

    @property
    def vintage(self) -> str:
        """The ICB boundary vintage every figure of this analysis uses."""
        return str(self.icbs["vintage"].iloc[0])


def analyse(inputs: Inputs) -> Analysis:
    """Run the whole pipeline on files: read, attach official codes, assign, engage, measure."""
    icbs = boundaries.load_boundaries(inputs.boundaries, kind="icb")
    sub_icbs = _optional_layer(inputs.sub_icbs, "sicbl")
    regions = _optional_layer(inputs.regions, "nhser")
    rules = load_sector_rules(inputs.sector_rules) if inputs.sector_rules else None
    sniffed = recognise.sniff(inputs.sites, inputs.sites_format, nhs_ods_report=inputs.ods_report)
    sites = readers.read_sites(inputs.sites, sniffed, sector_rules=rules)
    lookup = lookups.load_sicbl_to_icb(inputs.lookup) if inputs.lookup else None
    engagement_list = engagement.load_engagement(inputs.engagement) if inputs.engagement else None
    return analyse_frames(
        icbs,
        sites,
        sub_icbs=sub_icbs,
        regions=regions,
        lookup=lookup,
        engagement_list=engagement_list,
        accept_fuzzy_above=inputs.accept_fuzzy_above,
    )


def analyse_frames(
    icbs: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    *,
    sub_icbs: gpd.GeoDataFrame | None = None,
    regions: gpd.GeoDataFrame | None = None,
    lookup: pd.DataFrame | None = None,
    engagement_list: pd.DataFrame | None = None,
    accept_fuzzy_above: float | None = None,
) -> Analysis:
    """Run the pipeline on frames already loaded (the app loads them once and caches them)."""
    vintage = str(icbs["vintage"].iloc[0])
    notes = [f"ICB boundaries: {vintage} vintage, {len(icbs)} ICBs."]
    sites, lookup_notes = _attach_official_codes(sites, lookup, vintage)
    notes += lookup_notes
    assigned = spatial.assign_sites(sites, icbs, sub_icbs=sub_icbs, regions=regions)
    report = None
    if engagement_list is not None:
        assigned, report = engagement.apply_engagement(
            assigned, engagement_list, accept_fuzzy_above=accept_fuzzy_above
        )
        notes += _engagement_notes(report)
    else:
        notes.append(_no_engagement_note(assigned))
    table = metrics.gap_metrics(assigned, icbs)
    problems = metrics.reconcile(table, assigned)
    if problems:
        raise AssertionError("metrics do not reconcile with the sites: " + "; ".join(problems))
    notes += _assignment_notes(assigned)
    in_regions = spatial.icb_regions(icbs, regions) if regions is not None else None
    return Analysis(icbs, assigned, table, report, regions, notes, icb_regions=in_regions)


def _optional_layer(path: Path | None, kind: str) -> gpd.GeoDataFrame | None:
    return boundaries.load_boundaries(path, kind=kind) if path else None


def _attach_official_codes(
    sites: pd.DataFrame, lookup: pd.DataFrame | None, vintage: str
) -> tuple[pd.DataFrame, list[str]]:
    """Turn publishers' sub-ICB codes into ICB codes of this vintage, saying what could not be."""
    if "official_sicbl_code" not in sites.columns or sites["official_sicbl_code"].isna().all():
        return sites, []
    if lookup is None:
        count = int(sites["official_sicbl_code"].notna().sum())
        return sites, [
            f"{count} sites carry the publisher's sub-ICB code but no sub-ICB→ICB lookup was "
            "given (--lookup), so their ICB comes from their coordinates alone."
        ]
    try:
        mapping = lookups.sicbl_to_icb_map(lookup, vintage)
    except InputError as error:
        return sites, [f"Official sub-ICB codes not used: {error}"]
    attached = providers.attach_official_icb(sites, mapping)
    notes = [
        f"Sub-ICB {code} lies in several {vintage} ICBs ({', '.join(icbs)}); its sites are "
        "placed by their coordinates."
        for code, icbs in lookups.ambiguous_sicbls(lookup, vintage).items()
        if (sites["official_sicbl_code"] == code).any()
    ]
    unmapped = attached.loc[
        attached["official_sicbl_code"].notna() & attached["official_icb_code"].isna(),
        "official_sicbl_code",
    ]
    if len(unmapped):
        codes = ", ".join(sorted(unmapped.astype(str).unique())[:10])
        notes.append(
            f"{len(unmapped)} sites have a sub-ICB code the {vintage} lookup does not map to one "
            f"ICB ({codes}); their ICB comes from their coordinates."
        )
    return attached, notes


def _no_engagement_note(assigned: pd.DataFrame) -> str:
    iv = assigned["sector"].isin(sectors.IV_SECTORS)
    if (assigned.loc[iv, "planning_status"] == providers.UNKNOWN_STATUS).all():
        return (
            "No planning-engagement list was loaded: every independent and voluntary site's "
            "planning status is unknown, so 'not engaged' figures are zero and say nothing yet."
        )
    return "Planning status taken from the provider list's own column."


def _engagement_notes(report: pd.DataFrame) -> list[str]:
    unmatched = int((report["matched_by"] == "none").sum())
    fuzzy = report[(report["matched_by"] == "fuzzy name") & ~report["applied"].astype(bool)]
    notes = [f"Engagement list: {len(report)} rows, {unmatched} matched no provider."]
    if len(fuzzy):
        notes.append(
            f"{len(fuzzy)} engagement rows only matched a provider name approximately; they were "
            "not applied (see the match report; --accept-fuzzy SCORE applies them)."
        )
    return notes


def _assignment_notes(assigned: pd.DataFrame) -> list[str]:
    counts = assigned["assignment"].value_counts()
    notes = ["Sites: " + ", ".join(f"{count:,} {label}" for label, count in counts.items()) + "."]
    disagree = assigned["official_icb_agrees"].eq(False).sum()
    if disagree:
        notes.append(
            f"{disagree} sites' official ICB differs from the ICB their coordinates fall in; "
            "the official code is used."
        )
    return notes
