"""Download NHS England's monthly activity extracts (RTT, DM01) and the DSPT export into the cache.

RTT and DM01 (DATA-FORMATS-2.md §1-2) are found the way their pages are laid out: the
main page links one page per financial year (link text like '2026-27'); the year page
links each month's zip, whose name carries the month and a random suffix, so the URL is
scraped, never built. The current financial year's page is tried first (April to March;
its address is built from the slug when the main page does not link it), then the
previous one, because early in a year the latest month still sits on the old page. The
latest month wins; of two links for one month the 'revised' one. Each file is cached with
its month as its vintage, credited to NHS England under OGL v3.

The DSPT export has no known URL [U]: it is downloaded from ICS_DSPT_URL when that is set,
else the message says how to save it from the search page by hand for `fetch --from DIR`.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geo.fetch.catalogue import CacheEntry
from geo.fetch.http import RetryPolicy, SourceError, download, get_url
from geo.fetch.sources import LinkParser, check_is, store_download
from geo.io.recognise import DSPT_PUBLISHER, NHS_ENGLAND
from geo.model import settings
from geo.model.progress import Progress

DSPT_SEARCH_PAGE = "https://www.dsptoolkit.nhs.uk/OrganisationSearch"
DSPT_BY_HAND = (
    "the DSPT export has no known download address: open "
    f"{DSPT_SEARCH_PAGE}, search with no filters, download the results as CSV "
    "('DSPT search results DD_MM_YYYY HH_MM_SS.csv'), put it in a folder and run "
    "`python -m geo fetch --from DIR` (or set ICS_DSPT_URL to a URL that serves the CSV)"
)
_YEAR_LINK = re.compile(r"^[0-9]{4}-[0-9]{2}")
_MONTH_ABBREVIATIONS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


@dataclass(frozen=True)
class _Extract:
    """How one of NHS England's monthly extracts is found."""

    kind: str  # the cache kind
    what: str  # how messages name it
    setting: str  # the setting holding its main page
    year_slug: str  # the year page's slug, '{label}' standing for '2026-27'
    link: (
        re.Pattern
    )  # a zip link's file name: month and year groups ('Jun', '26' or 'JUNE', '2026')


RTT_EXTRACT = _Extract(
    "rtt",
    "RTT waiting times full CSV",
    "rtt_index_url",
    "rtt-data-{label}/",
    re.compile(r"Full-CSV-data-file-([A-Za-z]{3})(\d{2})[-_].*\.zip$", re.IGNORECASE),
)
DM01_EXTRACT = _Extract(
    "dm01",
    "DM01 diagnostics full extract",
    "dm01_index_url",
    "monthly-diagnostics-data-{label}/",
    re.compile(r"DM01-([A-Za-z]+)-(\d{4})-full-extract[^/]*\.zip$", re.IGNORECASE),
)


@dataclass(frozen=True)
class MonthLink:
    """A month's zip as linked from a year page."""

    url: str
    year: int
    month: int
    revised: bool

    @property
    def period(self) -> str:
        """'YYYY-MM'."""
        return f"{self.year}-{self.month:02d}"


def fetch_rtt(
    *, today: date | None = None, retry: RetryPolicy | None = None, progress: Progress | None = None
) -> CacheEntry:
    """Download the latest RTT full CSV zip into the cache and record it (vintage 'YYYY-MM')."""
    return _fetch_extract(RTT_EXTRACT, today, retry, progress)


def fetch_dm01(
    *, today: date | None = None, retry: RetryPolicy | None = None, progress: Progress | None = None
) -> CacheEntry:
    """Download the latest DM01 full extract zip into the cache and record it."""
    return _fetch_extract(DM01_EXTRACT, today, retry, progress)


