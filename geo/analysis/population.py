"""Fair comparisons: each ICB's population, its capacity per head, and where it stands among its peers.

Raw counts mislead: an ICB of 3.1 million people has more of everything than one of half a
million. Populations come from ONS mid-year estimates (`geo.io.population`): summed from
the sub-ICB rows of ONS's ICB workbook where its geography is the analysis's vintage, or
else from LSOA estimates through the vintage's LSOA -> ICB lookup (the only way to the
2026 ICBs). An ICB some of whose LSOAs the estimates lack gets no population: a figure per
head over part of its people would be wrong, so it is NA with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.io.population import (
    PopulationFile,
    load_lsoa_to_icb,
    read_population,
    sheet_names,
    year_sheets,
)
from geo.model.evidence import OUTSIDE_STATUSES
from geo.model.sectors import IV_SECTORS, SECTORS, sector_slug

PER = 100_000
POPULATION_COLUMNS: tuple[str, ...] = (
    "icb_code",
    "population",
    "population_65_plus",
    "population_year",
    "population_basis",
    "population_not_known_reason",
)
# Per-head measures: name -> (numerator column of the metrics table, denominator).
# Care-home beds are per head of people aged 65 and over, everything else per head of all ages.
_ALL_AGES = "population"
_OLDER = "population_65_plus"


@dataclass(frozen=True)
class Populations:
    """Each ICB's population for one vintage, and what it rests on (a label for every figure)."""

    table: pd.DataFrame  # POPULATION_COLUMNS, one row per ICB of the vintage
    label: str  # 'ONS mid-2024 population estimates (LSOA 2021 areas), summed into 2026 ICBs'
    file: str = ""  # the workbook's file name


def icb_populations(
    icbs: pd.DataFrame,
    estimates: PopulationFile,
    lsoa_lookup: pd.DataFrame | None = None,
) -> Populations:
    """The population of every ICB in `icbs` (its `code` and `vintage`), from `estimates`.

    ICB-workbook rows (sub-ICB locations with their ICB code) are summed by ICB when their
    geography is the vintage's; LSOA rows are summed through `lsoa_lookup`
    (`geo.io.population.load_lsoa_to_icb`) rows of the vintage. Anything else is a
    mismatch the caller is told about rather than a guess.
    """
    vintage = str(icbs["vintage"].iloc[0])
    codes = icbs["code"].astype("string")
    if estimates.level == "sicbl":
        absent = set(codes.dropna()) - set(estimates.areas["icb_code"].dropna())
        if absent:
            raise ValueError(
                f"{estimates.label} have no rows for {len(absent)} of the {vintage} ICBs: use "
                "LSOA estimates and the LSOA lookup for this vintage"
            )
        grouped = estimates.areas.groupby("icb_code", dropna=True)
        summed = grouped[["total", "aged_65_plus"]].sum(min_count=1)
        table = _per_icb(codes, summed, pd.Series(dtype="string"))
        label = estimates.label
    else:
        if lsoa_lookup is None:
            raise ValueError(f"{estimates.label} need an LSOA -> ICB lookup to be summed into ICBs")
        rows = lsoa_lookup[lsoa_lookup["vintage"] == vintage]
        if rows.empty:
            raise ValueError(f"the LSOA lookup has no {vintage} ICB column")
        areas = estimates.areas.drop(columns="icb_code")
        joined = rows.merge(areas, left_on="lsoa_code", right_on="area_code", how="left")
        missing = joined["total"].isna().groupby(joined["icb_code"]).sum()
        summed = joined.groupby("icb_code")[["total", "aged_65_plus"]].sum(min_count=1)
        reasons = missing[missing > 0].map(lambda n: f"the estimates lack {n:,} of its LSOAs")
        table = _per_icb(codes, summed, reasons.astype("string"))
        label = f"{estimates.label}, summed into {vintage} ICBs"
    if not estimates.has_ages:
        table["population_65_plus"] = pd.array([pd.NA] * len(table), dtype="Float64")
    table["population_year"] = estimates.year
    table["population_basis"] = label
    return Populations(table[list(POPULATION_COLUMNS)], label, estimates.file)


