"""Per-ICB gap metrics: sites and capacity by sector, and the I+V share outside ICS planning."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo.analysis.evidence import planning_basis
from geo.model.errors import InputError
from geo.model.evidence import (
    BASIS_EVIDENCE,
    BASIS_LIST,
    BASIS_NONE,
    COMMISSIONED,
    COMMISSIONED_ELSEWHERE,
    EVIDENCE_STATUS,
    NO_EVIDENCE,
    NOT_CHECKED,
    OUTSIDE_STATUSES,
    PLANNING_BASIS,
    PLANNING_STATUSES,
)
from geo.model.providers import ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS
from geo.model.sectors import IV_SECTORS, SECTORS, sector_slug
from geo.model.text import counted
from geo.model.vocabulary import ENGLAND_CODE, ENGLAND_NAME, OUTSIDE_CODE, OUTSIDE_NAME

_STATUS_SLUGS: dict[str, str] = {
    ENGAGED: "engaged",
    NOT_ENGAGED: "not_engaged",
    COMMISSIONED: "commissioned",
    COMMISSIONED_ELSEWHERE: "commissioned_elsewhere",
    NO_EVIDENCE: "no_evidence",
    UNKNOWN_STATUS: "unknown",
}
STATUS_SLUGS: tuple[str, ...] = tuple(_STATUS_SLUGS.values())  # iv_sites_{slug} columns
# The slugs of the statuses outside NHS planning: iv_sites_{slug} of these add up to the
# I+V sites outside, iv_capacity_{slug} to their capacity.
OUTSIDE_SLUGS: tuple[str, ...] = tuple(_STATUS_SLUGS[status] for status in OUTSIDE_STATUSES)
OUTSIDE_SITE_COLUMNS: tuple[str, ...] = tuple(f"iv_sites_{slug}" for slug in OUTSIDE_SLUGS)


def iv_sites_outside(figures: pd.DataFrame | pd.Series) -> pd.Series | int:
    """I+V sites outside NHS planning (every OUTSIDE status): per row of a metrics table, or
    for one metrics row."""
    if isinstance(figures, pd.DataFrame):
        return figures[list(OUTSIDE_SITE_COLUMNS)].sum(axis=1)
    return int(figures[list(OUTSIDE_SITE_COLUMNS)].sum())


# What an ICB's statuses rest on (status_basis), from how many of its I+V sites each basis decided.
BOTH_BASES = f"{BASIS_LIST} and {BASIS_EVIDENCE}"
# From the evidence alone, whatever a list says: I+V sites and capacity whose evidence could be
# checked, and of them those with no evidence of NHS commissioning by their own ICB.
EVIDENCE_SUM_COLUMNS: tuple[str, ...] = (
    "iv_sites_basis_list",
    "iv_sites_basis_open_data",
    "iv_sites_evidence_checked",
    "iv_capacity_evidence_checked",
    "iv_sites_evidence_outside",
    "iv_capacity_evidence_outside",
)
# Additive columns: a rollup is the sum of its rows, and reconcile() checks them against the input.
COUNT_COLUMNS: tuple[str, ...] = (
    "sites_total",
    *(f"sites_{sector_slug(sector)}" for sector in SECTORS),
)
CAPACITY_COLUMNS: tuple[str, ...] = (
    "capacity_total",
    *(f"capacity_{sector_slug(sector)}" for sector in SECTORS),
)
IV_COUNT_COLUMNS: tuple[str, ...] = (
    "iv_sites",
    *(f"iv_sites_{slug}" for slug in _STATUS_SLUGS.values()),
)
IV_CAPACITY_COLUMNS: tuple[str, ...] = (
    "iv_capacity",
    *(f"iv_capacity_{slug}" for slug in _STATUS_SLUGS.values()),
)
SUM_COLUMNS: tuple[str, ...] = (
    *COUNT_COLUMNS,
    *CAPACITY_COLUMNS,
    *IV_COUNT_COLUMNS,
    *IV_CAPACITY_COLUMNS,
    "iv_sites_capacity_missing",
    *EVIDENCE_SUM_COLUMNS,
)
# iv_share_unknown and share_not_known_reason come last so the columns before them keep the
# order the pages were built on.
METRIC_COLUMNS: tuple[str, ...] = (
    "icb_code",
    "icb_name",
    "vintage",
    *(c for c in SUM_COLUMNS if c not in EVIDENCE_SUM_COLUMNS),
    "iv_outside_share",
    "share_basis",
    "rank",
    "iv_share_unknown",
    "share_not_known_reason",
    "status_basis",
    *EVIDENCE_SUM_COLUMNS,
    "iv_no_evidence_share",
)

# iv_outside_share, the headline: the I+V capacity (beds, else sites) OUTSIDE NHS planning
# (OUTSIDE_STATUSES: not engaged by a list, or with no evidence of NHS commissioning by its own
# ICB) over the I+V capacity whose status is known. iv_no_evidence_share is the same from the
# evidence alone, shown beside a list's figures.
# When the outside share (and so its rank) is known: only where the planning status of at
# most this share of the I+V capacity it measures (beds; sites where no I+V bed count is known,
# as share_basis says) is unknown. Beyond it the figure would describe only the few providers an
# engagement list happens to name, so the share is NA and share_not_known_reason says why.
# Every figure shown (maps, panels, tables, CSV, briefings) follows this one rule.
MAX_UNKNOWN_SHARE = 0.5
# The reasons, as share_not_known_reason holds them (NA where the share is known).
NO_IV_SITES = "no independent or voluntary sites"
NO_STATUS_KNOWN = (
    "no planning status known: no engagement list covers these sites and no evidence of "
    "NHS commissioning was loaded"
)
MOSTLY_UNKNOWN = f"planning status unknown for more than {MAX_UNKNOWN_SHARE:.0%} of I+V capacity"
_INTEGER_COLUMNS = frozenset(
    (
        *COUNT_COLUMNS,
        *IV_COUNT_COLUMNS,
        "iv_sites_capacity_missing",
        *(c for c in EVIDENCE_SUM_COLUMNS if c.startswith("iv_sites")),
    )
)


def gap_metrics(assigned: pd.DataFrame, icbs: pd.DataFrame) -> pd.DataFrame:
    """One row per ICB of the layer, plus one for sites with no ICB, so nothing goes uncounted.

    Capacity sums ignore unknown (NA) capacity; iv_sites_capacity_missing says how many
    independent and voluntary sites that left out. Rows are sorted by code, OUTSIDE last.
    """
    codes, names, vintage = _layer_codes(icbs)
    sites = _site_table(assigned, codes)
    table = _sums(sites, [*codes, OUTSIDE_CODE])
    table.insert(0, "icb_code", _text([*codes, OUTSIDE_CODE]))
    table.insert(1, "icb_name", _text([*names, OUTSIDE_NAME]))
    table.insert(2, "vintage", _text([vintage] * len(table)))
    table = _with_shares(table)
    table["rank"] = _rank(table["iv_outside_share"], table["icb_code"].ne(OUTSIDE_CODE))
    return table[list(METRIC_COLUMNS)]


def national_rollup(metrics: pd.DataFrame) -> pd.DataFrame:
    """England as one row summed over the real ICB rows (callers add OUTSIDE if they want it)."""
    _require(metrics, "metrics", METRIC_COLUMNS)
    rows = metrics[metrics["icb_code"].ne(OUTSIDE_CODE)]
    totals = pd.DataFrame([rows[list(SUM_COLUMNS)].sum()]).astype(_sum_dtypes())
    totals.insert(0, "icb_code", _text([ENGLAND_CODE]))
    totals.insert(1, "icb_name", _text([ENGLAND_NAME]))
    totals.insert(2, "vintage", _text([_one_vintage(metrics)]))
    table = _with_shares(totals)
    table["rank"] = pd.array([pd.NA], dtype="Int64")
    return table[list(METRIC_COLUMNS)]


def region_rollup(metrics: pd.DataFrame, icb_regions: pd.DataFrame) -> pd.DataFrame:
    """One row per NHS region, summed over its ICBs; shares recomputed from the sums, not averaged.

    The region's code and name go in icb_code and icb_name so pages render one table shape.
    """
    _require(metrics, "metrics", METRIC_COLUMNS)
    _require(icb_regions, "ICB-to-region lookup", ("icb_code", "region_code", "region_name"))
    rows = metrics[metrics["icb_code"].ne(OUTSIDE_CODE)]
    lookup = icb_regions.drop_duplicates("icb_code").set_index("icb_code")
    region_code = rows["icb_code"].map(lookup["region_code"])
    unplaced = rows["icb_code"][region_code.isna()]
    if len(unplaced):
        raise InputError(
            f"ICB-to-region lookup: no region for {counted(len(unplaced), 'ICB')}: {', '.join(unplaced)}"
        )
    keys = [region_code, rows["icb_code"].map(lookup["region_name"])]
    summed = rows[list(SUM_COLUMNS)].groupby(keys, sort=True).sum().astype(_sum_dtypes())
    table = summed.reset_index(names=["icb_code", "icb_name"])
    table["icb_code"], table["icb_name"] = _text(table["icb_code"]), _text(table["icb_name"])
    table.insert(2, "vintage", _text([_one_vintage(metrics)] * len(table)))
    table = _with_shares(table)
    table["rank"] = _rank(table["iv_outside_share"], pd.Series(True, index=table.index))
    return table[list(METRIC_COLUMNS)]


def reconcile(metrics: pd.DataFrame, assigned: pd.DataFrame) -> list[str]:
    """What does not add up between the metrics rows and the sites they came from (empty: all)."""
    _require(metrics, "metrics", METRIC_COLUMNS)
    sites = _site_table(assigned, None)
    expected = _input_totals(sites)
    problems = []
    for column, want in expected.items():
        got = metrics[column].sum()
        if not _same(got, want):
            problems.append(
                f"{column}: metrics rows sum to {_number(got)}, the sites add up to {_number(want)}"
            )
    problems.extend(_row_problems(metrics))
    return problems


# --- inputs -----------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, label: str, columns) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}")


def _text(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(list(values), dtype=object), dtype="str")


def _layer_codes(icbs: pd.DataFrame) -> tuple[list[str], list[str], str | None]:
    """The layer's ICB codes (sorted) and names, and its one vintage."""
    _require(icbs, "ICB boundaries", ("code", "name"))
    layer = icbs.sort_values("code")
    codes = [str(code) for code in layer["code"]]
    doubled = sorted({code for code in codes if codes.count(code) > 1})
    if doubled:
        raise InputError(
            f"ICB boundaries: column code has {counted(len(doubled), 'duplicate code')}: {', '.join(doubled)}"
        )
    vintages = sorted(layer["vintage"].dropna().astype(str).unique()) if "vintage" in layer else []
    if len(vintages) > 1:
        raise InputError(f"ICB boundaries: mixes vintages {', '.join(vintages)}; pass one")
    names = [str(name) for name in layer["name"]]
    return codes, names, (vintages[0] if vintages else None)


