"""Stand-ins for the postcode publishers: ONSPD/NSPL CSV files and a local postcodes.io server.

- `write_onspd_csv` writes a postcode directory with the full header of a real edition
  (DATA-FORMATS.md §4.1: the 2023 ONSPD, the May 2022 NSPL, the late-2025 NSPL naming
  with year-suffixed codes), text cells quoted, 99.999999 latitude for no grid reference.
- The `postcodes_server` fixture answers on 127.0.0.1 like api.postcodes.io (§5): bulk
  `POST /postcodes` (at most 100, results in request order, `null` for unknown postcodes,
  400 with postcodes.io's message beyond 100) and `GET /terminated_postcodes/{pc}` (404
  "Terminated postcode not found" otherwise). Faults can be injected: `fail_next`
  (statuses for the next requests, sent with `retry_after` as Retry-After when set),
  `fail_batches_with` (a bulk request holding that postcode always fails) and
  `delay_next` (seconds to stall before answering).
"""

from __future__ import annotations

import csv
import json
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pyproj import Transformer

ENGLAND = "E92000001"
WALES = "W92000004"
SCOTLAND = "S92000003"
NO_GRID_LAT = "99.999999"


@dataclass(frozen=True)
class SamplePostcode:
    """One postcode as ONSPD records it (terminated: `doterm` YYYYMM; no grid: lat None)."""

    pcds: str
    lat: float | None
    lon: float | None
    country: str = ENGLAND
    icb: str = "E99999999"
    sicbl: str = "E99999999"
    doterm: str = ""
    region: str = "Yorkshire and The Humber"


# Real hospital postcodes with their published coordinates (NHS website hospital list),
# a Welsh one, ONSPD's documented terminated example, a non-geographic postcode (no grid
# reference) and an English postcode marked terminated for these tests.
SAMPLES: tuple[SamplePostcode, ...] = (
    SamplePostcode("LS1 3EX", 53.80146, -1.552119, icb="E54000054", sicbl="E38000225"),
    SamplePostcode("M13 9WL", 53.461674, -2.224891, icb="E54000057", sicbl="E38000217"),
    SamplePostcode("SE1 7EH", 51.497959, -0.118891, icb="E54000030", sicbl="E38000244"),
    SamplePostcode("TR1 3LQ", 50.266541, -5.094248, icb="E54000036", sicbl="E38000089"),
    SamplePostcode("NE7 7DN", 55.002777, -1.593362, icb="E54000050", sicbl="E38000212"),
    SamplePostcode("LL13 7YP", 53.048977, -3.014095, country=WALES, icb="W99999999"),
    SamplePostcode("AB1 0AA", 57.101474, -2.242851, country=SCOTLAND, doterm="199606"),
    SamplePostcode("BX1 1LT", None, None),
    SamplePostcode("NE1 4LP", 54.970281, -1.614524, icb="E54000050", doterm="201108"),
)
BY_POSTCODE = {sample.pcds: sample for sample in SAMPLES}


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Full headers of real editions (DATA-FORMATS.md §4.1).
EDITIONS: dict[str, tuple[str, ...]] = {
    "onspd_2023": _names(
        "pcd pcd2 pcds dointr doterm oscty ced oslaua osward parish usertype oseast1m osnrth1m "
        "osgrdind oshlthau nhser ctry rgn streg pcon eer teclec ttwa pct itl statsward oa01 "
        "casward park lsoa01 msoa01 ur01ind oac01 oa11 lsoa11 msoa11 wz11 sicbl bua11 buasd11 "
        "ru11ind oac11 lat long lep1 lep2 pfa imd calncv icb oa21 lsoa21 msoa21"
    ),
    "nspl_2022": _names(
        "pcd pcd2 pcds dointr doterm usertype oseast1m osnrth1m osgrdind oa11 cty ced laua ward "
        "hlthau nhser ctry rgn pcon eer teclec ttwa pct itl park lsoa11 msoa11 wz11 ccg bua11 "
        "buasd11 ru11ind oac11 lat long lep1 lep2 pfa imd calncv stp"
    ),
    "nspl_2025": _names(
        "pcd7 pcd8 pcds dointr doterm usrtypind east1m north1m gridind oa21cd cty25cd ced25cd "
        "lad25cd wd25cd nhser24cd ctry25cd rgn25cd pcon24cd ttwa15cd itl25cd npark16cd lsoa21cd "
        "msoa21cd wz11cd sicbl24cd bua24cd ruc21ind oac11ind lat long lep21cd1 lep21cd2 pfa23cd "
        "imd20ind icb26cd"
    ),
    # The fewest columns an old file can place a postcode with: 7-character pcd only.
    "pcd_only": ("pcd", "lat", "long", "doterm", "ctry", "icb"),
}

