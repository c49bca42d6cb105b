"""ArcGIS FeatureServer paging against a local stand-in for the ONS portal: every page,
short and empty pages, error bodies, and retries of failing requests."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.fetch import arcgis
from geo.fetch import http as http_fetch
from geo.fetch.http import SourceError
from tests.factories import feature_table

ICB23 = "Integrated_Care_Boards_April_2023_EN_BGC"
ICB23_FILE = "icb_2023_04_bgc.geojson"  # what the stand-in serves for ICB23


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> None:
    """Retries without the back-off pauses, so the tests stay fast."""
    monkeypatch.setattr(http_fetch, "BACKOFF_S", 0.0)


def _sorted_icbs(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path)[["ICB23CD", "ICB23NM", "ICB23CDH", "geometry"]]
    return frame.sort_values("ICB23CD").reset_index(drop=True)


def test_paged_download_reassembles_every_icb_with_identical_codes_and_geometry(
    shared_data,
    arcgis_server,
    tmp_path,
):
    out = tmp_path / "icbs.geojson"
    seen = []

    count = arcgis.fetch_arcgis_layer(
        ICB23, out, base_url=arcgis_server.arcgis_base, progress=lambda *step: seen.append(step)
    )

    pages = [q for q in arcgis_server.queries(ICB23) if q.get("f") == "geojson"]
    icbs = len(feature_table(shared_data / ICB23_FILE))
    assert count == icbs
    assert len(pages) == math.ceil(icbs / 10)  # maxRecordCount 10 caps the asked-for 2000
    assert {q["resultRecordCount"] for q in pages} == {"10"}
    assert all(q["orderByFields"] == "FID" and q["outSR"] == "4326" for q in pages)
    assert seen[-1] == (icbs, icbs)
    downloaded, original = _sorted_icbs(out), _sorted_icbs(shared_data / ICB23_FILE)
    assert_geodataframe_equal(downloaded, original)


def test_an_http_200_error_body_names_the_layer_and_arcgis_message(arcgis_server, tmp_path):
    arcgis_server.error_bodies[ICB23] = (400, "Cannot perform query. Invalid query parameters.")
    out = tmp_path / "icbs.geojson"

    with pytest.raises(SourceError) as raised:
        arcgis.fetch_arcgis_layer(ICB23, out, base_url=arcgis_server.arcgis_base)

    message = str(raised.value)
    assert ICB23 in message
    assert "Cannot perform query. Invalid query parameters." in message
    assert not out.exists()


def test_a_short_or_empty_page_with_the_flag_still_true_does_not_end_the_download(
    shared_data,
    arcgis_server,
    tmp_path,
):
    arcgis_server.short_pages[(ICB23, 10)] = 3
    arcgis_server.short_pages[(ICB23, 13)] = 0
    out = tmp_path / "icbs.geojson"

    count = arcgis.fetch_arcgis_layer(ICB23, out, base_url=arcgis_server.arcgis_base)

    offsets = [q["resultOffset"] for q in arcgis_server.queries(ICB23) if q.get("f") == "geojson"]
    assert offsets[:4] == ["0", "10", "13", "13"]
    icbs = len(feature_table(shared_data / ICB23_FILE))
    assert count == icbs
    assert sorted(gpd.read_file(out)["FID"]) == list(range(1, icbs + 1))


def test_a_503_is_retried_and_then_the_download_succeeds(shared_data, arcgis_server, tmp_path):
    arcgis_server.fail_next.append(503)

    count = arcgis.fetch_arcgis_layer(
        ICB23, tmp_path / "icbs.geojson", base_url=arcgis_server.arcgis_base
    )

    assert count == len(feature_table(shared_data / ICB23_FILE))
    first, second = arcgis_server.requests[:2]
    assert first == second  # the failed request was asked again


def test_a_server_that_keeps_failing_is_given_up_on_with_its_status(arcgis_server, tmp_path):
    arcgis_server.fail_next.extend([503] * 10)

    with pytest.raises(SourceError, match="HTTP 503"):
        arcgis.fetch_arcgis_layer(ICB23, tmp_path / "x.geojson", base_url=arcgis_server.arcgis_base)

    assert len(arcgis_server.requests) == http_fetch.ATTEMPTS
