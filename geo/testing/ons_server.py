"""A local stand-in for ONS's population dataset pages, for fetch tests.

It answers on 127.0.0.1 (a free port) with two dataset pages laid out like www.ons.gov.uk's:
each links its editions' workbooks as `/file?uri=/peoplepopulationandcommunity/…/<name>.xlsx`,
an older edition beside the current one, and (on the LSOA page) a broad-age workbook that
is not the single-year-of-age one. The workbooks are written by
geo.testing.population_files from the real areas of ../shared/data (their numbers are made
up). `fail_next` answers the next requests with (status, Retry-After) faults.
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

from geo.testing import population_files
from geo.testing.stub_http import QuietHandler

_STEM = "/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/"
ICB_PAGE = _STEM + "clinicalcommissioninggroupmidyearpopulationestimates"
LSOA_PAGE = _STEM + "lowersuperoutputareamidyearpopulationestimates"
CURRENT_ICB = "sapeicb20222024.xlsx"
OLDER_ICB = "sapeicb202320112022.xlsx"
CURRENT_LSOA = "sapelsoasyoa20222024.xlsx"
OLDER_LSOA = "sapelsoasyoa20192022.xlsx"
BROAD_AGE = "sapelsoabroadage20222024.xlsx"
_EDITIONS = {
    CURRENT_ICB: "mid2022revisednov2025tomid2024integratedcareboards2024geography",
    OLDER_ICB: "mid2011tomid2022integratedcareboards2023geography",
    CURRENT_LSOA: "mid2022revisednov2025tomid2024",
    OLDER_LSOA: "mid2019tomid2022",
    BROAD_AGE: "mid2022revisednov2025tomid2024",
}


@dataclass
class FakeOns:
    """The running server: its root, the workbooks it serves by name, and its faults."""

    root: str
    files: dict[str, Path]
    fail_next: list[tuple[int, str | None]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def pages(self) -> str:
        """What ICS_POPULATION_PAGES points at: both dataset pages, space-separated."""
        return f"{self.root}{ICB_PAGE} {self.root}{LSOA_PAGE}"


@contextmanager
def serving_ons(workdir: Path, shared_data: Path, *, lsoas: int = 200) -> Iterator[FakeOns]:
    """The stand-in on a free port until the block ends; its LSOA workbooks hold the first
    `lsoas` LSOAs of the shared lookup (enough to be recognised, quick to write)."""
    lookup = population_files.read_shared_lookup(shared_data)
    files = {
        CURRENT_ICB: population_files.write_icb_population(workdir / CURRENT_ICB, lookup),
        OLDER_ICB: population_files.write_icb_population(
            workdir / OLDER_ICB, lookup, years=("2021", "2022")
        ),
        CURRENT_LSOA: population_files.write_lsoa_population(
            workdir / CURRENT_LSOA, lookup.head(lsoas), years=("2024",)
        ),
        OLDER_LSOA: population_files.write_lsoa_population(
            workdir / OLDER_LSOA, lookup.head(lsoas), years=("2022",)
        ),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.ons = FakeOns(f"http://{host}:{port}", files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.ons
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _link(name: str, page: str) -> str:
    uri = f"{page}/{_EDITIONS[name]}/{name}"
    return f'<li><a href="/file?uri={urllib.parse.quote(uri)}">{name} (xlsx)</a></li>'


def _page(path: str) -> bytes | None:
    names = {
        ICB_PAGE: (OLDER_ICB, CURRENT_ICB),
        LSOA_PAGE: (BROAD_AGE, OLDER_LSOA, CURRENT_LSOA),
    }.get(path)
    if names is None:
        return None
    links = "".join(_link(name, path) for name in names)
    return f"<html><body><main><h2>Editions in this dataset</h2><ul>{links}</ul></main></body></html>".encode()


class _Handler(QuietHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        ons: FakeOns = self.server.ons
        parts = urllib.parse.urlsplit(self.path)
        ons.requests.append(self.path)
        if ons.fail_next:
            status, retry_after = ons.fail_next.pop(0)
            return self._send(status, b"<html>Service Unavailable</html>", "text/html", retry_after)
        page = _page(urllib.parse.unquote(parts.path))
        if page is not None:
            return self._send(HTTPStatus.OK, page, "text/html")
        if parts.path == "/file":
            uri = urllib.parse.parse_qs(parts.query).get("uri", [""])[0]
            served = ons.files.get(uri.rsplit("/", 1)[-1])
            if served is not None:
                kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                return self._send(HTTPStatus.OK, served.read_bytes(), kind)
        return self._send(HTTPStatus.NOT_FOUND, b"<html>Page not found</html>", "text/html")
