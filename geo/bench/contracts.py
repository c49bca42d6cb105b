"""Benchmark section 'contracts': 50,000 OCDS award releases in pages of 100, parsed to award rows.

The releases are written by geo/testing/contracts_server.py (real ICBs as buyers, real
independent providers as suppliers, every identifier case cycling) as 500 release
packages of 100, as the harvest caches them; `geo.io.contracts.read_awards` reads the
folder in a fresh process (geo.bench.child), three times. Matching the rows to sites is
the evidence join's (its own section); the issue's target of 30 s covers both.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from geo.bench.report import Section, Target, progress, seconds
from geo.model.errors import InputError
from geo.model.settings import PROJECT_DIR
from geo.testing import contracts_server

RELEASES, QUICK_RELEASES = 50_000, 5_000
PAGE = 100
RUNS = 3
PARSE_TIME = Target("time", 30, "s")  # parse and match together; parse measured here
START = datetime(2025, 2, 24, tzinfo=UTC)


def contracts_section(data: Path, work: Path, *, quick: bool) -> Section:
    """Write the pages, then time read_awards over them in fresh processes."""
    count = QUICK_RELEASES if quick else RELEASES
    section = Section(
        "contracts",
        "Contract awards: OCDS releases (paged) parsed",
        f"{count:,} Find a Tender award releases written as {count // PAGE:,} release "
        f"packages of {PAGE} (the harvest cache's shape), read by `read_awards` into one "
        "row per award x supplier (suppliers resolved, identifiers normalised, PSR and "
        f"health judged, de-duplicated). {RUNS} runs, each in a fresh process; the median "
        "time and the highest peak (VmHWM, imports included). The target covers parsing "
        "and matching to sites; matching is measured with the evidence join.",
        ["releases", "pages", "MB", "award rows", "parse s (median)", "peak MB", "runs s"],
        quick=quick,
    )
    folder = _write_pages(data, work / "contracts", count)
    size = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
    runs = []
    for number in range(RUNS):
        progress(f"contracts: run {number + 1} of {RUNS}")
        runs.append(_parse_in_fresh_process(folder))
    times = [run["parse_s"] for run in runs]
    median = statistics.median(times)
    peak = max(run["peak_mb"] for run in runs)
    section.add(
        [f"{count:,}", f"{count // PAGE:,}", f"{size:.0f}", f"{runs[0]['rows']:,}",
         seconds(median), f"{peak:.0f}", ", ".join(f"{t:.1f}" for t in times)],
        [(PARSE_TIME, median)],
        "The time is json parsing and one Python pass over each release.",
    )  # fmt: skip
    return section


def _write_pages(data: Path, folder: Path, count: int) -> Path:
    progress(f"contracts: writing {count:,} releases in pages of {PAGE}")
    folder.mkdir(parents=True, exist_ok=True)
    world = contracts_server.load_world(data)
    releases = contracts_server.many_releases(world, count, START, per_day=100)
    for page in range(0, count, PAGE):
        contracts_server.write_release_package(
            folder / f"page-{page // PAGE:05d}.json", releases[page : page + PAGE]
        )
    return folder


def _parse_in_fresh_process(folder: Path) -> dict:
    """geo.bench.child's 'contracts' job on the folder, in its own process (its own peak)."""
    arguments = json.dumps({"folder": str(folder)})
    done = subprocess.run(
        [sys.executable, "-m", "geo.bench.child", "contracts", arguments],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise InputError(f"benchmark job contracts failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
