"""HTTP GETs from the publishers: retries with back-off, and errors that say what to do when offline."""

from __future__ import annotations

import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from geo.model import settings
from geo.model.errors import InputError

Progress = Callable[[int, int | None], None]  # (done so far, total or None)
T = TypeVar("T")

# CQC's web firewall answers 403 to python's default User-Agent; send a browser's.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 ics-provider-map"
)
ATTEMPTS = 4  # tries for a transient failure (HTTP 5xx or 429, timeout, dropped connection)
BACKOFF_S = 1.0  # first wait between tries, doubled each time
_CHUNK = 1 << 20


class OfflineError(InputError):
    """The publisher's host could not be reached: this machine seems to be offline."""


class SourceError(InputError):
    """The publisher answered, but not with the data: an HTTP error or an error body."""


def get_url(
    url: str,
    what: str,
    *,
    consume: Callable[[Any], T],
    download_url: str | None = None,
) -> T:
    """GET `url` and hand the response to `consume`, retrying transient failures with back-off.

    A host that cannot be reached raises OfflineError saying what to do; an HTTP
    error that retrying cannot fix raises SourceError.
    """
    if urllib.parse.urlparse(url).scheme not in {"http", "https"}:
        raise InputError(f"{what}: {url} is not an http(s) URL; check the source settings")
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    timeout = float(settings.get_setting("http_timeout_s"))
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return consume(response)
        except urllib.error.HTTPError as error:
            if (error.code < 500 and error.code != 429) or attempt == ATTEMPTS:
                raise SourceError(
                    f"{what}: {url_host(url)} answered HTTP {error.code} {error.reason} for {url}"
                ) from None
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as error:
            reason = getattr(error, "reason", None) or error
            if not _is_transient(reason) or attempt == ATTEMPTS:
                raise OfflineError(_offline_message(what, url, reason, download_url)) from None
        time.sleep(BACKOFF_S * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _is_transient(reason: object) -> bool:
    """Timeouts and dropped connections may pass; refused connections and DNS failures will not."""
    passing = (
        TimeoutError | ConnectionResetError | ConnectionAbortedError | http.client.HTTPException
    )
    return isinstance(reason, passing) or "timed out" in str(reason)


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
    """The host part of a URL, for messages; the URL itself when it has none."""
    return urllib.parse.urlparse(url).netloc or url
