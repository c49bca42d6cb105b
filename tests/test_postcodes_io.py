"""postcodes.io lookups: bulk batches of at most 100, retries with back-off, partial
failures, an unreachable service, and terminated postcodes."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from geo.fetch.http import MAX_RETRY_AFTER_S
from geo.geocode import postcodes_io
from geo.model.errors import InputError
from geo.testing.postcodes_server import BY_POSTCODE, make_samples


class Sleeps(list):
    """Records the back-off waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_bulk_lookups_send_at_most_100_distinct_postcodes_a_request(postcodes_server):
    samples = make_samples(250)
    postcodes_server.add(samples)
    postcodes = pd.Series([s.pcds.lower() for s in samples] + [samples[0].pcds])

    found = postcodes_io.geocode_online(postcodes, base_url=postcodes_server.root, sleep=Sleeps())

    assert [len(batch) for batch in postcodes_server.bulk_requests] == [100, 100, 50]
    assert (found["geocode_status"] == "found").all()
    expected = [s.lat for s in samples] + [samples[0].lat]
    assert np.allclose(found["lat"].to_numpy(dtype=float), expected)
    assert (found["geocode_source"] == "postcodes.io").all()


def test_a_429_is_retried_after_backing_off_and_then_succeeds(postcodes_server):
    postcodes_server.fail_next = [429]
    sleeps = Sleeps()

    found = postcodes_io.geocode_online(
        pd.Series(["LS1 3EX", "M13 9WL"]), base_url=postcodes_server.root, sleep=sleeps
    )

    assert sleeps == [2.0]
    assert list(found["geocode_status"]) == ["found", "found"]
    assert len(postcodes_server.bulk_requests) == 1  # the 429 was answered before reading


def test_a_503_asking_to_retry_after_some_seconds_is_given_them(postcodes_server):
    postcodes_server.fail_next = [503]
    postcodes_server.retry_after = "5"
    sleeps = Sleeps()

    found = postcodes_io.geocode_online(
        pd.Series(["LS1 3EX"]), base_url=postcodes_server.root, backoff=2.0, sleep=sleeps
    )

    assert sleeps == [5.0]
    assert list(found["geocode_status"]) == ["found"]


def test_a_retry_after_of_an_hour_is_cut_to_the_shared_cap(postcodes_server):
    postcodes_server.fail_next = [429]
    postcodes_server.retry_after = "3600"
    sleeps = Sleeps()

    postcodes_io.geocode_online(
        pd.Series(["LS1 3EX"]), base_url=postcodes_server.root, sleep=sleeps
    )

    assert sleeps == [MAX_RETRY_AFTER_S]


def test_a_batch_that_keeps_failing_marks_only_its_own_rows(postcodes_server):
    samples = make_samples(150)
    postcodes_server.add(samples)
    postcodes_server.fail_batches_with = {samples[120].pcds: 500}
    sleeps = Sleeps()

    found = postcodes_io.geocode_online(
        pd.Series([s.pcds for s in samples]), base_url=postcodes_server.root, sleep=sleeps
    )

    assert sleeps == [2.0, 4.0, 8.0]
    assert (found["geocode_status"].iloc[:100] == "found").all()
    failed = found["geocode_status"].iloc[100:]
    assert failed.str.startswith("lookup failed: HTTP 500").all()
    assert failed.str.endswith("after 4 attempts").all()
    assert found["lat"].iloc[100:].isna().all()


def test_a_timeout_is_retried(postcodes_server):
    postcodes_server.delay_next = [1.0]

    found = postcodes_io.geocode_online(
        pd.Series(["SE1 7EH"]), base_url=postcodes_server.root, timeout=0.25, sleep=Sleeps()
    )

    assert list(found["geocode_status"]) == ["found"]


def test_a_request_the_server_refuses_as_too_big_is_not_retried(postcodes_server):
    postcodes_server.max_bulk = 2
    sleeps = Sleeps()

    found = postcodes_io.geocode_online(
        pd.Series(["LS1 3EX", "M13 9WL", "SE1 7EH"]),
        base_url=postcodes_server.root,
        batch_size=3,
        sleep=sleeps,
    )

    assert sleeps == []
    assert (
        found["geocode_status"]
        .str.contains("HTTP 400 (Too many postcodes submitted", regex=False)
        .all()
    )