def _bad_values(values: pd.Series, allowed: tuple[str, ...]) -> list[str]:
    bad = values[~values.isin(allowed)]
    return sorted({"NA" if pd.isna(value) else repr(value) for value in bad})


def _site_table(assigned: pd.DataFrame, codes: list[str] | None) -> pd.DataFrame:
    """The four columns the metrics need, checked: ICB (OUTSIDE if none), sector, capacity, status."""
    _require(assigned, "assigned sites", ("icb_code", "sector", "capacity", "planning_status"))
    for column, allowed in (("sector", SECTORS), ("planning_status", PLANNING_STATUSES)):
        bad = _bad_values(assigned[column], allowed)
        if bad:
            raise InputError(
                f"assigned sites: column {column} has values outside {', '.join(allowed)}: "
                f"{', '.join(bad[:5])}"
            )
    capacity = pd.to_numeric(assigned["capacity"], errors="coerce").astype("Float64")
    unreadable = capacity.isna() & assigned["capacity"].notna()
    if unreadable.any() or (capacity < 0).any():
        rows = list(assigned.index[(unreadable | capacity.lt(0).fillna(False)).to_numpy()][:5])
        raise InputError(
            f"assigned sites: column capacity needs numbers of 0 or more (or blank), rows {rows}"
        )
    icb = assigned["icb_code"].astype("str")
    if codes is not None:
        unknown = sorted(set(icb.dropna()) - set(codes))
        if unknown:
            raise InputError(
                f"assigned sites: {len(unknown)} icb_code values are not in the ICB layer: "
                f"{', '.join(unknown[:5])} (assign with the same boundary vintage)"
            )
    basis = (
        assigned[PLANNING_BASIS]
        if PLANNING_BASIS in assigned
        else planning_basis(assigned["planning_status"])
    )
    evidence = (
        assigned[EVIDENCE_STATUS]
        if EVIDENCE_STATUS in assigned
        else pd.Series(NOT_CHECKED, assigned.index)
    )
    return pd.DataFrame(
        {
            "icb": icb.fillna(OUTSIDE_CODE).to_numpy(dtype=object),
            "sector": assigned["sector"].to_numpy(dtype=object),
            "capacity": capacity.to_numpy(dtype=float, na_value=np.nan),
            "status": assigned["planning_status"].to_numpy(dtype=object),
            "basis": basis.to_numpy(dtype=object),
            "evidence": evidence.fillna(NOT_CHECKED).to_numpy(dtype=object),
        }
    )


