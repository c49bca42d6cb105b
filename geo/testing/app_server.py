"""The real app under test: `streamlit run dashboard.py` on a free local port, stopped afterwards.

Browser tests drive this server as a user would. Its data folder is the test's own
(ICS_DATA_DIR), DATABASE_URL is unset so it uses that folder's SQLite store, and maps
run offline (ICS_MAP_TILES=none, ICS_MAP_ASSETS=local). A module defines the
`app_data_dir` fixture (a prepared data folder) and uses `streamlit_app` (the base URL).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from geo.model.settings import PROJECT_DIR

STARTUP_SECONDS = 90


class AppDidNotStart(RuntimeError):
    """The app exited or never answered its health check; the message holds its log's tail."""


def app_environment(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment the app runs in: this data folder, its SQLite store (or the
    PostgreSQL store at `database_url`), no tiles, inlined assets."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(
        ICS_DATA_DIR=str(data_dir),
        ICS_MAP_TILES="none",
        ICS_MAP_ASSETS="local",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running_app(
    data_dir: Path,
    log_path: Path,
    *,
    secrets_file: Path | None = None,
    settings: Mapping[str, str] | None = None,
    database_url: str | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Run the app on a free port on 127.0.0.1 until the block ends; yield its base URL.

    `secrets_file` replaces `.streamlit/secrets.toml` (its `[auth]` section turns sign-in
    on), `settings` are extra environment variables (ICS_ANALYSTS and the like), and with
    `database_url` the app uses that PostgreSQL store instead of the folder's SQLite.
    `port` reuses a port (a browser caches per origin); by default a free one is taken.
    """
    port = port or _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    if secrets_file is not None:
        command += ["--secrets.files", str(secrets_file)]
    env = {**app_environment(data_dir, database_url), **(settings or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_healthy(base, process, log_path)
            yield base
        finally:
            _stop(process)


def server_pid(base: str) -> int:
    """The process id of the app serving `base` (found by the port on its command line)."""
    port = base.rsplit(":", 1)[1].encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--server.port" in args and port in args:
            return int(cmdline.parent.name)
    raise RuntimeError(f"no app process listening on {base}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(base: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll /_stcore/health until it answers 'ok'; fail with the server's log if it never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppDidNotStart(f"streamlit exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:  # noqa: S310 - http://127.0.0.1
                if answer.status == 200 and answer.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise AppDidNotStart(
        f"streamlit did not answer {base}/_stcore/health in {STARTUP_SECONDS} s:\n{_tail(log_path)}"
    )


def _stop(process: subprocess.Popen) -> None:
    """Ask the server to stop (SIGTERM), then kill it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _tail(log_path: Path, lines: int = 40) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
