"""Benchmark section 'load', the server's side: Streamlit websocket clients, no browsers.

Each client speaks the browser's protocol on /_stcore/stream (BackMsg and ForwardMsg
protobufs): it opens the explorer (and fetches the map's sites over HTTP once, as the
map's frame does), then in turn changes the border-distance filter (a whole-page rerun,
the sites refiltered and a mask of them sent) and opens an ICB's panel
(a rerun of the panel's fragment), with a think time between actions as a person
has. A latency is from the BackMsg sent to the run's `script_finished` received,
every delta of the run in hand: what the server makes a user wait for, without a
browser's drawing (the browser sections measure that). Run by geo/bench/endtoend.py
as `python -m pages._bench_load` (geo never imports streamlit); it writes its result
as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState

from pages._session_client import Client, Run, ScriptFailed

FILTER_LABEL = "Near another ICB's border (km; 0 = any distance)"
PANEL_LABEL = "ICB panel (or click an ICB on the map)"


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"first view": [], "filter": [], "panel": []}
    )
    mb_received: dict[str, list[float]] = field(
        default_factory=lambda: {"first view": [], "filter": [], "panel": []}
    )
    lost: int = 0
    errors: list[str] = field(default_factory=list)
    rss_mb: dict[str, float] = field(default_factory=dict)


async def one_user(
    base: str, n: int, duration_s: float, think_s: float, result: LoadResult, ready: asyncio.Event
) -> Client | None:
    """One visitor: the explorer, then a filter change and a panel in turn until time is up.

    Returns the still-open client, so memory is read with every session connected.
    """
    rng = random.Random(n)  # noqa: S311 - repeatable think times, not secrets
    client = Client(base, "explorer", "vintage=2023")
    try:
        await client.open()
        first = await client.rerun()
        start = time.perf_counter()
        fetched = await client.fetch_sites()
        first.seconds += time.perf_counter() - start
        first.bytes_received += fetched
        _record(result, "first view", first)
        await ready.wait()
        border, panel = client.widgets[FILTER_LABEL], client.widgets[PANEL_LABEL]
        names = [name for name in panel.options if not name.startswith("Choose")]
        deadline, step = time.monotonic() + duration_s, 0
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
            step += 1
            if step % 2:
                km = float((n * 7 + step) % 60 + 1)
                state = WidgetState(id=border.id, double_value=km)
                _record(result, "filter", await client.rerun((state,)))
            else:
                name = names[(n * 5 + step) % len(names)]
                state = WidgetState(id=panel.id, string_value=name)
                run = await client.rerun((state,), panel.fragment_id)
                if name not in run.headings:
                    raise ScriptFailed(
                        f"the panel of {name} was not shown (headings {run.headings})"
                    )
                _record(result, "panel", run)
        return client
    except Exception as error:  # a lost session is counted and the others go on
        result.lost += 1
        result.errors.append(f"{type(error).__name__}: {str(error).splitlines()[0][:160]}")
        await client.close()
        return None


def _record(result: LoadResult, kind: str, run: Run) -> None:
    result.latencies[kind].append(run.seconds)
    result.mb_received[kind].append(run.bytes_received / 1e6)


async def load(
    base: str | list[str],
    sessions: int,
    duration_s: float,
    think_s: float,
    pid: int | list[int],
) -> LoadResult:
    """`sessions` users on the app at `base`; given several app processes (their bases and
    pids), user n stays on process n mod their number, as behind a sticky proxy. Memory is
    the processes' resident memory added up."""
    bases, pids = (
        ([base] if isinstance(base, str) else base),
        ([pid] if isinstance(pid, int) else pid),
    )
    result = LoadResult()
    result.rss_mb["before"] = rss_mb(*pids)
    ready = asyncio.Event()
    users = [
        asyncio.create_task(one_user(bases[n % len(bases)], n, duration_s, think_s, result, ready))
        for n in range(sessions)
    ]
    while sum(len(v) for v in result.latencies.values()) + result.lost < sessions:
        await asyncio.sleep(0.2)  # every session has had its first view
    result.rss_mb["connected"] = rss_mb(*pids)
    ready.set()
    clients = await asyncio.gather(*users)
    result.rss_mb["after"] = rss_mb(*pids)
    await asyncio.gather(*(c.close() for c in clients if c is not None))
    return result


def rss_mb(*pids: int) -> float:
    """Processes' resident memory now, added up, in MB."""
    total = 0.0
    for pid in pids:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        found = [line for line in lines if line.startswith("VmRSS:")]
        if not found:
            raise RuntimeError(f"process {pid} has no VmRSS")
        total += float(found[0].split()[1]) * 1024 / 1e6
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "base", help="the app's base URL, e.g. http://127.0.0.1:8501 (several: comma-separated)"
    )
    parser.add_argument(
        "pid", help="the server's process id, for its memory (several: comma-separated)"
    )
    parser.add_argument("result", type=Path, help="where to write the JSON result")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds between actions")
    args = parser.parse_args()
    bases, pids = args.base.split(","), [int(pid) for pid in args.pid.split(",")]
    result = asyncio.run(load(bases, args.sessions, args.seconds, args.think, pids))
    args.result.write_text(json.dumps(asdict(result)), encoding="utf-8")


if __name__ == "__main__":
    main()
