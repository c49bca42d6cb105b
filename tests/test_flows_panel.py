"""The explorer's ICB panel with RTT loaded: where its patients wait at independent providers."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.fetch import sources
from geo.io.activity import read_rtt
from geo.testing import activity_files
from tests.factories import PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")


@pytest.fixture
def with_rtt(data_dir, shared_data, monkeypatch, tmp_path):
    """Real boundaries and hospitals and an RTT month in the real format, taken offline."""
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    folder = tmp_path / "nhse"
    folder.mkdir()
    world = activity_files.ActivityWorld.load(shared_data)
    rows = activity_files.example_rtt_rows(world)
    path = activity_files.write_rtt_zip(folder / "Full-CSV-data-file-Jun26.zip", rows, 2026, 6)
    sources.fetch_from_dir(folder)
    return read_rtt(path)


def test_the_icb_panel_lists_the_patients_waiting_at_its_independent_sites(with_rtt, shared_data):
    hospitals = pd.read_csv(shared_data / activity_files.HOSPITALS_FILE, dtype=str)
    independent = hospitals[hospitals["sector"].eq("Independent Sector")]
    site = independent[independent["hospitalId"].isin(with_rtt["provider_code"])].iloc[0]
    in_icb = independent.loc[independent["icb24_code"].eq(site["icb24_code"]), "hospitalId"]
    waiting = with_rtt[with_rtt["measure"].eq("patients waiting")]
    expected = waiting.loc[waiting["provider_code"].isin(in_icb), "value"].sum()

    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.query_params["selected_icb"] = site["icb24_code"]
    app.run()

    assert not app.exception
    (flows,) = [frame.value for frame in app.dataframe if "direction" in frame.value.columns]
    here = flows[flows["to_icb"].eq(site["icb24_code"]) & flows["measure"].eq("patients waiting")]
    assert here["value"].sum() == expected > 0
    labels = [button.proto.label for button in app.get("download_button")]
    assert "Download flows (CSV)" in labels
