"""Official data sources: download them into the cache with provenance, or take them from a folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyogrio

from geo.fetch import catalogue
from geo.fetch import contracts as contract_awards
from geo.fetch.arcgis import fetch_arcgis_layer, layer_query_url
from geo.fetch.catalogue import CacheEntry
from geo.fetch.http import OfflineError, SourceError, download, get_url, url_host
from geo.io import recognise
from geo.io.recognise import CHARITY_COMMISSION, CQC, NHS_ODS, ONS, RSH
from geo.io.registers import rsh_file_date
from geo.model import settings
from geo.model.errors import InputError
from geo.model.progress import Progress

_CHUNK = 1 << 20  # bytes hashed at a time


@dataclass(frozen=True)
class Source:
    """One official file the app can fetch: what it is and where it lives."""

    kind: str
    vintage: str
    # "arcgis" (ONS layer), "cqc" (index page), "nhs_ods" (report code), "charity_commission"
    # (fixed URL), "rsh" (gov.uk page),
    # "code_history" (a zip), "rtt", "dm01" (NHS England's pages), "dspt" (ICS_DSPT_URL)
    fetcher: str
    name: str | None  # ArcGIS layer name, ODS report code or file name; None when none is known
    note: str = ""  # uncertainty, or why there is nothing to fetch

    @property
    def label(self) -> str:
        """How reports name this source: '<kind label> <vintage> (<layer or report>)'."""
        what = f"{catalogue.KIND_LABELS[self.kind]} {self.vintage}".strip()
        return f"{what} ({self.name})" if self.name else what


_ONE_SOURCE = "uncertain: this layer name rests on one source"
_NO_2024_LAYER = (
    "no April 2024 ICB boundary layer was found on the ONS portal; "
    "the April 2023 boundaries have the same 42 codes and lines"
)
_UNUSED_CODE = "uncertain: no code using this ODS report was found"
_CHD_EDITION = (
    "uncertain: ICS_CODE_HISTORY_URL names one edition of the Code History Database "
    "(July 2024); each edition has its own ArcGIS item"
)

_DSPT_BY_HAND = "uncertain: no known download address; set ICS_DSPT_URL or use fetch --from DIR"

# Every official source, one per line (layer names: DATA-FORMATS.md §3.2-3.4, reports §2.1).
# fmt: off
REGISTRY: tuple[Source, ...] = (
    Source("icb",   "2022", "arcgis", "Integrated_Care_Boards_July_2022_EN_BFC_2022", _ONE_SOURCE),
    Source("icb",   "2023", "arcgis", "Integrated_Care_Boards_April_2023_EN_BGC"),
    Source("icb",   "2024", "arcgis", None, _NO_2024_LAYER),
    Source("icb",   "2026", "arcgis", "Integrated_Care_Boards_April_2026_Boundaries_EN_BGC", _ONE_SOURCE),
    Source("sicbl", "2023", "arcgis", "Sub_Integrated_Care_Board_Locations_April_2023_EN_BGC"),
    Source("sicbl", "2026", "arcgis", "Sub_Integrated_Care_Board_Locations_April_2026_Boundaries_EN_BGC"),
    Source("nhser", "2024", "arcgis", "NHS_England_Regions_January_2024_EN_BGC"),
    Source("sicbl_lookup", "2024", "arcgis",
           "Sub_ICB_Locations_to_Integrated_Care_Boards_to_NHS_England_(Region)_(April_2024)"),
    Source("sicbl_lookup", "2026", "arcgis", "LSOA21_SICBL26_ICB26_NHSER26_LAD26"),
    Source("sites", "", "cqc", "HSCA_Active_Locations"),  # CQC care directory with filters
    Source("sites", "", "nhs_ods", "ets"),                    # NHS trust sites
    Source("sites", "", "nhs_ods", "ephp", _UNUSED_CODE),     # independent sector providers
    Source("sites", "", "nhs_ods", "ephpsite", _UNUSED_CODE), # independent sector provider sites
    Source("charity_register", "", "charity_commission", "publicextract.charity"),
    Source("rsh_register", "", "rsh", "List_of_registered_providers"),
    Source("code_history", "", "code_history", "Changes.csv", _CHD_EDITION),  # old E38 codes
    Source("rtt",   "", "rtt",  "Full CSV data file"),           # geo.fetch.activity
    Source("dm01",  "", "dm01", "DM01 full extract"),
    Source("dspt",  "", "dspt", "DSPT search results", _DSPT_BY_HAND),
    Source("population", "", "population", "sapeicb"),       # ONS mid-year estimates by ICB
    Source("population", "", "population", "sapelsoasyoa"),  # … by LSOA, single year of age
)
# fmt: on


@dataclass
class FetchReport:
    """What a fetch took into the cache, what failed and why, and which files it ignored."""

    taken: list[CacheEntry] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, reason)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[str] = field(default_factory=list)  # which of several files the app uses


# ------------------------------------------------------------------ fetching everything


def fetch_all(*, progress: Progress | None = None) -> FetchReport:
    """Try every source in the registry and record each file fetched; failures are reported.

    Once a host proves unreachable its other sources are skipped rather than each
    waiting for its own timeout. `progress(done, total)` counts sources.
    """
    report = FetchReport()
    unreachable: set[str] = set()
    for done, source in enumerate(REGISTRY):
        if progress:
            progress(done, len(REGISTRY))
        host = _host_of(source)
        if source.name is None:
            report.failed.append((source.label, source.note))
        elif host in unreachable:
            report.failed.append((source.label, f"skipped: {host} could not be reached (above)"))
        else:
            try:
                report.taken.append(fetch_source(source))
            except OfflineError as error:
                unreachable.add(host)
                report.failed.append((source.label, str(error)))
            except InputError as error:
                report.failed.append((source.label, str(error)))
    if progress:
        progress(len(REGISTRY), len(REGISTRY))
    report.notes = _preference_notes(report.taken)
    return report


def fetch_source(source: Source, *, progress: Progress | None = None) -> CacheEntry:
    """Fetch one registry source into the cache and record it."""
    if source.name is None:
        raise SourceError(f"{source.label}: nothing to fetch: {source.note}")
    if source.fetcher == "cqc":
        return fetch_cqc_locations(progress=progress)
    if source.fetcher == "nhs_ods":
        return fetch_nhs_ods_report(source.name, progress=progress)
    if source.fetcher == "charity_commission":
        return fetch_charity_register(progress=progress)
    if source.fetcher == "rsh":
        return fetch_rsh_register(progress=progress)
    if source.fetcher == "code_history":
        return fetch_code_history(progress=progress)
    if source.fetcher in ("rtt", "dm01", "dspt"):
        # Imported here: geo.fetch.activity stores its files with this module's helpers.
        from geo.fetch import activity

        fetchers = {"rtt": activity.fetch_rtt, "dm01": activity.fetch_dm01}
        return fetchers.get(source.fetcher, activity.fetch_dspt)(progress=progress)
    if source.fetcher == "population":
        from geo.fetch.population import fetch_population  # it uses this module's helpers

        return fetch_population(source.name, progress=progress)
    return fetch_ons_layer(source, progress=progress)


def _host_of(source: Source) -> str:
    base_setting = {
        "arcgis": "arcgis_base",
        "cqc": "cqc_index_url",
        "nhs_ods": "ods_base",
        "charity_commission": "charity_register_url",
        "rsh": "rsh_index_url",
        "code_history": "code_history_url",
        "rtt": "rtt_index_url",
        "dm01": "dm01_index_url",
        "dspt": "dspt_url",
        "population": "population_pages",
    }
    first_url = (settings.get_setting(base_setting[source.fetcher]).split() or [""])[0]
    return url_host(first_url)


# ------------------------------------------------------------------ contract awards


def fetch_contracts(*, since: str | None = None, progress: Progress | None = None) -> FetchReport:
    """Harvest ICB contract awards from Find a Tender, then Contracts Finder, into the cache.

    Not part of `fetch_all`: at Find a Tender's rate limit a first harvest takes hours, so
    it is its own step (`python -m geo fetch --contracts`), resumed where it stopped.
    `since` (YYYY-MM-DD) overrides the settings' first day; `progress` counts windows.
    """
    report = FetchReport()
    for service in contract_awards.SERVICES.values():
        try:
            done = contract_awards.harvest(service, since=since, progress=progress)
        except InputError as error:
            report.failed.append((service.title, f"{error} (completed windows are kept)"))
            continue
        if done.entry is not None:
            report.taken.append(done.entry)
        report.notes.append(
            f"{service.title}: {done.fetched:,} windows fetched ({done.requests:,} requests), "
            f"{done.skipped:,} already cached; {done.kept:,} of {done.seen:,} releases kept"
        )
    return report


# ------------------------------------------------------------------ ONS ArcGIS layers


def fetch_ons_layer(
    source: Source, *, base_url: str | None = None, progress: Progress | None = None
) -> CacheEntry:
    """Download an ONS boundary or lookup layer into the cache and record its provenance.

    The download must be what the registry says it is (kind and vintage, judged from
    its columns), so a renamed or mislabelled layer never reaches the app.
    """
    folder = settings.cache_dir() / source.kind
    partial = folder / f".partial-{source.name}.geojson"
    try:
        rows = fetch_arcgis_layer(source.name, partial, base_url=base_url, progress=progress)
        found = check_is(partial, source.kind, source.vintage, f"ONS layer {source.name}")
        credit = catalogue.reconstruction_credit(
            source.name, found.columns, source.kind, source.vintage
        )
        return store_download(
            partial,
            folder,
            kind=source.kind,
            vintages=(source.vintage,),
            title=source.name,
            source_url=layer_query_url(source.name, base_url),
            publisher=credit or ONS,
            rows=rows,
        )[0]
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------ CQC and NHS ODS


def fetch_cqc_locations(
    out_dir: str | Path | None = None,
    *,
    index_url: str | None = None,
    progress: Progress | None = None,
) -> CacheEntry:
    """Download CQC's newest 'Care directory with filters' (HSCA active locations) and record it.

    The file is found from its link on CQC's data page, whose label carries the
    publication date; it is streamed to a temporary file and renamed when complete.
    """
    index_url = index_url or settings.get_setting("cqc_index_url")
    what = "CQC care directory with filters (HSCA active locations)"
    page = get_url(index_url, what, consume=lambda response: response.read())
    file_url, published = _newest_cqc_link(page.decode("utf-8", "replace"), index_url)
    folder = Path(out_dir) if out_dir else settings.cache_dir() / "sites"
    suffix = Path(urllib.parse.urlparse(file_url).path).suffix
    partial = download(file_url, folder, what, progress, suffix=suffix)
    try:
        if check_is(partial, "sites", "", what).publisher != CQC:
            raise SourceError(f"{what}: {file_url} is not CQC's HSCA locations file")
        return store_download(
            partial,
            folder,
            kind="sites",
            vintages=(published,),
            title=what,
            source_url=file_url,
            publisher=CQC,
            published=published,
            name=Path(urllib.parse.urlparse(file_url).path).name,
        )[0]
    finally:
        partial.unlink(missing_ok=True)


def fetch_nhs_ods_report(
    code: str,
    out_dir: str | Path | None = None,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
) -> CacheEntry:
    """Download an NHS ODS report (headerless 27-column CSV, e.g. 'ets') and record it."""
    base = (base_url or settings.get_setting("ods_base")).rstrip("/?")
    url = f"{base}?{urllib.parse.urlencode({'report': code})}"
    what = f"NHS ODS report {code}"
    folder = Path(out_dir) if out_dir else settings.cache_dir() / "sites"
    partial = download(url, folder, what, progress)
    try:
        rows = _check_is_nhs_ods_report(partial, what, url).rows
        today = datetime.now(UTC).date().isoformat()  # the report is live: a snapshot of today
        return store_download(
            partial,
            folder,
            kind="sites",
            vintages=(today,),
            title=what,
            source_url=url,
            publisher=NHS_ODS,
            rows=rows,
            name=f"{code}.csv",
        )[0]
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------ VCSE registers


def fetch_charity_register(
    out_dir: str | Path | None = None,
    *,
    url: str | None = None,
    progress: Progress | None = None,
) -> CacheEntry:
    """Download the Charity Commission's register extract (the charity table's text edition,
    `publicextract.charity.zip`) and record it, the extract's own date as its vintage.

    The URL has no date in it (DATA-FORMATS-2.md §4): the file behind it changes daily.
    """
    url = url or settings.get_setting("charity_register_url")
    what = "Charity Commission register of charities (publicextract.charity.zip)"
    folder = Path(out_dir) if out_dir else settings.cache_dir() / "charity_register"
    partial = download(url, folder, what, progress, suffix=".zip")
    try:
        found = check_is(partial, "charity_register", "", what)
        return store_download(
            partial,
            folder,
            kind="charity_register",
            vintages=found.vintages,
            title="publicextract.charity.zip",
            source_url=url,
            publisher=CHARITY_COMMISSION,
            published=found.published,
            name="publicextract.charity.zip",
        )[0]
    finally:
        partial.unlink(missing_ok=True)


def fetch_rsh_register(
    out_dir: str | Path | None = None,
    *,
    index_urls: str | None = None,
    progress: Progress | None = None,
) -> CacheEntry:
    """Download the Regulator of Social Housing's newest list of registered providers and
    record it, the date in its name as its vintage.

    The file is found from its link on a gov.uk page: `index_urls` (default: setting
    ICS_RSH_INDEX_URL) names one or more pages, space-separated, tried in order, because
    which of two pages is current is not known (DATA-FORMATS-2.md §5 [U]).
    """
    what = "Regulator of Social Housing list of registered providers"
    pages = (index_urls or settings.get_setting("rsh_index_url")).split()
    file_url, published = _newest_rsh_link(pages, what)
    folder = Path(out_dir) if out_dir else settings.cache_dir() / "rsh_register"
    partial = download(file_url, folder, what, progress, suffix=".xlsx")
    name = Path(urllib.parse.urlparse(file_url).path).name
    try:
        found = check_is(partial, "rsh_register", "", what)
        return store_download(
            partial,
            folder,
            kind="rsh_register",
            vintages=(published,),
            title=name,
            source_url=file_url,
            publisher=RSH,
            rows=found.rows,
            published=published,
            name=name,
        )[0]
    finally:
        partial.unlink(missing_ok=True)


_RSH_FILE = re.compile(r"List_of_registered_providers_[^/]*\.xlsx$", re.I)


def _newest_rsh_link(pages: list[str], what: str) -> tuple[str, str]:
    """(absolute URL, ISO date) of the newest list linked from the first page that has one."""
    tried = []
    for page_url in pages:
        try:
            page = get_url(page_url, what, consume=lambda response: response.read())
        except SourceError as error:
            tried.append(str(error))
            continue
        parser = LinkParser()
        parser.feed(page.decode("utf-8", "replace"))
        found = []
        for href, _text in parser.links:
            name = Path(urllib.parse.urlparse(href).path).name
            published = rsh_file_date(name) if _RSH_FILE.search(name) else None
            if published:
                found.append((published, urllib.parse.urljoin(page_url, href)))
        if found:
            published, url = max(found)
            return url, published
        tried.append(f"{page_url}: no link to a List_of_registered_providers_D_Month_YYYY.xlsx")
    raise SourceError(
        f"{what}: {'; '.join(tried) or 'no page to look on (setting ICS_RSH_INDEX_URL)'}; "
        "the page may have changed: download the file by hand and run "
        "`python -m geo fetch --from DIR`"
    )


# ------------------------------------------------------------------ code history


def fetch_code_history(url: str | None = None, *, progress: Progress | None = None) -> CacheEntry:
    """Download ONS's Code History Database (a zip) and cache its Changes.csv with provenance.

    Only Changes.csv is kept: which code replaced which (geo.io.code_history reads it),
    so sub-ICB and CCG codes of earlier years reach the ICBs of any vintage.
    """
    url = url or settings.get_setting("code_history_url")
    what = "ONS Code History Database"
    folder = settings.cache_dir() / "code_history"
    archive = download(url, folder, what, progress, suffix=".zip")
    partial = folder / ".partial-Changes.csv"
    try:
        _extract_changes(archive, partial, what, url)
        found = check_is(partial, "code_history", "", f"{what} Changes.csv")
        return store_download(
            partial,
            folder,
            kind="code_history",
            vintages=("",),
            title=f"{what}: Changes.csv",
            source_url=url,
            publisher=ONS,
            rows=found.rows,
            name="Changes.csv",
        )[0]
    finally:
        archive.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


def _extract_changes(archive: Path, out: Path, what: str, url: str) -> None:
    """Copy the zip's Changes*.csv (at any depth, any case) to `out`, or SourceError."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            names = [
                name
                for name in zipped.namelist()
                if Path(name).name.casefold().startswith("changes")
                and name.casefold().endswith(".csv")
            ]
            if not names:
                raise SourceError(f"{what}: {url} holds no Changes.csv; the zip has changed")
            with zipped.open(min(names, key=len)) as member, open(out, "wb") as file:
                shutil.copyfileobj(member, file)
    except zipfile.BadZipFile:
        raise SourceError(f"{what}: {url} did not return a zip file") from None


