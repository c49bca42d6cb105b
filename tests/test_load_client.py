"""The load benchmark's websocket clients (pages/_bench_load.py) against the real app.

They speak Streamlit's protocol without a browser, so these tests need only the shared
data and a running server: the clients' first views, filter changes and ICB panels
must be what a browser would get, and a panel that does not appear must count as lost.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from geo.fetch import sources
from geo.testing.app_server import running_app, server_pid
from pages import _bench_load, _session_client


@pytest.fixture(scope="module")
def served(shared_data, tmp_path_factory):
    """The app serving the real boundaries and the real hospitals, loaded offline; its
    base URL and process id."""
    folder = tmp_path_factory.mktemp("load") / "data"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        sources.fetch_from_dir(shared_data)
    log = tmp_path_factory.mktemp("load-log") / "streamlit.log"
    with running_app(folder, log) as base:
        assert "First page runs done in" in log.read_text(encoding="utf-8")  # before healthy
        yield base, server_pid(base)


def test_a_client_sees_the_explorer_and_its_panel_as_a_browser_would(served):
    base, _ = served

    async def visit():
        client = _session_client.Client(base, "explorer", "vintage=2024")
        await client.open()
        try:
            first = await client.rerun()
            sites_bytes = await client.fetch_sites()
            panel = client.widgets[_bench_load.PANEL_LABEL]
            name = "NHS West Yorkshire Integrated Care Board"
            chosen = WidgetState(id=panel.id, string_value=name)
            shown = await client.rerun((chosen,), panel.fragment_id)
            border = client.widgets[_bench_load.FILTER_LABEL]
            near = WidgetState(id=border.id, double_value=5.0)
            filtered = await client.rerun((near,))
            return first, sites_bytes, shown, filtered, client.query
        finally:
            await client.close()

    first, sites_bytes, shown, filtered, query = asyncio.run(visit())
    assert first.headings == ["Map explorer"]
    assert first.bytes_received > 100_000  # the map, its boundaries and the mask of sites
    assert sites_bytes > 10_000  # 1,213 sites, gzipped, fetched once as the map's frame does
    assert shown.headings == ["NHS West Yorkshire Integrated Care Board"]
    assert shown.bytes_received < first.bytes_received / 10  # the fragment alone
    assert "near_border_km=5.0" in query
    assert "selected_icb=E54000054" in query
    assert filtered.bytes_received > 100_000  # the whole page again, the map refiltered


def test_a_short_load_records_every_action_and_loses_nobody(served):
    base, pid = served
    result = asyncio.run(_bench_load.load(base, sessions=2, duration_s=4.0, think_s=0.2, pid=pid))
    assert result.lost == 0, result.errors
    assert len(result.latencies["first view"]) == 2
    assert result.latencies["filter"]
    assert result.latencies["panel"]
    assert all(0 < seconds < 60 for seconds in result.latencies["filter"])
    assert set(result.rss_mb) == {"before", "connected", "after"}
    assert all(mb > 50 for mb in result.rss_mb.values())  # a Python server with pandas in it


def test_a_panel_that_never_appears_is_a_lost_session(served, monkeypatch):
    """An ICB name the chooser does not offer: Streamlit keeps the old choice, no heading
    of that name comes back, and the client must not count it as a success."""
    base, pid = served
    real_client = _bench_load.Client

    class WrongNames(real_client):
        async def rerun(self, states=(), fragment_id=""):
            states = tuple(
                WidgetState(id=s.id, string_value="NHS Atlantis ICB") if s.string_value else s
                for s in states
            )
            return await super().rerun(states, fragment_id)

    monkeypatch.setattr(_bench_load, "Client", WrongNames)
    result = asyncio.run(_bench_load.load(base, sessions=1, duration_s=3.0, think_s=0.2, pid=pid))
    assert result.lost == 1
    assert result.errors[0].startswith("ScriptFailed: the panel of ")


def test_the_server_pid_is_a_running_process(served):
    _, pid = served
    assert os.path.exists(f"/proc/{pid}/status")
    assert _bench_load.rss_mb(pid) > 0


def test_the_map_components_files_are_served_after_a_first_view(served):
    """Streamlit registers streamlit-folium's component only when a page run imports it;
    the start-up must leave that import to the page, or every map frame is refused."""
    import urllib.request

    base, _ = served

    async def first_view():
        client = _session_client.Client(base, "explorer", "vintage=2024")
        await client.open()
        try:
            await client.rerun()
        finally:
            await client.close()

    asyncio.run(first_view())
    url = f"{base}/component/streamlit_folium.st_folium/index.html"
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
        assert b"<html" in answer.read().lower()


def test_users_spread_over_several_processes_and_their_memory_adds_up(served):
    """Two processes as the load section starts them; here the same server named twice, so
    every user is served and the memory read is that process's twice over."""
    base, pid = served
    result = asyncio.run(
        _bench_load.load([base, base], sessions=2, duration_s=3.0, think_s=0.2, pid=[pid, pid])
    )
    assert result.lost == 0, result.errors
    assert len(result.latencies["first view"]) == 2
    one = _bench_load.rss_mb(pid)
    assert _bench_load.rss_mb(pid, pid) == pytest.approx(2 * one, rel=0.05)