_TO_GRID = Transformer.from_crs(4326, 27700, always_xy=True)


def pcd7(pcds: str) -> str:
    """ONSPD's 7-character form: outward code left, inward code right ('E1 0AA' -> 'E1  0AA')."""
    outward, inward = pcds.split(" ")
    return f"{outward:<4}{inward}"


def pcd8(pcds: str) -> str:
    """ONSPD's 8-character form ('AB1 0AA' -> 'AB1  0AA')."""
    outward, inward = pcds.split(" ")
    return f"{outward:<4} {inward}"


def onspd_row(sample: SamplePostcode, header: Iterable[str]) -> list[object]:
    """One ONSPD/NSPL row for `sample` under `header`; other columns get code-like filler."""
    if sample.lat is None or sample.lon is None:
        lat, lon, east, north = NO_GRID_LAT, "0.000000", "", ""
    else:
        x, y = _TO_GRID.transform(sample.lon, sample.lat)
        lat, lon, east, north = f"{sample.lat:.6f}", f"{sample.lon:.6f}", round(x), round(y)
    values = {
        "pcd": pcd7(sample.pcds),
        "pcd7": pcd7(sample.pcds),
        "pcd2": pcd8(sample.pcds),
        "pcd8": pcd8(sample.pcds),
        "pcds": sample.pcds,
        "dointr": "198001",
        "doterm": sample.doterm,
        "oseast1m": east,
        "east1m": east,
        "osnrth1m": north,
        "north1m": north,
        "lat": lat,
        "long": lon,
    }
    return [values.get(name, _coded(name, sample)) for name in header]


def _coded(name: str, sample: SamplePostcode) -> str:
    stem = name.rstrip("0123456789").removesuffix("cd").rstrip("0123456789")
    if stem == "ctry":
        return sample.country
    if stem == "icb":
        return sample.icb
    if stem in ("sicbl", "ccg"):
        return sample.sicbl
    return f"{sample.country[0]}0{len(name):07d}"


def write_onspd_csv(
    path: Path, samples: Iterable[SamplePostcode] = SAMPLES, edition: str = "onspd_2023"
) -> Path:
    """Write a postcode directory CSV as ONS publishes it: one header row, text quoted."""
    header = EDITIONS[edition]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        for sample in samples:
            writer.writerow(onspd_row(sample, header))
    return path