def fetch_dspt(url: str | None = None, *, progress: Progress | None = None) -> CacheEntry:
    """Download the DSPT export from `url` (default: ICS_DSPT_URL) and record it; with no
    URL, SourceError saying how to save it by hand."""
    url = url or settings.get_setting("dspt_url")
    what = "DSPT organisation search export"
    if not url:
        raise SourceError(f"{what}: {DSPT_BY_HAND}")
    folder = settings.cache_dir() / "dspt"
    partial = download(url, folder, what, progress, suffix=".csv")
    try:
        found = check_is(partial, "dspt", "", what)
        today = date.today().isoformat()  # a live list: a snapshot of today
        return store_download(
            partial,
            folder,
            kind="dspt",
            vintages=(today,),
            title=what,
            source_url=url,
            publisher=DSPT_PUBLISHER,
            rows=found.rows,
            published=today,
            name=f"DSPT search results {today}.csv",
        )[0]
    finally:
        partial.unlink(missing_ok=True)


def financial_years(today: date) -> tuple[str, str]:
    """The labels of this financial year (April to March) and the previous: ('2026-27', '2025-26')."""
    first = today.year if today.month >= 4 else today.year - 1
    return _label(first), _label(first - 1)


def latest_month(
    links: list[tuple[str, str]], page_url: str, pattern: re.Pattern
) -> MonthLink | None:
    """The latest month's zip among a page's (href, text) links, the 'revised' one of a month
    if there is one; None when the page links none."""
    found = []
    for href, _text in links:
        name = Path(urllib.parse.urlparse(href).path).name
        match = pattern.search(name)
        month = _month_number(match.group(1)) if match else None
        if match and month:
            year = int(match.group(2))
            year = year + 2000 if year < 100 else year
            url = urllib.parse.urljoin(page_url, href)
            found.append(MonthLink(url, year, month, "revised" in name.casefold()))
    return max(found, key=lambda link: (link.year, link.month, link.revised), default=None)


def _label(first_year: int) -> str:
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def _month_number(text: str) -> int | None:
    return _MONTH_ABBREVIATIONS.get(text[:3].casefold())


def _fetch_extract(
    extract: _Extract, today: date | None, retry: RetryPolicy | None, progress: Progress | None
) -> CacheEntry:
    link = _find_latest(extract, today or date.today(), retry)
    folder = settings.cache_dir() / extract.kind
    partial = download(link.url, folder, extract.what, progress, suffix=".zip")
    name = Path(urllib.parse.urlparse(link.url).path).name
    try:
        found = check_is(partial, extract.kind, "", f"{extract.what} {name}")
        if found.vintages != (link.period,):
            raise SourceError(
                f"{extract.what}: {link.url} is linked as {link.period} but holds "
                f"{', '.join(found.vintages) or 'no month'}"
            )
        return store_download(
            partial,
            folder,
            kind=extract.kind,
            vintages=(link.period,),
            title=name,
            source_url=link.url,
            publisher=NHS_ENGLAND,
            rows=found.rows,
            name=name,
        )[0]
    finally:
        partial.unlink(missing_ok=True)


def _find_latest(extract: _Extract, today: date, retry: RetryPolicy | None) -> MonthLink:
    """The latest month linked from this financial year's page, else the previous year's."""
    main_url = settings.get_setting(extract.setting)
    main = _page_links(main_url, f"{extract.what} main page", retry)
    year_pages = {
        _YEAR_LINK.match(text).group(0): urllib.parse.urljoin(main_url, href)
        for href, text in main
        if _YEAR_LINK.match(text) and not href.casefold().endswith(("xls", "xlsx"))
    }
    tried = []
    for label in financial_years(today):
        slug = extract.year_slug.format(label=label)
        page_url = year_pages.get(label) or urllib.parse.urljoin(_folder(main_url), slug)
        try:
            links = _page_links(page_url, f"{extract.what} page for {label}", retry)
        except SourceError as error:
            tried.append(str(error))
            continue
        link = latest_month(links, page_url, extract.link)
        if link is not None:
            return link
        tried.append(f"{page_url}: no link to a month's zip")
    raise SourceError(
        f"{extract.what}: {'; '.join(tried)}; the pages may have changed: download the "
        "zip by hand and run `python -m geo fetch --from DIR`"
    )


def _folder(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _page_links(url: str, what: str, retry: RetryPolicy | None) -> list[tuple[str, str]]:
    page = get_url(url, what, consume=lambda response: response.read(), retry=retry)
    parser = LinkParser()
    parser.feed(page.decode("utf-8", "replace"))
    return parser.links
