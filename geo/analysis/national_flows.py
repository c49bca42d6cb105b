"""England's flows table for a board: the ICBs with the most patients waiting at independent
providers outside their own borders, and the totals, from one RTT month of the flows table.

Rows are the commissioning ICBs (`geo.analysis.flows.flow_totals` for the measure and month),
so each row's patients equal what that ICB commissions at independent providers; the top
destination is the other ICB where most of its patients wait. What the table does not count
is said beside it: patients at providers not on the map, and commissioners with no ICB.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.analysis.flows import NOT_ON_MAP, flow_totals, national_matrix
from geo.model.evidence import PATIENTS_WAITING

TOP_ICBS = 10
# One row per commissioning ICB, most patients waiting outside its borders first.
TABLE_COLUMNS: tuple[str, ...] = (
    "icb_code",
    "icb_name",
    "commissioned",
    "within",
    "within_share",
    "elsewhere",
    "top_destination_code",
    "top_destination_name",
    "top_destination_patients",
)


@dataclass(frozen=True)
class NationalFlows:
    """The table a board reads, its totals and what it leaves out, for one measure and month."""

    measure: str
    period: str
    table: pd.DataFrame  # TABLE_COLUMNS, the TOP_ICBS ICBs with most patients elsewhere
    totals: pd.Series  # commissioned, within, elsewhere, within_share across every ICB
    icbs: int  # how many commissioning ICBs the totals cover
    not_on_map: float  # patients (of ICBs) at providers matched to no site on the map
    no_icb: float  # patients of commissioners with no ICB (NHS England hubs, non-English)


def national_flows(
    flows: pd.DataFrame,
    names: dict[str, str],
    *,
    measure: str = PATIENTS_WAITING,
    period: str | None = None,
    top: int = TOP_ICBS,
) -> NationalFlows | None:
    """England's flows table for `measure` in `period` (the latest by default); None when the
    flows table has no rows of that measure."""
    chosen = flows[flows["measure"].eq(measure)]
    if chosen.empty:
        return None
    period = str(chosen["period"].max()) if period is None else period
    chosen = chosen[chosen["period"].eq(period)]
    totals = flow_totals(chosen)
    totals = totals[totals["measure"].eq(measure)].groupby("icb_code").sum(numeric_only=True)
    table = pd.DataFrame(
        {
            "icb_code": totals.index.astype(str),
            "icb_name": totals.index.map(names),
            "commissioned": totals["commissioned"].to_numpy(),
            "within": totals["within"].to_numpy(),
        }
    )
    table["elsewhere"] = table["commissioned"] - table["within"]
    table["within_share"] = _share(table["within"], table["commissioned"])
    table = table.merge(
        _top_destinations(chosen, measure, period, names), how="left", on="icb_code"
    )
    ranked = table.sort_values(["elsewhere", "icb_name"], ascending=[False, True])
    whole = table[["commissioned", "within", "elsewhere"]].sum()
    whole["within_share"] = (
        whole["within"] / whole["commissioned"] if whole["commissioned"] else None
    )
    values = chosen["value"].astype("float64").fillna(0.0)
    return NationalFlows(
        measure=measure,
        period=period,
        table=ranked.head(top).reindex(columns=list(TABLE_COLUMNS)).reset_index(drop=True),
        totals=whole,
        icbs=len(table),
        not_on_map=float(
            values[chosen["destination"].eq(NOT_ON_MAP) & chosen["from_icb"].notna()].sum()
        ),
        no_icb=float(values[chosen["from_icb"].isna()].sum()),
    )


def _top_destinations(
    flows: pd.DataFrame, measure: str, period: str, names: dict[str, str]
) -> pd.DataFrame:
    """Per commissioning ICB, the other ICB where most of its patients wait, and how many."""
    matrix = national_matrix(flows, measure, period).set_index("from_icb")
    others = matrix[[c for c in matrix.columns if c in names]].astype("float64")
    for code in others.index.intersection(others.columns):
        others.loc[code, code] = 0.0  # its own ICB is not a destination elsewhere
    best = others.idxmax(axis=1) if not others.empty else pd.Series(dtype=object)
    patients = others.max(axis=1) if not others.empty else pd.Series(dtype=float)
    best = best.where(patients > 0)
    return pd.DataFrame(
        {
            "icb_code": others.index.astype(str),
            "top_destination_code": best.to_numpy(),
            "top_destination_name": best.map(names).to_numpy(),
            "top_destination_patients": patients.where(patients > 0).to_numpy(),
        }
    )


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, NA where whole is 0 (no patients: no share)."""
    return part.astype("Float64") / whole.astype("Float64").where(whole > 0)
