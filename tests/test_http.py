"""Tests for geo/fetch/http.py's retry policy: back-off doubling from try to try, a server's
Retry-After honoured up to a cap, and the last failure raised once no tries are left."""

from __future__ import annotations

import pytest

from geo.fetch.http import (
    MAX_RETRY_AFTER_S,
    Retry,
    RetryPolicy,
    SourceError,
    get_url,
    retry_after_s,
)


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Failing:
    """An attempt that fails `times` times with Retry (asking for `retry_after`), then answers."""

    def __init__(self, times: int, retry_after: float = 0.0) -> None:
        self.times, self.retry_after, self.calls = times, retry_after, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise Retry(ValueError(f"failure {self.calls}"), self.retry_after)
        return "answer"


def test_waits_double_from_try_to_try():
    sleeps = Sleeps()

    answer = RetryPolicy(attempts=4, backoff_s=1.5, sleep=sleeps).run(Failing(3))

    assert answer == "answer"
    assert sleeps == [1.5, 3.0, 6.0]


def test_a_retry_after_longer_than_the_back_off_is_waited_and_a_shorter_one_is_not():
    longer, shorter = Sleeps(), Sleeps()

    RetryPolicy(attempts=3, backoff_s=1.0, sleep=longer).run(Failing(2, retry_after=10.0))
    RetryPolicy(attempts=3, backoff_s=1.0, sleep=shorter).run(Failing(2, retry_after=1.5))

    assert longer == [10.0, 10.0]
    assert shorter == [1.5, 2.0]


def test_a_retry_after_is_waited_no_longer_than_the_cap():
    sleeps = Sleeps()

    RetryPolicy(attempts=2, backoff_s=1.0, max_wait_s=30.0, sleep=sleeps).run(Failing(1, 3600.0))

    assert sleeps == [30.0]


def test_the_last_failure_is_raised_once_the_tries_run_out():
    attempt, sleeps = Failing(10), Sleeps()

    with pytest.raises(ValueError, match=r"^failure 3$"):
        RetryPolicy(attempts=3, backoff_s=0.0, sleep=sleeps).run(attempt)

    assert (attempt.calls, len(sleeps)) == (3, 2)


def test_a_failure_retrying_cannot_fix_is_raised_at_once():
    sleeps = Sleeps()

    def refused() -> str:
        raise SourceError("HTTP 404")

    with pytest.raises(SourceError, match="HTTP 404"):
        RetryPolicy(attempts=4, sleep=sleeps).run(refused)

    assert sleeps == []


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), ("0.5", 0.5), (None, 0.0), ("soon", 0.0), ("-3", 0.0), ("nan", 0.0)],
)
def test_retry_after_is_read_as_seconds(header, seconds):
    headers = {} if header is None else {"Retry-After": header}

    assert retry_after_s(headers) == seconds


def test_a_publisher_asking_to_retry_after_some_seconds_is_given_them(arcgis_server, fixtures_dir):
    arcgis_server.fail_next = [503]
    arcgis_server.retry_after = "7"
    sleeps = Sleeps()

    body = get_url(
        f"{arcgis_server.ods_base}?report=ets",
        "NHS ODS report ets",
        consume=lambda response: response.read(),
        retry=RetryPolicy(attempts=2, backoff_s=0.5, sleep=sleeps),
    )

    assert sleeps == [7.0]
    assert body == (fixtures_dir / "sources_ods_ets.csv").read_bytes()
    assert len(arcgis_server.requests) == 2


def test_a_publisher_asking_for_an_hour_is_given_the_cap(arcgis_server):
    arcgis_server.fail_next = [429]
    arcgis_server.retry_after = "3600"
    sleeps = Sleeps()

    get_url(
        f"{arcgis_server.ods_base}?report=ets",
        "NHS ODS report ets",
        consume=lambda response: response.read(),
        retry=RetryPolicy(attempts=2, backoff_s=0.5, sleep=sleeps),
    )

    assert sleeps == [MAX_RETRY_AFTER_S]
