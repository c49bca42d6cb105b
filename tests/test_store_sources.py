"""Provider sources in the store: each a named, versioned dataset; withdrawing; migration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from geo.model.errors import InputError
from geo.store import backends as store_sql
from geo.store.versions import DEFAULT_SOURCE, WITHDRAW, Store, open_store
from tests.conftest import postgres_schema_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


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


def _sites(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"site_name": pd.array(names, dtype="string")})


def _publish(store: Store, dataset: str, names: list[str], source: str | None = None):
    return store.publish(
        dataset, "sites", _sites(names), author="analyst", file_name=f"{dataset}.csv",
        checksum="x", counts={"accepted": len(names)}, source=source,
    )  # fmt: skip


def test_each_source_is_listed_first_published_first_with_its_dataset(store):
    _publish(store, "sites-cqc-directory", ["a", "b"], source="cqc-directory")
    _publish(store, "sites", ["c"])
    _publish(store, "sites-cqc-directory", ["a", "b", "d"], source="cqc-directory")

    listed = store.sources()

    assert listed["source"].tolist() == ["cqc-directory", DEFAULT_SOURCE]
    assert listed["dataset"].tolist() == ["sites-cqc-directory", "sites"]
    assert listed["current_version"].tolist() == [2, 1]
    assert listed["rows"].tolist() == [3, 1]
    assert store.source_dataset("cqc-directory") == "sites-cqc-directory"
    assert store.datasets().set_index("dataset").loc["sites", "source"] == DEFAULT_SOURCE


def test_a_provider_list_under_another_name_without_a_source_is_not_a_source(store):
    _publish(store, "sites-scratch", ["a"])

    assert store.sources().empty


@pytest.mark.parametrize(
    ("dataset", "source", "message"),
    [
        ("sites-other", "cqc-directory", "keeps it as sites-cqc-directory"),
        ("sites-cqc-directory", "renamed", "holds provider source cqc-directory"),
        ("sites-x", "Not A Slug", "expected lower-case letters"),
    ],
)
def test_a_source_name_is_a_slug_and_belongs_to_one_dataset(store, dataset, source, message):
    _publish(store, "sites-cqc-directory", ["a"], source="cqc-directory")

    with pytest.raises(InputError, match=message):
        _publish(store, dataset, ["b"], source=source)
    assert store.sources()["source"].tolist() == ["cqc-directory"]


def test_withdrawing_keeps_history_and_a_revert_brings_the_rows_back(store):
    _publish(store, "sites-team", ["a", "b"], source="team")

    withdrawn = store.withdraw("sites-team", author="Lead")

    assert (withdrawn.version, withdrawn.action, withdrawn.rows) == (2, WITHDRAW, 0)
    assert store.load("sites-team").empty
    assert store.load("sites-team").columns.tolist() == ["site_name"]
    assert store.versions("sites-team")["action"].tolist() == ["publish", WITHDRAW]
    with pytest.raises(InputError, match="nothing to withdraw"):
        store.withdraw("sites-team", author="Lead")
    store.revert("sites-team", 1, author="Lead")
    assert store.load("sites-team")["site_name"].tolist() == ["a", "b"]


def test_a_schema_2_store_with_one_provider_list_opens_with_it_as_the_default_source(
    store_url, monkeypatch
):
    monkeypatch.setattr(store_sql, "MIGRATIONS", store_sql.MIGRATIONS[:2])
    monkeypatch.setattr(store_sql, "LATEST_SCHEMA", 2)
    with open_store(store_url) as old:
        assert old.schema_version == 2
        db = old._db
        with db.transaction():
            store_sql.lock_dataset(db, "sites", "sites")
            store_sql.insert_version(
                db,
                {
                    "dataset": "sites", "version": 1, "action": "publish", "author": "Old hand",
                    "published_at": datetime(2024, 4, 1, tzinfo=UTC), "file_name": "old.csv",
                    "checksum": "x", "row_count": 2, "counts": "{}", "meta": "{}",
                    "reverted_to": None, "data_version": 1,
                },
            )  # fmt: skip
            payload = _sites(["a", "b"]).to_parquet()
            store_sql.write_payload(db, "sites", 1, payload)
            store_sql.make_current(db, "sites", 1)
    monkeypatch.undo()

    with open_store(store_url) as migrated:
        assert migrated.schema_version == store_sql.LATEST_SCHEMA  # and on to the newest
        assert migrated.sources()["source"].tolist() == [DEFAULT_SOURCE]
        assert migrated.load("sites")["site_name"].tolist() == ["a", "b"]
        _publish(migrated, "sites-team", ["c"], source="team")
        assert migrated.sources()["source"].tolist() == [DEFAULT_SOURCE, "team"]
