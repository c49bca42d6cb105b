"""A local stand-in for the publishers' servers, so download code is tested without the internet.

It answers on 127.0.0.1 (a free port) the way the real services do:

- ONS ArcGIS FeatureServer: `/arcgis/rest/services/<Layer>/FeatureServer/0?f=json` (layer
  info with `maxRecordCount`) and `.../0/query` honouring where=1=1, outFields,
  f=geojson|json, returnCountOnly, returnGeometry, orderByFields and
  resultOffset/resultRecordCount, capped at `max_record_count` (10, so the 42 ICBs
  take 5 pages), with `properties.exceededTransferLimit` (geojson) or a top-level
  `exceededTransferLimit` (json); unknown layers get ArcGIS's HTTP-200 error body;
- CQC: the 'Using CQC data' page and the HSCA_Active_Locations .ods it links,
  refusing (403) a client without a browser-like User-Agent, as CQC's firewall does;
- NHS ODS Data Search and Export: `/api/getReport?report=<code>` (headerless CSV);
- the Charity Commission's register extract at its fixed blob path, and the gov.uk page
  of the Regulator of Social Housing with the two lists it links (an older one, in the
  older header spelling, and the newest), written by `geo.testing.register_files`.
- ONS Code History Database: an ArcGIS item's `/data`, a zip holding `Changes.csv`
  (tests/fixtures/code_history_Changes.csv) beside ChangeHistory.csv and Equivalents.csv.

The layers are the real GeoJSON files in ../shared/data. Faults can be injected:
`error_bodies`, `short_pages`, `fail_next` (with `retry_after`, a Retry-After header for
those failures). Tests use the `arcgis_server` fixture.
"""

from __future__ import annotations

import functools
import io
import json
import threading
import urllib.parse
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path

from geo.testing.publisher_files import make_cqc_hsca_rows, write_cqc_hsca_ods
from geo.testing.register_files import write_charity_extract, write_rsh_list
from geo.testing.stub_http import QuietHandler

# ONS layer name -> the file of ../shared/data served as that layer. Where ONS's own
# file is not in ../shared/data, the nearest real file of the same kind stands in.
LAYER_FILES: dict[str, str] = {
    "Integrated_Care_Boards_July_2022_EN_BFC_2022": "icb_2022_07_buc.geojson",
    "Integrated_Care_Boards_April_2023_EN_BGC": "icb_2023_04_bgc.geojson",
    "Integrated_Care_Boards_April_2026_Boundaries_EN_BGC": (
        "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"
    ),
    "Sub_Integrated_Care_Board_Locations_April_2023_EN_BGC": "sub_icb_locations_2023_04_bsc.geojson",
    "NHS_England_Regions_January_2024_EN_BGC": "nhs_england_regions_2024_01_bgc.geojson",
}
# A table layer (no geometry), made from the 2024 sub-ICB file's attributes.
LOOKUP_LAYER = "Sub_ICB_Locations_to_Integrated_Care_Boards_to_NHS_England_(Region)_(April_2024)"
LOOKUP_SOURCE = "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"
LOOKUP_FIELDS = ("SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD")

CQC_INDEX_PATH = "/about-us/transparency/using-cqc-data"
CQC_FILE_PATH = "/sites/default/files/2026-05/05_May_2026_HSCA_Active_Locations.ods"
CQC_ROWS = 5
CHARITY_PATH = "/data/txt/publicextract.charity.zip"
RSH_INDEX_PATH = "/government/publications/current-registered-providers-of-social-housing"
RSH_OLDER_PATH = "/media/6a1f02/List_of_registered_providers_17_February_2025.xlsx"
RSH_NEWEST_PATH = "/media/7b2e31/List_of_registered_providers_29_June_2026.xlsx"
CODE_HISTORY_PATH = "/sharing/rest/content/items/d7be63c8bd144ae0a26c6593eb5e00b7/data"
CODE_HISTORY_CHANGES = "code_history_Changes.csv"
OBJECT_ID = "FID"


