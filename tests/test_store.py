"""The versioned dataset store, run against SQLite always and PostgreSQL+PostGIS when DATABASE_URL is set."""

from __future__ import annotations

import io
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.model.errors import InputError
from geo.model.providers import CANONICAL_DTYPES
from geo.store import backends as store_sql
from geo.store.versions import KINDS, Store, open_store
from tests.conftest import postgres_schema_url
from tests.factories import (
    BOW_TIE,
    EMPTY,
    LINE,
    MULTIPART,
    POINT,
    WITH_HOLE,
    boundary_frame,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
COUNTS = {"accepted": 3, "warned": 1, "rejected": 2}


# Where each test's store lives: a fresh SQLite file, or a fresh PostgreSQL schema.


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """A URL for an empty store of its own, removed after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    yield from postgres_schema_url()


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


# Small tables in the shapes the app stores.


def _sites(n: int = 3, *, label: str = "site") -> pd.DataFrame:
    """A canonical provider table with nulls in every column and a passed-through publisher column."""
    frame = pd.DataFrame(
        {
            column: pd.array(
                [
                    None if i % 3 == 2 else (i * 1.5 if dtype == "Float64" else f"{label} {i}")
                    for i in range(n)
                ],
                dtype=dtype,
            )
            for column, dtype in CANONICAL_DTYPES.items()
        }
    )
    frame["is_iv"] = [i % 2 == 0 for i in range(n)]
    frame["outside_england"] = pd.array(
        [True, None, False] * (n // 3) + [False] * (n % 3), dtype="boolean"
    )
    frame["Care homes beds"] = pd.array([i if i % 3 else None for i in range(n)], dtype="Int64")
    frame["Location Type/Sector"] = pd.array(["Social Care Org"] * n, dtype="str")
    return frame


def _boundaries() -> gpd.GeoDataFrame:
    """Awkward shapes (a hole, islands, an invalid bow-tie, empty, a point, a line, a missing one) in EPSG:4326."""
    frame = boundary_frame([WITH_HOLE, MULTIPART, BOW_TIE, EMPTY, POINT, LINE]).to_crs(4326)
    missing = gpd.GeoDataFrame(
        {"ICB23CD": ["E54000099"], "ICB23NM": ["Nowhere"], "ICB23CDH": ["Q99"]},
        geometry=[None],
        crs=4326,
    )
    return pd.concat([frame, missing], ignore_index=True)


def _publish(
    store: Store, dataset: str, frame: pd.DataFrame, *, kind: str = "sites", author: str = "analyst"
):
    return store.publish(
        dataset,
        kind,
        frame,
        author=author,
        file_name=f"{dataset}.csv",
        checksum=f"sha256:{len(frame)}",
        counts=COUNTS,
        meta={"columns": list(frame.columns)[:2]},
    )


# Round trips.


def test_a_canonical_provider_table_loads_back_exactly(store):
    sites = _sites(7)

    _publish(store, "sites", sites)

    pd.testing.assert_frame_equal(store.load("sites"), sites)


def test_a_filtered_table_keeps_its_index(store):
    sites = _sites(9)
    kept = sites[sites["sector"].notna()]

    _publish(store, "sites", kept)

    pd.testing.assert_frame_equal(store.load("sites"), kept)


def test_an_empty_table_loads_back_empty_but_typed(store):
    empty = _sites(3).iloc[:0]

    _publish(store, "sites", empty)

    loaded = store.load("sites")
    assert loaded.empty
    pd.testing.assert_frame_equal(loaded, empty)


def test_awkward_geometries_load_back_exactly_in_epsg_4326(store):
    boundaries = _boundaries()

    _publish(store, "boundaries-icb-2023", boundaries, kind="boundaries")

    loaded = store.load("boundaries-icb-2023")
    assert isinstance(loaded, gpd.GeoDataFrame)
    assert loaded.crs.to_epsg() == 4326
    assert_geodataframe_equal(loaded, boundaries)


def test_real_icb_boundaries_load_back_exactly(store, shared_data):
    icbs = gpd.read_file(shared_data / "icb_2022_07_buc.geojson")

    _publish(store, "boundaries-icb-2022", icbs, kind="boundaries")

    assert_geodataframe_equal(store.load("boundaries-icb-2022"), icbs)


# Versions, the audit log and reverts.


def test_each_publish_is_a_new_version_and_the_newest_is_current(store):
    first, second = _sites(3, label="first"), _sites(4, label="second")

    one = _publish(store, "sites", first)
    two = _publish(store, "sites", second)

    assert (one.version, two.version) == (1, 2)
    assert store.current_version("sites") == 2
    pd.testing.assert_frame_equal(store.load("sites"), second)
    pd.testing.assert_frame_equal(store.load("sites", version=1), first)


def test_the_audit_log_says_who_published_what_when(store):
    before = datetime.now(UTC)
    published = _publish(store, "sites", _sites(5), author="Asha")
    after = datetime.now(UTC)

    log = store.versions("sites")

    assert list(log.columns) == [
        "dataset", "version", "kind", "author", "published_at", "file_name", "checksum", "rows",
        "accepted", "warned", "rejected", "action", "reverted_to", "current",
    ]  # fmt: skip
    row = log.iloc[0]
    assert (row["dataset"], row["version"], row["kind"], row["author"]) == (
        "sites",
        1,
        "sites",
        "Asha",
    )
    assert (row["file_name"], row["checksum"], row["rows"]) == ("sites.csv", "sha256:5", 5)
    assert (row["accepted"], row["warned"], row["rejected"]) == (3, 1, 2)
    assert (row["action"], row["current"]) == ("publish", True)
    assert pd.isna(row["reverted_to"])
    assert str(log["published_at"].dtype) == "datetime64[us, UTC]"
    assert before <= row["published_at"].to_pydatetime() <= after
    assert store.version_info("sites", 1) == published


def test_revert_makes_an_earlier_version_current_as_a_new_version_and_keeps_history(store):
    first, second = _sites(3, label="first"), _sites(4, label="second")
    _publish(store, "sites", first)
    _publish(store, "sites", second)

    reverted = store.revert("sites", 1, author="Lead")

    assert (reverted.version, reverted.action, reverted.reverted_to) == (3, "revert", 1)
    assert (reverted.author, reverted.rows, reverted.file_name) == ("Lead", 3, "sites.csv")
    assert store.current_version("sites") == 3
    pd.testing.assert_frame_equal(store.load("sites"), first)
    pd.testing.assert_frame_equal(store.load("sites", version=2), second)
    log = store.versions("sites")
    assert log["action"].tolist() == ["publish", "publish", "revert"]
    assert log["current"].tolist() == [False, False, True]
    assert log["reverted_to"].iloc[2] == 1


def test_publishing_after_a_revert_continues_the_numbering(store):
    _publish(store, "sites", _sites(3, label="first"))
    _publish(store, "sites", _sites(4, label="second"))
    store.revert("sites", 1, author="Lead")
    third = _sites(5, label="third")

    published = _publish(store, "sites", third)

    assert published.version == 4
    pd.testing.assert_frame_equal(store.load("sites"), third)


def test_reverting_to_a_revert_brings_back_the_rows_it_held(store):
    first = _sites(3, label="first")
    _publish(store, "sites", first)
    _publish(store, "sites", _sites(4, label="second"))
    store.revert("sites", 1, author="Lead")
    _publish(store, "sites", _sites(5, label="third"))

    store.revert("sites", 3, author="Lead")

    pd.testing.assert_frame_equal(store.load("sites"), first)


def test_reverting_to_the_current_version_is_refused(store):
    _publish(store, "sites", _sites(3))

    with pytest.raises(InputError, match="version 1 is already current"):
        store.revert("sites", 1, author="Lead")
    assert len(store.versions("sites")) == 1


def test_datasets_lists_each_dataset_with_its_current_version(store):
    _publish(store, "sites", _sites(3))
    _publish(store, "sites", _sites(6))
    _publish(store, "boundaries-icb-2023", _boundaries(), kind="boundaries")

    listed = store.datasets()

    assert listed["dataset"].tolist() == ["boundaries-icb-2023", "sites"]
    assert listed["kind"].tolist() == ["boundaries", "sites"]
    assert listed["current_version"].tolist() == [1, 2]
    assert listed["versions"].tolist() == [1, 2]
    assert listed["rows"].tolist() == [len(_boundaries()), 6]


def test_an_empty_store_lists_nothing_but_typed(store):
    assert store.datasets().empty
    assert store.versions().empty
    assert str(store.versions()["published_at"].dtype) == "datetime64[us, UTC]"
    assert store.current_version("sites") is None


# Clear errors for what is not there, or cannot be stored.


def test_an_unknown_dataset_is_named_with_the_datasets_there(store):
    _publish(store, "sites", _sites(3))
    _publish(store, "engagement", _sites(3), kind="engagement")

    with pytest.raises(InputError, match=r"no dataset named 'sities'; it has engagement, sites"):
        store.load("sities")
    with pytest.raises(InputError, match="no dataset named 'sities'"):
        store.versions("sities")
    with pytest.raises(InputError, match="no dataset named 'sities'"):
        store.revert("sities", 1, author="Lead")


def test_an_unknown_version_is_named_with_the_versions_there(store):
    _publish(store, "sites", _sites(3))
    _publish(store, "sites", _sites(4))

    with pytest.raises(InputError, match="dataset sites has no version 7; it has versions 1, 2"):
        store.load("sites", version=7)
    with pytest.raises(InputError, match="has no version 7"):
        store.revert("sites", 7, author="Lead")


@pytest.mark.parametrize(
    ("dataset", "kind", "frame", "author", "counts", "meta", "message"),
    [
        ("Sites!", "sites", _sites(1), "a", {}, None, "dataset name 'Sites!' is not a sites name: expected 'sites'"),
        ("sites", "hospitals", _sites(1), "a", {}, None, "kind 'hospitals' is not one of sites, engagement"),
        ("sites", "sites", [1, 2], "a", {}, None, "expected a DataFrame or GeoDataFrame, got list"),
        ("sites", "sites", _sites(1), "  ", {}, None, "the author is missing"),
        ("sites", "sites", _sites(1), "a", {"dropped": 1}, None, "counts has unknown keys dropped"),
        ("sites", "sites", _sites(1), "a", {"rejected": -1}, None, "counts rejected must be whole numbers"),
        ("sites", "sites", pd.DataFrame([[1, 2]], columns=["a", "a"]), "a", {}, None, "1 duplicate column names: a"),
        ("sites", "sites", pd.DataFrame([[1, 2]]), "a", {}, None, "column names must be text, not 0, 1"),
        ("sites", "sites", _sites(1), "a", {}, {"when": datetime.now(UTC)}, "meta cannot be stored as JSON"),
        ("boundaries-icb-2023", "boundaries", boundary_frame([POINT]), "a", {}, None, "geometry CRS is EPSG:27700; the store keeps EPSG:4326"),
        ("boundaries-icb-2023", "boundaries", boundary_frame([POINT], crs=None), "a", {}, None, "geometry CRS is not set"),
        ("sites", "sites", pd.DataFrame({"mixed": [1, "x"]}), "a", {}, None, "the table cannot be stored"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_in_one_line_before_anything_is_written(
    store, dataset, kind, frame, author, counts, meta, message
):
    with pytest.raises(InputError, match=message) as raised:
        store.publish(
            dataset,
            kind,
            frame,
            author=author,
            file_name="f.csv",
            checksum="c",
            counts=counts,
            meta=meta,
        )

    assert "\n" not in str(raised.value)
    assert store.datasets().empty
    assert store.versions().empty


def test_a_dataset_keeps_its_kind(store):
    _publish(store, "sites", _sites(3))

    with pytest.raises(
        InputError,
        match="dataset name 'sites' is a sites name, not a lookup one",
    ):
        _publish(store, "sites", _sites(3), kind="lookup")
    assert store.current_version("sites") == 1


def test_every_kind_can_be_published_under_a_name_of_its_kind(store):
    names = {kind: f"{kind}-data" for kind in KINDS} | {"boundaries": "boundaries-nhser-2024"}
    for kind, name in names.items():
        _publish(store, name, _sites(2), kind=kind)

    assert store.datasets()["kind"].tolist() == sorted(KINDS)


@pytest.mark.parametrize(
    ("dataset", "kind", "message"),
    [
        (
            "boundaries-icb-2099",
            "sites",
            "dataset name 'boundaries-icb-2099' is a boundaries name, not a sites one",
        ),
        (
            "boundaries-icb-2024",
            "engagement",
            "is a boundaries name, not an engagement one: expected 'engagement'",
        ),
        ("sites", "boundaries", "is a sites name, not a boundaries one"),
        ("engagement", "sites", "is an engagement name, not a sites one"),
        (
            "boundaries-icb",
            "boundaries",
            "is not a boundaries name: expected 'boundaries-<layer>-<year>'",
        ),
        ("boundaries-lsoa-2021", "boundaries", "the layer one of icb, sicbl, nhser"),
        ("my-sites", "sites", "expected 'sites' \\(or 'sites-<label>'\\)"),
    ],
)
def test_a_dataset_name_belongs_to_its_kind(store, dataset, kind, message):
    frame = _sites(2) if kind != "boundaries" else _boundaries().iloc[:2]

    with pytest.raises(InputError, match=message):
        _publish(store, dataset, frame, kind=kind)
    assert store.datasets().empty


# All or nothing.


def _snapshot(store: Store) -> dict:
    """Everything a reader can see, plus the raw row count of every table."""
    tables = ["datasets", "versions", "version_data", "schema_version"]
    if store.backend == "postgres":
        tables.append("version_geometry")
    return {
        "versions": store.versions(),
        "datasets": store.datasets(),
        "rows": store.load("sites"),
        # Raw counts through the store's own connection: partial writes would show here first.
        "tables": {
            name: store._db.execute(f"SELECT COUNT(*) FROM {name}")[0][0] for name in tables
        },
    }


def _assert_same(before: dict, after: dict) -> None:
    pd.testing.assert_frame_equal(after["versions"], before["versions"])
    pd.testing.assert_frame_equal(after["datasets"], before["datasets"])
    pd.testing.assert_frame_equal(after["rows"], before["rows"])
    assert after["tables"] == before["tables"]


@pytest.mark.parametrize(
    "step", ["insert_version", "write_payload", "write_geometry", "make_current"]
)
def test_a_failure_mid_publish_leaves_the_store_exactly_as_it_was(store, monkeypatch, step):
    sites = gpd.GeoDataFrame(_sites(6), geometry=gpd.points_from_xy(range(6), range(6)), crs=4326)
    _publish(store, "sites", sites)
    before = _snapshot(store)
    real_step = getattr(store_sql, step)

    def step_then_crash(*args, **kwargs):
        real_step(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(store_sql, step, step_then_crash)
    with pytest.raises(OSError, match="disk full"):
        _publish(store, "sites", sites.iloc[:2])
    monkeypatch.undo()

    _assert_same(before, _snapshot(store))
    assert _publish(store, "sites", sites.iloc[:2]).version == 2


def test_a_failed_first_publish_leaves_no_trace_of_the_dataset(store, monkeypatch):
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_sql, "write_payload", crash)
    with pytest.raises(OSError, match="disk full"):
        _publish(store, "sites", _sites(3))

    assert store.datasets().empty
    assert store.versions().empty
    assert store.current_version("sites") is None


def test_a_failure_mid_revert_leaves_the_store_exactly_as_it_was(store, monkeypatch):
    _publish(store, "sites", _sites(3, label="first"))
    _publish(store, "sites", _sites(4, label="second"))
    before = _snapshot(store)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_sql, "make_current", crash)
    with pytest.raises(OSError, match="disk full"):
        store.revert("sites", 1, author="Lead")
    monkeypatch.undo()

    _assert_same(before, _snapshot(store))


# Two processes at once.


def _writer_frame(writer: str, round_number: int) -> pd.DataFrame:
    """What `writer` publishes in round `round_number`: rows that say who wrote them."""
    return _sites(500 + round_number, label=f"{writer}-{round_number}")


def _publish_from_another_process(url: str, writer: str, rounds: int, start) -> None:
    """Run in a child process: open the store, wait for the other writer, then publish.

    Each writer pauses after choosing its version number, inside the transaction, to
    widen the race: without the store's write lock both would choose the same number.
    """
    choose_number = store_sql.next_version

    def choose_slowly(db, dataset):
        number = choose_number(db, dataset)
        time.sleep(0.2)
        return number

    store_sql.next_version = choose_slowly  # this child process only
    store = open_store(url)
    start.wait(timeout=120)
    for round_number in range(rounds):
        store.publish(
            "sites",
            "sites",
            _writer_frame(writer, round_number),
            author=writer,
            file_name=f"{writer}-{round_number}.csv",
            checksum=f"{writer}:{round_number}",
            counts={"accepted": round_number},
        )
    store.close()


def test_two_processes_publishing_at_once_both_succeed_with_distinct_versions(store_url):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    rounds = 3
    writers = [
        context.Process(target=_publish_from_another_process, args=(store_url, name, rounds, start))
        for name in ("alpha", "beta")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=180)

    assert [writer.exitcode for writer in writers] == [0, 0]
    with open_store(store_url) as store:
        log = store.versions("sites")
        assert log["version"].tolist() == list(range(1, 2 * rounds + 1))
        assert sorted(log["checksum"]) == sorted(
            f"{w}:{r}" for w in ("alpha", "beta") for r in range(rounds)
        )
        for row in log.itertuples():
            writer, round_number = row.checksum.split(":")
            pd.testing.assert_frame_equal(
                store.load("sites", row.version), _writer_frame(writer, int(round_number))
            )
        assert store.current_version("sites") == 2 * rounds


# Schema migrations.

# The first schema exactly as it shipped, written out by hand (not by geo.store.backends),
# so the migration is tested against a real old store.
_SCHEMA_1 = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE datasets (name TEXT PRIMARY KEY, kind TEXT NOT NULL, current_version INTEGER)",
    "CREATE TABLE versions (dataset TEXT NOT NULL REFERENCES datasets (name), version INTEGER NOT NULL,"
    " author TEXT NOT NULL, published_at {time} NOT NULL, file_name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " row_count INTEGER NOT NULL, counts TEXT NOT NULL, PRIMARY KEY (dataset, version))",
    "CREATE TABLE version_data (dataset TEXT NOT NULL, version INTEGER NOT NULL, payload {blob} NOT NULL,"
    " PRIMARY KEY (dataset, version), FOREIGN KEY (dataset, version) REFERENCES versions (dataset, version))",
]


def _execute_by_hand(url: str, statements: list[tuple[str, tuple]]) -> None:
    """Run SQL on the store's database with a plain connection of its own."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            for sql, params in statements:
                connection.execute(sql.format(time="TEXT", blob="BLOB"), params)
        connection.close()
        return
    with psycopg.connect(url) as connection:
        for sql, params in statements:
            connection.execute(
                sql.format(time="TIMESTAMPTZ", blob="BYTEA").replace("?", "%s"), params
            )


def _schema_1_store(url: str, boundaries: gpd.GeoDataFrame) -> None:
    """A store as schema 1 left it: one boundaries dataset with one published version."""
    buffer = io.BytesIO()
    boundaries.to_parquet(buffer)
    payload = buffer.getvalue()
    published_at = "2024-04-01T09:30:00+00:00"
    _execute_by_hand(
        url,
        [(sql, ()) for sql in _SCHEMA_1]
        + [
            (
                "INSERT INTO datasets (name, kind, current_version) VALUES (?, ?, ?)",
                ("boundaries-icb-2023", "boundaries", 1),
            ),
            (
                "INSERT INTO versions (dataset, version, author, published_at, file_name, checksum, row_count, counts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    "boundaries-icb-2023",
                    1,
                    "Old hand",
                    published_at,
                    "icbs.geojson",
                    "sha256:old",
                    len(boundaries),
                    '{"accepted": 7}',
                ),
            ),
            (
                "INSERT INTO version_data (dataset, version, payload) VALUES (?, ?, ?)",
                ("boundaries-icb-2023", 1, payload),
            ),
        ],
    )


