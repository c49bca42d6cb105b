"""Benchmark results: timing, targets judged PASS or MISS, the machine, and the markdown report.

Every section of `python -m geo bench` fills a `Section`: one table row per
measurement, each with its target and verdict, and for every miss a note saying
where the time or the bytes go, so the report explains itself.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "streamlit", "streamlit-folium", "folium", "geopandas", "shapely", "pandas", "numpy",
    "pyogrio", "pyproj", "pyarrow", "matplotlib", "python-pptx", "playwright",
)  # fmt: skip
NOT_RUN = "not run"
QUICK = "not judged (quick sizes)"
THIN_MARGIN = 0.2  # a pass within 20% of its target is called narrow


@dataclass(frozen=True)
class Target:
    """A goal for one measure: at most (or, for ratios, at least) `limit` in `unit`."""

    measure: str
    limit: float
    unit: str
    at_least: bool = False

    def met(self, value: float) -> bool:
        """Whether a measured value reaches the goal."""
        return value >= self.limit if self.at_least else value <= self.limit

    def text(self) -> str:
        """'build ≤ 0.5 s', 'speed-up ≥ 20×'."""
        sign = "≥" if self.at_least else "≤"
        return f"{self.measure} {sign} {self.limit:g}{'' if self.unit == '×' else ' '}{self.unit}"


@dataclass
class Section:
    """One table of the report: what it measures, its rows with verdicts, notes on misses."""

    key: str
    title: str
    about: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quick: bool = False  # quick sizes: targets shown, not judged

    def add(
        self,
        cells: list[str],
        checks: list[tuple[Target, float | None]] = (),
        where: str = "",
    ) -> str:
        """Add a row with its targets and verdict; a miss adds a note with `where` the cost goes."""
        judged = [(target, value) for target, value in checks if value is not None]
        missed = [(target, value) for target, value in judged if not target.met(value)]
        if not checks:
            verdict = "—"
        elif not judged:
            verdict = NOT_RUN
        elif self.quick:
            verdict = QUICK
            missed = []
        elif missed:
            verdict = "MISS (" + ", ".join(target.measure for target, _ in missed) + ")"
        else:
            verdict = "PASS"
        targets = "; ".join(target.text() for target, _ in checks) or "—"
        self.rows.append([*cells, targets, verdict])
        if missed:
            what = "; ".join(f"{t.measure} {_number(v)} {t.unit} vs {t.text()}" for t, v in missed)
            self.notes.append(f"**{cells[0]} {cells[1]}**: {what}. {where}".strip())
        elif verdict == "PASS":
            self._note_thin_margins(cells, judged)
        return verdict

    def _note_thin_margins(self, cells: list[str], judged: list[tuple[Target, float]]) -> None:
        """Say so when a pass is within THIN_MARGIN of its target: a busier machine may miss."""
        thin = [(t, v) for t, v in judged if _narrow(t, v)]
        if not thin:
            return
        what = "; ".join(
            f"{t.measure} {_number(v)} {t.unit} is {v / t.limit:.0%} of its target ({t.text()})"
            for t, v in thin
        )
        busy = any(t.unit == "s" for t, _ in thin)
        self.notes.append(
            f"**{cells[0]} {cells[1]}** passes narrowly: {what}."
            + (
                " Other work on the machine (see the load average) can make it miss."
                if busy
                else ""
            )
        )

    def markdown(self) -> str:
        """The section as markdown: heading, what it measures, the table, the notes."""
        header = [*self.columns, "target", "result"]
        lines = [f"## {self.title}", "", self.about, ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


def median_time(run: Callable[[], Any], repeats: int) -> tuple[float, Any, list[float]]:
    """The median wall time of `repeats` calls of `run`, its last result, and every time."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result, times


def seconds(value: float | None) -> str:
    """A duration for the table: 0.123 s, 12.3 s, or 'not run'."""
    if value is None:
        return NOT_RUN
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def megabytes(count: float | None) -> str:
    """Bytes as MB (10^6) to two decimals, or 'not run'."""
    return NOT_RUN if count is None else f"{count / 1e6:.2f}"


def progress(message: str) -> None:
    """A progress line on stderr, so stdout keeps only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    """The machine the numbers come from: CPU, cores, memory, OS, Python, packages, browser."""
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{_memory_gb():.1f} GB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "packages": ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
        "browser": _chromium_version(),
    }


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every measurement."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def write_report(
    path: Path,
    sections: list[Section],
    *,
    command: str,
    started: dt.datetime,
    minutes: float,
    loads: tuple[str, str],
) -> None:
    """Write the report: title, date, machine, command, then each section's table."""
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m geo bench` (geo/bench/run.py); do not edit by hand.",
        "",
        f"- **Date:** {started:%Y-%m-%d %H:%M} UTC (whole run: {minutes:.1f} minutes)",
        f"- **Command:** `{command}`",
        *[f"- **{key}:** {value}" for key, value in machine().items()],
        f"- **Load average (1 min) at start and end:** {loads[0]}, {loads[1]} "
        f"(on {os.cpu_count()} cores; other work on the machine slows every measurement)",
        "",
        "Times are wall-clock medians of the runs stated in each table; ratios compare "
        "measurements taken in the same run. MB are 10^6 bytes.",
        "",
    ]
    body = "\n".join(section.markdown() for section in sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")


def _narrow(target: Target, value: float) -> bool:
    """A pass within THIN_MARGIN of the target."""
    if target.at_least:
        return value < target.limit * (1 + THIN_MARGIN)
    return value > target.limit * (1 - THIN_MARGIN)


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _chromium_version() -> str:
    try:
        done = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return "chromium not found"
    return done.stdout.strip() or "chromium (version unknown)"


def utc_now() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)
