"""Analyses computed once, when data is published, kept in the store and read on a cold start."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from geo import workspace
from geo.analysis import pipeline, stored
from geo.fetch import catalogue
from geo.io import boundaries
from geo.model import access
from geo.publish import publishing
from geo.store.versions import Store, open_store
from tests.conftest import postgres_schema_url

BACKENDS = ["sqlite", "postgres"]
HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"


@pytest.fixture(params=BACKENDS)
def store_url(request, data_dir) -> Iterator[str]:
    """A URL for an empty store: the data folder's SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{data_dir / 'store.sqlite'}"
        return
    yield from postgres_schema_url()


@pytest.fixture
def published(store_url, shared_data) -> str:
    """A store with the 2022 ICBs and the hospitals published through `publishing.publish`."""
    with open_store(store_url) as store:
        layer = boundaries.load_boundaries(shared_data / "icb_2022_07_buc.geojson")
        store.publish(
            workspace.boundary_dataset("icb", "2022"),
            "boundaries",
            layer,
            author="analyst",
            file_name="icb22.geojson",
            checksum="b",
            counts={"accepted": len(layer)},
        )
        prepared = publishing.prepare(shared_data / HOSPITALS, "sites")
        publishing.publish(prepared, store, by=access.local_user("analyst"))
    return store_url


@pytest.fixture
def analyse_calls(monkeypatch) -> list[str]:
    """The vintage of every analysis computed (not read from the store) from now on."""
    calls: list[str] = []
    real = pipeline.analyse

    def counting(frames, **options):
        calls.append(str(frames.icbs["vintage"].iloc[0]))
        return real(frames, **options)

    monkeypatch.setattr(pipeline, "analyse", counting)
    return calls


def _assert_same_analysis(found: pipeline.Analysis, expected: pipeline.Analysis) -> None:
    for field in dataclasses.fields(pipeline.Analysis):
        got, want = getattr(found, field.name), getattr(expected, field.name)
        if isinstance(want, gpd.GeoDataFrame):
            assert_geodataframe_equal(got, want, check_less_precise=False)
        elif isinstance(want, pd.DataFrame):
            assert_frame_equal(got, want)
        else:
            assert got == want, field.name


def _parts_table(store: Store) -> pd.DataFrame:
    rows = store._db.execute("SELECT key, part, fingerprint FROM derived_results")
    return pd.DataFrame(rows, columns=["key", "part", "fingerprint"])


def test_an_analysis_read_back_from_its_parts_is_the_one_computed(published):
    with open_store(published) as store:
        computed = pipeline.analyse(workspace.load_frames("2022", store))

    parts = stored.analysis_parts(computed)

    assert set(parts) == {"manifest", "icbs", "assigned", "metrics", "provenance"}
    _assert_same_analysis(stored.analysis_from_parts(parts), computed)


def test_a_cold_start_reads_the_analysis_kept_at_publish_and_analyses_nothing(
    published, analyse_calls
):
    with open_store(published) as cold:  # a new connection, as a freshly started process has
        analysis = workspace.analyse("2022", cold)
        assert analyse_calls == []
        _assert_same_analysis(analysis, pipeline.analyse(workspace.load_frames("2022", cold)))


def test_a_publish_makes_the_next_view_analyse_the_new_data_once(published, analyse_calls):
    with open_store(published) as store:
        fewer = store.load("sites").head(100)
        store.publish(
            "sites", "sites", fewer, author="analyst", file_name="first100.csv",
            checksum="c", counts={"accepted": 100},
        )  # fmt: skip

        first = workspace.analyse("2022", store)
        again = workspace.analyse("2022", store)

        assert analyse_calls == ["2022"]
        assert first.metrics["sites_total"].sum() == again.metrics["sites_total"].sum() == 100
        kept = set(_parts_table(store)["key"])
        assert kept == {workspace.analysis_key("2022", workspace.fingerprint(store))}


def test_publishing_keeps_the_analysis_of_every_loaded_vintage_before_any_view(published):
    with open_store(published) as store:
        kept = set(_parts_table(store)["key"])
        key = workspace.analysis_key("2022", workspace.fingerprint(store))

        assert kept == {key, key + workspace.DISPLAY_SUFFIX}


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM derived_results WHERE part = 'manifest'",
        "DELETE FROM derived_results WHERE part = 'assigned'",
        "UPDATE derived_results SET payload = ? WHERE part = 'metrics'",
        "UPDATE derived_results SET payload = ? WHERE part = 'manifest'",
    ],
    ids=["no manifest", "a part missing", "a damaged part", "a damaged manifest"],
)
def test_a_missing_or_damaged_stored_analysis_is_computed_afresh(published, analyse_calls, damage):
    with open_store(published) as store:
        expected = workspace.analyse("2022", store)
        params = (b"PAR1 not really parquet",) if "?" in damage else ()
        store._db.execute(damage, params)

        found = workspace.analyse("2022", store)

        assert analyse_calls == ["2022"]
        _assert_same_analysis(found, expected)


def test_the_key_changes_with_any_cached_file_even_one_no_analysis_reads(published, data_dir):
    with open_store(published) as store:
        before = workspace.analysis_key("2022", workspace.fingerprint(store))
        evidence = catalogue.settings.cache_dir() / "evidence.csv"
        evidence.parent.mkdir(parents=True, exist_ok=True)
        evidence.write_text("code,value\nX,1\n")
        catalogue.record(
            catalogue.CacheEntry(
                kind="charity_register", vintage="", file="evidence.csv", source_url="local file",
                publisher="test", licence="OGL", retrieved_at="2026-01-01T00:00:00Z",
                published=None, sha256="ab" * 32, bytes=16, rows=1, title="A register no analysis here reads",
            )
        )  # fmt: skip

        assert workspace.analysis_key("2022", workspace.fingerprint(store)) != before


def test_pinned_versions_and_vintages_are_kept_apart(published):
    data = "the same data"
    keys = {
        workspace.analysis_key("2022", data),
        workspace.analysis_key("2023", data),
        workspace.analysis_key("2022", data, workspace.Pins(sites=1)),
        workspace.analysis_key("2022", data, workspace.Pins(engagement=1)),
    }
    assert len(keys) == 4


def test_the_display_layers_are_kept_at_publish_and_read_without_simplifying(
    published, monkeypatch
):
    with open_store(published) as store:
        computed = workspace._display_copies(workspace.analyse("2022", store))
        simplified: list[int] = []
        real = boundaries.display_boundaries
        monkeypatch.setattr(
            boundaries, "display_boundaries", lambda *a, **k: simplified.append(1) or real(*a, **k)
        )

        icbs, regions = workspace.display_layers("2022", store)

        assert simplified == []
        assert_geodataframe_equal(icbs, computed[0])
        assert regions is None  # no regions were published