# --- sums and shares --------------------------------------------------------------------------


def _sum_dtypes() -> dict[str, str]:
    return {c: "Int64" if c in _INTEGER_COLUMNS else "Float64" for c in SUM_COLUMNS}


def _measures(sites: pd.DataFrame) -> pd.DataFrame:
    """One 0/1 (count) or capacity (sum) column per metric, per site, ready to be summed."""
    capacity = np.nan_to_num(sites["capacity"].to_numpy(), nan=0.0)
    iv = sites["sector"].isin(IV_SECTORS).to_numpy()
    columns = {"sites_total": np.ones(len(sites), dtype=np.int64), "capacity_total": capacity}
    for sector in SECTORS:
        is_sector = (sites["sector"] == sector).to_numpy()
        columns[f"sites_{sector_slug(sector)}"] = is_sector.astype(np.int64)
        columns[f"capacity_{sector_slug(sector)}"] = np.where(is_sector, capacity, 0.0)
    columns["iv_sites"] = iv.astype(np.int64)
    columns["iv_capacity"] = np.where(iv, capacity, 0.0)
    for status, slug in _STATUS_SLUGS.items():
        chosen = iv & (sites["status"] == status).to_numpy()
        columns[f"iv_sites_{slug}"] = chosen.astype(np.int64)
        columns[f"iv_capacity_{slug}"] = np.where(chosen, capacity, 0.0)
    columns["iv_sites_capacity_missing"] = (iv & np.isnan(sites["capacity"])).astype(np.int64)
    for name, part in _evidence_parts(sites).items():
        columns[f"iv_sites_{name}"] = (iv & part).astype(np.int64)
        if f"iv_capacity_{name}" in EVIDENCE_SUM_COLUMNS:
            columns[f"iv_capacity_{name}"] = np.where(iv & part, capacity, 0.0)
    return pd.DataFrame(columns)[list(SUM_COLUMNS)]


