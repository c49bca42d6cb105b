"""Shared fixtures: the real data in ../shared/data, committed fixtures, fake servers, a served app."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from geo.testing.app_server import AppDidNotStart, running_app
from geo.testing.arcgis_server import FakePublishers, serving_publishers
from geo.testing.postcodes_server import FakePostcodesIo, serving_postcodes_io
from tests.factories import FIXTURES, SHARED_DATA, require

# The PostgreSQL test server, as set when the tests started (`data_dir` unsets DATABASE_URL).
TEST_DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real open data in ../shared/data; skips on a fresh clone without it."""
    require(SHARED_DATA.is_dir(), f"needs the real open data in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Small publisher-format files committed under tests/fixtures."""
    return FIXTURES


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data folder and SQLite store for this test: nothing touches data/ or a server.

    Under CI, DATABASE_URL points at the PostgreSQL test server for the store tests; other
    tests must not write into it, so it is unset here.
    """
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("ICS_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return folder


@pytest.fixture
def apptest_runs_like_a_served_app(monkeypatch):
    """Make AppTest run dashboard.py on every rerun, as a running server does.

    Streamlit treats our `pages/` folder as an old-style multipage app until a session
    has called st.navigation, and AppTest starts every run afresh in that mode, so it
    would run a page without dashboard.py's frame after each widget event. A served app
    leaves that mode after its first visit (which tests/test_app_browser.py covers).
    The AppTest modules ask for this with `pytestmark`; both the patched class and the
    flag it sets on Streamlit's own PagesManager are put back after each test.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class _ServedPagesManager(PagesManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "uses_pages_directory", PagesManager.uses_pages_directory)
    monkeypatch.setattr(app_test, "PagesManager", _ServedPagesManager)


def postgres_schema_url() -> Iterator[str]:
    """A URL of the PostgreSQL test server whose search_path puts a fresh schema first,
    dropped afterwards (a generator: `yield from` it in a fixture)."""
    import psycopg

    base = TEST_DATABASE_URL
    require(
        base.startswith(("postgresql://", "postgres://")),
        'needs a PostgreSQL server with PostGIS: run eval "$(bash .ci/postgres.sh)" to set DATABASE_URL',
    )
    schema = f"test_store_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options=-csearch_path%3D{schema},public"
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a folder and the files in it unwritable until the test ends, even for root.

    chmod does not stop root, so as root the folder and files are made immutable with
    chattr; the test is skipped (failed under CI) where neither works.
    """
    made: list[Path] = []

    def _lock(folder: Path) -> None:
        paths = [folder, *(path for path in folder.iterdir() if path.is_file())]
        for path in paths:
            _set_writable(path, False)
            made.append(path)
        probe = folder / ".probe"
        try:
            probe.touch()
        except OSError:
            return
        probe.unlink()
        require(False, f"cannot make {folder} read-only here (needs chattr as root)")

    yield _lock
    for path in reversed(made):
        _set_writable(path, True)


def _set_writable(path: Path, writable: bool) -> None:
    chattr = shutil.which("chattr") if os.geteuid() == 0 else None
    if chattr and writable:
        subprocess.run([chattr, "-i", str(path)], check=False)
    mode = path.stat().st_mode
    path.chmod(mode | 0o200 if writable else mode & ~0o222)
    if chattr and not writable:
        subprocess.run([chattr, "+i", str(path)], check=False)


@pytest.fixture
def arcgis_server(tmp_path_factory) -> Iterator[FakePublishers]:
    """The publishers' stand-in (ONS ArcGIS, CQC, NHS ODS) on 127.0.0.1, stopped after the test."""
    with serving_publishers(tmp_path_factory.mktemp("cqc"), SHARED_DATA, FIXTURES) as publishers:
        yield publishers


@pytest.fixture
def postcodes_server() -> Iterator[FakePostcodesIo]:
    """A postcodes.io stand-in on 127.0.0.1 knowing the sample postcodes, stopped after."""
    with serving_postcodes_io() as fake:
        yield fake


@pytest.fixture(scope="module")
def streamlit_app(app_data_dir: Path, tmp_path_factory) -> Iterator[str]:
    """The base URL of the real app serving `app_data_dir` (one server per test module)."""
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    try:
        with running_app(app_data_dir, log_path) as base:
            yield base
    except AppDidNotStart as error:
        pytest.fail(str(error))


@pytest.fixture(autouse=True)
def _collectable_after_each_test():
    """The app freezes what it keeps for its life out of the garbage collector's sight
    (pages/_startup.py); a test's analyses must not outlive the test that made them."""
    yield
    gc.unfreeze()
