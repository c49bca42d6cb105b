"""Harvest ICB contract awards from Find a Tender and Contracts Finder, a window at a time, resumably.

Find a Tender (DATA-FORMATS-2.md §3a) is asked for award releases updated in 6-hour
windows (`ocdsReleasePackages?updatedFrom&updatedTo&stages=award&limit=100`): over
longer windows the endpoint silently misses releases. Contracts Finder (§3b) is asked
for notices published in 15-day windows. Every page's `links.next` is followed until it
is absent. One request at a time, a polite pause between requests (setting
ICS_CONTRACTS_DELAY_S, 10 s as kingfisher-collect uses: Find a Tender allows 12 requests
in 2 minutes); a 429 or 503 is retried after the server's Retry-After, and Contracts
Finder's 403 (its "too many requests") after ICS_CF_WAIT_S (five minutes).

Only releases whose buyer is an ICB and that carry awards are kept. Each completed
window's are written to `cache/contracts/<service>/releases/` as a release package, then
the window is recorded in `harvest.json` beside them; a harvest that stops (offline,
interrupted) keeps every completed window and redoes only the one it was in, so a
completed window is never fetched again. The catalogue entry (kind `contracts`) is the
`harvest.json`, with the windows covered in its source URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from geo.fetch import catalogue
from geo.fetch.catalogue import CacheEntry
from geo.fetch.http import Retry, RetryPolicy, SourceError, get_url
from geo.io.contracts import (
    concat_awards,
    iter_releases,
    loads_package,
    read_awards,
    release_buyer_is_icb,
)
from geo.io.recognise import CABINET_OFFICE
from geo.model import settings
from geo.model.errors import InputError
from geo.model.progress import Progress

KIND = "contracts"
STATE_FILE = "harvest.json"
RELEASES_FOLDER = "releases"
PAGE_LIMIT = 100
FTS_WINDOW = timedelta(hours=6)
CF_WINDOW = timedelta(days=15)
ATTEMPTS = 6  # tries per page: a busy server is waited out, not given up on at once
MAX_WAIT_S = 600.0  # the longest a Retry-After (or Contracts Finder's 403) may make us wait


@dataclass(frozen=True)
class Service:
    """One publisher's OCDS search: how its windows are asked for and its bodies decoded."""

    key: str  # folder under cache/contracts
    title: str  # the catalogue entry's title
    base_setting: str
    since_setting: str
    window: timedelta
    encoding: str
    url: Callable[[str, datetime, datetime], str]  # (base, window start, end) -> first page


def _fts_url(base: str, start: datetime, end: datetime) -> str:
    query = {
        "updatedFrom": f"{start:%Y-%m-%dT%H:%M:%S}Z",
        "updatedTo": f"{end:%Y-%m-%dT%H:%M:%S}Z",
        "stages": "award",
        "limit": PAGE_LIMIT,
    }
    return f"{base.rstrip('/')}/api/1.0/ocdsReleasePackages?{urllib.parse.urlencode(query)}"


def _cf_url(base: str, start: datetime, end: datetime) -> str:
    last_day = (end - timedelta(days=1)).date()  # publishedTo includes its day
    query = {
        "limit": PAGE_LIMIT,
        "publishedFrom": f"{start:%Y-%m-%d}",
        "publishedTo": f"{last_day}",
    }
    return f"{base.rstrip('/')}/Published/Notices/OCDS/Search?{urllib.parse.urlencode(query)}"


FIND_A_TENDER = Service(
    "find_a_tender",
    "Find a Tender award releases (ICB buyers)",
    "fts_base",
    "fts_since",
    FTS_WINDOW,
    "utf-8",
    _fts_url,
)
CONTRACTS_FINDER = Service(
    "contracts_finder",
    "Contracts Finder award releases (ICB buyers)",
    "cf_base",
    "cf_since",
    CF_WINDOW,
    "iso-8859-1",
    _cf_url,
)
SERVICES: dict[str, Service] = {"fts": FIND_A_TENDER, "cf": CONTRACTS_FINDER}


@dataclass
class Harvest:
    """What one harvest run did: windows fetched and skipped (already cached), requests
    made, releases seen and kept, and the catalogue entry recorded."""

    service: str
    windows: int = 0
    fetched: int = 0
    skipped: int = 0
    requests: int = 0
    seen: int = 0
    kept: int = 0
    entry: CacheEntry | None = None
    stopped: str = ""  # why the harvest stopped before its last window, if it did
    pages: list[str] = field(default_factory=list, repr=False)


def harvest(
    service: Service,
    *,
    base_url: str | None = None,
    since: str | date | None = None,
    until: datetime | None = None,
    window: timedelta | None = None,
    delay_s: float | None = None,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
) -> Harvest:
    """Fetch every window from `since` (default: the service's setting) to `until`
    (default: now) not already in the cache; record the cache entry. Windows end at or
    before `until`, so a window still open is left for the next harvest.

    Errors (offline, a server that keeps failing) propagate once the completed windows
    are recorded; running again resumes at the first window not completed.
    """
    base = base_url or settings.get_setting(service.base_setting)
    window = window or service.window
    windows = list(_windows(_start_of(since or settings.get_setting(service.since_setting)),
                            until or datetime.now(UTC), window))  # fmt: skip
    delay = float(settings.get_setting("contracts_delay_s")) if delay_s is None else delay_s
    policy = retry or RetryPolicy(ATTEMPTS, max(delay, 1.0), MAX_WAIT_S)
    folder = settings.cache_dir() / KIND / service.key
    state = _load_state(folder, service)
    report = Harvest(service.key, windows=len(windows))
    try:
        for done, (start, end) in enumerate(windows):
            if progress:
                progress(done, len(windows))
            key = _window_key(start, end)
            if key in state["windows"]:
                report.skipped += 1
                continue
            releases = _fetch_window(service, base, start, end, delay, policy, report)
            kept = [r for r in releases if r.get("awards") and release_buyer_is_icb(r)]
            file = _write_window(folder, key, kept, service, base, start, end) if kept else None
            state["windows"][key] = {"file": file, "seen": len(releases), "kept": len(kept)}
            _save_state(folder, state)
            report.fetched += 1
            report.seen += len(releases)
            report.kept += len(kept)
        if progress:
            progress(len(windows), len(windows))
    finally:
        if state["windows"]:
            report.entry = _record(folder, state, service, base)
    return report


