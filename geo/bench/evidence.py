"""The evidence section of `python -m geo bench`: RTT, DM01, awards and DSPT joined to CQC-shaped sites.

The sites are the benchmark's synthetic ones given the CQC columns evidence is matched by
(`Location ODS Code` for some independent sites, Companies House and charity numbers for
some providers); the evidence rows are built in the readers' shapes
(`geo.testing.evidence_rows`) with codes drawn from those sites, so a share of them match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.analysis.evidence import (
    CQC_CHARITY,
    CQC_COMPANY,
    CQC_SITE_ODS,
    EvidenceInputs,
    Geography,
    apply_evidence,
    join_evidence,
)
from geo.bench.report import Section, Target, median_time, seconds
from geo.model.evidence import CONTRACTS, DIAGNOSTIC_TESTS, DM01, DSPT, RTT
from geo.testing.evidence_rows import (
    activity_frame,
    activity_row,
    award_frame,
    award_row,
    dspt_frame,
    dspt_row,
)

SITES, QUICK_SITES = 57_000, 5_000
JOIN = Target("join", 3, "s")
_ACTIVITY_ROWS, _AWARDS, _DSPT_ROWS = 20_000, 5_000, 30_000


def evidence_section(assigned: pd.DataFrame, icbs: pd.DataFrame, *, quick: bool) -> Section:
    """Time join_evidence + apply_evidence on CQC-shaped sites (median of 3)."""
    sites = with_cqc_identifiers(assigned)
    inputs = synthetic_evidence(sites, icbs)
    section = Section(
        "evidence",
        "Evidence of NHS commissioning joined to sites",
        f"`evidence.join_evidence` and `apply_evidence`: {len(inputs.activity):,} RTT/DM01 "
        f"rows, {len(inputs.awards):,} contract awards and {len(inputs.dspt):,} DSPT rows "
        f"matched to {len(sites):,} CQC-shaped sites (ODS codes, Companies House and charity "
        "numbers, near-miss names) and their commissioners to the ICBs. Median of 3.",
        ["step", "sites", "time s (median)", "each run s", "evidence rows"],
        quick=quick,
    )
    geography = Geography(icbs)

    def run() -> tuple[pd.DataFrame, pd.DataFrame]:
        found = join_evidence(sites, inputs, geography)
        return apply_evidence(sites, found), found.table

    median, (_, table), times = median_time(run, 3)
    section.add(
        [
            "join_evidence",
            f"{len(sites):,}",
            seconds(median),
            ", ".join(f"{t:.2f}" for t in times),
            f"{len(table):,}",
        ],
        [(JOIN, median)],
    )
    return section


def with_cqc_identifiers(assigned: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """The sites with CQC's identifier columns: an IS site code on 1 in 20 independent
    sites, a company number on 1 in 3 providers, a charity number on voluntary ones."""
    rng = np.random.default_rng(seed)
    sites = assigned.reset_index(drop=True).copy()
    count = len(sites)
    independent = sites["sector"].eq("Independent").to_numpy(bool)
    coded = independent & (rng.random(count) < 0.05)
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    ods = [f"N{a}{b}{i % 100:02d}" for a, b, i in zip(
        rng.choice(letters, count), rng.choice(letters, count), range(count), strict=True
    )]  # fmt: skip
    sites[CQC_SITE_ODS] = pd.array(np.where(coded, ods, None), dtype="str")
    provider = pd.factorize(sites["provider_id"])[0]
    company = np.where(provider % 3 == 0, (provider + 100_000).astype(str), None)
    sites[CQC_COMPANY] = pd.array(company, dtype="str")
    voluntary = sites["sector"].eq("Voluntary").to_numpy(bool)
    sites[CQC_CHARITY] = pd.array(
        np.where(voluntary, (provider + 200_000).astype(str), None), dtype="str"
    )
    return sites


def synthetic_evidence(sites: pd.DataFrame, icbs: pd.DataFrame, seed: int = 12) -> EvidenceInputs:
    """RTT/DM01 rows for the sites' IS codes (and some unknown ones), awards to company and
    charity numbers and names, DSPT rows for the IS codes: the readers' shapes."""
    rng = np.random.default_rng(seed)
    codes = sites[CQC_SITE_ODS].dropna().to_numpy(dtype=object)
    parents = icbs["ods_code"].dropna().to_numpy(dtype=object) if "ods_code" in icbs else []
    parents = np.array([*parents, None])
    activity = activity_frame(*(
        activity_row(
            str(rng.choice(codes)) if rng.random() < 0.8 else f"NZZ{i % 100:02d}",
            f"{i % 90:02d}X", rng.choice(parents), float(rng.integers(1, 500)),
            source=RTT if i % 2 else DM01,
            measure="patients waiting" if i % 2 else DIAGNOSTIC_TESTS,
        )
        for i in range(_ACTIVITY_ROWS)
    ))  # fmt: skip
    companies = sites[CQC_COMPANY].dropna().unique()
    names = sites["provider_name"].dropna().unique()
    buyers = icbs["name"].to_numpy(dtype=object)
    awards = award_frame(*(
        award_row(str(rng.choice(names)) + (" UK" if i % 7 == 0 else ""),
                  scheme="GB-COH" if i % 2 else None,
                  number=str(rng.choice(companies)) if i % 2 else None,
                  buyer_name=str(rng.choice(buyers)))
        for i in range(_AWARDS)
    ))  # fmt: skip
    dspt = dspt_frame(*(dspt_row(str(rng.choice(codes)), "SITE") for _ in range(_DSPT_ROWS)))
    return EvidenceInputs(
        activity=activity, awards=awards, dspt=dspt, sources=(RTT, DM01, CONTRACTS, DSPT)
    )
