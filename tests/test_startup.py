"""The server's start-up: `streamlit run dashboard.py` serves an st.App whose lifespan warms
the caches, so a freshly started server's first page view does no analysis of its own."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest
from streamlit.web.server.app_discovery import discover_asgi_app

from geo import workspace
from geo.fetch import sources
from geo.maps import build, payload
from pages import _startup, _state
from tests.factories import PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")


@pytest.fixture
def loaded(data_dir, shared_data, monkeypatch):
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    return data_dir


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Calls that a page view makes only when nothing is cached: an analysis read or
    computed, a map built, the sites' payload encoded."""
    calls: list[str] = []
    for module, name in (
        (workspace, "analyse"),
        (build, "build_map"),
        (payload, "ordered_site_payload"),
    ):
        real = getattr(module, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return calls


def test_streamlit_run_finds_the_app_with_its_start_up():
    found = discover_asgi_app(PROJECT_DIR / "dashboard.py")
    assert found.is_asgi_app
    assert found.app_name == "app"
    source = (PROJECT_DIR / "dashboard.py").read_text(encoding="utf-8")
    assert "lifespan=_startup.lifespan" in source


def test_after_warming_up_the_explorer_of_any_vintage_computes_nothing(loaded, counted):
    warmed = _startup.warm_up()
    assert warmed.problem is None
    assert warmed.vintages == workspace.vintages(_state.store())
    assert len(warmed.vintages) == 4
    assert counted.count("ordered_site_payload") == 4
    assert counted.count("build_map") == 8  # each vintage's home map and explorer map
    counted.clear()
    for vintage in warmed.vintages:
        app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
        app.switch_page("pages/explorer.py")
        app.query_params["vintage"] = vintage
        app.run()
        assert not app.exception
        assert f"· {vintage} ICBs" in app.caption[0].value
        home = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
        home.query_params["vintage"] = vintage
        home.run()
        assert not home.exception
        assert home.get("component_instance")  # the home map was drawn, from the cache
    assert counted == []


def test_without_warming_up_the_first_view_does_the_work(loaded, counted):
    """The same page view on caches left cold: what the start-up saves the first visitor."""
    st_cache_clear()
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard.py"), default_timeout=120)
    app.switch_page("pages/explorer.py")
    app.query_params["vintage"] = "2024"
    app.run()
    assert not app.exception
    assert {"analyse", "build_map", "ordered_site_payload"} <= set(counted)


def test_a_start_with_no_data_is_quick_and_says_so(data_dir):
    warmed = _startup.warm_up()
    assert warmed.vintages == []
    assert warmed.problem is None
    assert warmed.modules > 10  # pandas, geopandas, folium, geo's modules
    assert warmed.line().startswith("Ready in ")
    assert "analyses of none read" in warmed.line()


def test_a_store_that_cannot_be_read_stops_the_warm_up_without_stopping_the_server(
    data_dir, monkeypatch
):
    def broken():
        raise OSError("disk I/O error at postgresql://analyst:s3cret@db/ics")

    monkeypatch.setattr(_state, "store", broken)
    warmed = _startup.warm_up()
    assert warmed.vintages == []
    assert warmed.problem.startswith("OSError: disk I/O error")
    assert "s3cret" not in warmed.problem
    assert "s3cret" not in warmed.line()
    assert "the first page view will say more" in warmed.line()


def st_cache_clear() -> None:
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def not_ready():
    """The process as it starts: its first page runs not yet done (and so again after)."""
    _startup._ready.clear()
    yield
    _startup._ready.clear()


def _gated() -> TestClient:
    async def ok(request):
        return PlainTextResponse("ok")

    routes = [Route("/_stcore/health", ok), Route("/explorer", ok)]
    return TestClient(_startup.ReadyGate(Starlette(routes=routes)))


def test_the_health_check_says_not_ready_until_the_first_page_runs_are_done(not_ready):
    client = _gated()
    assert client.get("/_stcore/health").status_code == 503
    assert client.get("/explorer").status_code == 200  # only the health check waits
    _startup._ready.set()
    assert client.get("/_stcore/health").status_code == 200


def test_first_page_runs_that_cannot_connect_still_leave_the_server_ready(
    not_ready, monkeypatch, caplog
):
    monkeypatch.setattr(_startup, "FIRST_RUNS_TIMEOUT_S", 0.5)
    asyncio.run(_startup.first_page_runs("http://127.0.0.1:9"))  # nothing listens on port 9
    assert _startup._ready.is_set()
    assert "The first page runs stopped: TimeoutError" in caplog.text


@pytest.mark.parametrize(
    ("address", "base_path", "expected"),
    [
        ("", "", "http://127.0.0.1:8765"),
        ("0.0.0.0", "/maps/", "http://127.0.0.1:8765/maps"),  # noqa: S104
        ("::1", "", "http://[::1]:8765"),
        ("10.1.2.3", "ics", "http://10.1.2.3:8765/ics"),
    ],
)
def test_the_server_finds_itself_where_it_listens(monkeypatch, address, base_path, expected):
    options = {"server.address": address, "server.baseUrlPath": base_path, "server.port": 8765}
    monkeypatch.setattr(_startup.st, "get_option", options.get)
    assert _startup.own_base_url() == expected


def test_a_server_on_https_does_not_visit_itself(monkeypatch):
    options = {"server.sslCertFile": "/etc/ics/cert.pem", "server.port": 8765}
    monkeypatch.setattr(_startup.st, "get_option", options.get)
    assert _startup.own_base_url() is None
