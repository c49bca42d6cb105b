"""Contract-award releases in the real OCDS structure, and a local stand-in for Find a Tender
and Contracts Finder serving them, so the harvester is tested without the internet.

Releases (DATA-FORMATS-2.md §3a-3b, trimmed from the real examples there) name real ICBs
(ODS code and name, read from ../shared/data's 2024 ICB layer) as buyers and real
independent-sector providers (trust names of the NHS website's hospital list) as
suppliers; their company and charity numbers are made up. `fixture_releases` is a small
set covering each awkward case, with what a reader should make of it; `many_releases`
generates any number for the benchmark.

The server answers on 127.0.0.1 (a free port):

- Find a Tender `GET /api/1.0/ocdsReleasePackages?updatedFrom=..&updatedTo=..&stages=award
  &limit=..[&cursor=..]`: the releases whose `date` is in the window (both ends
  included, so a release on a boundary is served twice), a page at a time, `links.next`
  carrying an opaque cursor while more remain. Like the real endpoint, a window longer
  than 6 hours silently misses releases: only `long_window_limit` are served.
- Contracts Finder `GET /Published/Notices/OCDS/Search?limit=..&publishedFrom=YYYY-MM-DD
  &publishedTo=YYYY-MM-DD[&cursor=..]`, bodies in ISO-8859-1.

Faults: every `throttle_every`-th Find a Tender request gets 429 "12 request limit in 2
minute exceeded" with Retry-After; `fail_next` (statuses for the next requests, e.g. a 503
once); `truncate_next` (bodies cut short of their Content-Length); `forbid_next`
(Contracts Finder's 403 for too many requests); `fail_from` (every request from that
number on answers 500: an interrupted harvest). `requests` records every request.
"""

from __future__ import annotations

import base64
import csv
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ICB_FILE = "icb_2024_04_from_lsoa21_bsc.geojson"
HOSPITALS_FILE = "hospitals_england_2020_05_nhs_website.csv"
FTS_PATH = "/api/1.0/ocdsReleasePackages"
CF_PATH = "/Published/Notices/OCDS/Search"
LICENSE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
PUBLISHER = {"name": "Cabinet Office", "scheme": "GB-GOR", "uid": "D2"}
THROTTLED = "12 request limit in 2 minute exceeded"
# Markers in a release replaced in the served text by the invalid literals FTS has sent.
INFINITE_AMOUNT = float("inf")  # served as 1e9999
LEADING_ZEROS = "__000__"  # served as 000
_CELEX = {"id": "32014L0024", "scheme": "CELEX"}  # the legal basis PSR notices carry too
PSR_DESCRIPTION = (
    "This is a Provider Selection Regime (PSR) intention to award notice. The awarding of "
    "this contract is subject to the Health Care Services (Provider Selection Regime) "
    "Regulations 2023."
)
HEALTH_CPVS = ("85100000", "85311000", "85323000", "85312000")
VETERINARY_CPV = "85200000"
NON_HEALTH_CPV = "72000000"  # IT services
# Outside ASCII but inside ISO-8859-1, with the literal 'rn' left where CF stripped a \r\n.
CF_TITLE = "Residential care home placements for Zoë's pathway, £120k a yearrn(spot purchase)"
NON_ICB_BUYER = ("GB-FTS-53800", "Hull University Teaching Hospitals NHS Trust")


@dataclass(frozen=True)
class ContractsWorld:
    """Real names to put in releases: ICBs (ODS code, name) and independent providers
    (ODS code, name)."""

    icbs: tuple[tuple[str, str], ...]
    providers: tuple[tuple[str, str], ...]


