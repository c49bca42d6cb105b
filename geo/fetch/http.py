"""HTTP GETs from the publishers: one retry policy, and errors that say what to do when offline.

The policy (exponential back-off, or the server's Retry-After when that is longer) is
shared with geo.geocode.postcodes_io, so every client of ours treats a busy server alike.
"""

from __future__ import annotations

import http.client
import math
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from geo.model import settings
from geo.model.errors import InputError
from geo.model.progress import Progress
from geo.model.redaction import redact

T = TypeVar("T")

# CQC's web firewall answers 403 to python's default User-Agent; send a browser's.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 ics-provider-map"
)
ATTEMPTS = 4  # tries for a transient failure (HTTP 5xx or 429, timeout, dropped connection)
BACKOFF_S = 1.0  # first wait between tries, doubled each time
MAX_RETRY_AFTER_S = 60.0  # the longest a server's Retry-After may make us wait
_CHUNK = 1 << 20


class OfflineError(InputError):
    """The publisher's host could not be reached: this machine seems to be offline."""


class SourceError(InputError):
    """The publisher answered, but not with the data: an HTTP error or an error body."""


class Retry(Exception):
    """One try failed in a way another may not; `final` is raised when no tries are left.

    `retry_after_s` is how long the server asked us to wait (its Retry-After), or 0.
    """

    def __init__(self, final: Exception, retry_after_s: float = 0.0) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    """How a transient failure is retried: `attempts` tries in all, waiting `backoff_s`,
    then twice that, and so on, or as long as the server's Retry-After asks when that is
    longer (capped at `max_wait_s`), so a busy server is given the pause it wants."""

    attempts: int = ATTEMPTS
    backoff_s: float = BACKOFF_S
    max_wait_s: float = MAX_RETRY_AFTER_S
    sleep: Callable[[float], None] = time.sleep

    def wait_s(self, attempt: int, retry_after_s: float = 0.0) -> float:
        """Seconds to wait after failed try number `attempt` (1 = the first)."""
        return max(self.backoff_s * 2 ** (attempt - 1), min(retry_after_s, self.max_wait_s))

    def run(self, attempt: Callable[[], T]) -> T:
        """`attempt()` until it returns or raises anything but Retry; after the last
        try, the Retry's `final` error."""
        for number in range(1, self.attempts + 1):
            try:
                return attempt()
            except Retry as retry:
                if number == self.attempts:
                    raise retry.final from None
                self.sleep(self.wait_s(number, retry.retry_after_s))
        raise AssertionError("unreachable")  # pragma: no cover


def is_retryable_status(code: int) -> bool:
    """HTTP statuses worth another try: 429 (too many requests) and the 5xx server errors."""
    return code == 429 or code >= 500


def is_transient(reason: object) -> bool:
    """Timeouts and dropped connections may pass; refused connections and DNS failures will not."""
    return isinstance(reason, _TRANSIENT_NETWORK) or "timed out" in str(reason)


def retry_after_s(headers: Any) -> float:
    """The seconds a response's Retry-After header asks for; 0 when absent or not a number."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


_TRANSIENT_NETWORK = (
    TimeoutError,
    ConnectionResetError,
    ConnectionAbortedError,
    http.client.HTTPException,
)


def get_url(
    url: str,
    what: str,
    *,
    consume: Callable[[Any], T],
    download_url: str | None = None,
    retry: RetryPolicy | None = None,
    rate_limited: Mapping[int, float] | None = None,
) -> T:
    """GET `url` and hand the response to `consume`, retrying transient failures with back-off.

    A host that cannot be reached raises OfflineError saying what to do; an HTTP
    error that retrying cannot fix raises SourceError. `retry` defaults to ATTEMPTS
    tries from BACKOFF_S. `rate_limited` maps the statuses a publisher uses to say "too
    many requests" (besides 429) to the seconds it asks us to wait before trying again
    (Contracts Finder answers 403 and wants five minutes).
    """
    if urllib.parse.urlparse(url).scheme not in {"http", "https"}:
        raise InputError(f"{what}: {url} is not an http(s) URL; check the source settings")
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    timeout = float(settings.get_setting("http_timeout_s"))

    def attempt() -> T:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return consume(response)
        except urllib.error.HTTPError as error:
            failed = SourceError(
                f"{what}: {url_host(url)} answered HTTP {error.code} {error.reason} for {url}"
            )
            if rate_limited and error.code in rate_limited:
                wait_s = max(rate_limited[error.code], retry_after_s(error.headers))
                raise Retry(failed, wait_s) from None
            if is_retryable_status(error.code):
                raise Retry(failed, retry_after_s(error.headers)) from None
            raise failed from None
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as error:
            reason = getattr(error, "reason", None) or error
            offline = OfflineError(_offline_message(what, url, reason, download_url))
            if is_transient(reason):
                raise Retry(offline) from None
            raise offline from None

    return (retry or RetryPolicy(ATTEMPTS, BACKOFF_S)).run(attempt)


def _offline_message(what: str, url: str, reason: object, download_url: str | None) -> str:
    return (
        f"Could not fetch {what} from {url_host(url)}: this machine seems to be offline "
        f"({reason}). The app keeps working with what is already cached. What to do: "
        f"download {download_url or url} on a connected machine and run "
        "`python -m geo fetch --from DIR`, or upload the file on the Upload page."
    )


def download(
    url: str, folder: Path, what: str, progress: Progress | None, suffix: str = ""
) -> Path:
    """Stream `url` into a hidden temporary file in `folder`; the caller renames or deletes it."""

    def save(response) -> Path:
        total = int(response.headers.get("Content-Length") or 0) or None
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".partial-", suffix=suffix, dir=folder)
        done = 0
        try:
            with os.fdopen(handle, "wb") as file:
                while chunk := response.read(_CHUNK):
                    file.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise http.client.IncompleteRead(b"", total - done)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    return get_url(url, what, consume=save)


def url_host(url: str) -> str:
    """The host (and port) of a URL, for messages, never its user or password; the URL
    itself, less any password, when it has none."""
    return urllib.parse.urlparse(url).netloc.rpartition("@")[2] or redact(url)
