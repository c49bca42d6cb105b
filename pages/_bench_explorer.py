"""Benchmark section 'filter': the explorer page's rerun after a sector filter change, 100k sites.

The synthetic sites are published into a temporary store (ICS_DATA_DIR pointing
at a temporary folder loaded from the shared data, as an offline user would), and
pages/explorer.py runs under streamlit's AppTest: one warm-up run computes and
caches the analysis, then each timed run follows a change of the sector filter.
AppTest reruns only the page script after a widget change, as the browser does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from geo.bench.report import Section, Target, progress, seconds
from geo.fetch import sources
from geo.model import access
from geo.model.settings import PROJECT_DIR
from geo.publish import publishing
from geo.store import versions as store

DASHBOARD = PROJECT_DIR / "dashboard.py"
EXPLORER = "pages/explorer.py"
SECTOR_KEY = "f-sectors"
SECTOR_CHOICES = (
    ["Independent"],
    ["Voluntary"],
    ["NHS", "Local authority"],
    ["Independent", "Voluntary"],
    ["Unknown"],
)
PROFILED_CHOICE = ("Voluntary", "Unknown")  # one more new value, for the sampled rerun
RERUN = Target("rerun", 1.0, "s")
VINTAGE = "2023"
_SAMPLE_S = 0.005
_WATCHED = ("/geo/", "/pages/", "streamlit_folium", "/branca/", "/folium/")
_CSV_COLUMNS = (
    "site_id", "site_name", "provider_id", "provider_name", "sector", "service_type",
    "capacity", "planning_status", "postcode", "lat", "lon",
)  # fmt: skip


def filter_section(sites: pd.DataFrame, data: Path, work: Path, *, quick: bool) -> Section:
    """Publish `sites`, open the explorer, and time its reruns after sector filter changes."""
    section = Section(
        "filter",
        "Explorer page: rerun after a filter change",
        _about(len(sites)),
        ["page", "sites", "first run s", "rerun s (median)", "reruns", "each rerun s"],
        quick=quick,
    )
    label = [EXPLORER, f"{len(sites):,}"]
    if not (PROJECT_DIR / EXPLORER).is_file():
        section.add([*label, "not run: the page does not exist yet", "", "0", ""], [(RERUN, None)])
        return section
    with _isolated_data_dir(work / "app-data"):
        progress("filter: loading the shared data and publishing the sites into a temporary store")
        _publish(sites, data, work)
        first, times, where = _time_reruns()
    verdict = section.add(
        [*label, seconds(first), seconds(statistics.median(times)), str(len(times)), _list(times)],
        [(RERUN, statistics.median(times))],
        where,
    )
    if where and not verdict.startswith("MISS"):
        section.notes.append(f"**{EXPLORER}** (where the time goes): {where}")
    return section


def _about(count: int) -> str:
    return (
        f"{count:,} synthetic sites published into a temporary SQLite store; "
        f"`{EXPLORER}` run by `streamlit.testing.v1.AppTest` (dashboard.py, vintage {VINTAGE}). "
        "**First run** computes and caches the analysis (assignment, metrics). Each **rerun** "
        f"follows a change of the sector filter (`{SECTOR_KEY}`) to a value not seen before "
        f"({'; '.join(', '.join(choice) for choice in SECTOR_CHOICES)}), so the filtered sites "
        "and their map layer are computed afresh each time; median of "
        f"{len(SECTOR_CHOICES)}. Not measured: the browser's work after the rerun."
    )


@contextmanager
def _isolated_data_dir(folder: Path) -> Iterator[Path]:
    """ICS_DATA_DIR set to `folder` (and no DATABASE_URL) for the block, then restored."""
    saved = {name: os.environ.get(name) for name in ("ICS_DATA_DIR", "DATABASE_URL")}
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["ICS_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _publish(sites: pd.DataFrame, data: Path, work: Path) -> None:
    """Load the shared data offline, then publish the sites the way an analyst would."""
    sources.fetch_from_dir(data)
    path = work / "benchmark_sites.csv"
    sites[list(_CSV_COLUMNS)].to_csv(path, index=False)
    prepared = publishing.prepare(path, "sites")
    with store.open_store() as published:
        publishing.publish(prepared, published, by=access.operating_system_user("benchmark"))


def _time_reruns() -> tuple[float, list[float], str]:
    """The first run's time, each rerun's time, and where a rerun's time goes."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(DASHBOARD), default_timeout=900)
    app.query_params["vintage"] = VINTAGE
    app.switch_page(EXPLORER)
    progress("filter: first run of the explorer (computes the analysis)")
    first = _timed_run(app)
    everything = _shown(app)
    times = []
    for choice in SECTOR_CHOICES:
        app.multiselect(key=SECTOR_KEY).set_value(list(choice))
        times.append(_timed_run(app))
        shown = _shown(app)
        progress(f"filter: sectors {', '.join(choice)}: {shown}; rerun {times[-1]:.2f} s")
        if shown == everything:
            raise RuntimeError(f"the sector filter {choice} did not change what {EXPLORER} shows")
    app.multiselect(key=SECTOR_KEY).set_value(list(PROFILED_CHOICE))
    return first, times, _profiled_rerun(app)


def _shown(app) -> str:
    """The page's 'N of M sites shown' caption."""
    return next((c.value for c in app.caption if "sites shown" in c.value), "no caption")


def _timed_run(app) -> float:
    start = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - start
    if app.exception:
        raise RuntimeError(f"{EXPLORER} raised: {app.exception[0].message}")
    return elapsed


def _profiled_rerun(app) -> str:
    """Where one more rerun spends its time, by sampling the script thread's stack every 5 ms.

    AppTest runs the page in its own thread, which cProfile in this one would not see.
    """
    counts: Counter[str] = Counter()
    samples = 0
    done = threading.Event()
    watcher = threading.get_ident()

    def sample() -> None:
        nonlocal samples
        while not done.wait(_SAMPLE_S):
            for ident, frame in sys._current_frames().items():
                if ident in (watcher, threading.get_ident()):
                    continue
                seen = set(_our_frames(frame))
                if seen:
                    samples += 1
                    counts.update(seen)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if not samples:
        return ""
    top = ", ".join(f"{name} {count / samples:.0%}" for name, count in counts.most_common(8))
    return (
        f"One more rerun (sectors {', '.join(PROFILED_CHOICE)}, {elapsed:.2f} s) by sampled "
        f"stacks, share of the time inside each function (inclusive): {top}."
    )


def _our_frames(frame) -> list[str]:
    """The functions of the page, geo, folium/branca and streamlit-folium on a stack."""
    names = []
    while frame is not None:
        path = frame.f_code.co_filename
        if any(part in path for part in _WATCHED):
            names.append(f"{Path(path).parent.name}/{Path(path).name}:{frame.f_code.co_name}")
        frame = frame.f_back
    return names


def _list(times: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in times)


def main(argv: list[str]) -> None:
    """`python -m pages._bench_explorer SITES.parquet DATA WORK OUT.json [--quick]` (geo.bench.run)."""
    sites_path, data, work, out = (Path(arg) for arg in argv[:4])
    section = filter_section(pd.read_parquet(sites_path), data, work, quick="--quick" in argv[4:])
    out.write_text(json.dumps(dataclasses.asdict(section)), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