def load_world(shared_data: Path) -> ContractsWorld:
    """ICBs from the 2024 ICB layer and independent providers from the hospital list."""
    collection = json.loads((shared_data / ICB_FILE).read_text(encoding="utf-8"))
    icbs = tuple(
        (feature["properties"]["ICB24CDH"], feature["properties"]["ICB24NM"])
        for feature in collection["features"]
    )
    with open(shared_data / HOSPITALS_FILE, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    providers = {
        row["trustId"]: row["trustName"]
        for row in rows
        if row["sector"] == "Independent Sector"
        and row["trustId"].startswith("N")
        and not row["trustName"].startswith("Other")
    }
    return ContractsWorld(icbs, tuple(sorted(providers.items())))


def company_number(number: int) -> str:
    """A made-up 8-digit company number; every tenth starts with two zeros."""
    return f"{(number * 7919 + 1_234_567) % 100_000_000:08d}"[: 8 if number % 10 else 6].zfill(8)


def charity_number(number: int) -> str:
    """A made-up charity number (six or seven digits, as the register's are)."""
    return str(200_000 + (number * 104_729) % 900_000)


# --- releases -------------------------------------------------------------------------------


def fts_release(
    world: ContractsWorld,
    number: int,
    when: datetime,
    *,
    supplier_kind: str = "coh",
    psr: bool = False,
    cpv: str = HEALTH_CPVS[0],
    icb_buyer: bool = True,
    amount: float | str | None = None,
    suppliers: int = 1,
) -> dict:
    """A Find a Tender award release (notice UK6) for ICB number `number` (or an NHS trust)."""
    ocid = f"ocds-h6vhtk-{number:06x}"
    parties, buyer = _buyer(world, number, icb_buyer)
    references = []
    for extra in range(suppliers):
        party = _supplier(world, number + extra, supplier_kind)
        parties.append(party)
        references.append({"id": party["id"], "name": party["name"]})
    release = {
        "ocid": ocid,
        "id": f"{number % 1_000_000:06d}-{when.year}",
        "date": when.isoformat(),
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "parties": parties,
        "buyer": buyer,
        "tender": {
            "id": ocid,
            "title": f"Community health services lot {number}",
            "description": "Provision of community health services for the ICB's population.",
            "classification": {"scheme": "CPV", "id": cpv, "description": "Health services"},
            "legalBasis": _CELEX,
            "items": [{"id": "1", "additionalClassifications": [{"scheme": "CPV", "id": cpv}]}],
        },
        "awards": [
            {
                "id": f"{ocid}-award-1",
                "status": "active",
                "date": (when - timedelta(days=1)).isoformat(),
                "value": {
                    "amount": 50_000 + number * 1_000 if amount is None else amount,
                    "currency": "GBP",
                },
                "suppliers": references,
                "documents": [{"id": "1", "documentType": "awardNotice", "noticeType": "UK6"}],
            }
        ],
        "contracts": [
            {
                "id": f"{ocid}-contract-1",
                "awardID": f"{ocid}-award-1",
                "period": {
                    "startDate": "2025-04-01T00:00:00+01:00",
                    "endDate": "2028-03-31T23:59:59+01:00",
                },
            }
        ],
    }
    if psr:
        release["description"] = PSR_DESCRIPTION
        release["tender"]["description"] = (
            "Under Provider Selection Regime (PSR) Direct Award, Opt C."
        )
    return release


def cf_release(
    world: ContractsWorld, number: int, when: datetime, *, coh: str | None = None
) -> dict:
    """A Contracts Finder award release: GB-CFS parties with only a legal name, or a
    GB-COH one whose number may lack its leading zeros; a title outside ASCII."""
    uuid = f"{number:08x}-5a1e-4c0d-9b1f-{number:012x}"
    _, icb_name = world.icbs[number % len(world.icbs)]
    _, provider = world.providers[number % len(world.providers)]
    supplier_id = f"GB-COH-{coh}" if coh else f"GB-CFS-{9_000_000 + number}"
    identifier = (
        {"scheme": "GB-COH", "id": coh, "legalName": provider} if coh else {"legalName": provider}
    )
    buyer_id = f"GB-CFS-{100 + number % len(world.icbs)}"
    return {
        "ocid": f"ocds-b5fd17-{uuid}",
        "id": f"{uuid}-1",
        "date": when.isoformat(),
        "tag": ["award"],
        "parties": [
            {
                "id": buyer_id,
                "name": icb_name,
                "identifier": {"legalName": icb_name},
                "roles": ["buyer"],
            },
            {
                "id": supplier_id,
                "name": provider,
                "identifier": identifier,
                "roles": ["supplier"],
                "details": {"scale": "large", "vcse": False},
            },
        ],
        "buyer": {"id": buyer_id, "name": icb_name},
        "tender": {
            "title": CF_TITLE,
            "classification": {"scheme": "CPV", "id": "85311000"},
        },
        "awards": [
            {
                "id": f"{uuid}-award",
                "status": "active",
                "date": when.isoformat(),
                "value": {"amount": 120_000, "currency": "GBP"},
                "suppliers": [{"id": supplier_id, "name": provider}],
                "documents": [{"url": f"https://www.contractsfinder.service.gov.uk/Notice/{uuid}"}],
                "contractPeriod": {
                    "startDate": "2024-01-01T00:00:00Z",
                    "endDate": "2024-12-31T00:00:00Z",
                },
            }
        ],
    }


def _buyer(world: ContractsWorld, number: int, icb: bool) -> tuple[list[dict], dict]:
    if not icb:
        party_id, name = NON_ICB_BUYER
        party = {"id": party_id, "name": name, "roles": ["buyer"]}
        return [party], {"id": party_id, "name": name}
    code, name = world.icbs[number % len(world.icbs)]
    ppon = f"P{code}-{1000 + number % 9000}-ICBX"
    party = {
        "id": f"GB-PPON-{ppon}",
        "name": name,
        "identifier": {"scheme": "GB-PPON", "id": ppon},
        "roles": ["buyer"],
        "details": {"classifications": [{"id": "publicAuthoritySubCentralGovernment",
                                         "scheme": "UK_CA_TYPE"}]},
    }  # fmt: skip
    if number % 2 == 0:  # half name their ODS code too
        party["additionalIdentifiers"] = [{"scheme": "GB-NHS", "id": code}]
    return [party], {"id": party["id"], "name": name}


def _supplier(world: ContractsWorld, number: int, kind: str) -> dict:
    """A supplier party: 'coh' (with a PPON too), 'chc', 'nhs' (ODS code), 'fts' (name
    only, the service's own id) or 'bare' (no identifier, a GB-COH party id)."""
    code, name = world.providers[number % len(world.providers)]
    roles = ["supplier", "tenderer"]
    if kind == "coh":
        company = company_number(number)
        return {"id": f"GB-COH-{company}", "name": name, "roles": roles,
                "identifier": {"scheme": "GB-COH", "id": company, "legalName": name.upper()},
                "additionalIdentifiers": [{"scheme": "GB-PPON", "id": f"P{number:03d}-1551-GCQH"}],
                "details": {"scale": "large"}}  # fmt: skip
    if kind == "chc":
        charity = charity_number(number)
        return {"id": f"GB-CHC-{charity}", "name": name, "roles": roles,
                "identifier": {"scheme": "GB-CHC", "id": charity}, "details": {"vcse": True}}  # fmt: skip
    if kind == "nhs":
        return {"id": f"GB-NHS-{code}", "name": name, "roles": roles,
                "identifier": {"scheme": "GB-NHS", "id": code.lower()}}  # fmt: skip
    if kind == "fts":
        return {"id": f"GB-FTS-{50_000 + number}", "name": name, "roles": roles}
    return {"id": f"GB-COH-{company_number(number)}", "name": name, "roles": roles}


@dataclass(frozen=True)
class Fixture:
    """A release and what a reader should find in it."""

    release: dict
    case: str


def fixture_releases(world: ContractsWorld, start: datetime) -> list[Fixture]:
    """One Find a Tender release per awkward case, a few hours apart from `start`."""
    hours = iter(range(1, 100))

    def at() -> datetime:
        return start + timedelta(hours=next(hours) * 5, minutes=7)

    return [
        Fixture(fts_release(world, 10, at(), supplier_kind="coh"), "company"),
        Fixture(fts_release(world, 11, at(), supplier_kind="chc"), "charity"),
        Fixture(fts_release(world, 12, at(), supplier_kind="nhs"), "nhs"),
        Fixture(fts_release(world, 13, at(), supplier_kind="fts"), "name only"),
        Fixture(fts_release(world, 14, at(), supplier_kind="bare"), "party id only"),
        Fixture(fts_release(world, 15, at(), psr=True), "psr"),
        Fixture(fts_release(world, 16, at(), cpv=VETERINARY_CPV), "veterinary"),
        Fixture(fts_release(world, 17, at(), cpv=NON_HEALTH_CPV), "not health"),
        Fixture(fts_release(world, 18, at(), amount=INFINITE_AMOUNT), "infinite amount"),
        Fixture(fts_release(world, 19, at(), amount=LEADING_ZEROS), "leading zeros"),
        Fixture(fts_release(world, 20, at(), suppliers=2), "two suppliers"),
        Fixture(fts_release(world, 21, at(), icb_buyer=False), "not an ICB"),
        # On a window's boundary (06:00 UTC): served in two windows.
        Fixture(fts_release(world, 22, start + timedelta(days=3, hours=6)), "boundary"),
    ]


def many_releases(
    world: ContractsWorld, count: int, start: datetime, per_day: int = 40
) -> list[dict]:
    """`count` Find a Tender releases from `start`, `per_day` a day, cases cycling."""
    kinds = ("coh", "chc", "nhs", "fts", "bare")
    step = timedelta(days=1) / per_day
    return [
        fts_release(
            world,
            number,
            start + step * number,
            supplier_kind=kinds[number % len(kinds)],
            psr=number % 4 == 0,
            cpv=VETERINARY_CPV if number % 13 == 5 else HEALTH_CPVS[number % len(HEALTH_CPVS)],
            icb_buyer=number % 10 != 9,
            suppliers=2 if number % 6 == 1 else 1,
        )
        for number in range(count)
    ]


def package_bytes(
    releases: list[dict], *, uri: str = "", next_url: str | None = None, encoding: str = "utf-8"
) -> bytes:
    """A release package as the services send it, the invalid literals put back."""
    package = {
        "uri": uri,
        "version": "1.1",
        "extensions": ["https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json"],
        "publishedDate": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "publisher": PUBLISHER,
        "license": LICENSE,
        "publicationPolicy": "https://www.gov.uk/government/publications/open-contracting",
        "releases": releases,
    }  # fmt: skip
    if next_url:
        package["links"] = {"next": next_url}
    text = json.dumps(package, ensure_ascii=False)
    text = text.replace("Infinity", "1e9999").replace(f'"{LEADING_ZEROS}"', "000")
    return text.encode(encoding, errors="replace")


def write_release_package(path: Path, releases: list[dict]) -> Path:
    """A release package file as Find a Tender serves it."""
    path.write_bytes(
        package_bytes(releases, uri=f"https://www.find-tender.service.gov.uk{FTS_PATH}")
    )
    return path


# --- the server -----------------------------------------------------------------------------


@dataclass
class FakeTenders:
    """The running server: its URLs, the releases it serves, and switches for its faults."""

    root: str
    fts_releases: list[dict] = field(default_factory=list)
    cf_releases: list[dict] = field(default_factory=list)
    page_size: int = 100  # the most a page holds, whatever `limit` asks
    long_window_limit: int = 2  # releases served for a window longer than 6 hours
    throttle_every: int | None = None  # every Nth Find a Tender request answers 429
    retry_after: str = "120"
    fail_next: list[int] = field(default_factory=list)
    truncate_next: int = 0
    forbid_next: int = 0
    fail_from: int | None = None
    requests: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def fts_base(self) -> str:
        """What ICS_FTS_BASE points at."""
        return self.root

    @property
    def cf_base(self) -> str:
        """What ICS_CF_BASE points at."""
        return self.root

    def window_requests(self, path: str = FTS_PATH) -> list[dict[str, str]]:
        """The query of every first-page request for a window (no cursor), in order."""
        asked = []
        for request in self.requests:
            parts = urllib.parse.urlsplit(request)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == path and "cursor" not in query:
                asked.append(query)
        return asked


@contextmanager
def serving_tenders(
    fts_releases: list[dict] = (), cf_releases: list[dict] = (), **faults
) -> Iterator[FakeTenders]:
    """The fake Find a Tender and Contracts Finder on a free port of 127.0.0.1 until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.tenders = FakeTenders(
        f"http://{host}:{port}", list(fts_releases), list(cf_releases), **faults
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.tenders
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().partition(":")[2])


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        tenders: FakeTenders = self.server.tenders
        with tenders._lock:
            tenders.requests.append(self.path)
            number = len(tenders.requests)
            fault = self._fault(tenders, number)
        if fault:
            return
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        if parts.path == FTS_PATH:
            self._fts(tenders, query)
        elif parts.path == CF_PATH:
            self._cf(tenders, query)
        else:
            self._send(404, b"Not Found", "text/plain")

    def _fault(self, tenders: FakeTenders, number: int) -> bool:
        """Answer with an injected fault, if one is due; whether one was."""
        path = urllib.parse.urlsplit(self.path).path
        if tenders.fail_from is not None and number >= tenders.fail_from:
            self._send(500, b"Internal Server Error", "text/plain")
            return True
        if tenders.fail_next:
            self._send(tenders.fail_next.pop(0), b"Service Unavailable", "text/plain")
            return True
        if path == FTS_PATH and tenders.throttle_every and number % tenders.throttle_every == 0:
            body = json.dumps({"message": THROTTLED}).encode()
            self._send(429, body, "application/json", {"Retry-After": tenders.retry_after})
            return True
        if path == CF_PATH and tenders.forbid_next:
            tenders.forbid_next -= 1
            self._send(403, b"Too many requests: wait 5 minutes", "text/plain")
            return True
        return False

    def _fts(self, tenders: FakeTenders, query: dict[str, str]) -> None:
        start, end = _parse_time(query["updatedFrom"]), _parse_time(query["updatedTo"])
        chosen = sorted(
            (r for r in tenders.fts_releases if start <= _parse_time(r["date"]) <= end),
            key=lambda release: (_parse_time(release["date"]), release["ocid"]),
        )
        if end - start > timedelta(hours=6):
            chosen = chosen[: tenders.long_window_limit]  # the real endpoint misses releases
        self._page(tenders, chosen, query, FTS_PATH, "utf-8")

    def _cf(self, tenders: FakeTenders, query: dict[str, str]) -> None:
        first, last = query["publishedFrom"][:10], query["publishedTo"][:10]
        chosen = [r for r in tenders.cf_releases if first <= r["date"][:10] <= last]
        self._page(tenders, chosen, query, CF_PATH, "iso-8859-1")

    def _page(
        self, tenders: FakeTenders, chosen: list[dict], query: dict, path: str, encoding: str
    ) -> None:
        offset = _offset(query.get("cursor"))
        size = min(int(query.get("limit") or tenders.page_size), tenders.page_size)
        page = chosen[offset : offset + size]
        next_url = None
        if offset + size < len(chosen):
            following = {**query, "cursor": _cursor(offset + size)}
            next_url = f"{tenders.root}{path}?{urllib.parse.urlencode(following)}"
        body = package_bytes(page, uri=f"{tenders.root}{self.path}", next_url=next_url,
                             encoding=encoding)  # fmt: skip
        if tenders.truncate_next:
            tenders.truncate_next -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self._send(200, body, f"application/json; charset={encoding}")

    def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
