"""ArcGIS FeatureServer layers (the ONS Open Geography Portal), downloaded page by page into one GeoJSON file."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from geo.fetch.http import SourceError, get_url
from geo.model import settings
from geo.model.progress import Progress

_MAX_EMPTY_PAGES = 3


def fetch_arcgis_layer(
    layer: str,
    out_path: str | Path,
    *,
    base_url: str | None = None,
    page_size: int = 2000,
    where: str = "1=1",
    out_fields: str = "*",
    progress: Progress | None = None,
) -> int:
    """Download every feature of an ArcGIS FeatureServer layer into one GeoJSON file.

    Pages follow the `exceededTransferLimit` flag, not the page length (a page may
    be short or empty while more remain); the file is written only once all pages
    are in, so a failure never leaves part of a layer behind. Returns the count.
    """
    service = _service_url(layer, base_url)
    ask = _arcgis_asker(layer, layer_query_url(layer, base_url))
    info = ask(f"{service}?f=json")
    page_size = min(page_size, int(info.get("maxRecordCount") or page_size))
    params = {"where": where, "outFields": out_fields, "outSR": "4326"}
    params["orderByFields"] = info.get("objectIdField") or "OBJECTID"
    total = ask(_query(service, params, f="json", returnCountOnly="true")).get("count")
    features = list(_arcgis_pages(ask, layer, service, params, page_size, total, progress))
    if total is not None and len(features) != total:
        raise SourceError(
            f"ONS layer {layer}: received {len(features)} features but the server "
            f"counted {total}; try again later"
        )
    _write_feature_collection(Path(out_path), features)
    return len(features)


def layer_query_url(layer: str, base_url: str | None = None) -> str:
    """The one URL that fetches a whole small layer as GeoJSON in a browser."""
    params = {"where": "1=1", "outFields": "*", "outSR": "4326", "f": "geojson"}
    return _query(_service_url(layer, base_url), params)


def _arcgis_pages(
    ask: Callable[[str], dict],
    layer: str,
    service: str,
    params: dict[str, str],
    page_size: int,
    total: int | None,
    progress: Progress | None,
) -> Iterator[dict]:
    fetched = empty_in_a_row = 0
    while True:
        page = ask(
            _query(
                service,
                params,
                f="geojson",
                resultOffset=str(fetched),
                resultRecordCount=str(page_size),
            )
        )
        batch = page.get("features") or []
        yield from batch
        fetched += len(batch)
        if progress:
            progress(fetched, total)
        if not _exceeded_transfer_limit(page):
            return
        empty_in_a_row = 0 if batch else empty_in_a_row + 1
        if empty_in_a_row >= _MAX_EMPTY_PAGES or (total is not None and fetched > total):
            raise SourceError(
                f"ONS layer {layer}: the server kept saying more features exist after "
                f"{fetched:,} of {total if total is not None else 'an unknown number'}"
            )


def _exceeded_transfer_limit(page: dict) -> bool:
    """ArcGIS puts the flag at top level for f=json, under `properties` for f=geojson."""
    properties = page.get("properties") or {}
    return bool(page.get("exceededTransferLimit") or properties.get("exceededTransferLimit"))


def _arcgis_asker(layer: str, download_url: str) -> Callable[[str], dict]:
    """A function that GETs an ArcGIS URL for this layer and returns its JSON answer."""
    return lambda url: _arcgis_json(url, layer, download_url)


def _arcgis_json(url: str, layer: str, download_url: str) -> dict:
    """A JSON answer, with ArcGIS's HTTP-200 error bodies turned into a clear SourceError."""
    what = f"ONS layer {layer}"
    body = get_url(url, what, download_url=download_url, consume=lambda response: response.read())
    try:
        answer = json.loads(body)
    except ValueError:
        start = body[:60].decode("utf-8", "replace")
        raise SourceError(
            f"{what}: the server did not answer JSON ({start!r}…) for {url}"
        ) from None
    error = answer.get("error") if isinstance(answer, dict) else None
    if error:
        details = "; ".join(str(item) for item in error.get("details") or [] if item)
        raise SourceError(
            f"{what}: ArcGIS answered error {error.get('code')}: {error.get('message')}"
            + (f" ({details})" if details else "")
        )
    return answer


def _query(service: str, params: dict[str, str], **extra: str) -> str:
    return f"{service}/query?{urllib.parse.urlencode({**params, **extra})}"


def _service_url(layer: str, base_url: str | None) -> str:
    base = (base_url or settings.get_setting("arcgis_base")).rstrip("/")
    return f"{base}/{urllib.parse.quote(layer)}/FeatureServer/0"


def _write_feature_collection(path: Path, features: list[dict]) -> None:
    """One GeoJSON FeatureCollection, written to a temporary file and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".writing-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write('{"type": "FeatureCollection", "features": [\n')
            for number, feature in enumerate(features):  # json.dumps per feature: C-fast
                file.write((",\n" if number else "") + json.dumps(feature, ensure_ascii=False))
            file.write("\n]}\n")
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