def test_opening_a_schema_1_store_migrates_it_in_place_and_keeps_its_data(store_url):
    boundaries = _boundaries()
    _schema_1_store(store_url, boundaries)

    with open_store(store_url) as store:
        assert store.schema_version == store_sql.LATEST_SCHEMA == 4
        assert_geodataframe_equal(store.load("boundaries-icb-2023"), boundaries)
        old = store.version_info("boundaries-icb-2023")
        assert (old.version, old.action, old.author, old.counts) == (
            1,
            "publish",
            "Old hand",
            {"accepted": 7},
        )
        assert old.published_at == datetime(2024, 4, 1, 9, 30, tzinfo=UTC)
        assert old.reverted_to is None
        assert old.meta == {}
        _publish(store, "boundaries-icb-2023", boundaries.iloc[:2], kind="boundaries")
        assert store.revert("boundaries-icb-2023", 1, author="Lead").version == 3
        assert_geodataframe_equal(store.load("boundaries-icb-2023"), boundaries)

    with open_store(store_url) as reopened:  # a second open finds nothing left to do
        assert reopened.schema_version == 4
        assert reopened.current_version("boundaries-icb-2023") == 3


def test_a_store_newer_than_the_app_is_refused(store_url):
    open_store(store_url).close()
    _execute_by_hand(store_url, [("INSERT INTO schema_version (version) VALUES (?)", (99,))])

    with pytest.raises(InputError, match="schema version 99 is newer than this app understands"):
        open_store(store_url)


