"""With only open data loaded, the central question has an answer: which independent and
voluntary capacity each ICB commissions, which it does not, and what each figure rests on.

The folder holds the real ICB boundaries and hospitals (../shared/data) and open data in
the publishers' real formats (geo.testing.open_data_world: RTT, DM01, contract awards, DSPT,
ONS population), taken in with `fetch --from` as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import workspace
from geo.analysis import evidence as open_evidence
from geo.analysis import pipeline
from geo.model.evidence import (
    BASIS_EVIDENCE,
    BASIS_LIST,
    COMMISSIONED,
    EVIDENCE_STATUS,
    EVIDENCE_SUMMARY,
    NO_EVIDENCE,
    PLANNING_BASIS,
)
from geo.model.providers import NOT_ENGAGED
from geo.testing import activity_files, open_data_world
from geo.testing.activity_files import ActivityWorld
from tests.factories import open_data_folder

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def open_data_dir(shared_data, tmp_path_factory) -> Path:
    """A data folder whose cache holds the boundaries, the hospitals and the open data only."""
    return open_data_folder(shared_data, tmp_path_factory.mktemp("open"))


@pytest.fixture
def in_open_data(open_data_dir, monkeypatch) -> Path:
    monkeypatch.setenv("ICS_DATA_DIR", str(open_data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return open_data_dir


@pytest.fixture
def frames(in_open_data) -> pipeline.Frames:
    return workspace.load_frames("2024", None)


@pytest.fixture
def analysis(frames) -> pipeline.Analysis:
    return pipeline.analyse(frames)


def _rtt_rows(shared_data: Path) -> pd.DataFrame:
    """The RTT rows the folder holds, as (site code, its ICB's ODS code, commissioner's ICB)."""
    world = ActivityWorld.load(shared_data)
    sites = open_data_world.independent_sites(shared_data)
    return pd.DataFrame(
        [
            (row.provider.code, row.provider.parent_code, row.commissioner.parent_code)
            for row in open_data_world.rtt_rows(world, sites)
        ],
        columns=["site_id", "site_icb", "commissioner_icb"],
    )


def test_open_data_alone_gives_each_icb_a_different_share_resting_on_open_data(analysis):
    icbs = analysis.metrics[analysis.metrics["icb_code"].str.startswith("E54")]
    with_iv = icbs[icbs["iv_sites"] > 0]
    shares = with_iv["iv_outside_share"]
    assert shares.notna().all()  # no 'not known' for want of a list
    assert shares.round(2).nunique() >= 6
    assert shares.min() < 0.2
    assert shares.max() > 0.6
    assert set(with_iv["status_basis"]) == {BASIS_EVIDENCE}


def test_a_site_with_patients_from_its_own_icb_is_nhs_commissioned_with_the_evidence_in_words(
    analysis, shared_data
):
    rows = _rtt_rows(shared_data)
    home = rows[rows["site_icb"] == rows["commissioner_icb"]]["site_id"]
    sites = analysis.assigned.set_index("site_id")
    chosen = sites.loc[sorted(set(home) & set(sites.index))]
    assert len(chosen) > 20
    assert (chosen[EVIDENCE_STATUS] == COMMISSIONED).all()
    assert (chosen[PLANNING_BASIS] == BASIS_EVIDENCE).all()
    summary = chosen[EVIDENCE_SUMMARY].iloc[0]
    assert "patients waiting" in summary
    assert "RTT" in summary


def test_a_site_with_no_activity_or_award_anywhere_has_no_evidence_rather_than_unknown(
    analysis, shared_data
):
    rows = _rtt_rows(shared_data)
    sites = analysis.assigned
    independent = open_data_world.independent_sites(shared_data)
    world = ActivityWorld.load(shared_data)
    diagnosed = {row.provider.code for row in open_data_world.dm01_rows(world, independent)}
    without = set(independent["hospitalId"]) - set(rows["site_id"]) - diagnosed
    trusts_with_awards = {
        party.removeprefix("GB-NHS-")
        for release in open_data_world.award_releases(shared_data, independent)
        for award in release["awards"]
        for party in (supplier["id"] for supplier in award["suppliers"])
    }
    quiet = independent[
        independent["hospitalId"].isin(without) & ~independent["trustId"].isin(trusts_with_awards)
    ]
    shown = sites[sites["site_id"].isin(quiet["hospitalId"]) & sites["sector"].eq("Independent")]
    assert len(shown) > 20
    assert (shown[EVIDENCE_STATUS] == NO_EVIDENCE).all()
    assert (shown["planning_status"] == NO_EVIDENCE).all()


def test_an_engagement_list_leads_and_where_it_disagrees_with_the_evidence_is_listed(
    frames, analysis, tmp_path
):
    commissioned = analysis.assigned[
        analysis.assigned[EVIDENCE_STATUS].eq(COMMISSIONED)
        & analysis.assigned["sector"].eq("Independent")
    ].iloc[0]
    listed = tmp_path / "engagement.csv"
    pd.DataFrame(
        {
            "provider_id": [commissioned["provider_id"]],
            "provider_name": [commissioned["provider_name"]],
            "icb_code": [commissioned["icb_code"]],
            "planning_status": ["not engaged"],
        }
    ).to_csv(listed, index=False)

    with_list = pipeline.analyse(pipeline.replace_engagement(frames, listed))

    site = with_list.assigned.set_index("site_id").loc[commissioned["site_id"]]
    assert site["planning_status"] == NOT_ENGAGED
    assert site[PLANNING_BASIS] == BASIS_LIST
    assert site[EVIDENCE_STATUS] == COMMISSIONED  # the evidence stands beside the list
    row = with_list.metrics.set_index("icb_code").loc[commissioned["icb_code"]]
    assert BASIS_LIST in row["status_basis"]
    disagreeing = open_evidence.disagreements(with_list)
    assert commissioned["site_id"] in disagreeing["site_id"].tolist()


def test_the_home_page_names_the_basis_and_ranks_icbs_on_open_data(in_open_data):
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=180)
    app.query_params["vintage"] = "2024"
    app.run()

    assert not app.exception
    assert any("open-data evidence" in caption.value for caption in app.caption)
    table = app.dataframe[0].value
    share = table["Share of I+V capacity outside NHS planning"].dropna()
    assert share.round(2).nunique() >= 6
    assert set(table["Planning status rests on"].dropna()) <= {BASIS_EVIDENCE}


def test_the_folder_holds_real_sites_and_sub_icbs(shared_data):
    world = ActivityWorld.load(shared_data)
    rows = list(open_data_world.rtt_rows(world, open_data_world.independent_sites(shared_data)))
    hospitals = pd.read_csv(shared_data / activity_files.HOSPITALS_FILE, dtype=str)
    assert {row.provider.code for row in rows} <= set(hospitals["hospitalId"])
    assert {row.commissioner.code for row in rows} <= {org.code for org in world.sub_icbs}