@dataclass
class FakePublishers:
    """The running server: its URLs, the data it serves, and switches for its faults."""

    root: str
    cqc_file: Path
    shared_data: Path  # the real open data served as ArcGIS layers (../shared/data)
    fixtures: Path  # the CQC index page and ODS reports served as they are (tests/fixtures)
    max_record_count: int = 10
    # layer -> (code, message): every request for it gets ArcGIS's HTTP-200 error body
    error_bodies: dict[str, tuple[int, str]] = field(default_factory=dict)
    # (layer, offset) -> features: that page is cut short (0 = empty), flag still true, once
    short_pages: dict[tuple[str, int], int] = field(default_factory=dict)
    # HTTP statuses for the next requests, whatever they ask for (e.g. [503])
    fail_next: list[int] = field(default_factory=list)
    retry_after: str | None = None  # sent as Retry-After with each fail_next failure
    # (path with query, User-Agent) of every request, in order
    requests: list[tuple[str, str]] = field(default_factory=list)
    ods_reports: dict[str, Path] = field(default_factory=dict)
    # URL path -> file served as it is (the registers)
    register_files: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ods_reports.setdefault("ets", self.fixtures / "sources_ods_ets.csv")

    @property
    def arcgis_base(self) -> str:
        """What ICS_ARCGIS_BASE points at: the ArcGIS services root."""
        return f"{self.root}/arcgis/rest/services"

    @property
    def cqc_index_url(self) -> str:
        """What ICS_CQC_INDEX_URL points at."""
        return f"{self.root}{CQC_INDEX_PATH}"

    @property
    def ods_base(self) -> str:
        """What ICS_ODS_BASE points at."""
        return f"{self.root}/api/getReport"

    @property
    def charity_register_url(self) -> str:
        """What ICS_CHARITY_REGISTER_URL points at."""
        return f"{self.root}{CHARITY_PATH}"

    @property
    def rsh_index_url(self) -> str:
        """What ICS_RSH_INDEX_URL points at."""
        return f"{self.root}{RSH_INDEX_PATH}"

    @property
    def code_history_url(self) -> str:
        """What ICS_CODE_HISTORY_URL points at: the Code History Database zip."""
        return f"{self.root}{CODE_HISTORY_PATH}"

    def layer_features(self, layer: str) -> list[dict]:
        """The features served for a layer, each with its object id, in service order."""
        if layer == LOOKUP_LAYER:
            return _lookup_features(self.shared_data)
        return _layer_features(self.shared_data / LAYER_FILES[layer])

    def queries(self, layer: str) -> list[dict[str, str]]:
        """The query parameters of every data request made for a layer, in order."""
        asked = []
        for path, _ in self.requests:
            parts = urllib.parse.urlsplit(path)
            if urllib.parse.unquote(parts.path).endswith(f"/{layer}/FeatureServer/0/query"):
                asked.append(dict(urllib.parse.parse_qsl(parts.query)))
        return asked


