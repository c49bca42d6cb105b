"""Patients crossing ICB borders to independent providers, from RTT and DM01 rows."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.evidence import Geography
from geo.analysis.flows import (
    ANOTHER_ICB,
    FLOW_COLUMNS,
    IN,
    NOT_ON_MAP,
    OUT,
    OWN,
    SEVERAL_ICBS,
    WITHIN,
    flow_totals,
    flows_of,
    icb_flows,
    national_matrix,
)
from geo.io.activity import read_rtt
from geo.io.boundaries import load_boundaries
from geo.io.lookups import load_sicbl_to_icb
from geo.model.evidence import DM01, WAITING_FOR_TEST
from geo.testing import activity_files
from geo.testing.evidence_rows import activity_frame, activity_row
from tests.factories import run_cli, sites_frame
from tests.factories import site as site_row

WEST_YORKSHIRE, CHESHIRE = "E54000054", "E54000008"
LOOKUP = "lookup_lsoa21_sicbl24_icb24_icb26.csv"


@pytest.fixture(scope="module")
def geography(shared_data) -> Geography:
    return Geography(
        icbs=load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", kind="icb"),
        sub_icbs=load_boundaries(
            shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson", kind="sicbl"
        ),
        lookup=load_sicbl_to_icb(shared_data / LOOKUP),
    )


def _site(site_id: str, provider_id: str, name: str, icb: str, **columns) -> dict:
    return site_row(name, provider=name, icb=icb, status="unknown", beds=20, **columns) | {
        "site_id": site_id,
        "provider_id": provider_id,
    }


@pytest.fixture
def sites() -> pd.DataFrame:
    """Two independent hospitals of one provider in two ICBs, one in a third, an NHS site."""
    return sites_frame(
        _site("NT447", "NT4", "Duchy Hospital", WEST_YORKSHIRE),
        _site("NT448", "NT4", "Duchy Hospital North", CHESHIRE),
        _site("NVC04", "NVC", "Spire Leeds", CHESHIRE),
        _site("RR801", "RR8", "Leeds General Infirmary", WEST_YORKSHIRE, sector="NHS"),
    )


@pytest.fixture
def activity() -> pd.DataFrame:
    """West Yorkshire (15F, parent QWO) and Cheshire (27D, parent QYG) patients waiting."""
    return activity_frame(
        activity_row("NT447", "15F", "QWO", 1240),  # West Yorkshire's own site
        activity_row("NT448", "15F", "QWO", 300),  # West Yorkshire patients in Cheshire
        activity_row("NVC04", "27D", "QYG", 80),  # Cheshire's own site
        activity_row("NT447", "27D", "QYG", 45),  # Cheshire patients in West Yorkshire
        activity_row("NT4", "15F", "QWO", 10),  # a provider code with sites in two ICBs
        activity_row("NZZ99", "15F", "QWO", 66),  # a provider on no site of the map
        activity_row("RR8", "15F", "QWO", 9000),  # an NHS trust: not independent
        activity_row("NT447", "15F", "QWO", 12, source=DM01, measure=WAITING_FOR_TEST),
    )


def test_each_row_of_patients_is_one_flow_by_where_the_site_is(sites, activity, geography):
    flows = icb_flows(sites, activity, geography)

    assert list(flows.columns) == list(FLOW_COLUMNS)
    rtt = flows[flows["source"].eq("rtt")]
    got = {
        (row.from_icb, row.to_icb if pd.notna(row.to_icb) else None, row.destination): row.value
        for row in rtt.itertuples()
    }
    assert got == {
        (WEST_YORKSHIRE, WEST_YORKSHIRE, WITHIN): 1240,
        (WEST_YORKSHIRE, CHESHIRE, ANOTHER_ICB): 300,
        (CHESHIRE, CHESHIRE, WITHIN): 80,
        (CHESHIRE, WEST_YORKSHIRE, ANOTHER_ICB): 45,
        (WEST_YORKSHIRE, None, SEVERAL_ICBS): 10,
        (WEST_YORKSHIRE, None, NOT_ON_MAP): 66,
    }
    dm01 = flows[flows["measure"].eq(WAITING_FOR_TEST)]
    assert dm01[["from_icb", "to_icb", "site_id", "value"]].values.tolist() == [
        [WEST_YORKSHIRE, WEST_YORKSHIRE, "NT447", 12]
    ]


def test_flows_in_and_out_add_up_to_the_rtt_totals_at_independent_providers(
    sites, activity, geography
):
    flows = icb_flows(sites, activity, geography)
    totals = flow_totals(flows).set_index(["icb_code", "measure"])

    nhs_trusts = activity["provider_code"].eq("RR8")
    rtt = activity[activity["source"].eq("rtt") & ~nhs_trusts]
    for icb, parent in ((WEST_YORKSHIRE, "QWO"), (CHESHIRE, "QYG")):
        row = totals.loc[(icb, "patients waiting")]
        commissioned = rtt.loc[rtt["commissioner_parent_code"].eq(parent), "value"].sum()
        parts = ["within", "out_to_other_icbs", "provider_not_on_map", "provider_in_several_icbs"]
        assert row[parts].sum() == row["commissioned"] == commissioned
        assert row["within"] + row["in_from_other_icbs"] == row["at_sites_inside"]
    assert totals.loc[(WEST_YORKSHIRE, "patients waiting"), "provider_not_on_map"] == 66
    assert totals.loc[(WEST_YORKSHIRE, "patients waiting"), "in_from_other_icbs"] == 45


def test_the_national_matrix_rows_sum_to_what_each_icb_commissions(sites, activity, geography):
    flows = icb_flows(sites, activity, geography)
    matrix = national_matrix(flows).set_index("from_icb")

    assert matrix.loc[CHESHIRE, WEST_YORKSHIRE] == 45
    assert matrix.loc[WEST_YORKSHIRE, NOT_ON_MAP] == 66
    totals = flow_totals(flows).set_index(["icb_code", "measure"])
    for icb in (WEST_YORKSHIRE, CHESHIRE):
        assert matrix.loc[icb].sum() == totals.loc[(icb, "patients waiting"), "commissioned"]


def test_no_rows_of_patients_waiting_give_an_empty_typed_table(sites, geography):
    flows = icb_flows(sites, activity_frame(), geography)

    assert flows.empty
    assert list(flows.columns) == list(FLOW_COLUMNS)


def test_the_flows_command_writes_flows_whose_totals_reconcile_with_the_rtt_file(
    shared_data, tmp_path
):
    world = activity_files.ActivityWorld.load(shared_data)
    rtt_zip = activity_files.write_rtt_zip(
        tmp_path / "rtt.zip", activity_files.example_rtt_rows(world), 2026, 6
    )
    files = [
        *("--boundaries", str(shared_data / activity_files.ICB_FILE)),
        *("--sub-icbs", str(shared_data / activity_files.SUB_ICB_FILE)),
        *("--lookup", str(shared_data / activity_files.LOOKUP_FILE)),
        *("--sites", str(shared_data / activity_files.HOSPITALS_FILE)),
        *("--rtt", str(rtt_zip), "--no-cached-evidence"),
    ]
    written = {}
    for view in ("", "--totals", "--matrix"):
        out = tmp_path / f"flows{view}.csv"
        result = run_cli("flows", *files, *([view] if view else []), "--out", str(out))
        assert result.returncode == 0, result.stderr
        written[view] = pd.read_csv(out)

    flows, totals = written[""], written["--totals"]
    assert list(flows.columns) == list(FLOW_COLUMNS)
    waiting = flows[flows["measure"].eq("patients waiting")]
    from_an_icb = waiting[waiting["from_icb"].notna()]
    assert totals["commissioned"].sum() == from_an_icb["value"].sum() > 0
    assert totals["at_sites_inside"].sum() == waiting.loc[waiting["to_icb"].notna(), "value"].sum()
    matrix = written["--matrix"].set_index("from_icb")
    assert matrix.sum(axis=1).sum() == totals["commissioned"].sum()
    rtt = read_rtt(rtt_zip)
    hospitals = pd.read_csv(shared_data / activity_files.HOSPITALS_FILE, dtype=str)
    independent = hospitals.loc[hospitals["sector"].eq("Independent Sector"), "hospitalId"]
    at_independent = rtt["measure"].eq("patients waiting") & rtt["provider_code"].isin(independent)
    assert waiting["value"].sum() == rtt.loc[at_independent, "value"].sum()


def test_an_icbs_flows_are_its_patients_anywhere_and_other_icbs_patients_at_its_sites(
    sites, activity, geography
):
    flows = icb_flows(sites, activity, geography)
    names = dict(zip(geography.icbs["code"], geography.icbs["name"], strict=True))
    cheshire = flows_of(flows, CHESHIRE, names)

    rtt = cheshire[cheshire["measure"].eq("patients waiting")]
    got = sorted(zip(rtt["direction"], rtt["from_icb"], rtt["to_icb"], rtt["value"], strict=True))
    assert got == sorted(
        [
            (IN, WEST_YORKSHIRE, CHESHIRE, 300),
            (OUT, CHESHIRE, WEST_YORKSHIRE, 45),
            (OWN, CHESHIRE, CHESHIRE, 80),
        ]
    )
    assert set(rtt["to_icb_name"]) == {names[CHESHIRE], names[WEST_YORKSHIRE]}
