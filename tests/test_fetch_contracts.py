"""Harvesting contract awards (geo/fetch/contracts.py) from the local Find a Tender and Contracts Finder."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, date, datetime, timedelta

import pytest

from geo import cli
from geo.fetch import catalogue, sources
from geo.fetch import contracts as harvesting
from geo.fetch.http import RetryPolicy, SourceError
from geo.io import recognise
from geo.io.contracts import read_awards
from geo.model.errors import InputError
from geo.testing import contracts_server as releases

START = datetime(2025, 3, 1, tzinfo=UTC)
TWO_DAYS = START + timedelta(days=2)


@pytest.fixture(scope="module")
def world(shared_data) -> releases.ContractsWorld:
    return releases.load_world(shared_data)


@pytest.fixture(scope="module")
def published(world) -> list[dict]:
    """Two days of Find a Tender award releases, 40 a day, and the awkward cases."""
    cases = [fixture.release for fixture in releases.fixture_releases(world, START)]
    return releases.many_releases(world, 80, START, per_day=40) + cases


class Sleeps(list):
    """The waits a harvest asked for, instead of waiting."""

    def policy(self, attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(attempts, 0.0, harvesting.MAX_WAIT_S, sleep=self.append)


def _icb_award_ocids(items: list[dict], start: datetime, end: datetime) -> set[str]:
    return {
        release["ocid"]
        for release in items
        if start <= datetime.fromisoformat(release["date"]) <= end
        and release["buyer"]["name"].endswith("Integrated Care Board")
    }


def _harvest_fts(server, sleeps: Sleeps, *, attempts: int = 4, **options):
    return harvesting.harvest(
        harvesting.FIND_A_TENDER,
        base_url=server.fts_base,
        since=START.date(),
        until=TWO_DAYS,
        delay_s=options.pop("delay_s", 0.0),
        retry=sleeps.policy(attempts),
        **options,
    )


def test_find_a_tender_is_asked_in_6_hour_windows_and_every_page_is_followed(data_dir, published):
    sleeps = Sleeps()
    steps = []
    with releases.serving_tenders(published, page_size=4) as server:
        done = _harvest_fts(server, sleeps, progress=lambda *step: steps.append(step))
        asked = server.window_requests()

    assert [(q["updatedFrom"], q["updatedTo"]) for q in asked[:2]] == [
        ("2025-03-01T00:00:00Z", "2025-03-01T06:00:00Z"),
        ("2025-03-01T06:00:00Z", "2025-03-01T12:00:00Z"),
    ]
    assert len(asked) == done.windows == 8
    assert {(q["stages"], q["limit"]) for q in asked} == {("award", "100")}
    assert done.requests > 2 * done.windows  # pages of 4: several a window
    assert steps[-1] == (8, 8)
    awards = harvesting.read_cached_awards()
    assert set(awards["ocid"]) == _icb_award_ocids(published, START, TWO_DAYS)
    assert not awards.duplicated(["ocid", "release_id", "supplier_id"]).any()


def test_a_window_longer_than_6_hours_misses_releases(data_dir, published, monkeypatch):
    with releases.serving_tenders(published) as server:
        short = _harvest_fts(server, Sleeps())
        monkeypatch.setenv("ICS_DATA_DIR", str(data_dir / "long"))
        long = _harvest_fts(server, Sleeps(), window=timedelta(days=1))

    assert long.windows == 2
    assert long.seen == 2 * server.long_window_limit
    assert short.seen > 20 * long.seen


def test_a_429_is_waited_out_for_its_retry_after_and_a_503_retried(data_dir, published):
    sleeps = Sleeps()
    with releases.serving_tenders(
        published, throttle_every=3, retry_after="120", fail_next=[503]
    ) as server:
        done = _harvest_fts(server, sleeps, delay_s=10.0)
        throttled = len(server.requests) - done.requests - 1  # less the one 503

    assert throttled == len(server.requests) // 3
    assert sleeps.count(120.0) == throttled
    assert sleeps.count(10.0) == done.requests - 1  # the polite pause between requests
    assert set(harvesting.read_cached_awards()["ocid"]) == _icb_award_ocids(
        published, START, TWO_DAYS
    )


def test_a_page_cut_short_is_fetched_again(data_dir, published):
    with releases.serving_tenders(published, truncate_next=1) as server:
        done = _harvest_fts(server, Sleeps())

    assert len(server.requests) == done.requests + 1
    assert set(harvesting.read_cached_awards()["ocid"]) == _icb_award_ocids(
        published, START, TWO_DAYS
    )


def _state() -> dict:
    path = catalogue.settings.cache_dir() / "contracts" / "find_a_tender" / harvesting.STATE_FILE
    return json.loads(path.read_text(encoding="utf-8"))


def test_an_interrupted_harvest_resumes_without_fetching_completed_windows_again(
    data_dir, published
):
    with releases.serving_tenders(published, page_size=4, fail_from=9) as server:
        with pytest.raises(SourceError, match="HTTP 500"):
            _harvest_fts(server, Sleeps(), attempts=2)
        completed = set(_state()["windows"])
        assert 0 < len(completed) < 8
        assert catalogue.find("contracts").rows == len(
            harvesting.read_cached_awards().drop_duplicates(["ocid", "release_id"])
        )  # what was completed is in the catalogue
        server.fail_from, before = None, len(server.requests)
        done = _harvest_fts(server, Sleeps())
        asked_again = [
            f"{q['updatedFrom']}/{q['updatedTo']}"
            for q in _window_queries(server.requests[before:])
        ]

    assert done.skipped == len(completed)
    assert len(asked_again) == done.fetched == 8 - len(completed)
    assert not set(asked_again) & completed
    assert set(harvesting.read_cached_awards()["ocid"]) == _icb_award_ocids(
        published, START, TWO_DAYS
    )


def _window_queries(requests: list[str]) -> list[dict[str, str]]:
    """The first-page queries (no cursor) among some requests, in order."""
    queries = [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r).query)) for r in requests]
    return [query for query in queries if "cursor" not in query]


def test_a_finished_harvest_run_again_makes_no_request(data_dir, published):
    with releases.serving_tenders(published) as server:
        _harvest_fts(server, Sleeps())
        before = len(server.requests)
        again = _harvest_fts(server, Sleeps())

    assert (again.fetched, again.skipped, len(server.requests)) == (0, 8, before)


def test_only_icb_buyers_with_awards_are_kept_in_the_cache(data_dir, published):
    with releases.serving_tenders(published) as server:
        done = _harvest_fts(server, Sleeps())

    assert done.kept < done.seen
    cached = catalogue.settings.cache_dir() / "contracts" / "find_a_tender" / "releases"
    buyers = {row for row in read_awards(cached)["buyer_name"]}
    assert releases.NON_ICB_BUYER[1] not in buyers
    assert all(name.endswith("Integrated Care Board") for name in buyers)


def test_windows_still_open_are_left_for_the_next_harvest(data_dir, published):
    with releases.serving_tenders(published) as server:
        done = harvesting.harvest(
            harvesting.FIND_A_TENDER,
            base_url=server.fts_base,
            since=START.date(),
            until=START + timedelta(hours=13),
            delay_s=0,
            retry=Sleeps().policy(),
        )

    assert done.windows == 2  # 00-06 and 06-12; 12-18 has not ended


def test_contracts_finder_waits_out_a_403_and_reads_iso_8859_1(data_dir, world, monkeypatch):
    monkeypatch.setenv("ICS_CF_WAIT_S", "7")
    notices = [releases.cf_release(world, n, START + timedelta(days=n)) for n in range(30)]
    notices.append(releases.cf_release(world, 99, START + timedelta(days=2), coh="4142000"))
    sleeps = Sleeps()
    with releases.serving_tenders(cf_releases=notices, forbid_next=1, page_size=10) as server:
        done = harvesting.harvest(
            harvesting.CONTRACTS_FINDER,
            base_url=server.cf_base,
            since=START.date(),
            until=START + timedelta(days=30),
            delay_s=0,
            retry=sleeps.policy(),
        )
        asked = server.window_requests(releases.CF_PATH)

    assert list(dict.fromkeys((q["publishedFrom"], q["publishedTo"]) for q in asked)) == [
        ("2025-03-01", "2025-03-15"),
        ("2025-03-16", "2025-03-30"),
    ]
    assert sleeps == [7.0]  # the 403, then the same window again
    assert len(asked) == 3
    assert done.seen == len(notices)
    awards = harvesting.read_cached_awards()
    assert set(awards["title"]) == {releases.CF_TITLE}
    assert "04142000" in set(awards["supplier_number"])


def test_fetch_contracts_records_both_services_with_their_provenance(data_dir, world, monkeypatch):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = releases.many_releases(world, 20, today - timedelta(days=1), per_day=20)
    with releases.serving_tenders(recent) as server:
        monkeypatch.setenv("ICS_FTS_BASE", server.fts_base)
        monkeypatch.setenv("ICS_CF_BASE", server.cf_base)
        monkeypatch.setenv("ICS_CONTRACTS_DELAY_S", "0")
        report = sources.fetch_contracts(since=(today - timedelta(days=1)).date().isoformat())

    (entry,) = report.taken  # Contracts Finder: no 15-day window has ended since then
    assert entry.kind == "contracts"
    assert entry.publisher == recognise.CABINET_OFFICE
    assert "Open Government Licence v3.0" in entry.licence
    assert "windows of 6 hours from" in entry.source_url
    assert entry.rows == len(harvesting.read_cached_awards()["ocid"].unique())
    assert report.failed == []


def test_since_without_contracts_is_refused(capsys):
    assert cli.main(["fetch", "--since", "2025-01-01"]) == 2
    assert "--since applies to the contract-award harvest" in capsys.readouterr().err


def test_a_since_that_is_not_a_date_is_refused(data_dir):
    with pytest.raises(InputError, match="not a date"):
        harvesting.harvest(harvesting.FIND_A_TENDER, since="last spring", until=TWO_DAYS)


def test_fetch_from_a_folder_takes_release_packages(data_dir, world, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    fixtures = releases.fixture_releases(world, START)
    releases.write_release_package(folder / "fts-2025-03.json", [f.release for f in fixtures])

    report = sources.fetch_from_dir(folder)

    (entry,) = report.taken
    assert (entry.kind, entry.publisher) == ("contracts", recognise.CABINET_OFFICE)
    awards = harvesting.read_cached_awards()
    assert set(awards["ocid"]) == {f.release["ocid"] for f in fixtures}
    assert date.fromisoformat(awards["published"].min()) >= START.date()