def _per_icb(codes: pd.Series, summed: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    table = pd.DataFrame({"icb_code": codes.to_numpy()})
    table["population"] = codes.map(summed["total"]).astype("Float64").to_numpy()
    table["population_65_plus"] = codes.map(summed["aged_65_plus"]).astype("Float64").to_numpy()
    reason = codes.map(reasons).astype("string").to_numpy()
    absent = table["population"].isna().to_numpy()
    reason = np.where(absent & pd.isna(reason), "no population estimate for this ICB", reason)
    table["population_not_known_reason"] = pd.array(reason, dtype="string")
    partial = ~pd.isna(table["population_not_known_reason"]).to_numpy()
    table.loc[partial, ["population", "population_65_plus"]] = pd.NA
    return table


# --- per head -----------------------------------------------------------------------------------


def per_head_measures() -> dict[str, tuple[str, str]]:
    """Per-head measure -> (numerator column of the metrics table, population column)."""
    measures = {"sites_per_100k": ("sites_total", _ALL_AGES)}
    for sector in SECTORS:
        slug = sector_slug(sector)
        measures[f"sites_{slug}_per_100k"] = (f"sites_{slug}", _ALL_AGES)
        measures[f"capacity_{slug}_per_100k"] = (f"capacity_{slug}", _ALL_AGES)
    measures["iv_capacity_per_100k"] = ("iv_capacity", _ALL_AGES)
    measures["care_home_beds_per_100k_65_plus"] = ("care_home_beds", _OLDER)
    measures["iv_capacity_outside_per_100k"] = ("iv_capacity_outside", _ALL_AGES)
    return measures


IV_SLUGS = tuple(sector_slug(sector) for sector in IV_SECTORS)


def site_numerators(assigned: pd.DataFrame) -> pd.DataFrame:
    """Per ICB, what the metrics table does not carry: beds in care homes, I+V capacity
    outside NHS planning (planning status one of OUTSIDE_STATUSES), and for each capacity
    numerator how many of its sites have no capacity figure (`missing_<numerator>`)."""
    sites = assigned[assigned["icb_code"].notna()]
    capacity = sites["capacity"].astype("Float64")
    service = sites["service_type"].astype("string").str.casefold()
    care_home = service.str.contains("care home|residential social care", regex=True)
    iv = sites["sector"].isin(IV_SECTORS)
    outside = iv & sites["planning_status"].isin(OUTSIDE_STATUSES)
    which = {
        "care_home_beds": care_home.fillna(False).astype(bool),
        "iv_capacity_outside": outside,
        "iv_capacity": iv,
        **{f"capacity_{sector_slug(s)}": sites["sector"] == s for s in SECTORS},
    }
    frame = pd.DataFrame({"icb_code": sites["icb_code"]})
    for name, mask in which.items():
        if name.startswith("care_home") or name == "iv_capacity_outside":
            frame[name] = capacity.where(mask)
        frame[f"missing_{name}"] = (mask & capacity.isna()).astype(int)
        frame[f"counted_{name}"] = mask.astype(int)
    return frame.groupby("icb_code").sum(min_count=0).reset_index()


def per_head(
    metrics: pd.DataFrame, populations: Populations, assigned: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The metrics table with each ICB's population and every per-head measure beside it.

    A measure whose numerator is not known, or whose population is not known, is NA (never
    0). `assigned` (the analysis's sites) gives the numerators the metrics table lacks.
    """
    table = metrics.merge(populations.table, on="icb_code", how="left")
    if assigned is not None:
        numerators = site_numerators(assigned)
        counted_here = [name for name in numerators.columns.drop("icb_code") if name in table]
        table = table.drop(columns=counted_here).merge(numerators, on="icb_code", how="left")
        for column in numerators.columns.drop("icb_code"):  # no such sites: a true 0
            table[column] = table[column].astype("Float64").fillna(0)
    for name, (numerator, denominator) in per_head_measures().items():
        if numerator not in table.columns:
            table[name] = pd.array([pd.NA] * len(table), dtype="Float64")
            continue
        value = table[numerator].astype("Float64") / table[denominator].astype("Float64") * PER
        known = table[denominator].astype("Float64") > 0
        if f"missing_{numerator}" in table.columns:  # a site without a capacity figure: not known
            known &= table[f"missing_{numerator}"].astype("Float64").eq(0)
        if f"counted_{numerator}" in table.columns and not table[f"counted_{numerator}"].sum():
            known &= False  # the provider list has no such sites anywhere: not a measured 0
        table[name] = value.where(known).round(1)
    return table


def peer_ranks(table: pd.DataFrame, measure: str, regions: pd.Series | None = None) -> pd.DataFrame:
    """Where each ICB stands on a per-head `measure`: its rank among all ICBs (1 = highest),
    among its region's (`regions`: icb_code -> region code), and the national median."""
    values = table.set_index("icb_code")[measure].astype("Float64")
    known = values.dropna()
    ranks = pd.DataFrame(index=values.index)
    ranks["value"] = values
    ranks["rank"] = known.rank(ascending=False, method="min").astype("Int64").reindex(values.index)
    ranks["of"] = len(known)
    ranks["national_median"] = float(known.median()) if len(known) else np.nan
    if regions is not None:
        region = values.index.to_series().map(regions)
        ranks["region_code"] = region
        by_region = known.groupby(region.reindex(known.index))
        ranks["rank_in_region"] = by_region.rank(ascending=False, method="min").astype("Int64")
        ranks["of_in_region"] = region.map(by_region.size()).astype("Int64")
        ranks["region_median"] = region.map(by_region.median())
    return ranks.reset_index()


# --- which estimates an analysis uses -----------------------------------------------------------


def populations_for(
    icbs: pd.DataFrame, workbooks: list[Path], lookups: list[Path]
) -> tuple[Populations | None, str]:
    """Each ICB's population from the best of `workbooks` for the ICBs' vintage, and a note.

    ONS's ICB workbook is used where it has every ICB code of the vintage (2023 and 2024
    ICBs share theirs); otherwise an LSOA
    workbook summed through the first of `lookups` (LSOA lookup CSVs) with the vintage's
    ICB column. None, with the reason, when neither is to hand.
    """
    vintage = str(icbs["vintage"].iloc[0])
    sheets = {path: read_year_sheets(path) for path in workbooks}
    for path, found in sheets.items():
        if any(level == "sicbl" for level, _, _ in found):
            estimates = read_population(path)
            if set(icbs["code"]) <= set(estimates.areas["icb_code"].dropna()):
                return icb_populations(icbs, estimates), ""
    lsoa = [path for path, found in sheets.items() if any(level == "lsoa" for level, _, _ in found)]
    if not lsoa:
        return None, (
            f"No population estimates for {vintage} ICBs are loaded (`python -m geo fetch` "
            "downloads ONS's), so figures per head of population are not shown."
        )
    for lookup_path in lookups:
        lookup = load_lsoa_to_icb(lookup_path)
        if (lookup["vintage"] == vintage).any():
            return icb_populations(icbs, read_population(lsoa[0]), lookup), ""
    return None, (
        f"LSOA population estimates are loaded but no LSOA lookup with {vintage} ICBs, so "
        "figures per head of population are not shown."
    )


def read_year_sheets(path: Path) -> list[tuple[str, str, str]]:
    """(level, year, geography) of each year's sheet of a population workbook."""
    return list(year_sheets(sheet_names(path)).values())


# --- regions ------------------------------------------------------------------------------------


def region_per_head(per_head_table: pd.DataFrame, icb_regions: pd.DataFrame) -> pd.DataFrame:
    """Per NHS region (its code in `icb_code`): the population (the sum of its ICBs'), its year
    and every per-head measure as the sum of its ICBs' numerators over the sum of their
    populations; NA when any member ICB's population or numerator is not known."""
    lookup = icb_regions.set_index("icb_code")["region_code"].astype(object)
    icbs = per_head_table[per_head_table["icb_code"].isin(lookup.index)]
    region = icbs["icb_code"].map(lookup)
    measures = per_head_measures()
    columns = {_ALL_AGES, _OLDER} | {n for n, _ in measures.values() if n in icbs.columns}
    columns |= {f"missing_{n}" for n, _ in measures.values() if f"missing_{n}" in icbs.columns}
    values = icbs[sorted(columns)].astype("Float64")
    summed = values.groupby(region.to_numpy()).sum(min_count=1)
    any_unknown = values.isna().groupby(region.to_numpy()).any()
    summed = summed.mask(any_unknown)  # one member not known: the region's sum is not known
    table = summed.rename_axis("icb_code").reset_index()
    table["population_year"] = icbs.groupby(region.to_numpy())["population_year"].first().to_numpy()
    for name, (numerator, denominator) in measures.items():
        if numerator not in table.columns:
            table[name] = pd.array([pd.NA] * len(table), dtype="Float64")
            continue
        known = (table[denominator] > 0).fillna(False)
        if f"missing_{numerator}" in table.columns:
            known &= table[f"missing_{numerator}"].eq(0).fillna(False)
        counted = f"counted_{numerator}"
        if counted in icbs.columns and not icbs[counted].sum():
            known &= False  # the provider list has no such sites anywhere: not a measured 0
        value = table[numerator] / table[denominator].where(known) * PER
        table[name] = value.round(1)
    return table