def test_batch_size_beyond_the_api_limit_is_a_programming_error():
    with pytest.raises(ValueError, match="batch_size must be 1 to 100"):
        postcodes_io.geocode_online(pd.Series(["LS1 3EX"]), batch_size=101)


def test_an_unreachable_service_fails_every_row_at_once_without_waiting():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    postcodes = pd.Series([s.pcds for s in make_samples(250)])

    found = postcodes_io.geocode_online(
        postcodes, base_url=f"http://127.0.0.1:{port}", sleep=sleeps
    )

    assert sleeps == []
    assert found["geocode_status"].str.startswith("lookup failed: 127.0.0.1").all()


def test_after_three_failed_batches_in_a_row_the_rest_are_not_tried(postcodes_server):
    postcodes_server.fail_next = [503] * 100

    found = postcodes_io.geocode_online(
        pd.Series([s.pcds for s in make_samples(500)]),
        base_url=postcodes_server.root,
        retries=1,
        sleep=Sleeps(),
    )

    assert len(postcodes_server.requests) == 3 * 2
    assert found["geocode_status"].iloc[:300].str.contains("HTTP 503").all()
    assert found["geocode_status"].iloc[300:].str.contains("not tried after 3 failed").all()


def test_a_postcode_not_found_is_looked_up_among_terminated_postcodes(postcodes_server):
    found = postcodes_io.geocode_online(
        pd.Series(["AB1 0AA", "ZZ9 9ZZ", "BX1 1LT", "nonsense", None]),
        base_url=postcodes_server.root,
        sleep=Sleeps(),
    )

    assert list(found["geocode_status"]) == [
        "found (terminated 199606)",
        "not found",
        "no grid reference",
        "invalid postcode",
        "no postcode",
    ]
    assert found.loc[0, "lat"] == pytest.approx(BY_POSTCODE["AB1 0AA"].lat)
    asked = [path for method, path in postcodes_server.requests if method == "GET"]
    assert asked == ["/terminated_postcodes/AB1%200AA", "/terminated_postcodes/ZZ9%209ZZ"]


def test_the_service_address_comes_from_its_setting(postcodes_server, monkeypatch):
    monkeypatch.setenv("ICS_POSTCODES_IO_URL", postcodes_server.root)

    found = postcodes_io.geocode_online(pd.Series(["NE7 7DN"]), sleep=Sleeps())

    assert found.loc[0, "lat"] == pytest.approx(BY_POSTCODE["NE7 7DN"].lat)


def test_a_service_address_that_is_not_http_is_refused():
    with pytest.raises(InputError, match="'file:///etc' is not an http"):
        postcodes_io.geocode_online(pd.Series(["LS1 3EX"]), base_url="file:///etc")


def test_online_progress_counts_distinct_postcodes(postcodes_server):
    postcodes_server.add(make_samples(150))
    seen = []

    postcodes_io.geocode_online(
        pd.Series([s.pcds for s in make_samples(150)] * 2),
        base_url=postcodes_server.root,
        progress=lambda done, total: seen.append((done, total)),
        sleep=Sleeps(),
    )

    assert seen == [(100, 150), (150, 150)]


def test_the_online_names_are_still_importable_from_geocode():

    assert postcodes_io.geocode_online is postcodes_io.geocode_online
    assert (postcodes_io.MAX_BATCH, postcodes_io.ONLINE_SOURCE) == (100, "postcodes.io")


def test_a_service_url_with_credentials_is_named_by_its_host_alone_in_every_row():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    found = postcodes_io.geocode_online(
        pd.Series(["LS1 3EX"]), base_url=f"http://ics:s3cr3t@127.0.0.1:{port}", sleep=Sleeps()
    )

    assert found["geocode_status"].str.startswith(f"lookup failed: 127.0.0.1:{port} could").all()
    assert not found["geocode_status"].str.contains("s3cr3t").any()