def _evidence_parts(sites: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per site: decided by a list, by open data; evidence checked; evidence says outside."""
    evidence = sites["evidence"]
    return {
        "basis_list": (sites["basis"] == BASIS_LIST).to_numpy(bool),
        "basis_open_data": (sites["basis"] == BASIS_EVIDENCE).to_numpy(bool),
        "evidence_checked": (evidence != NOT_CHECKED).to_numpy(bool),
        "evidence_outside": evidence.isin((COMMISSIONED_ELSEWHERE, NO_EVIDENCE)).to_numpy(bool),
    }


def _sums(sites: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The metric sums per key, in key order, zeros for keys with no sites."""
    key = pd.Categorical(sites["icb"], categories=keys)
    summed = _measures(sites).groupby(key, observed=False).sum()
    return summed.reindex(keys, fill_value=0).reset_index(drop=True).astype(_sum_dtypes())


def _with_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Add the not-engaged and unknown shares of I+V capacity, or of sites where capacity is 0.

    The not-engaged share is NA, with share_not_known_reason, where MAX_UNKNOWN_SHARE says
    it is not known.
    """
    capacity = table["iv_capacity"].to_numpy(dtype=float, na_value=0.0)
    count = table["iv_sites"].to_numpy(dtype=float, na_value=0.0)
    by_capacity, by_sites = capacity > 0, (capacity <= 0) & (count > 0)
    basis = np.select([by_capacity, by_sites], ["capacity", "sites"], "none")
    unknown = _share(table, "unknown", by_capacity, by_sites)
    reasons = _share_not_known_reasons(table, unknown)
    outside_slugs = [_STATUS_SLUGS[status] for status in OUTSIDE_STATUSES]
    known_slugs = [slug for slug in _STATUS_SLUGS.values() if slug != "unknown"]
    outside = _part_share(table, outside_slugs, known_slugs, by_capacity, by_sites)
    known = pd.isna(reasons)
    table["iv_outside_share"] = pd.array(np.where(known, outside, np.nan), dtype="Float64")
    table["share_basis"] = _text(basis)
    table["iv_share_unknown"] = unknown
    table["share_not_known_reason"] = reasons
    table["status_basis"] = _status_basis(table)
    no_evidence = _part_share(
        table, ["evidence_outside"], ["evidence_checked"], by_capacity, by_sites
    )
    table["iv_no_evidence_share"] = pd.array(no_evidence, dtype="Float64")
    return table


def _part_share(table: pd.DataFrame, parts: list[str], whole: list[str], by_capacity, by_sites):
    """The share the `parts` slugs make of the `whole` slugs, on capacity or sites as share_basis
    says; NaN where the whole is empty."""

    def summed(kind: str, slugs: list[str]) -> np.ndarray:
        columns = [table[f"iv_{kind}_{slug}"].to_numpy(dtype=float, na_value=0.0) for slug in slugs]
        return np.sum(columns, axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):
        capacity = summed("capacity", parts) / summed("capacity", whole)
        sites = summed("sites", parts) / summed("sites", whole)
    share = np.where(by_capacity, capacity, np.where(by_sites, sites, np.nan))
    return np.where(np.isfinite(share), share, np.nan)


def _status_basis(table: pd.DataFrame) -> pd.api.extensions.ExtensionArray:
    """Which basis each row's statuses rest on: the list, open data, both, or none."""
    by_list = table["iv_sites_basis_list"].to_numpy(dtype=float, na_value=0.0) > 0
    by_data = table["iv_sites_basis_open_data"].to_numpy(dtype=float, na_value=0.0) > 0
    return _text(
        np.select(
            [by_list & by_data, by_list, by_data],
            [BOTH_BASES, BASIS_LIST, BASIS_EVIDENCE],
            BASIS_NONE,
        )
    )


def _share_not_known_reasons(
    table: pd.DataFrame, unknown_share: pd.api.extensions.ExtensionArray
) -> pd.api.extensions.ExtensionArray:
    """Why each row's not-engaged share is not known (MAX_UNKNOWN_SHARE), NA where it is."""
    iv_sites = table["iv_sites"].to_numpy(dtype=float, na_value=0.0)
    unknown_sites = table["iv_sites_unknown"].to_numpy(dtype=float, na_value=0.0)
    unknown = unknown_share.to_numpy(dtype=float, na_value=np.nan)
    reasons = np.select(
        [iv_sites == 0, unknown_sites >= iv_sites, unknown > MAX_UNKNOWN_SHARE],
        [NO_IV_SITES, NO_STATUS_KNOWN, MOSTLY_UNKNOWN],
        "",
    )
    return _text(np.where(reasons == "", None, reasons))


def _share(
    table: pd.DataFrame, slug: str, by_capacity, by_sites
) -> pd.api.extensions.ExtensionArray:
    part_capacity = table[f"iv_capacity_{slug}"].to_numpy(dtype=float, na_value=0.0)
    part_sites = table[f"iv_sites_{slug}"].to_numpy(dtype=float, na_value=0.0)
    capacity = table["iv_capacity"].to_numpy(dtype=float, na_value=0.0)
    count = table["iv_sites"].to_numpy(dtype=float, na_value=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(by_capacity, part_capacity / capacity, part_sites / count)
    return pd.array(np.where(by_capacity | by_sites, share, np.nan), dtype="Float64")


def _rank(share: pd.Series, ranked: pd.Series) -> pd.api.extensions.ExtensionArray:
    """1 for the highest share among the ranked rows, ties sharing the lower rank; NA otherwise."""
    ranks = share.where(ranked.to_numpy()).rank(ascending=False, method="min")
    return pd.array(ranks.to_numpy(dtype=float, na_value=np.nan), dtype="Int64")


def _one_vintage(metrics: pd.DataFrame) -> str | None:
    vintages = metrics["vintage"].dropna().unique()
    if len(vintages) > 1:
        raise InputError(f"metrics: mixes vintages {', '.join(sorted(vintages))}; pass one")
    return str(vintages[0]) if len(vintages) else None


# --- reconciliation ---------------------------------------------------------------------------


def _input_totals(sites: pd.DataFrame) -> dict[str, float]:
    """The totals straight from the site rows, computed apart from the per-ICB sums."""
    capacity, sector, status = sites["capacity"], sites["sector"], sites["status"]
    iv = sector.isin(IV_SECTORS)
    totals = {"sites_total": len(sites), "capacity_total": capacity.sum()}
    for name in SECTORS:
        totals[f"sites_{sector_slug(name)}"] = int((sector == name).sum())
        totals[f"capacity_{sector_slug(name)}"] = capacity[sector == name].sum()
    totals["iv_sites"], totals["iv_capacity"] = int(iv.sum()), capacity[iv].sum()
    for name, slug in _STATUS_SLUGS.items():
        totals[f"iv_sites_{slug}"] = int((iv & (status == name)).sum())
        totals[f"iv_capacity_{slug}"] = capacity[iv & (status == name)].sum()
    totals["iv_sites_capacity_missing"] = int((iv & capacity.isna()).sum())
    for name, part in _evidence_parts(sites).items():
        totals[f"iv_sites_{name}"] = int((iv & part).sum())
        if f"iv_capacity_{name}" in EVIDENCE_SUM_COLUMNS:
            totals[f"iv_capacity_{name}"] = capacity[iv & part].sum()
    return totals


def _number(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.6g}"


def _same(got, want) -> bool:
    """Counts must match exactly; capacities to float rounding (they are summed in another order)."""
    return math.isclose(float(got), float(want), rel_tol=1e-12, abs_tol=1e-9)


def _row_problems(metrics: pd.DataFrame) -> list[str]:
    """Rows whose parts do not add up to their totals."""
    parts = {
        "sites_total": [f"sites_{sector_slug(s)}" for s in SECTORS],
        "capacity_total": [f"capacity_{sector_slug(s)}" for s in SECTORS],
        "iv_sites": [f"iv_sites_{slug}" for slug in _STATUS_SLUGS.values()],
        "iv_capacity": [f"iv_capacity_{slug}" for slug in _STATUS_SLUGS.values()],
    }
    problems = []
    for total, columns in parts.items():
        summed = metrics[columns].sum(axis=1).to_numpy(dtype=float)
        wanted = metrics[total].to_numpy(dtype=float)
        off = ~np.isclose(summed, wanted, rtol=1e-12, atol=1e-9)
        if off.any():
            rows = ", ".join(metrics["icb_code"][off].astype(str))
            problems.append(f"{total}: its parts do not add up in rows {rows}")
    return problems