def read_cached_awards() -> pd.DataFrame:
    """Every award in the cache (harvests and files taken with `fetch --from`), as
    AWARD_COLUMNS, each release once (its newest copy)."""
    tables = []
    for entry in catalogue.entries(KIND):
        path = catalogue.entry_path(entry)
        if path.name == STATE_FILE:
            path = path.parent / RELEASES_FOLDER
            if not path.is_dir():
                continue
        tables.append(read_awards(path))
    return concat_awards(tables)


# --- windows and pages ----------------------------------------------------------------------


def _start_of(since: str | date) -> datetime:
    if isinstance(since, datetime):
        return since.astimezone(UTC)
    try:
        day = since if isinstance(since, date) else date.fromisoformat(str(since).strip())
    except ValueError:
        raise InputError(f"contract awards: --since {since!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _windows(
    start: datetime, until: datetime, step: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive windows of `step` from `start`, each ending at or before `until`."""
    until = until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC)
    while start + step <= until:
        yield start, start + step
        start += step


def _window_key(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"


def _fetch_window(
    service: Service,
    base: str,
    start: datetime,
    end: datetime,
    delay: float,
    policy: RetryPolicy,
    report: Harvest,
) -> list[dict]:
    """Every release of one window, following `links.next` to the last page."""
    releases: list[dict] = []
    url: str | None = service.url(base, start, end)
    seen_urls = set()
    while url and url not in seen_urls:
        seen_urls.add(url)
        if report.requests and delay:
            policy.sleep(delay)
        page = _get_page(service, url, policy)
        report.requests += 1
        releases += [r for r in page.get("releases", []) if isinstance(r, dict)]
        following = (page.get("links") or {}).get("next")
        url = urllib.parse.urljoin(url, following) if isinstance(following, str) else None
    return releases


def _get_page(service: Service, url: str, policy: RetryPolicy) -> dict:
    """One page as a release package; a body that is not one is retried, then SourceError."""
    what = service.title

    def consume(response) -> dict:
        body = response.read()
        text = body.decode(service.encoding, errors="replace")
        try:
            page = loads_package(text, f"{what}: {url}")
        except InputError as error:
            raise Retry(SourceError(str(error))) from None
        if not isinstance(page, dict) or not isinstance(page.get("releases"), list):
            raise Retry(SourceError(f"{what}: {url} did not return a release package"))
        return page

    rate_limited = (
        {403: float(settings.get_setting("cf_wait_s"))} if service is CONTRACTS_FINDER else None
    )
    return get_url(url, what, consume=consume, retry=policy, rate_limited=rate_limited)


# --- the cache ------------------------------------------------------------------------------


def _load_state(folder: Path, service: Service) -> dict:
    path = folder / STATE_FILE
    if not path.is_file():
        return {"service": service.key, "windows": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            f"contract awards harvest state {path}: not valid JSON ({error}); delete it to "
            "harvest again from the start"
        ) from None
    state.setdefault("windows", {})
    return state


def _save_state(folder: Path, state: dict) -> None:
    _write_atomically(folder / STATE_FILE, json.dumps(state, indent=1, sort_keys=True).encode())


def _write_window(
    folder: Path,
    key: str,
    kept: list[dict],
    service: Service,
    base: str,
    start: datetime,
    end: datetime,
) -> str:
    """Write a window's kept releases as a release package; its path relative to `folder`."""
    name = f"{RELEASES_FOLDER}/{start:%Y-%m-%dT%H%M}_{end:%Y-%m-%dT%H%M}.json"
    package = {
        "uri": service.url(base, start, end),
        "publishedDate": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "publisher": {"name": CABINET_OFFICE},
        "license": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "window": key,
        "releases": kept,
    }
    _write_atomically(folder / name, json.dumps(package, ensure_ascii=False).encode("utf-8"))
    return name


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _record(folder: Path, state: dict, service: Service, base: str) -> CacheEntry:
    """The catalogue entry for a harvest: its state file, the windows covered, and the
    releases kept (each once, though a release updated later is in two windows' files)."""
    keys = sorted(state["windows"])
    first, last = keys[0].split("/")[0], keys[-1].split("/")[1]
    path = folder / STATE_FILE
    files = [folder / w["file"] for w in state["windows"].values() if w.get("file")]
    endpoint = service.url(base, datetime.now(UTC), datetime.now(UTC)).partition("?")[0]
    covered = f"{len(keys):,} windows of {_duration(service.window)} from {first} to {last}"
    return catalogue.record(
        CacheEntry(
            kind=KIND,
            vintage="",
            file=path.relative_to(settings.cache_dir()).as_posix(),
            source_url=f"{endpoint} ({covered})",
            publisher=CABINET_OFFICE,
            licence=catalogue.attribution(CABINET_OFFICE),
            retrieved_at=f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
            published=last[:10],
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            bytes=sum(file.stat().st_size for file in files if file.is_file()),
            rows=len({(r.get("ocid"), r.get("id")) for f in files for _, r in iter_releases(f)}),
            title=service.title,
        )
    )


def _duration(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours:g} hours"
