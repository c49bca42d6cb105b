"""From frames to figures: assign sites, compute the gaps, and say where every frame came from.

`analyse` is the one constructor of an `Analysis`: the CLI (from files, `load_files`)
and the app (from the store, `geo.workspace.load_frames`) both hand it `Frames`, so a
number on screen is the number `python -m geo metrics` writes for the same data.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import engagement, flows, metrics, official_codes, population, spatial
from geo.analysis import evidence as open_evidence
from geo.fetch.catalogue import KIND_LABELS
from geo.fetch.registers import registers_for, registers_note
from geo.io import boundaries, code_history, lookups, ods_reports, readers, recognise
from geo.io.sector_rules import load_sector_rules
from geo.model import problems, providers, sector_coverage, sectors, status, trust_codes
from geo.model.evidence import (
    COMMISSIONER_SOURCES,
    CONTRACTS,
    DM01,
    DSPT,
    PLANNING_BASIS,
    RTT,
    SOURCE_LABELS,
    SOURCES,
)
from geo.model.providers import ProviderList
from geo.model.registers import Register
from geo.model.text import counted

# Where each input came from, in words, then `dataset`: what the row is, as the catalogue
# names its kinds ('sites', 'engagement', 'icb', 'sicbl', 'nhser', 'sicbl_lookup'), for
# code to select a row by; pages do not show it.
PROVENANCE_COLUMNS = ("data", "from", "publisher", "date", "version", "dataset")
ENGAGEMENT_LABEL = "Planning engagement list"
_FILE_VERSION = "local file"


@dataclass(frozen=True)
class Frames:
    """The frames one analysis is made from, already loaded, and where each came from.

    `provenance` has a row (PROVENANCE_COLUMNS) for each frame loaded; only the ICBs
    and the sites are required. `notes` are what reading them found that the analysis
    must say (sector rules that could not run, for one).
    """

    icbs: gpd.GeoDataFrame
    sites: pd.DataFrame
    provenance: pd.DataFrame
    sub_icbs: gpd.GeoDataFrame | None = None
    regions: gpd.GeoDataFrame | None = None
    lookup: pd.DataFrame | None = None
    engagement: pd.DataFrame | None = None
    notes: tuple[Note, ...] = ()
    code_history: pd.DataFrame | None = None  # ONS sub-ICB code changes (geo.io.code_history)
    populations: population.Populations | None = None  # each ICB's, for figures per head
    evidence: open_evidence.EvidenceInputs | None = None  # RTT, DM01, awards, DSPT


@dataclass(frozen=True)
class InputFiles:
    """The files one analysis is read from (the CLI's options); only boundaries and sites are required."""

    boundaries: Path
    sites: Path
    sites_format: str | None = None
    ods_report: str | None = None
    engagement: Path | None = None
    sub_icbs: Path | None = None
    regions: Path | None = None
    lookup: Path | None = None
    sector_rules: Path | None = None
    nhs_trusts: Path | None = None  # an ODS etr/ets report confirming NHS trust codes
    code_history: Path | None = None
    population: Path | None = None  # an ONS population workbook (by ICB, or by LSOA with --lookup)
    # Evidence of NHS commissioning: files named here, else (cached_evidence) the cache's.
    rtt: Path | None = None
    dm01: Path | None = None
    contracts: Path | None = None
    dspt: Path | None = None
    cached_evidence: bool = False


@dataclass(frozen=True)
class Note:
    """One sentence about an analysis, and its level (`geo.model.problems`): a WARNING
    changes what the figures mean, a NOTE says where they come from."""

    text: str
    level: str = problems.NOTE


@dataclass(frozen=True, eq=False)
class Analysis:
    """What an analysis produced: every site with its ICB, the per-ICB metrics, notes and provenance.

    Built only by `analyse`, and never changed after: the app shares one across sessions.
    """

    icbs: gpd.GeoDataFrame
    assigned: gpd.GeoDataFrame
    metrics: pd.DataFrame
    provenance: pd.DataFrame
    notes: tuple[Note, ...]
    engagement_report: pd.DataFrame | None = None
    regions: gpd.GeoDataFrame | None = None
    icb_regions: pd.DataFrame | None = None
    # The metrics table with each ICB's population and figures per head (geo.analysis.population);
    # None when no population estimates were loaded.
    per_head: pd.DataFrame | None = None
    evidence: open_evidence.Evidence | None = None  # the open-data evidence, when loaded
    # Patients waiting crossing ICB borders to independent providers (geo.analysis.flows
    # FLOW_COLUMNS); None when no RTT or DM01 rows were loaded.
    flows: pd.DataFrame | None = None

    @property
    def vintage(self) -> str:
        """The ICB boundary vintage every figure of this analysis uses."""
        return str(self.icbs["vintage"].iloc[0])

    def region_names(self) -> dict[str, str]:
        """NHS region code -> name for the regions the ICBs lie in, by name; empty without regions."""
        return dict(self._region_names)

    def sites_in(self, icb_code: str, columns: list[str]) -> pd.DataFrame:
        """The `columns` of the sites assigned to `icb_code` (none for a code with no sites),
        with their index in `assigned`: an ICB panel's rows without scanning every site."""
        rows = self._rows_by_icb.get(icb_code, np.empty(0, dtype=np.intp))
        taken = {col: self.assigned[col].array.take(rows) for col in columns}
        return pd.DataFrame(taken, index=self.assigned.index[rows], copy=False)

    # Worked out on first use and kept: an analysis never changes (the app shares one, and
    # two sessions working one out at once get the same answer).
    @functools.cached_property
    def _region_names(self) -> dict[str, str]:
        if self.icb_regions is None:
            return {}
        regions = self.icb_regions.drop_duplicates("region_code").sort_values("region_name")
        return dict(zip(regions["region_code"], regions["region_name"], strict=True))

    @functools.cached_property
    def _rows_by_icb(self) -> dict[str, np.ndarray]:
        return {
            str(code): rows
            for code, rows in self.assigned.groupby(
                "icb_code", sort=False, dropna=True
            ).indices.items()
        }


def analyse(frames: Frames, *, accept_fuzzy_above: float | None = None) -> Analysis:
    """Attach official codes, assign, engage, measure and reconcile: the one way to an Analysis."""
    icbs = frames.icbs
    vintage = str(icbs["vintage"].iloc[0])
    notes = [Note(f"ICB boundaries: {vintage} vintage, {len(icbs)} ICBs."), *frames.notes]
    counted, left_out = status.counted_sites(frames.sites)  # the one place sites are left out
    said = [status.status_sentence(left_out), trust_codes.decided_sentence(counted)]
    notes += [Note(text) for text in said if text]
    sites, lookup_notes = official_codes.attach_official_codes(
        counted, frames.lookup, vintage, frames.code_history
    )
    notes += [Note(text, level) for text, level in lookup_notes]
    notes += [Note(text, level) for text, level in sector_coverage.sector_notes(counted)]
    in_regions = spatial.icb_regions(icbs, frames.regions) if frames.regions is not None else None
    assigned = spatial.assign_sites(sites, icbs, sub_icbs=frames.sub_icbs, icb_regions=in_regions)
    found = _evidence(frames, assigned, accept_fuzzy_above)
    assigned = open_evidence.apply_evidence(assigned, found)
    if found is not None:
        notes += [Note(text) for text in open_evidence.evidence_notes(found)]
    report = None
    if frames.engagement is not None:
        assigned, report = engagement.apply_engagement(
            assigned, frames.engagement, accept_fuzzy_above=accept_fuzzy_above
        )
        notes += _engagement_notes(report)
    else:
        notes.append(_no_engagement_note(assigned, found))
    assigned[PLANNING_BASIS] = open_evidence.planning_basis(assigned["planning_status"])
    table = metrics.gap_metrics(assigned, icbs)
    mismatches = metrics.reconcile(table, assigned)
    if mismatches:
        raise AssertionError("metrics do not reconcile with the sites: " + "; ".join(mismatches))
    notes += [Note(text) for text in _assignment_notes(assigned)]
    per_head = None
    if frames.populations is not None:
        per_head = population.per_head(table, frames.populations, assigned)
        notes.append(Note(f"Figures per head of population: {frames.populations.label}."))
    regions = frames.regions
    return Analysis(
        icbs=icbs,
        assigned=assigned,
        metrics=table,
        provenance=frames.provenance,
        notes=tuple(notes),
        engagement_report=report,
        regions=regions,
        icb_regions=in_regions,
        per_head=per_head,
        evidence=found,
        flows=_flows(frames, assigned, accept_fuzzy_above),
    )


def _evidence(
    frames: Frames, assigned: pd.DataFrame, accept_names_above: float | None
) -> open_evidence.Evidence | None:
    """The frames' evidence joined to the assigned sites, or None when none was loaded."""
    if frames.evidence is None:
        return None
    geography = open_evidence.Geography(frames.icbs, frames.sub_icbs, frames.lookup)
    return open_evidence.join_evidence(
        assigned, frames.evidence, geography, accept_names_above=accept_names_above
    )


def _flows(
    frames: Frames, assigned: pd.DataFrame, accept_names_above: float | None
) -> pd.DataFrame | None:
    """The flows of patients waiting to independent providers, or None without RTT or DM01."""
    if frames.evidence is None or frames.evidence.activity is None:
        return None
    geography = open_evidence.Geography(frames.icbs, frames.sub_icbs, frames.lookup)
    return flows.icb_flows(
        assigned, frames.evidence.activity, geography, accept_names_above=accept_names_above
    )


def load_files(files: InputFiles, registers: Mapping[str, Register] | None = None) -> Frames:
    """Read the named files into Frames, each with a provenance row naming the file.

    `registers` are the voluntary-sector registers the sector rules use (None: the ones in
    the download cache); what the rules could not decide becomes the frames' notes.
    """
    rows: list[dict] = []
    icbs = _layer_file(files.boundaries, "icb", rows)
    rules = load_sector_rules(files.sector_rules) if files.sector_rules else None
    sniffed = recognise.sniff(files.sites, files.sites_format, nhs_ods_report=files.ods_report)
    registers = registers_for(sniffed, registers)
    trusts = ods_reports.read_trust_codes(files.nhs_trusts) if files.nhs_trusts else None
    listed = readers.read_sites(
        files.sites, sniffed, sector_rules=rules, registers=registers, nhs_trusts=trusts
    )
    noticed = problems.of_file(listed.problems).to_dict("records")
    rows.append(_file_row(KIND_LABELS["sites"], files.sites, "sites"))
    if files.nhs_trusts:
        rows.append(_file_row("NHS trusts (ODS)", files.nhs_trusts, "nhs_trusts"))
    if files.sector_rules:
        rows.append(_file_row("Sector rules", files.sector_rules, "sector_rules"))
    sub_icbs = _layer_file(files.sub_icbs, "sicbl", rows) if files.sub_icbs else None
    regions = _layer_file(files.regions, "nhser", rows) if files.regions else None
    lookup = lookups.load_sicbl_to_icb(files.lookup) if files.lookup else None
    if files.lookup:
        rows.append(_file_row(KIND_LABELS["sicbl_lookup"], files.lookup, "sicbl_lookup"))
    engagement_list = _engagement_file(files.engagement, rows) if files.engagement else None
    history = code_history.load_code_history(files.code_history) if files.code_history else None
    if files.code_history:
        rows.append(_file_row(KIND_LABELS["code_history"], files.code_history, "code_history"))
    given = [files.population] if files.population else []
    populations, population_note = population.populations_for(
        icbs, given, [files.lookup] if files.lookup else []
    )
    if files.population:
        rows.append(_file_row(KIND_LABELS["population"], files.population, "population"))
    evidence = _evidence_files(files, rows)
    return Frames(
        icbs=icbs,
        sites=listed.sites,
        provenance=provenance_table(rows),
        sub_icbs=sub_icbs,
        regions=regions,
        lookup=lookup,
        engagement=engagement_list,
        notes=(
            *sector_notes(listed, registers),
            *(Note(f"{files.sites.name}: {problems.sentence(p)}") for p in noticed),
            *([Note(population_note)] if population_note else []),
        ),
        code_history=history,
        populations=populations,
        evidence=evidence,
    )


def _evidence_files(files: InputFiles, rows: list[dict]) -> open_evidence.EvidenceInputs | None:
    """The evidence files named on the command line, read by the `geo.io` readers; with
    none named, the download cache's when `cached_evidence` (None when it holds none)."""
    named = {
        source: path
        for source, path in zip(
            SOURCES, (files.rtt, files.dm01, files.contracts, files.dspt), strict=True
        )
        if path is not None
    }
    if not named:
        if not files.cached_evidence:
            return None
        inputs = open_evidence.load_cached_evidence(_cached_row)
        if inputs is not None and inputs.provenance is not None:
            rows.extend(inputs.provenance.to_dict("records"))
        return inputs
    from geo.io.activity import read_dm01, read_rtt
    from geo.io.contracts import read_awards
    from geo.io.dspt import read_dspt

    readers = {RTT: read_rtt, DM01: read_dm01, CONTRACTS: read_awards, DSPT: read_dspt}
    read = {source: readers[source](path) for source, path in named.items()}
    rows.extend(_file_row(SOURCE_LABELS[s], path, s) for s, path in named.items())
    activity = [read[s] for s in (RTT, DM01) if s in read]
    return open_evidence.EvidenceInputs(
        activity=pd.concat(activity, ignore_index=True) if activity else None,
        awards=read.get(CONTRACTS),
        dspt=read.get(DSPT),
        sources=tuple(named),
    )


def _cached_row(entry) -> dict:
    """A provenance row for a cached evidence file."""
    return {
        "data": SOURCE_LABELS.get(entry.kind, entry.kind),
        "from": f"{entry.title} ({entry.source_url})",
        "publisher": entry.publisher,
        "date": entry.published or entry.retrieved_at[:10],
        "version": "cached file",
        "dataset": entry.kind,
    }


def sector_notes(
    listed: ProviderList, registers: Mapping[str, Register] | None
) -> tuple[Note, ...]:
    """The registers a provider list's sector rules used (a note), the rules that could not
    run and the near misses (warnings: they change what the sector figures mean)."""
    used = registers_note(dict(registers or {})) if "sector_rule" in listed.sites else None
    gaps = sectors.gap_sentences(listed.rules_not_run, listed.near_misses)
    return (*([Note(used)] if used else []), *(Note(text, problems.WARNING) for text in gaps))


def replace_engagement(frames: Frames, path: Path) -> Frames:
    """The same frames with the engagement list read from `path` instead, and said so."""
    rows = [row for row in frames.provenance.to_dict("records") if row["dataset"] != "engagement"]
    engagement_list = _engagement_file(path, rows)
    return dataclasses.replace(
        frames, engagement=engagement_list, provenance=provenance_table(rows)
    )


def provenance_table(rows: list[dict]) -> pd.DataFrame:
    """Provenance rows as the table an Analysis carries, columns PROVENANCE_COLUMNS."""
    return pd.DataFrame(rows, columns=list(PROVENANCE_COLUMNS))


def _layer_file(path: Path, kind: str, rows: list[dict]) -> gpd.GeoDataFrame:
    layer = boundaries.load_boundaries(path, kind=kind)
    rows.append(_file_row(f"{KIND_LABELS[kind]} {layer['vintage'].iloc[0]}", path, kind))
    return layer


def _engagement_file(path: Path, rows: list[dict]) -> pd.DataFrame:
    engagement_list = engagement.load_engagement(path)
    rows.append(_file_row(ENGAGEMENT_LABEL, path, "engagement"))
    return engagement_list


def _file_row(label: str, path: Path, dataset: str) -> dict:
    """A provenance row for a file named on the command line: its path and when it last changed."""
    changed = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return {
        "data": label,
        "from": str(path),
        "publisher": "",
        "date": changed.isoformat()[:16].replace("T", " "),
        "version": _FILE_VERSION,
        "dataset": dataset,
    }


def _no_engagement_note(
    assigned: pd.DataFrame, found: open_evidence.Evidence | None = None
) -> Note:
    iv = assigned["sector"].isin(sectors.IV_SECTORS)
    if found is not None and any(s in COMMISSIONER_SOURCES for s in found.sources):
        return Note(
            "No planning-engagement list was loaded: independent and voluntary sites' planning "
            "status rests on the open-data evidence of NHS commissioning (basis 'open data')."
        )
    if (assigned.loc[iv, "planning_status"] == providers.UNKNOWN_STATUS).all():
        return Note(
            "No planning-engagement list was loaded: every independent and voluntary site's "
            "planning status is unknown, so the shares not engaged and their ranks are not known.",
            problems.WARNING,
        )
    return Note("Planning status taken from the provider list's own column.")


def _engagement_notes(report: pd.DataFrame) -> list[Note]:
    unmatched = int((report["matched_by"] == "none").sum())
    fuzzy = report[(report["matched_by"] == "fuzzy name") & ~report["applied"].astype(bool)]
    notes = [
        Note(f"Engagement list: {counted(len(report), 'row')}, {unmatched:,} matched no provider.")
    ]
    if len(report) and not report["applied"].any():
        notes.append(
            Note(
                "The engagement list was not applied: none of its rows matches a provider of "
                "this provider list, so planning status stays as the provider list gives it.",
                problems.WARNING,
            )
        )
    conflicting = int(report["conflict"].notna().sum())
    if conflicting:
        notes.append(
            Note(
                f"{conflicting:,} engagement rows give the same sites different statuses; "
                f"{engagement.STATUS_RULE} (see the match report's conflict column).",
                problems.WARNING,
            )
        )
    if len(fuzzy):
        notes.append(
            Note(
                f"{len(fuzzy)} engagement rows only matched a provider name approximately; they "
                "were not applied (see the match report: tick them on the upload page, or "
                "--accept-fuzzy SCORE applies them).",
                problems.WARNING,
            )
        )
    return notes


def _assignment_notes(assigned: pd.DataFrame) -> list[str]:
    counts = assigned["assignment"].value_counts()
    notes = ["Sites: " + ", ".join(f"{count:,} {label}" for label, count in counts.items()) + "."]
    disagree = assigned["official_icb_agrees"].eq(False).sum()
    if disagree:
        notes.append(
            f"{counted(disagree, 'site')}' official ICB differs from the ICB their coordinates fall in; "
            "the official code is used."
        )
    return notes
