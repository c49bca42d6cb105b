"""Fetching NHS England's RTT and DM01 extracts and the DSPT export (against a local stand-in)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import pytest

from geo.fetch import activity, catalogue, sources
from geo.fetch import http as http_fetch
from geo.io.recognise import DSPT_PUBLISHER, NHS_ENGLAND
from geo.testing import activity_files as files
from geo.testing import activity_server as fake

SUMMER = date(2026, 8, 20)  # June's RTT is out; financial year 2026-27
EARLY_APRIL = date(2026, 4, 10)  # financial year 2026-27 has just begun


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> None:
    """Retries without the back-off pauses, so the tests stay fast."""
    monkeypatch.setattr(http_fetch, "BACKOFF_S", 0.0)


@pytest.fixture
def statistics(shared_data, tmp_path_factory) -> Iterator[fake.FakeNhsStatistics]:
    with fake.serving_nhs_statistics(tmp_path_factory.mktemp("nhs"), shared_data) as server:
        yield server


@pytest.fixture
def online(statistics, data_dir, monkeypatch) -> fake.FakeNhsStatistics:
    """The activity sources pointed at the stand-in, with an empty cache."""
    monkeypatch.setenv("ICS_RTT_INDEX_URL", statistics.rtt_index_url)
    monkeypatch.setenv("ICS_DM01_INDEX_URL", statistics.dm01_index_url)
    monkeypatch.delenv("ICS_DSPT_URL", raising=False)
    return statistics


class _FrozenInSummer(date):
    @classmethod
    def today(cls) -> date:
        return SUMMER


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_the_latest_rtt_month_is_found_downloaded_and_recorded_with_provenance(online):
    entry = activity.fetch_rtt(today=SUMMER)

    assert entry.source_url == online.file_url(fake.LATEST_RTT)
    assert (entry.kind, entry.vintage, entry.title) == ("rtt", "2026-06", fake.LATEST_RTT)
    assert entry.publisher == NHS_ENGLAND
    assert "OGL v3" in entry.licence
    assert catalogue.find("rtt") == entry
    assert (
        catalogue.entry_path(entry).read_bytes()
        == online.files[entry.source_url.removeprefix(online.root)].read_bytes()
    )


def test_a_revised_file_for_the_latest_month_is_preferred(online):
    year_page = online.pages[online.rtt_year_page("2026-27")]
    revised = f"{online.root}{fake.UPLOADS}/2026/09/Full-CSV-data-file-Jun26-ZIP-4M-revised.zip"
    online.files[revised.removeprefix(online.root)] = online.files[
        online.file_url(fake.LATEST_RTT).removeprefix(online.root)
    ]
    year_page.insert(1, (revised, "Full CSV data file Jun26 revised (ZIP, 4M)"))

    entry = activity.fetch_rtt(today=SUMMER)

    assert entry.source_url == revised
    assert entry.vintage == "2026-06"


def test_early_in_the_year_the_previous_years_page_is_used_when_this_ones_is_missing(online):
    this_year = online.rtt_year_page("2026-27")
    del online.pages[this_year]
    online.pages[fake.RTT_MAIN] = [
        link for link in online.pages[fake.RTT_MAIN] if link[1] != "2026-27"
    ]

    entry = activity.fetch_rtt(today=EARLY_APRIL)

    assert this_year in online.requests  # built from the slug, tried, not found
    assert entry.vintage == "2026-03"
    assert entry.source_url.endswith("Full-CSV-data-file-Mar26-ZIP-4M-revised.zip")


def test_financial_years_turn_in_april():
    assert activity.financial_years(date(2026, 3, 31)) == ("2025-26", "2024-25")
    assert activity.financial_years(date(2026, 4, 1)) == ("2026-27", "2025-26")


def test_a_503_is_retried_and_then_the_file_is_taken(online):
    online.fail_next = [(503, None)]

    entry = activity.fetch_rtt(today=SUMMER)

    assert entry.vintage == "2026-06"
    assert online.requests[:2] == [fake.RTT_MAIN, fake.RTT_MAIN]


def test_a_429_is_retried_after_the_pause_the_server_asks_for(online):
    online.fail_next = [(429, "7")]
    sleeps = Sleeps()

    entry = activity.fetch_dm01(today=SUMMER, retry=http_fetch.RetryPolicy(sleep=sleeps))

    assert sleeps == [7.0]
    assert entry.vintage == "2026-05"


def test_the_latest_dm01_month_is_found_and_recorded(online):
    entry = activity.fetch_dm01(today=SUMMER)

    assert entry.source_url == online.file_url(fake.LATEST_DM01)
    assert (entry.kind, entry.vintage, entry.publisher) == ("dm01", "2026-05", NHS_ENGLAND)


def test_a_year_page_without_any_month_says_the_pages_may_have_changed(online):
    for label in ("2026-27", "2025-26"):
        online.pages[online.rtt_year_page(label)] = []

    with pytest.raises(http_fetch.SourceError, match="the pages may have changed"):
        activity.fetch_rtt(today=SUMMER)
    assert catalogue.entries() == []


def test_offline_says_what_to_do_and_records_nothing(data_dir, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("ICS_RTT_INDEX_URL", closed + fake.RTT_MAIN)

    with pytest.raises(http_fetch.OfflineError) as raised:
        activity.fetch_rtt(today=SUMMER)

    assert "seems to be offline" in str(raised.value)
    assert "`python -m geo fetch --from DIR`" in str(raised.value)
    assert catalogue.entries() == []


def test_dspt_without_a_url_says_how_to_save_the_export_by_hand(data_dir, monkeypatch):
    monkeypatch.delenv("ICS_DSPT_URL", raising=False)

    with pytest.raises(http_fetch.SourceError) as raised:
        activity.fetch_dspt()

    assert activity.DSPT_SEARCH_PAGE in str(raised.value)
    assert "fetch --from DIR" in str(raised.value)


def test_dspt_from_a_configured_url_is_taken_with_its_licence_caveat(online, monkeypatch):
    monkeypatch.setenv("ICS_DSPT_URL", online.dspt_url)

    entry = activity.fetch_dspt()

    assert (entry.kind, entry.publisher, entry.rows) == ("dspt", DSPT_PUBLISHER, 5)
    assert "no licence is stated" in entry.licence


def test_fetch_all_takes_the_activity_extracts_and_reports_the_dspt_step(online, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name in ("ARCGIS_BASE", "CQC_INDEX_URL", "ODS_BASE", "CHARITY_REGISTER_URL"):
        monkeypatch.setenv(f"ICS_{name}", f"{closed}/{name.lower()}")
    monkeypatch.setenv("ICS_RSH_INDEX_URL", f"{closed}/rsh")
    monkeypatch.setenv("ICS_CODE_HISTORY_URL", f"{closed}/chd")

    monkeypatch.setattr(activity, "date", _FrozenInSummer)  # the fetchers' clock

    report = sources.fetch_all()

    taken = sorted((entry.kind, entry.vintage) for entry in report.taken)
    assert taken == [("dm01", "2026-05"), ("rtt", "2026-06")]
    failed = dict(report.failed)
    dspt = "Data Security and Protection Toolkit status (DSPT search results)"
    assert activity.DSPT_SEARCH_PAGE in failed[dspt]


def test_fetch_from_dir_takes_the_zipped_extracts_and_the_dspt_export(
    shared_data, data_dir, tmp_path
):
    world = files.ActivityWorld.load(shared_data)
    folder = tmp_path / "downloads"
    files.write_rtt_zip(folder / "Full-CSV-data-file-Jun26-ZIP-4M-Dc1i9U.zip",
                        files.example_rtt_rows(world), 2026, 6)  # fmt: skip
    files.write_dm01_zip(folder / "DM01-MAY-2026-full-extract_8BN1G.zip",
                         files.example_dm01_rows(world), 2026, 5)  # fmt: skip
    export = folder / "DSPT search results 16_11_2023 11_17_41.csv"
    export.write_text(files.dspt_csv_text(files.example_dspt_rows(world)), encoding="utf-8")

    report = sources.fetch_from_dir(folder)

    taken = sorted((entry.kind, entry.vintage, entry.publisher) for entry in report.taken)
    assert taken == [
        ("dm01", "2026-05", NHS_ENGLAND),
        ("dspt", "2023-11-16", DSPT_PUBLISHER),
        ("rtt", "2026-06", NHS_ENGLAND),
    ]
    assert report.ignored == []
    assert catalogue.find("dspt").published == "2023-11-16"
