"""Patients crossing ICB borders to independent providers: RTT and DM01 waiting lists as flows.

Each RTT or DM01 row counts one commissioner's patients waiting at one provider. The
commissioner becomes an ICB of the analysis's vintage (the ICB the patients come from), the
provider becomes independent or voluntary sites on the map, and the sites' ICB is where the
patients go. Every row of patients waiting is counted once: rows whose provider matched no
site are 'provider not on the map', rows of a provider whose sites lie in several ICBs are
counted as such, and only rows matched to NHS sites alone (not independent) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.analysis.evidence import (
    EvidenceInputs,
    Geography,
    commissioner_icbs,
    match_sources,
)
from geo.model.evidence import PATIENTS_WAITING, WAITING_FOR_TEST
from geo.model.sectors import IV_SECTORS

# The measures that count patients, and so can flow: RTT's and DM01's waiting lists.
FLOW_MEASURES: tuple[str, ...] = (PATIENTS_WAITING, WAITING_FOR_TEST)

# Where a row's patients go (the flows table's destination).
WITHIN = "within the ICB"
ANOTHER_ICB = "another ICB"
NOT_ON_MAP = "provider not on the map"
SEVERAL_ICBS = "provider with sites in several ICBs"
OUTSIDE = "site outside every ICB"
DESTINATIONS: tuple[str, ...] = (WITHIN, ANOTHER_ICB, NOT_ON_MAP, SEVERAL_ICBS, OUTSIDE)

# One row per (source, period, measure, from ICB, to ICB, site, destination): `from_icb` is
# the commissioning ICB (NA for NHS England hubs and non-English commissioners), `to_icb` the
# ICB the independent site is in (NA when not on the map or in several ICBs), `site_id` the
# site where the provider is one site (NA for a provider code matching several sites).
FLOW_COLUMNS: tuple[str, ...] = (
    "source",
    "period",
    "measure",
    "from_icb",
    "to_icb",
    "site_id",
    "site_name",
    "provider_code",
    "destination",
    "value",
)
TOTAL_COLUMNS: tuple[str, ...] = (
    "icb_code",
    "source",
    "period",
    "measure",
    "commissioned",
    "within",
    "out_to_other_icbs",
    "provider_not_on_map",
    "provider_in_several_icbs",
    "in_from_other_icbs",
    "at_sites_inside",
)


def icb_flows(
    sites: pd.DataFrame,
    activity: pd.DataFrame,
    geography: Geography,
    *,
    accept_names_above: float | None = None,
) -> pd.DataFrame:
    """The flows table (FLOW_COLUMNS) of patients waiting at independent providers, from
    `activity` (ACTIVITY_COLUMNS) and the assigned `sites` (with icb_code and sector)."""
    waiting = activity[activity["measure"].isin(FLOW_MEASURES)].reset_index(drop=True)
    if waiting.empty:
        return empty_flows()
    vintage = str(geography.icbs["vintage"].iloc[0])
    positions = sites.reset_index(drop=True)
    inputs = EvidenceInputs(activity=waiting, sources=tuple(waiting["source"].unique()))
    entities, links, _ = match_sources(positions, inputs, accept_names_above=accept_names_above)
    rows = _destinations(links, positions, len(entities)).assign(row=entities["row"].to_numpy())
    rows = rows[rows["destination"].notna()]  # providers matched to NHS sites only
    source = waiting.iloc[rows["row"].to_numpy()].reset_index(drop=True)
    from_icb = commissioner_icbs(source, geography, vintage)["icb_code"]
    table = pd.DataFrame(
        {
            "source": source["source"],
            "period": source["period"],
            "measure": source["measure"],
            "from_icb": from_icb.to_numpy(),
            "to_icb": rows["to_icb"].to_numpy(),
            "site_id": rows["site_id"].to_numpy(),
            "site_name": rows["site_name"].to_numpy(),
            "provider_code": source["provider_code"],
            "destination": rows["destination"].to_numpy(),
            "value": pd.to_numeric(source["value"], errors="coerce"),
        }
    )
    own = table["from_icb"].eq(table["to_icb"]).fillna(False)
    table.loc[own, "destination"] = WITHIN
    return _summed(table)


def _destinations(links: pd.DataFrame, sites: pd.DataFrame, count: int) -> pd.DataFrame:
    """Per source entity: its independent sites' ICB, the site where it is one, and where its
    patients go (NA destination for a provider matched to NHS sites only)."""
    independent = sites["sector"].isin(IV_SECTORS).to_numpy()
    linked = links[["entity", "position"]].drop_duplicates()
    matched_any = np.zeros(count, dtype=bool)
    matched_any[linked["entity"].to_numpy()] = True
    linked = linked[independent[linked["position"].to_numpy()]]
    linked = linked.assign(
        icb=sites["icb_code"].astype("str").to_numpy()[linked["position"].to_numpy()]
    )
    per = linked.groupby("entity").agg(
        sites=("position", "nunique"), icbs=("icb", "nunique"), first=("position", "first")
    )
    icb = linked.groupby("entity")["icb"].first()
    frame = pd.DataFrame(index=pd.RangeIndex(count))
    frame["to_icb"] = icb.reindex(frame.index).astype("str")
    first = per["first"].reindex(frame.index)
    single = per["sites"].reindex(frame.index).eq(1).fillna(False).to_numpy()
    site_ids = sites["site_id"].astype("str").reset_index(drop=True)
    site_names = sites["site_name"].astype("str").reset_index(drop=True)
    frame["site_id"] = first.where(single).map(site_ids).astype("str")
    frame["site_name"] = first.where(single).map(site_names).astype("str")
    several = per["icbs"].reindex(frame.index).gt(1).fillna(False).to_numpy()
    has_iv = per["sites"].reindex(frame.index).notna().to_numpy()
    has_icb = frame["to_icb"].notna().to_numpy()
    frame["destination"] = np.select(
        [~matched_any, several, has_iv & has_icb, has_iv],
        [NOT_ON_MAP, SEVERAL_ICBS, ANOTHER_ICB, OUTSIDE],
        None,
    )
    frame.loc[several, "to_icb"] = pd.NA
    return frame


def _summed(table: pd.DataFrame) -> pd.DataFrame:
    """Rows with the same keys summed, in a stable order."""
    keys = [c for c in FLOW_COLUMNS if c != "value"]
    grouped = table.fillna({k: "" for k in keys}).groupby(keys, sort=True)["value"]
    summed = grouped.sum(min_count=1).reset_index()
    summed = summed.replace({k: {"": pd.NA} for k in keys})
    return summed[list(FLOW_COLUMNS)].astype({"value": "Float64"})


def empty_flows() -> pd.DataFrame:
    """The flows table with no rows."""
    frame = pd.DataFrame({column: pd.Series(dtype="str") for column in FLOW_COLUMNS})
    return frame.astype({"value": "Float64"})


def flow_totals(flows: pd.DataFrame) -> pd.DataFrame:
    """Per ICB, source, period and measure (TOTAL_COLUMNS): the patients it commissions at
    independent providers, split by where they go (within + out + not on the map + several
    ICBs = commissioned), and the patients at independent sites inside it (within + in)."""
    keys = ["source", "period", "measure"]
    value = flows["value"].astype("float64").fillna(0.0)
    out = flows.assign(value=value, icb_code=flows["from_icb"]).dropna(subset=["icb_code"])
    parts = {
        "within": WITHIN,
        "out_to_other_icbs": ANOTHER_ICB,
        "provider_not_on_map": NOT_ON_MAP,
        "provider_in_several_icbs": SEVERAL_ICBS,
    }
    frames = [
        _sum_by(out[out["destination"].eq(kind)], ["icb_code", *keys], name)
        for name, kind in parts.items()
    ]
    frames.append(_sum_by(out, ["icb_code", *keys], "commissioned"))
    inside = flows.assign(value=value, icb_code=flows["to_icb"]).dropna(subset=["icb_code"])
    crossing = inside[inside["destination"].eq(ANOTHER_ICB)]
    frames.append(_sum_by(crossing, ["icb_code", *keys], "in_from_other_icbs"))
    frames.append(_sum_by(inside, ["icb_code", *keys], "at_sites_inside"))
    totals = pd.concat(frames, axis=1).fillna(0.0).reset_index()
    if totals.empty:
        return pd.DataFrame(columns=list(TOTAL_COLUMNS))
    return totals[list(TOTAL_COLUMNS)].sort_values(["icb_code", *keys], ignore_index=True)


def _sum_by(frame: pd.DataFrame, keys: list[str], name: str) -> pd.Series:
    return frame.groupby(keys, sort=True)["value"].sum().rename(name)


def national_matrix(
    flows: pd.DataFrame, measure: str = PATIENTS_WAITING, period: str | None = None
) -> pd.DataFrame:
    """ICB x ICB patients for one measure and period (the latest by default): rows the
    commissioning ICB, columns the ICB of the independent sites, plus NOT_ON_MAP and
    SEVERAL_ICBS columns, so each row sums to what the ICB commissions."""
    chosen = flows[flows["measure"].eq(measure)]
    if period is None and not chosen.empty:
        period = str(chosen["period"].max())
    chosen = chosen[chosen["period"].eq(period) & chosen["from_icb"].notna()]
    column = chosen["to_icb"].astype(object).where(chosen["to_icb"].notna(), chosen["destination"])
    matrix = pd.pivot_table(
        chosen.assign(column=column, value=chosen["value"].astype("float64")),
        index="from_icb",
        columns="column",
        values="value",
        aggfunc="sum",
        fill_value=0.0,
    )
    matrix.index.name, matrix.columns.name = "from_icb", None
    return matrix.reset_index()


# What an ICB's flows are to it (flows_of's direction column).
OUT = "out (its patients elsewhere)"
IN = "in (other ICBs' patients here)"
OWN = "within"


def flows_of(flows: pd.DataFrame, icb_code: str, names: dict[str, str]) -> pd.DataFrame:
    """One ICB's flows: its patients wherever they wait (within, out, not on the map) and
    other ICBs' patients at its sites (in), with a direction and the ICBs' names, largest first."""
    own_patients = flows["from_icb"].eq(icb_code).fillna(False)
    at_its_sites = flows["to_icb"].eq(icb_code).fillna(False) & ~own_patients
    chosen = flows[own_patients | at_its_sites]
    direction = np.where(
        at_its_sites[chosen.index], IN, np.where(chosen["destination"].eq(WITHIN), OWN, OUT)
    )
    table = chosen.assign(
        direction=direction,
        from_icb_name=chosen["from_icb"].map(names),
        to_icb_name=chosen["to_icb"].map(names),
    )
    columns = ["direction", "from_icb_name", "to_icb_name", *FLOW_COLUMNS]
    return table[columns].sort_values(
        ["measure", "direction", "value"], ascending=[True, True, False], ignore_index=True
    )
