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
from geo.io import boundaries
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


def _store(path: str):
    return store.open_store(f"sqlite:///{Path(path).resolve()}")


def _memory_mb(field: str) -> float:
    """A /proc/self/status memory field (VmRSS now, VmHWM peak) in MB (10^6 bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


JOBS = {"upload": run_upload, "geocode": run_geocode}

if __name__ == "__main__":
    job, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(JOBS[job](**arguments)))
