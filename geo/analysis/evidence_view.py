"""The evidence of NHS commissioning as pages and briefings show it: what a figure's basis is
in words, what each loaded source covers, and one ICB's evidence and disagreements.

`geo.analysis.evidence` joins the evidence; this module only says it, so every page and
briefing names the same basis and the same limits.
"""

from __future__ import annotations

import pandas as pd

from geo.analysis.evidence import Evidence, disagreements, evidence_table
from geo.model.evidence import (
    BASIS_EVIDENCE,
    BASIS_LIST,
    BASIS_NONE,
    CONTRACT_VALUE,
    DIAGNOSTIC_TESTS,
    DSPT_STATUS,
    PATIENTS_WAITING,
    SOURCE_LABELS,
    SOURCE_LIMITS,
)
from geo.model.text import counted

# Per measure: what the care is, its unit and the source's short name, for a sentence.
_MEASURE_SENTENCES: dict[str, tuple[str, str, str]] = {
    PATIENTS_WAITING: ("NHS-funded elective care", "patients waiting", "RTT"),
    DIAGNOSTIC_TESTS: ("NHS-funded diagnostics", "tests", "DM01"),
}


def loaded_sources(evidence: Evidence | None) -> str:
    """The evidence sources loaded with their periods ('RTT waiting times 2026-06; ...'),
    or '' when none was loaded."""
    if evidence is None:
        return ""
    parts = []
    for source in evidence.sources:
        periods = evidence.table.loc[evidence.table["source"].eq(source), "period"].dropna()
        when = "" if periods.empty else f" {periods.max()}"
        parts.append(f"{SOURCE_LABELS[source]}{when}")
    return "; ".join(parts)


def basis_words(status_basis: object, evidence: Evidence | None) -> str:
    """A figure's basis in words: 'basis: engagement list', 'basis: open data (RTT waiting
    times 2026-06; ...)', both, or 'basis: none'."""
    if status_basis is None or pd.isna(status_basis) or status_basis == BASIS_NONE:
        return f"basis: {BASIS_NONE}"
    text = str(status_basis)
    sources = loaded_sources(evidence)
    if BASIS_EVIDENCE in text and sources:
        text = text.replace(BASIS_EVIDENCE, f"{BASIS_EVIDENCE} ({sources})")
    return f"basis: {text}"


def source_limits(evidence: Evidence | None) -> list[str]:
    """One sentence per loaded source saying what it covers and what it cannot show."""
    if evidence is None:
        return []
    return [f"{SOURCE_LABELS[s]} {SOURCE_LIMITS[s]}." for s in evidence.sources]


def limits_sentence(evidence: Evidence | None, has_list: bool) -> str:
    """The basis and limits of the headline in one paragraph, for briefings and captions."""
    if evidence is None and not has_list:
        return (
            "No engagement list and no open-data evidence of NHS commissioning were loaded, "
            "so planning status rests on nothing (basis: none)."
        )
    lead = (
        f"Planning status rests on the {BASIS_LIST} where it names a site"
        if has_list
        else "Planning status rests on open-data evidence of NHS commissioning"
    )
    sources = loaded_sources(evidence)
    lead += f"; open data loaded: {sources}." if sources else "."
    return " ".join([lead, *source_limits(evidence)])


def icb_evidence(evidence: Evidence | None, icb_code: str) -> pd.DataFrame:
    """The evidence rows about an ICB: commissioning by it, or about sites in it."""
    table = evidence_table(evidence)
    mine = table["icb_code"].eq(icb_code) | table["site_icb_code"].eq(icb_code)
    return table[mine.fillna(False).astype(bool)].reset_index(drop=True)


def icb_evidence_lines(table: pd.DataFrame, icb_code: str) -> list[str]:
    """What the evidence says of NHS commissioning by an ICB, one sentence per measure:
    'NHS-funded elective care for this ICB: 1,240 patients waiting, RTT 2026-06'."""
    by_icb = table[table["icb_code"].eq(icb_code).fillna(False).astype(bool)]
    lines = []
    for measure, (what, unit, source) in _MEASURE_SENTENCES.items():
        rows = by_icb[by_icb["measure"].eq(measure)]
        if rows.empty:
            continue
        period = rows["period"].max()
        latest = rows[rows["period"].eq(period)]
        total = pd.to_numeric(latest["value"], errors="coerce").sum()
        sites = latest["site_id"].nunique()
        lines.append(
            f"{what} for this ICB: {total:,.0f} {unit}, {source} {period} "
            f"({counted(sites, 'site')})"
        )
    awards = by_icb[by_icb["measure"].eq(CONTRACT_VALUE)]
    if not awards.empty:
        value = pd.to_numeric(awards["value"], errors="coerce").sum()
        lines.append(
            f"Contract awards by this ICB to {counted(awards['site_id'].nunique(), 'site')}: "
            f"{counted(len(awards), 'award row')}, £{value:,.0f} in all"
        )
    dspt = table[table["measure"].eq(DSPT_STATUS) & table["site_icb_code"].eq(icb_code)]
    if not dspt.empty:
        sites = counted(dspt["site_id"].nunique(), "site")
        lines.append(f"DSPT status known for {sites} in this ICB")
    return lines


def icb_disagreements(analysis, icb_code: str) -> pd.DataFrame:
    """Where the engagement list and the evidence disagree about the ICB's sites."""
    table = disagreements(analysis)
    return table[table["icb_code"].eq(icb_code)].reset_index(drop=True)
