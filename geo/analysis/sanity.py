"""A national sanity check: care-home beds by sector from a CQC file, beside published shares.

Run on CQC's monthly 'Care directory with filters' (`python -m geo sanity FILE`), the
shares should land near what others measured from the same register. The counting is
`geo.analysis.metrics.gap_metrics`'s, on the file's care homes, so the check covers the
same reader, sector rules and sums as every map and briefing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.analysis import metrics
from geo.io import readers, recognise
from geo.model import providers
from geo.model.errors import InputError
from geo.model.sectors import INDEPENDENT, LOCAL_AUTHORITY, SECTORS, VOLUNTARY, sector_slug
from geo.model.vocabulary import OUTSIDE_CODE

# England's care-home beds by sector, from CQC and Companies House (IPPR 2019).
PUBLISHED_SHARES: dict[str, float] = {INDEPENDENT: 0.836, VOLUNTARY: 0.13, LOCAL_AUTHORITY: 0.03}
PUBLISHED_SOURCE = (
    "IPPR (2019), from CQC and Companies House data: England's care-home beds 83.6% private, "
    "13% voluntary, 3% local authority"
)
SANITY_COLUMNS = ("sector", "care_homes", "beds", "share_of_beds", "published_share")
_CARE_HOME_COLUMN = "Care home?"


def care_home_beds(path: str | Path) -> pd.DataFrame:
    """Care homes and their beds by sector in a CQC HSCA file, each sector's share of the beds,
    and the published national share (NA where none was published)."""
    path = Path(path)
    sniffed = recognise.sniff(path)
    if sniffed.holds != "cqc":
        raise InputError(
            f"{path.name}: not a CQC HSCA active locations file (it looks like "
            f"{sniffed.holds}); the sanity table is for CQC's 'Care directory with filters'"
        )
    sites = readers.read_sites(path, sniffed).sites
    return beds_by_sector(_care_homes(sites, path.name))


def beds_by_sector(care_homes: pd.DataFrame) -> pd.DataFrame:
    """One row per sector, then 'All': care homes, beds and share of beds, counted by gap_metrics."""
    placed = care_homes.assign(icb_code=pd.NA, planning_status=providers.UNKNOWN_STATUS)
    no_icbs = pd.DataFrame({"code": pd.Series(dtype="str"), "name": pd.Series(dtype="str")})
    row = metrics.gap_metrics(placed, no_icbs).set_index("icb_code").loc[OUTSIDE_CODE]
    homes = [int(row[f"sites_{sector_slug(sector)}"]) for sector in SECTORS]
    beds = [float(row[f"capacity_{sector_slug(sector)}"]) for sector in SECTORS]
    total = float(row["capacity_total"])
    table = pd.DataFrame(
        {
            "sector": [*SECTORS, "All"],
            "care_homes": pd.array([*homes, int(row["sites_total"])], dtype="Int64"),
            "beds": pd.array([*beds, total], dtype="Float64"),
            "share_of_beds": pd.array(
                [bed / total if total else pd.NA for bed in [*beds, total]], dtype="Float64"
            ),
            "published_share": pd.array(
                [PUBLISHED_SHARES.get(sector, pd.NA) for sector in [*SECTORS, "All"]],
                dtype="Float64",
            ),
        }
    )
    return table[list(SANITY_COLUMNS)]


def sanity_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, shares as percentages with one decimal, '–' where none."""
    header = "| sector | care homes | beds | share of beds | published share (IPPR 2019) |"
    lines = [header, "|---|---:|---:|---:|---:|"]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.sector} | {row.care_homes:,} | {row.beds:,.0f} | {_percent(row.share_of_beds)}"
            f" | {_percent(row.published_share)} |"
        )
    return "\n".join(lines) + "\n"


def _care_homes(sites: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """The rows CQC marks as care homes ('Care home?' = Y)."""
    if _CARE_HOME_COLUMN not in sites.columns:
        raise InputError(f"{file_name}: no {_CARE_HOME_COLUMN!r} column, so no care homes to count")
    flag = sites[_CARE_HOME_COLUMN].astype("string").str.strip().str.upper()
    return sites[flag.eq("Y").fillna(False).to_numpy()].reset_index(drop=True)


def _percent(value: object) -> str:
    return "–" if pd.isna(value) else f"{float(value):.1%}"
