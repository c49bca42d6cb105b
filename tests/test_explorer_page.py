"""The map explorer page with AppTest: filters, the ICB panel and the view in the URL."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo import workspace
from geo.analysis.metrics import NO_STATUS_KNOWN
from geo.fetch import sources
from geo.maps import codec
from pages import _state
from tests.factories import PROJECT_DIR, hospital_sectors, hospitals_table

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")


@pytest.fixture
def loaded(data_dir, shared_data, monkeypatch):
    """Real boundaries and hospitals, loaded as an offline user would; no tiles fetched."""
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    return data_dir


def explorer(**params: str) -> AppTest:
    """The explorer page opened from a URL with these query parameters."""
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    for name, value in {"vintage": "2024", **params}.items():
        app.query_params[name] = value
    return app.run()


def shown(shared_data, count: int) -> str:
    """The caption's opening for `count` of the real hospitals shown."""
    return f"{count:,} of {len(hospitals_table(shared_data)):,} sites shown"


def _param(app: AppTest, name: str) -> str | None:
    return app.query_params.get(name)


def test_the_explorer_shows_every_site_and_the_map_with_no_filter(loaded, shared_data):
    app = explorer()
    assert not app.exception
    assert app.caption[0].value.startswith(shown(shared_data, len(hospitals_table(shared_data))))
    (folium_map,) = app.get("component_instance")  # streamlit-folium's one component
    assert "L.map(" in folium_map.proto.json_args


def test_a_shared_url_sets_the_filters_and_opens_the_icb_panel(loaded, shared_data):
    app = explorer(sectors="Independent", selected_icb="E54000054")
    assert not app.exception
    assert app.multiselect(key="f-sectors").value == ["Independent"]
    independent = hospital_sectors(shared_data)["Independent"]
    assert app.caption[0].value.startswith(shown(shared_data, independent))
    assert app.selectbox(key="panel-icb").value == "E54000054"
    assert app.subheader[0].value == "NHS West Yorkshire Integrated Care Board"
    assert [metric.label for metric in app.metric][:2] == ["Provider sites", "I+V sites"]


def test_changing_a_filter_updates_the_sites_shown_and_the_url(loaded, shared_data):
    app = explorer()
    app.multiselect(key="f-sectors").select("NHS").run()
    assert not app.exception
    assert app.caption[0].value.startswith(shown(shared_data, hospital_sectors(shared_data)["NHS"]))
    assert _param(app, "sectors") == "NHS"


def test_picking_an_icb_opens_its_panel_with_downloads_and_records_it_in_the_url(loaded):
    app = explorer()
    app.selectbox(key="panel-icb").select("E54000008").run()
    assert not app.exception
    assert app.subheader[0].value == "NHS Cheshire and Merseyside Integrated Care Board"
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download CSV", "Download XLSX"]
    assert _param(app, "selected_icb") == "E54000008"


def test_a_filter_that_matches_nothing_says_so(loaded, shared_data):
    app = explorer(search="no such hospital anywhere")
    assert not app.exception
    assert app.caption[0].value.startswith(shown(shared_data, 0))
    assert any("No sites match" in info.value for info in app.info)


def test_a_postcode_search_zooms_the_map_to_the_site(loaded, shared_data):
    app = explorer(search="KT12 3LD")
    assert not app.exception
    hospitals = hospitals_table(shared_data)
    at_postcode = hospitals[hospitals["pcds"] == "KT12 3LD"]
    assert app.caption[0].value.startswith(shown(shared_data, len(at_postcode)))
    assert _param(app, "zoom") == "14"
    assert float(_param(app, "lat")) == pytest.approx(at_postcode["lat"].item(), abs=0.01)


def test_without_an_engagement_list_the_panel_says_no_site_is_known_to_be_unengaged(loaded):
    app = explorer(selected_icb="E54000054")
    assert any("None here" in info.value for info in app.info)


def test_without_an_engagement_list_the_panel_says_share_and_rank_are_not_known(loaded):
    app = explorer(selected_icb="E54000054")

    metrics = {metric.label: metric for metric in app.metric}
    assert metrics["Share of I+V capacity outside NHS planning"].value == "not known"
    assert metrics["I+V sites outside NHS planning"].value == "not known"
    assert metrics["Share of I+V capacity outside NHS planning"].proto.help == (
        f"Not known, so not ranked: {NO_STATUS_KNOWN}."
    )


def _sites_sent(app: AppTest) -> str:
    """The sites layer as st_folium sent it to the browser (its `feature_group_to_add`)."""
    (component,) = app.get("component_instance")
    return json.loads(component.proto.json_args)["feature_group"]


def _served(sent: str) -> tuple[str, str]:
    """The payload's URL and the mask of sites to show, from the layer st_folium sent."""
    match = re.search(r'IcsMap\.sitesFrom\(\s*"([^"]+)",\s*"([^"]*)"', sent)
    return match.group(1), match.group(2)


def test_the_sites_are_encoded_once_and_each_filter_sends_only_a_mask(loaded, monkeypatch):
    from geo.maps import build, payload

    made, built = [], []
    real_payload, real_layer = payload.ordered_site_payload, build.served_layer

    def counted_payload(sites):
        made.append(len(sites))
        return real_payload(sites)

    def recorded_layer(*args, **options):
        built.append(real_layer(*args, **options))
        return built[-1]

    monkeypatch.setattr(payload, "ordered_site_payload", counted_payload)
    monkeypatch.setattr(build, "served_layer", recorded_layer)

    first = explorer()
    first.run()  # a rerun, as after a pan or click
    second = explorer()  # another session with the same data and filters
    assert not first.exception
    assert not second.exception
    assert len(built) == 3  # the FeatureGroup is built on every run of every session
    assert len({id(group) for group in built}) == 3
    assert _sites_sent(first) == _sites_sent(second)  # same layer: swapped in, not remounted

    second.multiselect(key="f-sectors").select("NHS").run()
    assert not second.exception
    assert made == [1213]  # the sites' payload is made once, whatever the filters
    url, everything = _served(_sites_sent(first))
    same_url, nhs_only = _served(_sites_sent(second))
    assert same_url == url
    data = _state.DataView("2024", _state.fingerprint(), workspace.Pins())
    order = _state.served_sites(data).order  # cached: the one the page made
    analysed = _state.analysis(data).assigned
    shown = codec.unpack_bits(nhs_only, len(order))
    assert shown.sum() == int((analysed["sector"] == "NHS").sum())
    assert set(analysed["sector"].iloc[order[shown]]) == {"NHS"}
    assert codec.unpack_bits(everything, len(order)).all()
    assert len(nhs_only) < 300  # base64 bits for 1,213 sites, not the sites again


@pytest.mark.parametrize(
    ("params", "ignored"),
    [
        ({"lat": "NaN", "lon": "-1.5", "zoom": "inf"}, "lat, zoom"),
        ({"lat": "inf", "lon": "inf", "zoom": "1e9", "near_border_km": "nan"},
         "near_border_km, lat, lon, zoom"),
    ],
)  # fmt: skip
def test_a_link_with_numbers_that_are_not_finite_opens_the_default_view_and_says_so(
    loaded, params, ignored
):
    app = explorer(**params)

    assert not app.exception
    assert app.caption[0].value == (
        f"Not usable in this link, so left at their defaults: {ignored}."
    )
    assert app.caption[1].value.startswith("1,213 of 1,213 sites shown")
    for name in ignored.split(", "):
        assert _param(app, name) is None  # the link written back is clean