@contextmanager
def serving_publishers(
    workdir: Path, shared_data: Path, fixtures: Path
) -> Iterator[FakePublishers]:
    """The fake publishers on a free port of 127.0.0.1 until the block ends.

    `workdir` receives the CQC file it serves; `shared_data` and `fixtures` are read as served.
    """
    cqc_file = workdir / Path(CQC_FILE_PATH).name
    write_cqc_hsca_ods(cqc_file, make_cqc_hsca_rows(CQC_ROWS))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.publishers = FakePublishers(
        root=f"http://{host}:{port}",
        cqc_file=cqc_file,
        shared_data=shared_data,
        fixtures=fixtures,
        register_files=_register_files(workdir),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.publishers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _register_files(workdir: Path) -> dict[str, Path]:
    """The registers served, written in their real formats into `workdir`."""
    older = write_rsh_list(workdir / Path(RSH_OLDER_PATH).name, older_headers=True)
    return {
        CHARITY_PATH: write_charity_extract(workdir / Path(CHARITY_PATH).name),
        RSH_OLDER_PATH: older,
        RSH_NEWEST_PATH: write_rsh_list(workdir / Path(RSH_NEWEST_PATH).name),
    }


def _rsh_page(root: str) -> bytes:
    """The gov.uk publication page: absolute attachment links to the lists (on gov.uk's
    assets host; here, this server), the older first."""
    links = "".join(
        f'<section class="attachment"><h3><a class="govuk-link" '
        f'href="{root}{path}">{title}</a></h3></section>'
        for path, title in (
            ("/media/other/Registered_providers_guidance.pdf", "Guidance (PDF)"),
            (RSH_OLDER_PATH, "List of registered providers 17 February 2025"),
            (RSH_NEWEST_PATH, "List of registered providers 29 June 2026"),
        )
    )
    return (
        f"<html><body><h1>Registered providers of social housing</h1>{links}</body></html>".encode()
    )


class _Handler(QuietHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        publishers: FakePublishers = self.server.publishers
        publishers.requests.append((self.path, self.headers.get("User-Agent", "")))
        if publishers.fail_next:
            status = publishers.fail_next.pop(0)
            page = b"<html><body>Service Unavailable</body></html>"
            return self._send(status, page, "text/html", retry_after=publishers.retry_after)
        parts = urllib.parse.urlsplit(self.path)
        path, params = urllib.parse.unquote(parts.path), dict(urllib.parse.parse_qsl(parts.query))
        if path.startswith("/arcgis/rest/services/"):
            return self._send_json(_arcgis(publishers, path, params))
        if path in (CQC_INDEX_PATH, CQC_FILE_PATH) and "Mozilla" not in self.headers.get(
            "User-Agent", ""
        ):
            return self._send(HTTPStatus.FORBIDDEN, b"<html>403 Forbidden</html>", "text/html")
        if path == CQC_INDEX_PATH:
            page = (publishers.fixtures / "sources_cqc_index.html").read_bytes()
            return self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
        if path == CQC_FILE_PATH:
            content = publishers.cqc_file.read_bytes()
            return self._send(
                HTTPStatus.OK, content, "application/vnd.oasis.opendocument.spreadsheet"
            )
        if path in publishers.register_files:
            content = publishers.register_files[path].read_bytes()
            return self._send(HTTPStatus.OK, content, "application/octet-stream")
        if path == RSH_INDEX_PATH:
            return self._send(HTTPStatus.OK, _rsh_page(publishers.root), "text/html; charset=utf-8")
        if path == CODE_HISTORY_PATH:
            archive = _code_history_zip(publishers.fixtures / CODE_HISTORY_CHANGES)
            return self._send(HTTPStatus.OK, archive, "application/zip")
        if path == "/api/getReport" and params.get("report") in publishers.ods_reports:
            content = publishers.ods_reports[params["report"]].read_bytes()
            return self._send(HTTPStatus.OK, content, "text/csv")
        return self._send(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain")

    def _send_json(self, answer: dict) -> None:
        self._send(HTTPStatus.OK, json.dumps(answer).encode(), "application/json; charset=utf-8")


def _code_history_zip(changes: Path) -> bytes:
    """The Code History Database as ONS ships it: a zip of CSVs, Changes.csv among them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ChangeHistory.csv", "GEOGCD,GEOGNM,OPER_DATE,TERM_DATE,STATUS\n")
        archive.write(changes, "Changes.csv")
        archive.writestr("Equivalents.csv", "GEOGCD,GEOGNM,GEOGCDH\n")
    return buffer.getvalue()


# ------------------------------------------------------------------ ArcGIS behaviour


def _arcgis(publishers: FakePublishers, path: str, params: dict[str, str]) -> dict:
    parts = path.removeprefix("/arcgis/rest/services/").split("/")
    layer = parts[0]
    known = layer in LAYER_FILES or layer == LOOKUP_LAYER
    if not known or parts[1:3] != ["FeatureServer", "0"] or len(parts) > 4:
        return _error(400, "Invalid URL", "Invalid URL")
    if layer in publishers.error_bodies:
        code, message = publishers.error_bodies[layer]
        return _error(code, message, message)
    if len(parts) == 3:
        return _layer_info(publishers, layer)
    if parts[3] != "query":
        return _error(400, "Invalid URL", "Invalid URL")
    return _query(publishers, layer, params)


def _layer_info(publishers: FakePublishers, layer: str) -> dict:
    features = publishers.layer_features(layer)
    geometry = features[0]["geometry"]
    return {
        "currentVersion": 11.3,
        "id": 0,
        "name": layer,
        "type": "Feature Layer" if geometry else "Table",
        "geometryType": "esriGeometryPolygon" if geometry else None,
        "objectIdField": OBJECT_ID,
        "maxRecordCount": publishers.max_record_count,
        "supportedQueryFormats": "JSON, geoJSON, PBF",
        "advancedQueryCapabilities": {"supportsPagination": True, "supportsOrderBy": True},
        "fields": [
            {
                "name": name,
                "type": "esriFieldTypeOID" if name == OBJECT_ID else "esriFieldTypeString",
            }
            for name in features[0]["properties"]
        ],
    }


def _query(publishers: FakePublishers, layer: str, params: dict[str, str]) -> dict:
    if "".join(params.get("where", "1=1").split()) != "1=1":
        return _error(400, "Unable to complete operation.", "'where' parameter is invalid")
    if params.get("outSR", "4326") != "4326":
        return _error(400, "Unable to complete operation.", "this server only serves outSR=4326")
    features = _ordered(publishers.layer_features(layer), params.get("orderByFields"))
    if params.get("returnCountOnly", "").lower() == "true":
        return {"count": len(features)}
    offset = int(params.get("resultOffset") or 0)
    wanted = int(params.get("resultRecordCount") or publishers.max_record_count)
    page = features[offset : offset + min(wanted, publishers.max_record_count)]
    exceeded = offset + len(page) < len(features)
    short = publishers.short_pages.pop((layer, offset), None)
    if short is not None:
        page, exceeded = page[:short], True
    page = [_select(feature, params) for feature in page]
    if params.get("f") == "geojson":
        answer = {"type": "FeatureCollection", "features": page}
        if exceeded:
            answer["properties"] = {"exceededTransferLimit": True}
        return answer
    return {
        "objectIdFieldName": OBJECT_ID,
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        "features": [_esri_feature(feature) for feature in page],
        "exceededTransferLimit": exceeded,
    }


def _ordered(features: list[dict], order_by: str | None) -> list[dict]:
    if not order_by:
        return features
    name, _, direction = order_by.strip().partition(" ")
    return sorted(
        features,
        key=lambda feature: feature["properties"][name],
        reverse=direction.upper() == "DESC",
    )


def _select(feature: dict, params: dict[str, str]) -> dict:
    fields = params.get("outFields", "*")
    properties = feature["properties"]
    if fields != "*":
        properties = {name: properties[name] for name in fields.split(",") if name in properties}
    keep_geometry = params.get("returnGeometry", "true").lower() != "false"
    return {
        "type": "Feature",
        "id": feature["properties"][OBJECT_ID],
        "geometry": feature["geometry"] if keep_geometry else None,
        "properties": properties,
    }


def _esri_feature(feature: dict) -> dict:
    """A GeoJSON feature in Esri JSON: attributes, and polygons as a flat list of rings."""
    answer: dict = {"attributes": feature["properties"]}
    geometry = feature["geometry"]
    if geometry:
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        answer["geometry"] = {"rings": [ring for polygon in polygons for ring in polygon]}
    return answer


def _error(code: int, message: str, detail: str) -> dict:
    return {"error": {"code": code, "message": message, "details": [detail]}}


@functools.cache
def _layer_features(path: Path) -> list[dict]:
    """The features of a ../shared/data GeoJSON, each given an object id first (read once)."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "type": "Feature",
            "geometry": feature["geometry"],
            "properties": {OBJECT_ID: number, **feature["properties"]},
        }
        for number, feature in enumerate(collection["features"], start=1)
    ]


@functools.cache
def _lookup_features(shared_data: Path) -> list[dict]:
    """The lookup table as an ArcGIS table layer: attributes only, no geometry."""
    return [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                OBJECT_ID: feature["properties"][OBJECT_ID],
                **{name: feature["properties"][name] for name in LOOKUP_FIELDS},
            },
        }
        for feature in _layer_features(shared_data / LOOKUP_SOURCE)
    ]
