"""The route that serves the explorer's sites (pages/_served_sites.py): a key is a capability,
the body is the payload, gzipped for browsers that take it, and gone once the cache lets go."""

from __future__ import annotations

import gc
import gzip
import hashlib
import json

import numpy as np
from starlette.applications import Starlette
from starlette.testclient import TestClient

from geo.maps.payload import ordered_site_payload
from pages import _served_sites
from tests.factories import synthetic_sites


def _client(base: str = "") -> TestClient:
    return TestClient(Starlette(routes=_served_sites.routes(base)))


def _served():
    sites = synthetic_sites(200)
    payload, order = ordered_site_payload(sites)
    return payload, _served_sites.serve(payload, order, len(sites))


def test_a_served_payload_comes_back_whole_plain_or_gzipped():
    payload, served = _served()
    client = _client()
    plain = client.get(f"/{served.url}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in plain.headers
    assert plain.json() == payload
    zipped = client.get(f"/{served.url}", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert json.loads(zipped.content) == payload  # the client unzips it
    assert len(served.gzipped) < len(served.body) / 1.5
    assert gzip.decompress(served.gzipped) == served.body
    assert "immutable" in zipped.headers["cache-control"]
    assert zipped.headers["cache-control"].startswith("private")


def test_the_key_is_not_the_payloads_plain_hash_so_nobody_can_work_it_out():
    _, served = _served()
    assert served.key not in hashlib.sha256(served.body).hexdigest()
    assert len(served.key) == 40


def test_the_same_payload_served_twice_is_one_entry():
    payload, first = _served()
    again = _served_sites.serve(payload, first.order, first.total)
    assert again is first
    assert not first.order.flags.writeable


def test_an_unknown_key_and_a_key_the_cache_let_go_answer_404():
    client = _client()
    assert client.get(f"/{_served_sites.SITES_PATH}/{'0' * 40}.json").status_code == 404
    _, served = _served()
    url = served.url
    assert client.get(f"/{url}").status_code == 200
    del served
    gc.collect()
    missing = client.get(f"/{url}")
    assert missing.status_code == 404
    assert "reload the page" in missing.text


def test_the_route_follows_the_apps_base_path():
    _, served = _served()
    client = _client("/maps/")
    assert client.get(f"/maps/{served.url}").status_code == 200
    assert client.get(f"/{served.url}").status_code == 404


def test_the_order_says_which_row_each_payload_site_came_from():
    sites = synthetic_sites(50)
    _, order = ordered_site_payload(sites)
    served = _served_sites.serve(*ordered_site_payload(sites), len(sites))
    assert np.array_equal(served.order, order)
    assert served.total == 50
