"""A local stand-in for NHS England's statistics pages and the DSPT export, for fetch tests.

It answers on 127.0.0.1 (a free port) with pages laid out like www.england.nhs.uk's: the
RTT and DM01 main pages link a page per financial year ('2026-27'); each year page links
the months' zips by absolute URLs under /statistics/wp-content/uploads/sites/2/YYYY/MM/ with
random suffixes, a month linked twice (the page repeats its latest file), a revised
re-issue of an earlier month, and spreadsheets that are not the extract. The zips are
written by geo.testing.activity_files from real codes. `pages` and `files` may be changed
by a test; `fail_next` answers the next requests with (status, Retry-After) faults.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path

from geo.testing import activity_files as files
from geo.testing.stub_http import QuietHandler

RTT_MAIN = "/statistics/statistical-work-areas/rtt-waiting-times/"
DM01_MAIN = (
    "/statistics/statistical-work-areas/diagnostics-waiting-times-and-activity/"
    "monthly-diagnostics-waiting-times-and-activity/"
)
UPLOADS = "/statistics/wp-content/uploads/sites/2"
DSPT_PATH = "/dspt/OrganisationSearch/export.csv"  # made up: the real address is not known

# (year page label, upload folder, file name, year, month) of each month served.
RTT_MONTHS: tuple[tuple[str, str, str, int, int], ...] = (
    ("2025-26", "2026/04", "Full-CSV-data-file-Feb26-ZIP-3M-rT44aQ.zip", 2026, 2),
    ("2025-26", "2026/05", "Full-CSV-data-file-Mar26-ZIP-4M-Dc1i9U.zip", 2026, 3),
    ("2025-26", "2026/07", "Full-CSV-data-file-Mar26-ZIP-4M-revised.zip", 2026, 3),
    ("2026-27", "2026/06", "Full-CSV-data-file-Apr26-ZIP-3M-X7gGnn.zip", 2026, 4),
    ("2026-27", "2026/08", "Full-CSV-data-file-Apr26-revised-ZIP-4253.zip", 2026, 4),
    ("2026-27", "2026/07", "Full-CSV-data-file-May26-ZIP-4M-Qp83Lk.zip", 2026, 5),
    ("2026-27", "2026/08", "Full-CSV-data-file-Jun26-ZIP-4M-Dc1i9U.zip", 2026, 6),
)
DM01_MONTHS: tuple[tuple[str, str, str, int, int], ...] = (
    ("2025-26", "2026/05", "DM01-MARCH-2026-full-extract_ZK31P.zip", 2026, 3),
    ("2026-27", "2026/06", "DM01-APRIL-2026-full-extract_Q2XK1.zip", 2026, 4),
    ("2026-27", "2026/07", "DM01-MAY-2026-full-extract_8BN1G.zip", 2026, 5),
)
LATEST_RTT = RTT_MONTHS[-1][2]
LATEST_DM01 = DM01_MONTHS[-1][2]


@dataclass
class FakeNhsStatistics:
    """The running server: its URLs, the pages and files it serves, and its faults."""

    root: str
    pages: dict[str, list[tuple[str, str]]]  # page path -> its links (href, text)
    files: dict[str, Path]  # file path -> the file served
    fail_next: list[tuple[int, str | None]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # the path of every request, in order

    @property
    def rtt_index_url(self) -> str:
        """What ICS_RTT_INDEX_URL points at."""
        return self.root + RTT_MAIN

    @property
    def dm01_index_url(self) -> str:
        """What ICS_DM01_INDEX_URL points at."""
        return self.root + DM01_MAIN

    @property
    def dspt_url(self) -> str:
        """A URL to set ICS_DSPT_URL to."""
        return self.root + DSPT_PATH

    def rtt_year_page(self, label: str) -> str:
        """The path of an RTT year page."""
        return f"{RTT_MAIN}rtt-data-{label}/"

    def dm01_year_page(self, label: str) -> str:
        """The path of a DM01 year page."""
        return f"{DM01_MAIN}monthly-diagnostics-data-{label}/"

    def file_url(self, name: str) -> str:
        """The absolute URL a zip of that name is served at."""
        path = next(path for path in self.files if path.endswith("/" + name))
        return self.root + path


@contextmanager
def serving_nhs_statistics(workdir: Path, shared_data: Path) -> Iterator[FakeNhsStatistics]:
    """The stand-in on a free port of 127.0.0.1 until the block ends; its files are written
    into `workdir` from the real codes in `shared_data`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    root = f"http://{host}:{port}"
    world = files.ActivityWorld.load(shared_data)
    served = _files(workdir, world)
    server.statistics = FakeNhsStatistics(root, _pages(root), served)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.statistics
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _files(workdir: Path, world: files.ActivityWorld) -> dict[str, Path]:
    served = {}
    for _label, folder, name, year, month in RTT_MONTHS:
        rows = files.example_rtt_rows(world)
        served[f"{UPLOADS}/{folder}/{name}"] = files.write_rtt_zip(
            workdir / name, rows, year, month
        )
    for _label, folder, name, year, month in DM01_MONTHS:
        rows = files.example_dm01_rows(world)
        served[f"{UPLOADS}/{folder}/{name}"] = files.write_dm01_zip(
            workdir / name, rows, year, month
        )
    dspt = workdir / "dspt-export.csv"
    dspt.write_text(files.dspt_csv_text(files.example_dspt_rows(world)), encoding="utf-8")
    served[DSPT_PATH] = dspt
    return served


