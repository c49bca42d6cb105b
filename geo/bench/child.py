"""One benchmark job in a fresh process (`python -m geo.bench.child JOB JSON`), for its own peak memory.

Prints one JSON line: the job's timings, what it produced, its memory after imports
and its peak (VmHWM, the most resident memory the process ever held).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from geo.analysis import spatial
from geo.geocode import offline as geocode
from geo.io import activity, boundaries
from geo.io.contracts import read_awards
from geo.model import access
from geo.model.providers import CANONICAL_COLUMNS, CANONICAL_DTYPES
from geo.publish import publishing
from geo.store import versions as store


def run_upload(file: str, icbs: str, store: str) -> dict:
    """Read, classify and validate a provider file, publish it, assign its sites."""
    before = _memory_mb("VmRSS")
    start = time.perf_counter()
    prepared = publishing.prepare(file, "sites")
    read = time.perf_counter()
    with _store(store) as published:
        publishing.publish(prepared, published, by=access.operating_system_user("benchmark"))
    stored = time.perf_counter()
    layer = boundaries.load_boundaries(icbs)
    loaded = time.perf_counter()
    assigned = spatial.assign_sites(prepared.table, layer)
    done = time.perf_counter()
    return {
        "rows": prepared.total,
        "counts": prepared.summary().split(": ", 2)[-1],
        "assigned": int(assigned["icb_code"].notna().sum()),
        "prepare_s": read - start,
        "publish_s": stored - read,
        "icbs_s": loaded - stored,
        "assign_s": done - loaded,
        "rss_before_mb": before,
        "peak_mb": _memory_mb("VmHWM"),
    }


def run_geocode(onspd: str, postcodes: str) -> dict:
    """Load the postcode index for a list of postcodes, then geocode sites that have only those."""
    wanted = pd.read_csv(postcodes, dtype="string")["postcode"]
    sites = pd.DataFrame(
        {name: pd.Series(pd.NA, index=wanted.index, dtype=CANONICAL_DTYPES[name])
         for name in CANONICAL_COLUMNS}
    )  # fmt: skip
    sites["site_name"] = "site " + pd.Series(range(len(wanted)), dtype="string")
    sites["postcode"] = wanted
    before = _memory_mb("VmRSS")
    start = time.perf_counter()
    index = geocode.load_postcode_index(onspd, postcodes=wanted)
    loaded = time.perf_counter()
    placed = geocode.geocode_sites(sites, index=index)
    done = time.perf_counter()
    statuses = placed["geocode_status"].str.replace(r"\d{6}", "YYYYMM", regex=True)
    return {
        "rows_kept": len(index),
        "statuses": ", ".join(f"{n:,} {s}" for s, n in statuses.value_counts().items()),
        "load_s": loaded - start,
        "geocode_s": done - loaded,
        "rss_before_mb": before,
        "peak_mb": _memory_mb("VmHWM"),
    }


def run_rtt(file: str) -> dict:
    """Read and aggregate an RTT full CSV, then keep independent providers summed per ICB."""
    before = _memory_mb("VmRSS")
    start = time.perf_counter()
    read = activity.read_activity_file(file, activity.RTT)
    aggregated = time.perf_counter()
    rows = read.rows
    # Independent-sector ODS codes begin with N (a heuristic, DATA-FORMATS-2.md §1); the
    # evidence join uses the registers instead.
    independent = rows[rows["provider_code"].str.startswith("N").fillna(False)]
    per_icb = independent.groupby(
        ["provider_code", "commissioner_parent_code", "measure"], dropna=False
    )["value"].sum(min_count=1)
    done = time.perf_counter()
    return {
        "figures": len(rows),
        "independent_by_icb": len(per_icb),
        "problems": len(read.problems),
        "read_s": aggregated - start,
        "filter_s": done - aggregated,
        "rss_before_mb": before,
        "peak_mb": _memory_mb("VmHWM"),
    }


def run_contracts(folder: str) -> dict:
    """Read a folder of OCDS release packages into award rows."""
    before = _memory_mb("VmRSS")
    start = time.perf_counter()
    awards = read_awards(folder)
    return {
        "rows": len(awards),
        "parse_s": time.perf_counter() - start,
        "rss_before_mb": before,
        "peak_mb": _memory_mb("VmHWM"),
    }


def _store(path: str):
    return store.open_store(f"sqlite:///{Path(path).resolve()}")


def _memory_mb(field: str) -> float:
    """A /proc/self/status memory field (VmRSS now, VmHWM peak) in MB (10^6 bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


JOBS = {
    "upload": run_upload,
    "geocode": run_geocode,
    "rtt": run_rtt,
    "contracts": run_contracts,
}

if __name__ == "__main__":
    job, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(JOBS[job](**arguments)))
