"""The explorer's sites, served over HTTP once, so a filter change sends the map only a mask.

The map's frame fetches a vintage's whole site payload from `ics-api/sites/<key>.json`
and decodes it once; each filter then sends which of those sites to show
(`geo.maps.payload.shown_mask`, 17 kB for 100,000 sites) instead of the sites again
(2.3 MB, built afresh for every new filter).

Keys are capabilities: an HMAC of the payload under a secret made when the process
starts, handed out only in the map of a session the app admitted. Nobody can guess
one, a restarted server hands out new ones, and a key whose payload the app's cache
has let go answers 404. The map is served by the process that ran the page (the
sticky sessions the README's deployment section asks for).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import secrets
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from geo.maps.payload import script_json

SITES_PATH = "ics-api/sites"
_SECRET = secrets.token_bytes(32)
_served: weakref.WeakValueDictionary[str, ServedSites] = weakref.WeakValueDictionary()
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class ServedSites:
    """A payload as the route serves it, and the drawing order that masks index."""

    key: str
    body: bytes
    gzipped: bytes
    order: np.ndarray  # the payload's i-th site is row order[i] of the sites it was made from
    total: int  # rows it was made from, with or without coordinates

    @property
    def url(self) -> str:
        """Where the map fetches it, relative to the app's base path."""
        return f"{SITES_PATH}/{self.key}.json"


def serve(payload: dict, order: np.ndarray, total: int) -> ServedSites:
    """Make `payload` fetchable for as long as the returned object is alive (cache it)."""
    body = script_json(payload).encode("utf-8")
    key = hmac.new(_SECRET, body, hashlib.sha256).hexdigest()[:40]
    with _lock:
        held = _served.get(key)
        if held is not None:
            return held
        order = order.copy()
        order.flags.writeable = False
        served = ServedSites(key, body, gzip.compress(body, compresslevel=6), order, total)
        _served[key] = served
        return served


def routes(base_url_path: str) -> list[Route]:
    """The route that serves payloads, under Streamlit's `server.baseUrlPath`."""
    base = base_url_path.strip("/")
    prefix = f"/{base}/{SITES_PATH}" if base else f"/{SITES_PATH}"
    return [Route(prefix + "/{key}.json", _respond, methods=["GET"])]


async def _respond(request: Request) -> Response:
    served = _served.get(request.path_params["key"])
    if served is None:
        return Response("Not found: reload the page.", status_code=404, media_type="text/plain")
    headers = {
        "Cache-Control": "private, max-age=86400, immutable",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(served.gzipped, media_type="application/json", headers=headers)
    return Response(served.body, media_type="application/json", headers=headers)