def _pages(root: str) -> dict[str, list[tuple[str, str]]]:
    """The main pages and year pages, with the links the real ones have."""
    pages: dict[str, list[tuple[str, str]]] = {}
    for main, slug, months in (
        (RTT_MAIN, "rtt-data-{}/", RTT_MONTHS),
        (DM01_MAIN, "monthly-diagnostics-data-{}/", DM01_MONTHS),
    ):
        labels = sorted({month[0] for month in months}, reverse=True)
        pages[main] = [
            (f"{root}{main}guidance/", "Guidance"),
            *((f"{root}{main}{slug.format(label)}", label) for label in labels),
            (
                f"{root}{UPLOADS}/2026/08/Time-series-2026.xls",
                "2007-08 to 2026-27 time series (XLS)",
            ),
        ]
        for label in labels:
            links = [
                (f"{root}{UPLOADS}/{folder}/{name}", f"{name.rsplit('.', 1)[0]} (ZIP)")
                for page, folder, name, _year, _month in months
                if page == label
            ]
            extra = (f"{root}{UPLOADS}/2026/08/Incomplete-Provider-XLS-9M.xls", "Provider (XLS)")
            pages[main + slug.format(label)] = [extra, *links, *links[-1:]]  # latest twice
    return pages


class _Handler(QuietHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        statistics: FakeNhsStatistics = self.server.statistics
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        statistics.requests.append(path)
        if statistics.fail_next:
            status, retry_after = statistics.fail_next.pop(0)
            return self._send(status, b"<html>Service Unavailable</html>", "text/html", retry_after)
        if path in statistics.pages:
            return self._send(HTTPStatus.OK, _html(statistics.pages[path]), "text/html")
        if path in statistics.files:
            content_type = "text/csv" if path.endswith(".csv") else "application/zip"
            return self._send(HTTPStatus.OK, statistics.files[path].read_bytes(), content_type)
        return self._send(HTTPStatus.NOT_FOUND, b"<html>Page not found</html>", "text/html")


def _html(links: list[tuple[str, str]]) -> bytes:
    """A page in the shape of england.nhs.uk's: a list of links in the article."""
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        '<html><head><title>Statistics</title></head><body><main><article class="post">'
        f"<ul>{items}</ul></article></main></body></html>"
    ).encode()
