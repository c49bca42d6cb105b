"""With open data loaded (RTT and ONS populations among it), the explorer draws a chosen ICB's
flows of patients on the map, and the map can be coloured by figures per head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import workspace
from geo.analysis import pipeline
from geo.maps import build as maps
from geo.maps.flows import LAYER_NAME, flow_lines
from tests.factories import PROJECT_DIR, open_data_folder

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")


@pytest.fixture(scope="module")
def open_data_dir(shared_data, tmp_path_factory) -> Path:
    """A data folder whose cache holds the boundaries, the hospitals and the open data only."""
    return open_data_folder(shared_data, tmp_path_factory.mktemp("open"))


@pytest.fixture
def analysis(open_data_dir, monkeypatch) -> pipeline.Analysis:
    """The open data's analysis, the app reading the same folder."""
    monkeypatch.setenv("ICS_DATA_DIR", str(open_data_dir))
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return pipeline.analyse(workspace.load_frames("2024", None))


def _map_sent(app: AppTest) -> str:
    """The map st_folium sent to the browser, as its script."""
    (component,) = app.get("component_instance")
    return json.loads(component.proto.json_args)["script"]


def _icb_with_most_lines(analysis: pipeline.Analysis) -> tuple[str, int]:
    """The ICB whose flows make the most lines, and how many."""
    counts = {
        code: len(flow_lines(analysis.flows, code, analysis.icbs, analysis.assigned))
        for code in analysis.flows["from_icb"].dropna().unique()
    }
    code = max(counts, key=counts.get)
    return code, counts[code]


def test_choosing_an_icb_draws_its_flows_as_a_layer_of_the_map(analysis):
    code, lines = _icb_with_most_lines(analysis)
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=180)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.run()
    assert not app.exception
    assert LAYER_NAME not in _map_sent(app)

    app.selectbox(key="panel-icb").set_value(code).run()

    assert not app.exception
    sent = _map_sent(app)
    assert f'"{LAYER_NAME}" : feature_group_' in sent
    assert sent.count("L.polyline(") == lines > 0


def test_the_explorer_offers_figures_per_head_and_colours_the_map_by_them(analysis):
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=180)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.run()
    choice = app.selectbox(key="f-metric")
    assert maps.PER_HEAD_METRICS["sites_per_100k"].label in choice.options

    choice.set_value("iv_capacity_per_100k").run()

    assert not app.exception
    year = str(analysis.per_head["population_year"].dropna().iloc[0])
    label = maps.PER_HEAD_METRICS["iv_capacity_per_100k"].label
    assert f"{label} (ONS mid-{year} population)" in _map_sent(app)
