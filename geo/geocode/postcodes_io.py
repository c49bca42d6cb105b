"""Postcodes to latitude/longitude online, via the postcodes.io bulk API with retries and back-off."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from geo.fetch.http import (
    Retry,
    RetryPolicy,
    is_retryable_status,
    is_transient,
    retry_after_s,
    url_host,
)
from geo.model import settings
from geo.model.errors import InputError
from geo.model.numbers import Plausible, read_number
from geo.model.postcodes import (
    FAILED_PREFIX,
    FOUND,
    INVALID,
    NO_GRID,
    NO_POSTCODE,
    NOT_FOUND,
    TERMINATED_PREFIX,
    geocode_frame,
    is_postcode,
    normalise_postcodes,
)
from geo.model.progress import Progress

ONLINE_SOURCE = "postcodes.io"
MAX_BATCH = 100  # postcodes.io refuses bulk requests of more than 100 postcodes
_USER_AGENT = "ics-provider-map (+https://github.com/; postcode geocoding)"


def geocode_online(
    postcodes: pd.Series,
    *,
    base_url: str | None = None,
    batch_size: int = MAX_BATCH,
    timeout: float = 10,
    retries: int = 3,
    backoff: float = 2.0,
    progress: Progress | None = None,
    session: urllib.request.OpenerDirector | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> pd.DataFrame:
    """Geocode postcodes with the postcodes.io bulk API: GEOCODE_COLUMNS aligned to
    `postcodes`, one status per row, so a failed batch costs only its own rows.

    Distinct postcodes go in POSTs of at most 100; 429, 5xx and timeouts are retried
    `retries` times after `backoff`, 2×`backoff`, … seconds, or the server's Retry-After
    when longer (geo.fetch.http.RetryPolicy); a batch that still fails
    marks its rows 'lookup failed: <reason>'. Postcodes not found are tried as
    terminated postcodes. `progress(done, total)` counts distinct postcodes.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1 to {MAX_BATCH}, not {batch_size}")
    client = _Client(
        base_url or settings.get_setting("postcodes_io_url"),
        timeout,
        retries,
        backoff,
        session,
        sleep,
    )
    normalised = normalise_postcodes(postcodes)
    valid = is_postcode(normalised)
    distinct = list(dict.fromkeys(normalised[valid].tolist()))
    answers: dict[str, tuple[float, float, str]] = {}
    for start in range(0, len(distinct), batch_size):
        answers.update(client.bulk(distinct[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(distinct)), len(distinct))
    for postcode in [p for p, answer in answers.items() if answer[2] == NOT_FOUND]:
        answers[postcode] = client.terminated(postcode)
    return _online_frame(postcodes.index, normalised, valid, answers)


def _online_frame(
    index: pd.Index, normalised: pd.Series, valid: pd.Series, answers: dict
) -> pd.DataFrame:
    looked_up = [answers.get(p) if ok else None for p, ok in zip(normalised, valid, strict=True)]
    lat = [a[0] if a else np.nan for a in looked_up]
    lon = [a[1] if a else np.nan for a in looked_up]
    status = [
        a[2] if a else (NO_POSTCODE if p is pd.NA else INVALID)
        for a, p in zip(looked_up, normalised.astype(object), strict=True)
    ]
    return geocode_frame(index, lat, lon, status, ONLINE_SOURCE)


class _LookupFailed(Exception):
    """A request that still failed after its retries; the message says why."""


class _Unreachable(_LookupFailed):
    """The host refused the connection or does not resolve: retrying will not help."""


_GIVE_UP_AFTER = 3  # failed requests in a row after which the rest are not tried
# Where the numbers postcodes.io answers with can be; anything else counts as absent.
_LATITUDE, _LONGITUDE = Plausible(-90, 90), Plausible(-180, 180)
_YEAR, _MONTH = Plausible(1900, 2200), Plausible(1, 12)


class _Client:
    """postcodes.io over urllib, with timeouts, retries with exponential back-off, and a
    stop once the service is unreachable or keeps failing, so no one waits for nothing."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        retries: int,
        backoff: float,
        session: urllib.request.OpenerDirector | None,
        sleep: Callable[[float], None],
    ) -> None:
        base = base_url.rstrip("/")
        if urllib.parse.urlparse(base).scheme not in {"http", "https"}:
            raise InputError(
                f"postcodes.io: {base_url!r} is not an http(s) URL; check setting ICS_POSTCODES_IO_URL"
            )
        self.base, self.timeout = base, timeout
        self.retry = RetryPolicy(attempts=retries + 1, backoff_s=backoff, sleep=sleep)
        self.opener = session or urllib.request.build_opener()
        self.failed_in_a_row = 0
        self.stopped: str | None = None

    def bulk(self, batch: list[str]) -> dict[str, tuple[float, float, str]]:
        """Each postcode of the batch -> (lat, lon, status); a failed batch fails every row."""
        body = json.dumps({"postcodes": batch}).encode()
        try:
            status, payload = self._call("POST", f"{self.base}/postcodes", body)
            results = _bulk_results(status, payload, len(batch))
        except _LookupFailed as error:
            return dict.fromkeys(batch, (np.nan, np.nan, f"{FAILED_PREFIX}{error}"))
        return {p: _bulk_answer(r) for p, r in zip(batch, results, strict=True)}

    def terminated(self, postcode: str) -> tuple[float, float, str]:
        """A postcode postcodes.io does not know, looked up among terminated postcodes."""
        url = f"{self.base}/terminated_postcodes/{urllib.parse.quote(postcode)}"
        try:
            status, payload = self._call("GET", url, None)
        except _LookupFailed as error:
            return np.nan, np.nan, f"{FAILED_PREFIX}{error}"
        result = payload.get("result") if status == 200 and isinstance(payload, dict) else None
        if not isinstance(result, dict):
            return np.nan, np.nan, NOT_FOUND
        year = read_number(result.get("year_terminated"), _YEAR)
        month = read_number(result.get("month_terminated"), _MONTH)
        when = f" {int(year):04d}{int(month):02d}" if year and month else ""
        lat, lon = _coordinates(result)
        status_text = NO_GRID if np.isnan(lat) or np.isnan(lon) else f"{TERMINATED_PREFIX}{when})"
        return lat, lon, status_text

    def _call(self, method: str, url: str, body: bytes | None) -> tuple[int, Any]:
        """(HTTP status, parsed JSON) for 200 and 404, counting failures towards a stop."""
        if self.stopped:
            raise _LookupFailed(self.stopped)
        try:
            answer = self._with_retries(method, url, body)
        except _Unreachable as error:
            self.stopped = f"{error}; no further lookups were tried"
            raise
        except _LookupFailed as error:
            self.failed_in_a_row += 1
            if self.failed_in_a_row >= _GIVE_UP_AFTER:
                self.stopped = (
                    f"not tried after {_GIVE_UP_AFTER} failed requests in a row (last: {error})"
                )
            raise
        self.failed_in_a_row = 0
        return answer

    def _with_retries(self, method: str, url: str, body: bytes | None) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        return self.retry.run(lambda: self._attempt(request))

    def _attempt(self, request: urllib.request.Request) -> tuple[int, Any]:
        """One request: (HTTP status, parsed JSON) for 200 and 404; Retry for a failure
        another try may fix; _LookupFailed for one it cannot."""
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            text = error.read()
            if error.code == 404:
                return 404, _json(text, strict=False)
            reason = f"HTTP {error.code} {_error_message(text) or error.reason}"
            if not is_retryable_status(error.code):
                raise _LookupFailed(reason) from None
            raise Retry(self._gave_up(reason), retry_after_s(error.headers)) from None
        except urllib.error.URLError as error:
            if is_transient(error.reason):
                raise Retry(self._gave_up(_network_reason(error.reason))) from None
            raise _Unreachable(_unreachable(request, error.reason)) from None
        except (OSError, http.client.HTTPException) as error:  # not wrapped by urllib
            if is_transient(error):
                raise Retry(self._gave_up(_network_reason(error))) from None
            raise _Unreachable(_unreachable(request, error)) from None

    def _gave_up(self, reason: str) -> _LookupFailed:
        return _LookupFailed(f"{reason} after {self.retry.attempts} attempts")


def _unreachable(request: urllib.request.Request, reason: object) -> str:
    return f"{url_host(request.full_url)} could not be reached ({reason})"


def _bulk_results(status: int, payload: Any, expected: int) -> list:
    results = payload.get("result") if isinstance(payload, dict) else None
    if status != 200 or not isinstance(results, list):
        raise _LookupFailed(f"unexpected answer (HTTP {status}) without a result list")
    if len(results) != expected:
        raise _LookupFailed(f"answer has {len(results)} results for {expected} postcodes")
    return results


def _bulk_answer(item: Any) -> tuple[float, float, str]:
    result = item.get("result") if isinstance(item, dict) else None
    if not isinstance(result, dict):
        return np.nan, np.nan, NOT_FOUND
    lat, lon = _coordinates(result)
    return lat, lon, (NO_GRID if np.isnan(lat) or np.isnan(lon) else FOUND)


def _json(data: bytes, *, strict: bool = True) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        if strict:
            raise _LookupFailed("the answer was not JSON") from None
        return None


def _error_message(data: bytes) -> str:
    payload = _json(data, strict=False)
    error = payload.get("error") if isinstance(payload, dict) else None
    return f"({error})" if isinstance(error, str) else ""


def _network_reason(error: object) -> str:
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "timed out"
    return str(error) or type(error).__name__


def _coordinates(result: dict) -> tuple[float, float]:
    """A result's latitude and longitude, NaN unless both are finite and plausible."""
    lat = read_number(result.get("latitude"), _LATITUDE)
    lon = read_number(result.get("longitude"), _LONGITUDE)
    return (np.nan, np.nan) if lat is None or lon is None else (lat, lon)
