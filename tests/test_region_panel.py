"""The explorer's NHS region with AppTest: the panel a regional lead reads and downloads,
and the home page's table. Real boundaries and hospitals; every third independent
hospital not engaged, the rest engaged."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from geo.analysis import readable
from geo.fetch import sources
from geo.io import readers
from geo.model import sectors
from geo.model.providers import ENGAGED, NOT_ENGAGED
from geo.store.versions import open_store
from tests.factories import PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
NORTH_EAST_AND_YORKSHIRE = "E40000012"
HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"


@pytest.fixture
def published(data_dir, shared_data, monkeypatch):
    """Boundaries, regions and lookups loaded offline, and the hospitals published with statuses."""
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    hospitals = readers.read_sites(shared_data / HOSPITALS).sites
    independent = hospitals.index[hospitals["sector"] == "Independent"]
    hospitals.loc[independent, "planning_status"] = ENGAGED
    hospitals.loc[independent[::3], "planning_status"] = NOT_ENGAGED
    with open_store() as store:
        store.publish(
            "sites", "sites", hospitals, author="analyst", file_name="statuses.csv",
            checksum="s", counts={"accepted": len(hospitals)},
        )  # fmt: skip
    return hospitals


def explorer(**params: str) -> AppTest:
    """The explorer page opened from a URL with these query parameters."""
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    for name, value in {"vintage": "2024", **params}.items():
        app.query_params[name] = value
    return app.run()


def table(app: AppTest, title_label: str):
    """The first table on the page with a column labelled `title_label`."""
    return next(frame.value for frame in app.dataframe if title_label in frame.value.columns)


def test_picking_a_region_opens_its_panel_and_puts_it_in_the_url(published):
    app = explorer()
    app.selectbox(key="panel-region").select(NORTH_EAST_AND_YORKSHIRE).run()

    assert not app.exception
    assert app.subheader[0].value == "North East and Yorkshire (NHS region)"
    assert app.query_params["selected_region"] == NORTH_EAST_AND_YORKSHIRE
    assert "lat" not in app.query_params  # the map fits the region rather than a stored view


def test_the_region_panel_sets_its_icbs_side_by_side_highest_share_first(published):
    app = explorer(selected_region=NORTH_EAST_AND_YORKSHIRE)

    icbs = table(app, "ICB")
    share = readable.label(readable.SHARE_COLUMN)
    assert list(icbs.columns[:2]) == ["ICB", share]
    assert len(icbs) == 4  # North East and North Cumbria, Humber and North Yorkshire, ...
    known = icbs[share].dropna()
    assert len(known) == len(icbs)
    assert known.is_monotonic_decreasing
    assert known.iloc[0] > known.iloc[-1]
    figures = {metric.label: metric.value for metric in app.metric}
    assert (
        figures["I+V sites outside NHS planning"]
        == f"{icbs[readable.label('iv_sites_outside')].sum():,}"
    )


def test_the_region_list_holds_its_iv_sites_not_engaged_and_downloads(published):
    app = explorer(selected_region=NORTH_EAST_AND_YORKSHIRE)

    listed = table(app, "Site")
    flagged = published[
        published["sector"].isin(sectors.IV_SECTORS)
        & (published["planning_status"] == NOT_ENGAGED)
        & published["icb24_code"].isin(table(app, "ICB code")["ICB code"])
    ]
    assert sorted(listed["Site"]) == sorted(flagged["site_name"])
    assert len(listed) > 0
    distances = listed["Distance to another ICB (m)"].dropna()
    assert (distances == distances.round()).all()  # whole metres
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download the region's list (CSV)", "Download the region's list (XLSX)"]


def test_the_sector_chart_uses_the_maps_sector_colours_in_the_maps_order(published):
    app = explorer(selected_region=NORTH_EAST_AND_YORKSHIRE)

    (chart,) = app.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    colour = spec["encoding"]["color"]["scale"]
    assert spec["encoding"]["y"]["sort"] == list(sectors.SECTORS)
    assert colour == {
        "domain": list(sectors.SECTORS),
        "range": [sectors.SECTOR_COLOURS[s] for s in sectors.SECTORS],
    }


def test_a_shared_link_to_a_region_keeps_the_view_it_was_sent_with(published):
    app = explorer(selected_region=NORTH_EAST_AND_YORKSHIRE, lat="54.2", lon="-1.4", zoom="9")

    assert not app.exception
    assert app.selectbox(key="panel-region").value == NORTH_EAST_AND_YORKSHIRE
    assert (app.query_params["lat"], app.query_params["zoom"]) == ("54.2", "9")
