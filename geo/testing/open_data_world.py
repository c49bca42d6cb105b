"""A folder of open data in the publishers' real formats, for the picture a user sees with no list.

Everything the app can use without an analyst's engagement list: RTT and DM01 extracts,
contract award releases, a DSPT export and ONS population estimates, each written by the
fixture writers in its publisher's real layout, about the real independent-sector hospital
sites of ../shared/data's NHS website list (1,213 hospitals, 2020). The sites and
commissioners are real; the activity is NOT: which site has NHS-funded patients from which
sub-ICB, and how many, is made up, repeatably, so that some ICBs commission most of their
independent capacity, some little, and some patients cross ICB borders.

`python -m geo fetch --from FOLDER` takes the folder into the cache, as it would real files.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from geo.testing import activity_files, contracts_server, population_files
from geo.testing.activity_files import ActivityWorld, Dm01Row, Org, RttRow

RTT_MONTH = (2026, 6)
DM01_MONTH = (2026, 5)
# How a site's NHS-funded activity is made up, by a repeatable draw of 0-99 from its code:
# below HOME, patients from sub-ICBs of its own ICB (and, below ALSO_AWAY, another ICB's too);
# from HOME to AWAY, only another ICB's; the rest, none at all.
HOME, ALSO_AWAY, AWAY = 55, 15, 70


def _draw(code: str, salt: str = "") -> int:
    """A repeatable number 0-99 for a code."""
    return zlib.crc32(f"{salt}{code}".encode()) % 100


def independent_sites(shared_data: Path) -> pd.DataFrame:
    """The independent-sector sites of the hospital list that are not NHS trusts' (an R or
    T code is a trust's whatever the list's sector says), with their 2024 ICB."""
    hospitals = pd.read_csv(shared_data / activity_files.HOSPITALS_FILE, dtype=str)
    independent = hospitals[
        (hospitals["sector"] == "Independent Sector")
        & ~hospitals["hospitalId"].str.match(r"^[RT]")
        & hospitals["icb24_code"].notna()
    ]
    return independent.sort_values("hospitalId").reset_index(drop=True)


def _sub_icbs_by_icb(world: ActivityWorld) -> dict[str, list[Org]]:
    found: dict[str, list[Org]] = {}
    for sub_icb in world.sub_icbs:
        found.setdefault(sub_icb.parent_code, []).append(sub_icb)
    return found


def rtt_rows(world: ActivityWorld, sites: pd.DataFrame) -> Iterator[RttRow]:
    """Part_2 (waiting) C_999 rows per site and commissioning sub-ICB, drawn repeatably."""
    by_icb = _sub_icbs_by_icb(world)
    icbs = sorted(by_icb)
    for code in sites["hospitalId"]:
        site = world.providers[code]
        draw = _draw(code)
        home = by_icb.get(site.parent_code, [])
        commissioners: list[Org] = []
        if draw < HOME and home:
            commissioners += home[: 1 + draw % 3]
        if draw < ALSO_AWAY or HOME <= draw < AWAY:
            other = (
                icbs[(icbs.index(site.parent_code) + 1 + draw % 5) % len(icbs)]
                if (site.parent_code in icbs)
                else icbs[draw % len(icbs)]
            )
            commissioners.append(by_icb[other][0])
        for number, commissioner in enumerate(commissioners):
            waiting = 20 + (_draw(code, commissioner.code) * 13 + number * 7) % 900
            yield RttRow(site, commissioner, "Part_2", "C_999", _split(waiting))


def _split(total: int) -> tuple[int, ...]:
    """A total spread over the first weekly bands, the rest 0."""
    first = total // 2
    second = total // 3
    third = total - first - second
    return activity_files._bands(first, second, third)


def dm01_rows(world: ActivityWorld, sites: pd.DataFrame) -> Iterator[Dm01Row]:
    """A TOTAL row of diagnostic tests for one site in three, for its own ICB's first sub-ICB."""
    by_icb = _sub_icbs_by_icb(world)
    width = len(activity_files.DM01_BANDS)
    for code in sites["hospitalId"]:
        site = world.providers[code]
        if _draw(code, "dm01") >= 33 or not by_icb.get(site.parent_code):
            continue
        tests = 10 + _draw(code, "tests") * 4
        yield Dm01Row(
            site,
            by_icb[site.parent_code][0],
            "TOTAL",
            activity_files._bands(tests // 4, width=width),
            (tests, tests // 5, 0),
        )


def award_releases(shared_data: Path, sites: pd.DataFrame) -> list[dict]:
    """Contract awards by ICBs to independent providers named by their GB-NHS (ODS) code:
    one provider in eight, from the ICB hosting its first site."""
    world = contracts_server.load_world(shared_data)
    icb_names = dict(world.icbs)
    trusts = sites.drop_duplicates("trustId")
    releases = []
    when = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for number, row in enumerate(trusts.itertuples(), start=1):
        if _draw(row.trustId, "award") >= 12:
            continue
        icb_ods = _icb_ods(shared_data).get(row.icb24_code)
        if icb_ods is None:
            continue
        release = contracts_server.fts_release(world, 500 + number, when, supplier_kind="nhs")
        buyer_id = f"GB-NHS-{icb_ods}"
        for party in release["parties"]:
            if "buyer" in party.get("roles", []):
                party.update(id=buyer_id, name=icb_names[icb_ods],
                             identifier={"scheme": "GB-NHS", "id": icb_ods})  # fmt: skip
            elif "supplier" in party.get("roles", []):
                party.update(id=f"GB-NHS-{row.trustId}", name=row.trustName,
                             identifier={"scheme": "GB-NHS", "id": row.trustId})  # fmt: skip
        release["buyer"] = {"id": buyer_id, "name": icb_names[icb_ods]}
        for award in release.get("awards", []):
            award["suppliers"] = [{"id": f"GB-NHS-{row.trustId}", "name": row.trustName}]
        releases.append(release)
    return releases


def _icb_ods(shared_data: Path) -> dict[str, str]:
    collection = json.loads((shared_data / activity_files.ICB_FILE).read_text(encoding="utf-8"))
    return {f["properties"]["ICB24CD"]: f["properties"]["ICB24CDH"] for f in collection["features"]}


def dspt_rows(sites: pd.DataFrame) -> list[dict[str, str]]:
    """DSPT status for each independent provider organisation: most meet the standards."""
    rows = []
    for row in sites.drop_duplicates("trustId").itertuples():
        draw = _draw(row.trustId, "dspt")
        status = "2024-25 Standards Met" if draw < 70 else "2024-25 Approaching Standards"
        rows.append(
            activity_files._dspt(
                row.trustId,
                str(row.trustName).upper(),
                status,
                "30/06/2025",
                "Independent Sector Healthcare Provider",
                "",
            )
        )
    return rows


def write_open_data(shared_data: Path, folder: Path) -> Path:
    """Write every open-data file into `folder` (created), ready for `fetch --from`."""
    folder.mkdir(parents=True, exist_ok=True)
    world = ActivityWorld.load(shared_data)
    sites = independent_sites(shared_data)
    year, month = RTT_MONTH
    activity_files.write_rtt_zip(
        folder / f"Full-CSV-data-file-Jun{year % 100}-ZIP-3M-demo.zip",
        list(rtt_rows(world, sites)),
        year,
        month,
    )
    year, month = DM01_MONTH
    activity_files.write_dm01_zip(
        folder / f"DM01-MAY-{year}-full-extract_demo.zip",
        list(dm01_rows(world, sites)),
        year,
        month,
    )
    contracts_server.write_release_package(
        folder / "find_a_tender_awards.json", award_releases(shared_data, sites)
    )
    (folder / "DSPT search results 01_07_2026 09_00_00.csv").write_text(
        activity_files.dspt_csv_text(dspt_rows(sites)), encoding="utf-8"
    )
    population_files.write_icb_population(
        folder / "sapeicb20222024.xlsx", population_files.read_shared_lookup(shared_data)
    )
    return folder