def make_samples(count: int, area: str = "LS") -> list[SamplePostcode]:
    """`count` distinct live English postcodes around Leeds, for batching tests."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    samples = []
    for n in range(count):
        district, rest = divmod(n, 200)
        sector, unit = divmod(rest, 20)
        pcds = f"{area}{district + 2} {sector}{letters[unit]}{letters[(n * 7) % 20]}"
        samples.append(SamplePostcode(pcds, 53.70 + n * 1e-4, -1.60 + n * 1e-4, icb="E54000054"))
    return samples


# --- the postcodes.io stand-in ----------------------------------------------------------


@dataclass
class FakePostcodesIo:
    """The running server: its URL, the postcodes it knows, its faults and what it was asked."""

    root: str
    live: dict[str, SamplePostcode] = field(default_factory=dict)
    terminated: dict[str, SamplePostcode] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)
    retry_after: str | None = None  # sent as Retry-After with each fail_next failure
    fail_batches_with: dict[str, int] = field(default_factory=dict)
    delay_next: list[float] = field(default_factory=list)
    bulk_requests: list[list[str]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    max_bulk: int = 100

    def add(self, samples: Iterable[SamplePostcode]) -> None:
        """Make postcodes known: live ones to bulk lookups, terminated ones to their route."""
        for sample in samples:
            book = self.terminated if sample.doterm else self.live
            book[sample.pcds] = sample


@contextmanager
def serving_postcodes_io() -> Iterator[FakePostcodesIo]:
    """A postcodes.io stand-in on a free port of 127.0.0.1 knowing SAMPLES, until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.fake = FakePostcodesIo(root=f"http://{host}:{port}")
    server.fake.add(SAMPLES)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _key(postcode: str) -> str:
    compact = "".join(str(postcode).split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass

    def do_POST(self) -> None:
        fake: FakePostcodesIo = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._fault("POST"):
            return
        if urllib.parse.urlsplit(self.path).path.rstrip("/") != "/postcodes":
            return self._json(HTTPStatus.NOT_FOUND, {"status": 404, "error": "Resource not found"})
        try:
            asked = json.loads(body).get("postcodes")
        except (ValueError, AttributeError):
            asked = None
        if not isinstance(asked, list):
            return self._json(
                HTTPStatus.BAD_REQUEST,
                {
                    "status": 400,
                    "error": "Invalid data submitted. You need to provide a JSON array",
                },
            )
        fake.bulk_requests.append(list(asked))
        if len(asked) > fake.max_bulk:
            message = (
                "Too many postcodes submitted. Up to 100 postcodes can be bulk requested at a time"
            )
            return self._json(HTTPStatus.BAD_REQUEST, {"status": 400, "error": message})
        failing = [
            fake.fail_batches_with[_key(p)] for p in asked if _key(p) in fake.fail_batches_with
        ]
        if failing:
            return self._json(failing[0], {"status": failing[0], "error": "Internal server error"})
        results = [
            {"query": query, "result": _result(fake.live.get(_key(query)))} for query in asked
        ]
        self._json(HTTPStatus.OK, {"status": 200, "result": results})

    def do_GET(self) -> None:
        fake: FakePostcodesIo = self.server.fake
        if self._fault("GET"):
            return
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if not path.startswith("/terminated_postcodes/"):
            return self._json(HTTPStatus.NOT_FOUND, {"status": 404, "error": "Resource not found"})
        sample = fake.terminated.get(_key(path.removeprefix("/terminated_postcodes/")))
        if sample is None:
            return self._json(
                HTTPStatus.NOT_FOUND, {"status": 404, "error": "Terminated postcode not found"}
            )
        result = {
            "postcode": sample.pcds,
            "year_terminated": int(sample.doterm[:4]),
            "month_terminated": int(sample.doterm[4:]),
            "longitude": sample.lon,
            "latitude": sample.lat,
        }
        self._json(HTTPStatus.OK, {"status": 200, "result": result})

    def _fault(self, method: str) -> bool:
        """Record the request, stall or fail it when told to; True when it was answered."""
        fake: FakePostcodesIo = self.server.fake
        fake.requests.append((method, self.path))
        if fake.delay_next:
            time.sleep(fake.delay_next.pop(0))
        if fake.fail_next:
            status = fake.fail_next.pop(0)
            error = "Too Many Requests" if status == 429 else "Internal server error"
            self._json(status, {"status": status, "error": error}, retry_after=fake.retry_after)
            return True
        return False

    def _json(self, status: int, payload: dict, retry_after: str | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


def _result(sample: SamplePostcode | None) -> dict | None:
    """A postcodes.io postcode result with the real fields (DATA-FORMATS.md §5)."""
    if sample is None:
        return None
    outward, inward = sample.pcds.split(" ")
    located = sample.lat is not None and sample.lon is not None
    if located:
        x, y = _TO_GRID.transform(sample.lon, sample.lat)
        eastings, northings = round(x), round(y)
    else:
        eastings = northings = None
    country = {ENGLAND: "England", WALES: "Wales", SCOTLAND: "Scotland"}[sample.country]
    return {
        "postcode": sample.pcds,
        "quality": 1 if located else 9,
        "eastings": eastings,
        "northings": northings,
        "country": country,
        "nhs_ha": "Yorkshire and the Humber",
        "longitude": sample.lon,
        "latitude": sample.lat,
        "european_electoral_region": sample.region,
        "primary_care_trust": "Leeds",
        "region": sample.region,
        "lsoa": "Leeds 111B",
        "msoa": "Leeds 111",
        "incode": inward,
        "outcode": outward,
        "parliamentary_constituency": "Leeds Central and Headingley",
        "parliamentary_constituency_2024": "Leeds Central and Headingley",
        "admin_district": "Leeds",
        "parish": "Leeds, unparished area",
        "admin_county": None,
        "date_of_introduction": "198001",
        "admin_ward": "Little London & Woodhouse",
        "ced": None,
        "ccg": "NHS West Yorkshire ICB - 15F",
        "nuts": "Leeds",
        "pfa": "West Yorkshire",
        "nhs_region": "North East and Yorkshire",
        "ttwa": "Leeds",
        "icb": "NHS West Yorkshire Integrated Care Board",
        "codes": {
            "admin_district": "E08000035",
            "admin_county": "E99999999",
            "admin_ward": "E05011410",
            "parish": "E43000069",
            "parliamentary_constituency": "E14001316",
            "parliamentary_constituency_2024": "E14001316",
            "ccg": sample.sicbl,
            "ccg_id": "15F",
            "ced": "E99999999",
            "nuts": "TLE42",
            "lsoa": "E01033015",
            "msoa": "E02006875",
            "lau2": "E08000035",
            "pfa": "E23000010",
            "nhs_region": "E40000012",
            "icb": sample.icb,
            "lsoa21": "E01033015",
            "oa21": "E00187026",
        },
    }