# PostGIS: the geometry other tools can query.


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_schema_url()


def _current_geometry(url: str, dataset: str) -> list:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT row_number, ST_SRID(geom), ST_AsBinary(geom) FROM current_geometry"
            " WHERE dataset = %s ORDER BY row_number",
            (dataset,),
        ).fetchall()
    assert [srid for _, srid, _ in rows] == [None if wkb is None else 4326 for _, _, wkb in rows]
    return [shapely.from_wkb(bytes(wkb)) if wkb is not None else None for _, _, wkb in rows]


@pytest.mark.postgres
def test_postgis_holds_the_current_version_geometry_for_other_tools(postgres_url):
    first, second = _boundaries(), _boundaries().iloc[:2]
    with open_store(postgres_url) as store:
        _publish(store, "boundaries-icb-2023", first, kind="boundaries")
        _publish(store, "boundaries-icb-2023", second, kind="boundaries")
        assert _current_geometry(postgres_url, "boundaries-icb-2023") == list(second.geometry)
        store.revert("boundaries-icb-2023", 1, author="Lead")

    assert _current_geometry(postgres_url, "boundaries-icb-2023") == list(first.geometry)


@pytest.mark.postgres
def test_postgis_answers_spatial_queries_on_real_icb_boundaries(postgres_url, shared_data):
    icbs = gpd.read_file(shared_data / "icb_2022_07_buc.geojson")
    leeds = shapely.Point(-1.5491, 53.8008)
    with open_store(postgres_url) as store:
        _publish(store, "boundaries-icb-2022", icbs, kind="boundaries")

    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT row_number FROM current_geometry WHERE dataset = %s"
            " AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            ("boundaries-icb-2022", leeds.x, leeds.y),
        ).fetchall()
    assert [row[0] for row in rows] == icbs.index[icbs.contains(leeds)].tolist()
    assert len(rows) == 1