class LinkParser(HTMLParser):
    """Collects (href, text) for every <a> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


_CQC_LABEL = re.compile(r"Care directory with filters\s*\((\d{1,2} [A-Za-z]+ \d{4})\)", re.I)
_CQC_FILE = re.compile(r"HSCA_Active_Locations[^/]*\.(ods|xlsx)$", re.I)


def _newest_cqc_link(page: str, index_url: str) -> tuple[str, str]:
    """(absolute file URL, ISO publication date) of the newest HSCA file linked from the page."""
    parser = LinkParser()
    parser.feed(page)
    found = []
    for href, text in parser.links:
        label = _CQC_LABEL.search(text)
        if label and _CQC_FILE.search(urllib.parse.urlparse(href).path):
            with contextlib.suppress(ValueError):
                date = datetime.strptime(label.group(1), "%d %B %Y").date()
                found.append((date, urllib.parse.urljoin(index_url, href)))
    if not found:
        raise SourceError(
            f"CQC data page {index_url}: no link labelled 'Care directory with filters "
            "(DD Month YYYY)' to an HSCA_Active_Locations file; the page may have changed: "
            "download the file by hand and run `python -m geo fetch --from DIR`"
        )
    date, url = max(found)
    return url, date.isoformat()


def _check_is_nhs_ods_report(path: Path, what: str, url: str) -> recognise.Format:
    """What `sniff` says of a downloaded NHS ODS report, or SourceError if it is not one."""
    found = _sniff_download(path, what)
    if found.holds != "nhs_ods" or not found.rows:
        raise SourceError(
            f"{what}: {url} did not return an NHS ODS report (expected a headerless CSV of "
            f"{len(recognise.NHS_ODS_COLUMNS)} fields per row)"
        )
    return found


def _sniff_download(path: Path, what: str) -> recognise.Format:
    try:
        return recognise.sniff(path)
    except recognise.NotUsedError as error:
        raise SourceError(f"{what}: the download is not usable: {error.reason}") from None


def check_is(path: Path, kind: str, vintage: str, what: str) -> recognise.Format:
    """What a downloaded file is, or SourceError if it is not the kind (and vintage) expected."""
    found = _sniff_download(path, what)
    if found.kind is None:
        raise SourceError(f"{what}: the download is not usable: {found.reason}")
    if found.kind != kind or (vintage and vintage not in found.vintages):
        seen = f"{catalogue.KIND_LABELS[found.kind]} {', '.join(found.vintages)}".strip()
        expected = f"{catalogue.KIND_LABELS[kind]} {vintage}".strip()
        raise SourceError(f"{what}: expected {expected}, but its columns say {seen}")
    if found.rows == 0:
        raise SourceError(f"{what}: the download holds no rows")
    return found


# ------------------------------------------------------------------ storing in the cache


def store_download(
    partial: Path,
    folder: Path,
    *,
    kind: str,
    vintages: tuple[str, ...],
    title: str,
    source_url: str,
    publisher: str | Mapping[str, str],
    rows: int | None = None,
    published: str | None = None,
    name: str | None = None,
) -> list[CacheEntry]:
    """Move a complete file into the cache under a content-stamped name; record it per vintage.

    `publisher` is one for every vintage, or each vintage's own.
    """
    credited = publisher if isinstance(publisher, Mapping) else dict.fromkeys(vintages, publisher)
    digest = _sha256(partial)
    name = name or f"{title}.geojson"
    final = folder / f"{Path(name).stem}-{digest[:10]}{Path(name).suffix}"
    os.replace(partial, final)
    retrieved = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return [
        catalogue.record(
            CacheEntry(
                kind=kind,
                vintage=vintage,
                file=_relative_to_cache(final),
                source_url=source_url,
                publisher=credited[vintage],
                licence=catalogue.attribution(credited[vintage]),
                retrieved_at=retrieved,
                published=published,
                sha256=digest,
                bytes=final.stat().st_size,
                rows=rows,
                title=title,
            )
        )
        for vintage in vintages
    ]


def _relative_to_cache(path: Path) -> str:
    try:
        return path.resolve().relative_to(settings.cache_dir().resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ taking files from a folder


def fetch_from_dir(directory: str | Path) -> FetchReport:
    """Take boundaries, lookups and site lists from a local folder, recognised by their columns.

    For offline machines and CI. Files are copied into the cache (the folder is never
    changed) with 'local file: <path>' as their source; every other file is listed
    as ignored with the reason. Taking the same folder twice changes nothing.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"fetch --from {folder}: not a folder")
    report = FetchReport()
    taken: list[tuple[Path, recognise.Format]] = []
    for path in _files_in(folder):
        shown = path.relative_to(folder).as_posix()
        if path.suffix.lower() not in recognise.DATA_SUFFIXES:
            report.ignored.append((shown, "not a data file"))
            continue
        try:
            found = recognise.sniff(path)
        except recognise.NotUsedError as error:
            report.ignored.append((shown, error.reason))
            continue
        if found.kind is None:
            report.ignored.append((shown, found.reason))
            continue
        duplicate = _duplicate_of(path, found, taken)
        if duplicate is not None:
            report.ignored.append((shown, f"same data as {duplicate.name}, which was taken"))
            continue
        taken.append((path, found))
        report.taken.extend(_take_local(path, found))
    report.notes = _preference_notes(report.taken)
    return report


