"""The explorer's ICB panel with population estimates loaded: figures per head and peer ranks."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.analysis import readable
from geo.fetch import sources
from geo.io.population import read_population
from geo.testing import population_files
from tests.factories import PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")

WEST_YORKSHIRE = "E54000054"
ICBS_2024 = 42


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


def _panel(icb_code: str) -> AppTest:
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.query_params["selected_icb"] = icb_code
    return app.run()


def test_the_icb_panel_shows_its_population_and_per_head_figures_ranked_among_peers(
    with_population,
):
    app = _panel(WEST_YORKSHIRE)

    assert not app.exception
    estimates = read_population(with_population)
    rows = estimates.areas[estimates.areas["icb_code"].eq(WEST_YORKSHIRE)]
    population = f"Population {rows['total'].sum():,.0f} (mid-2024)"
    captions = [caption.value for caption in app.caption]
    assert any(text.startswith(population) for text in captions), captions
    labels = [metric.label for metric in app.metric]
    assert "provider sites per 100,000 people" in labels
    standings = [text for text in captions if text.startswith(("Rank ", "Not ranked"))]
    assert len(standings) == 3  # one per measure shown, ranked or saying why not
    ranked = [text for text in standings if text.startswith("Rank ")]
    assert standings[0].startswith("Rank ")  # sites per head: every ICB has sites and a population
    assert all(f" of {ICBS_2024} ICBs (" in text and "national median" in text for text in ranked)


def test_without_population_estimates_the_panel_has_no_per_head_section(
    data_dir, shared_data, monkeypatch
):
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    app = _panel(WEST_YORKSHIRE)

    assert not app.exception
    assert "provider sites per 100,000 people" not in [metric.label for metric in app.metric]
    assert not [m for m in app.markdown if m.value == "**Per head of population**"]


def test_the_home_metrics_table_has_the_population_and_per_head_columns(with_population):
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.query_params["vintage"] = "2024"
    app.run()

    assert not app.exception
    label = readable.label
    metrics = app.dataframe[0].value.set_index(label("icb_code"))
    west_yorkshire = metrics.loc[WEST_YORKSHIRE]
    expected = west_yorkshire[label("sites_total")] / west_yorkshire[label("population")] * 1e5
    assert west_yorkshire[label("sites_per_100k")] == round(expected, 1)
    assert west_yorkshire[label("population_year")] == "2024"
    assert any("Figures per 100,000 people" in caption.value for caption in app.caption)
