"""The explorer's region panel with population estimates loaded: the region's population (its
ICBs' sum) with the estimate's year, and its provider sites per 100,000 people."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.fetch import sources
from geo.io.population import read_population
from geo.testing import population_files
from tests.factories import PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")

NORTH_EAST_AND_YORKSHIRE = "E40000012"


@pytest.fixture
def with_population(data_dir, shared_data, monkeypatch, tmp_path):
    """Real boundaries and hospitals and an ONS ICB workbook (made-up counts), taken offline."""
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    folder = tmp_path / "ons"
    folder.mkdir()
    lookup = population_files.read_shared_lookup(shared_data)
    workbook = population_files.write_icb_population(folder / "sapeicb2024.xlsx", lookup, ("2024",))
    sources.fetch_from_dir(folder)
    return workbook


def test_the_region_panel_shows_the_sum_of_its_icbs_populations_with_the_year(with_population):
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.session_state["region-seeded"] = True
    app.session_state["panel-region"] = NORTH_EAST_AND_YORKSHIRE
    app.run()

    assert not app.exception
    estimates = read_population(with_population).areas
    texts = [block.value for block in app.markdown]
    shown = [text for text in texts if text.startswith("**Population ")]
    assert len(shown) == 1, texts
    assert "(ONS mid-2024 estimate, the sum of its ICBs')" in shown[0]
    assert "provider sites per 100,000 people" in shown[0]
    assert estimates["total"].sum() > 0