def _files_in(folder: Path) -> list[Path]:
    """Every file under the folder, the preferred format first (CSV before GeoJSON)."""
    files = [path for path in folder.rglob("*") if path.is_file()]
    rank = {suffix: number for number, suffix in enumerate(recognise.DATA_SUFFIXES)}
    return sorted(files, key=lambda path: (rank.get(path.suffix.lower(), 99), path.name))


def _take_local(path: Path, found: recognise.Format) -> list[CacheEntry]:
    folder = settings.cache_dir() / found.kind
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".partial-", dir=folder)
    os.close(handle)
    partial = Path(name)
    try:
        shutil.copyfile(path, partial)
        return store_download(
            partial,
            folder,
            kind=found.kind,
            vintages=found.vintages,
            title=path.name,
            source_url=f"local file: {path.resolve()}",
            publisher={
                vintage: catalogue.reconstruction_credit(
                    path.name, found.columns, found.kind, vintage
                )
                or found.publisher
                for vintage in found.vintages
            },
            rows=found.rows,
            published=found.published,
            name=path.name,
        )
    finally:
        partial.unlink(missing_ok=True)


def _duplicate_of(
    path: Path, found: recognise.Format, taken: list[tuple[Path, recognise.Format]]
) -> Path | None:
    """An already-taken table with the same columns, row count and identifiers, if any.

    Only tables are compared: two boundary files with the same attributes differ in
    detail, and both are kept (the catalogue prefers the more detailed).
    """
    if found.kind in {"icb", "sicbl", "nhser"}:
        return None
    for other, other_found in taken:
        same_shape = (other_found.kind, other_found.rows) == (found.kind, found.rows)
        if same_shape and set(other_found.columns) == set(found.columns) and found.columns:
            key = found.columns[0]
            if _column_values(other, other_found, key) == _column_values(path, found, key):
                return other
    return None