# Faults of the store itself: a damaged file, a read-only folder, a server that went away.
# Each is one InputError saying what to do, and the stored data is left as it was.


def _sqlite_store(folder, versions: int = 2) -> Path:
    """A SQLite store in `folder` with `versions` versions of 'sites', closed."""
    path = folder / "store.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        for number in range(versions):
            _publish(store, "sites", _sites(2_000 + number, label=f"v{number + 1}"))
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: os.urandom(len(data)), "this file is not an SQLite store"),
        (lambda data: data[:8192], "the store is damaged"),
        (lambda data: data[:100] + bytes(len(data) - 100), "the store is damaged"),
    ],
    ids=["random bytes", "truncated", "pages zeroed"],
)
def test_a_damaged_sqlite_file_is_one_message_saying_how_to_recover(tmp_path, damage, message):
    path = _sqlite_store(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    damaged = path.read_bytes()

    with (
        pytest.raises(InputError, match=message) as raised,
        open_store(f"sqlite:///{path}") as store,
    ):
        store.load("sites")

    assert str(path) in str(raised.value)
    assert "restore it from a backup" in str(raised.value)
    assert path.read_bytes() == damaged


def test_a_version_whose_stored_rows_are_damaged_is_named_and_the_others_still_load(tmp_path):
    path = _sqlite_store(tmp_path)
    with open_store(f"sqlite:///{path}") as store:
        payload = store_sql.read_payload(store._db, "sites", 2)
    data = path.read_bytes()
    start = _only_copy(data, payload)  # somewhere inside version 2's rows, and only there
    path.write_bytes(data[:start] + bytes(64) + data[start + 64 :])

    with open_store(f"sqlite:///{path}") as store:
        with pytest.raises(InputError, match="sites version 2: its stored rows cannot be read"):
            store.load("sites")
        assert len(store.load("sites", 1)) == 2_000
        store.revert("sites", 1, author="Lead")  # the way back the message offers
        assert len(store.load("sites")) == 2_000


def _only_copy(data: bytes, payload: bytes) -> int:
    """Where in `data` a 64-byte piece of `payload` found nowhere else in `data` starts."""
    for offset in range(0, len(payload) - 64, 64):
        piece = payload[offset : offset + 64]
        if data.count(piece) == 1:
            return data.index(piece)
    raise AssertionError("no piece of the payload is unique in the file")


def test_a_store_in_a_read_only_folder_is_one_message_naming_the_folder(tmp_path, read_only):
    path = _sqlite_store(tmp_path)
    read_only(tmp_path)

    with pytest.raises(InputError, match=f"the folder {tmp_path} must be writable") as raised:
        open_store(f"sqlite:///{path}")
    assert "ICS_DATA_DIR" in str(raised.value)


def test_a_new_store_in_a_read_only_data_folder_is_one_message(data_dir, read_only, monkeypatch):
    monkeypatch.setenv("ICS_DATA_DIR", str(data_dir / "nested"))
    read_only(data_dir)

    with pytest.raises(InputError, match=f"the folder {data_dir / 'nested'} must be writable"):
        open_store()
    assert not (data_dir / "nested").exists()


@pytest.mark.parametrize("version", [99999999999999999999, "99999999999999999999", 0, -1, "two"])
def test_a_version_number_out_of_range_is_refused_before_the_database_sees_it(store, version):
    _publish(store, "sites", _sites(3))
    _publish(store, "sites", _sites(4))

    with pytest.raises(InputError, match="expected a whole number from 1 to 2,147,483,647"):
        store.revert("sites", version, author="Lead")
    with pytest.raises(InputError, match="expected a whole number from 1 to 2,147,483,647"):
        store.load("sites", version)
    assert store.current_version("sites") == 2


def _drop_connections(url: str) -> int:
    """Terminate, from a second connection, every other backend of this database: what a
    server restart does to the app's connection. Returns how many were dropped."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = 'ics-store-test'"
        ).fetchall()
    return len(rows)


def _tagged(url: str) -> str:
    """The URL with an application name, so only this test's connections are dropped."""
    return f"{url}&application_name=ics-store-test"


@pytest.mark.postgres
def test_a_store_reconnects_once_when_the_server_dropped_its_connection(postgres_url):
    with open_store(_tagged(postgres_url)) as store:
        _publish(store, "sites", _sites(3))
        assert _drop_connections(postgres_url) == 1

        assert store.current_version("sites") == 1  # read: reconnected
        assert _drop_connections(postgres_url) == 1
        assert _publish(store, "sites", _sites(4)).version == 2  # write: reconnected
        assert _drop_connections(postgres_url) == 1
        assert len(store.load("sites")) == 4


@pytest.mark.postgres
def test_a_connection_lost_mid_publish_is_one_message_and_nothing_half_written(
    postgres_url, monkeypatch
):
    with open_store(_tagged(postgres_url)) as store:
        _publish(store, "sites", _sites(3))
        before = _snapshot(store)
        write_payload = store_sql.write_payload

        def drop_then_write(*args, **kwargs):
            _drop_connections(postgres_url)
            return write_payload(*args, **kwargs)

        monkeypatch.setattr(store_sql, "write_payload", drop_then_write)
        with pytest.raises(InputError, match="the connection to PostgreSQL was lost") as raised:
            _publish(store, "sites", _sites(4))
        monkeypatch.undo()

        assert "look at the published versions" in str(raised.value)
        _assert_same(before, _snapshot(store))  # and the store is usable again


@pytest.mark.postgres
def test_a_server_that_stays_away_is_one_message_and_the_store_recovers_when_it_is_back(
    postgres_url, monkeypatch
):
    from geo.store import backends

    with open_store(_tagged(postgres_url)) as store:
        _publish(store, "sites", _sites(3))
        real_connect = backends._connect_postgres
        monkeypatch.setattr(
            backends,
            "_connect_postgres",
            lambda url, location: real_connect(
                "postgresql://ics:secret@127.0.0.1:1/ics?connect_timeout=2", location
            ),
        )
        _drop_connections(postgres_url)

        with pytest.raises(InputError, match="cannot connect to PostgreSQL") as raised:
            store.datasets()
        assert "secret" not in str(raised.value)
        monkeypatch.undo()  # the server is back
        assert store.current_version("sites") == 1


# Choosing the database.


def test_with_no_url_the_store_is_a_sqlite_file_in_the_data_folder(data_dir, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    nested = data_dir / "not-yet-made"
    monkeypatch.setenv("ICS_DATA_DIR", str(nested))

    with open_store() as store:
        assert store.backend == "sqlite"
        assert store.location == str(nested / "store.sqlite")
    assert (nested / "store.sqlite").is_file()


def test_database_url_chooses_the_store(tmp_path, monkeypatch):
    chosen = tmp_path / "chosen.sqlite"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{chosen}")

    with open_store() as store:
        assert store.location == str(chosen)


@pytest.mark.parametrize(
    "url", ["mysql://user:secret@db/ics", "store.sqlite", "http://example.org"]
)
def test_an_unsupported_url_is_refused_naming_the_schemes_expected(url):
    with pytest.raises(InputError, match=r"expected postgresql://.* or sqlite:///") as raised:
        open_store(url)

    assert "secret" not in str(raised.value)


def test_an_unreachable_postgresql_server_is_one_clear_line_without_the_password():
    with pytest.raises(InputError, match="cannot connect to PostgreSQL") as raised:
        open_store("postgresql://ics:secret@127.0.0.1:1/ics?connect_timeout=2")

    assert "secret" not in str(raised.value)
    assert "127.0.0.1:1/ics" in str(raised.value)