def _column_values(path: Path, found: recognise.Format, column: str) -> list[str] | None:
    try:
        if found.container == "csv":
            values = pd.read_csv(path, usecols=[column], dtype=str, encoding="utf-8-sig")[column]
        elif found.container == "geo":
            frame = pyogrio.read_dataframe(path, columns=[column], read_geometry=False)
            values = frame[column].astype("string")
        else:
            return None
    except (ValueError, KeyError, OSError, pyogrio.errors.DataSourceError):
        return None
    return [str(value).strip() for value in values.fillna("")]


def _preference_notes(taken: list[CacheEntry]) -> list[str]:
    """Which file the app uses where several give the same kind and vintage."""
    notes = []
    for kind, vintage in sorted({(entry.kind, entry.vintage) for entry in taken}):
        held = [entry for entry in catalogue.entries(kind) if entry.vintage == vintage]
        if len(held) < 2:
            continue
        chosen = catalogue.find(kind, vintage)
        others = ", ".join(entry.title for entry in held if entry.file != chosen.file)
        notes.append(
            f"{catalogue.KIND_LABELS[kind]} {vintage or '(undated)'}: {len(held)} files; the app "
            f"uses {chosen.title} (the most detailed, {chosen.bytes / 1e6:.2f} MB); "
            f"also kept: {others}"
        )
    return notes
