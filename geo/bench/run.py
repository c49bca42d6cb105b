"""`python -m geo bench`: the app's speed and memory against their targets, measured on this machine.

Sections (each selectable with --only): map, filter, upload, geocode, briefing,
assign, activity, contracts, evidence. Every section uses real boundaries and LSOAs from the shared data folder
and synthetic sites placed by population (geo.bench.sites); baselines are
measured in the same run. Tables are printed as each section finishes and, for
a full run, written to docs/benchmarks.md. Timed assertions never go in tests:
speed and memory goals are judged here.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis.pipeline import PROVENANCE_COLUMNS, Analysis, Frames, analyse
from geo.analysis.spatial import assign_sites
from geo.bench import contracts as bench_contracts
from geo.bench import endtoend as bench_endtoend
from geo.bench import evidence as bench_evidence
from geo.bench import files as bench_files
from geo.bench import maps as bench_map
from geo.bench import report as bench_report
from geo.bench import sites as bench_sites
from geo.bench.report import Section, median_time, progress, seconds
from geo.briefing import documents as reports
from geo.briefing import images as briefing_render
from geo.briefing import pdf as briefing_pdf
from geo.briefing.facts import ENGLAND_AREA
from geo.io.boundaries import display_boundaries, load_boundaries
from geo.model.errors import InputError
from geo.model.settings import PROJECT_DIR

SECTIONS: tuple[str, ...] = (
    "map",
    "filter",
    "upload",
    "geocode",
    "briefing",
    "assign",
    "activity",
    "contracts",
    "evidence",
    "endtoend",
    "load",
)
DEFAULT_DATA = PROJECT_DIR.parent / "shared" / "data"
DEFAULT_OUT = PROJECT_DIR / "docs" / "benchmarks.md"
ICB_FILE = "icb_2023_04_bgc.geojson"
REGION_FILE = "nhs_england_regions_2024_01_bgc.geojson"
NEEDED_FILES = (ICB_FILE, REGION_FILE, bench_sites.LSOA_FILE)
ASSIGN_SITES, QUICK_ASSIGN_SITES = 100_000, 10_000
FILTER_SITES, QUICK_FILTER_SITES = 100_000, 10_000
BRIEFING_SITES, QUICK_BRIEFING_SITES = 57_000, 5_000
QUICK_DECK_ICBS = 4
PDF = bench_report.Target("PDF", 3, "s")
DECK = bench_report.Target("deck", 60, "s")


@dataclass(frozen=True)
class BenchOptions:
    """What to run: the data folder, which sections, quick sizes or full, where to write."""

    data: Path = DEFAULT_DATA
    only: tuple[str, ...] = SECTIONS
    quick: bool = False
    out: Path | None = None
    work: Path | None = None


class _World:
    """The real layers and the synthetic sites, loaded once and shared by the sections."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.icbs = load_boundaries(data / ICB_FILE)
        self.regions = load_boundaries(data / REGION_FILE)
        self.lsoas = bench_sites.load_lsoas(data)

    @functools.cache  # noqa: B019 - one world per run, kept for the whole run
    def sites(self, count: int) -> pd.DataFrame:
        """`count` synthetic sites (the first `count` of one deterministic draw)."""
        progress(f"generating {count:,} synthetic sites over {len(self.lsoas):,} LSOAs")
        start = time.perf_counter()
        sites = bench_sites.synthetic_sites(self.lsoas, count)
        progress(f"  {count:,} sites in {time.perf_counter() - start:.1f} s")
        return sites

    @functools.cache  # noqa: B019
    def published_app(self, work: Path, quick: bool) -> bench_endtoend.PublishedApp:
        """A data folder with the sites published, shared by the end-to-end and load sections."""
        count = QUICK_FILTER_SITES if quick else FILTER_SITES
        progress(f"publishing {count:,} sites for the running app")
        return bench_endtoend.prepare_app_data(self.sites(count), self.data, work)

    @functools.cache  # noqa: B019
    def assigned(self, count: int) -> gpd.GeoDataFrame:
        """Those sites with their ICB (2023 BGC)."""
        return assign_sites(self.sites(count), self.icbs)


def parse_only(text: str | None) -> tuple[str, ...]:
    """The sections named in --only (comma-separated), in the benchmark's order."""
    if not text:
        return SECTIONS
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise InputError(
            f"--only {text!r}: unknown section {', '.join(unknown) or '(none)'}; "
            f"expected some of {','.join(SECTIONS)}"
        )
    return tuple(name for name in SECTIONS if name in names)


def run_bench(options: BenchOptions, command: str) -> list[Section]:
    """Run the chosen sections, print each table, write the report; the sections as measured."""
    _check_data(options.data)
    started, clock = bench_report.utc_now(), time.perf_counter()
    load_at_start = bench_report.load_average()
    sections = []
    with ExitStack() as stack:
        work = options.work or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        world = _World(options.data)
        for key in options.only:
            progress(f"section {key}")
            section = _run_section(key, world, work, options.quick)
            section.title = f"{SECTIONS.index(key) + 1}. {section.title}"  # numbered in one place
            print(section.markdown(), flush=True)
            sections.append(section)
    if options.out is not None:
        minutes = (time.perf_counter() - clock) / 60
        bench_report.write_report(
            options.out,
            sections,
            command=command,
            started=started,
            minutes=minutes,
            loads=(load_at_start, bench_report.load_average()),
        )
        progress(f"wrote {options.out}")
    return sections


def failed(sections: list[Section]) -> bool:
    """Whether any section could not be measured (not whether a target was missed)."""
    return any(row[-1].startswith("FAILED") for section in sections for row in section.rows)


def _check_data(data: Path) -> None:
    missing = [name for name in NEEDED_FILES if not (data / name).is_file()]
    if missing:
        raise InputError(
            f"--data {data}: {', '.join(missing)} not found; point --data at the shared "
            "data folder (../shared/data beside the project)"
        )


def _run_section(key: str, world: _World, work: Path, quick: bool) -> Section:
    """One section, or a FAILED row saying why it could not be measured."""
    runners: dict[str, Callable[[], Section]] = {
        "map": lambda: _map(world, work, quick),
        "filter": lambda: _filter(world, work, quick),
        "upload": lambda: bench_files.upload_section(
            world.sites(bench_files.QUICK_CQC_ROWS if quick else bench_files.CQC_ROWS),
            world.data,
            work,
            quick=quick,
        ),
        "geocode": lambda: bench_files.geocode_section(work, quick=quick),
        "briefing": lambda: _briefing(world, quick),
        "assign": lambda: _assign(world, quick),
        "activity": lambda: bench_files.activity_section(world.data, work, quick=quick),
        "contracts": lambda: bench_contracts.contracts_section(world.data, work, quick=quick),
        "evidence": lambda: bench_evidence.evidence_section(
            world.assigned(bench_evidence.QUICK_SITES if quick else bench_evidence.SITES),
            world.icbs,
            quick=quick,
        ),
        "endtoend": lambda: bench_endtoend.endtoend_section(
            world.published_app(work, quick), work, quick=quick
        ),
        "load": lambda: bench_endtoend.load_section(
            world.published_app(work, quick), work, quick=quick
        ),
    }
    try:
        return runners[key]()
    except Exception as error:  # a failed section is reported, and the others still run
        traceback.print_exc(file=sys.stderr)
        section = Section(key, f"{key}: failed", "This section could not be measured.", ["what"])
        section.rows.append([f"{type(error).__name__}: {error}".replace("|", "/"), "—", "FAILED"])
        return section


def _map(world: _World, work: Path, quick: bool) -> Section:
    largest = max(bench_map.QUICK_SIZES if quick else bench_map.SIZES)
    folder = work / "maps"
    folder.mkdir(exist_ok=True)
    data = bench_map.MapData(
        display_icbs=display_boundaries(world.icbs),
        display_regions=display_boundaries(world.regions),
        icbs=world.icbs,
        assigned=world.assigned(largest),
    )
    return bench_map.map_section(data, folder, quick=quick)


def _filter(world: _World, work: Path, quick: bool) -> Section:
    """The explorer's rerun under AppTest, run at the Streamlit edge in its own process.

    `geo` never imports streamlit, so this section lives in pages/_bench_explorer.py and
    hands its table back as JSON.
    """
    count = QUICK_FILTER_SITES if quick else FILTER_SITES
    sites_path = work / "filter-sites.parquet"
    world.sites(count).to_parquet(sites_path)
    result = work / "filter-section.json"
    command = [sys.executable, "-m", "pages._bench_explorer", str(sites_path), str(world.data)]
    command += [str(work), str(result), *(["--quick"] if quick else [])]
    subprocess.run(command, cwd=PROJECT_DIR, check=True)
    return Section(**json.loads(result.read_text(encoding="utf-8")))


def _assign(world: _World, quick: bool) -> Section:
    count = QUICK_ASSIGN_SITES if quick else ASSIGN_SITES
    section = Section(
        "assign",
        "Assigning sites to ICBs",
        f"`spatial.assign_sites` of {count:,} synthetic sites to the 42 ICBs of the April 2023 "
        "BGC layer (the detailed one, 183k vertices): point in polygon, coastal snapping "
        "and the distance to the nearest other ICB's border for every site. Median of 3. "
        "No target is set for this step alone; it is part of the upload and filter paths.",
        ["step", "sites", "time s (median)", "each run s", "assignments"],
        quick=quick,
    )
    sites = world.sites(count)
    median, assigned, times = median_time(lambda: assign_sites(sites, world.icbs), 3)
    counts = assigned["assignment"].value_counts()
    section.add(
        [
            "assign_sites",
            f"{count:,}",
            seconds(median),
            ", ".join(f"{t:.2f}" for t in times),
            ", ".join(f"{n:,} {label}" for label, n in counts.items()),
        ]
    )
    return section


def _briefing(world: _World, quick: bool) -> Section:
    count = QUICK_BRIEFING_SITES if quick else BRIEFING_SITES
    icbs = world.icbs.iloc[:QUICK_DECK_ICBS] if quick else world.icbs
    section = Section(
        "briefing",
        "Board briefings: one ICB's PDF and the national deck",
        f"An analysis of {count:,} synthetic sites"
        f"{'' if quick else ' (about the number of active CQC locations)'} "
        f"over {'the first ' + str(len(icbs)) + ' of ' if quick else 'all '}the ICBs of the "
        "2023 layer, with regions; `reports.briefing_document` renders the figures, a static "
        "map and a chart with matplotlib. The PDF is for the ICB with the most sites (median "
        "of 3); the national deck (PowerPoint, England plus one slide per ICB) is made once.",
        ["document", "area", "time s", "runs", "MB"],
        quick=quick,
    )
    analysis = _briefing_analysis(world, count, icbs)
    busiest = analysis.metrics.set_index("icb_code")["sites_total"].drop("OUTSIDE").idxmax()
    progress(f"briefing: PDF for {busiest}")
    pdf_s, pdf, _ = median_time(lambda: reports.briefing_document(analysis, busiest, "pdf"), 3)
    name = analysis.icbs.set_index("code").loc[busiest, "name"]
    section.add(
        ["PDF (A4)", f"{name} ({busiest})", seconds(pdf_s), "3", f"{len(pdf) / 1e6:.2f}"],
        [(PDF, pdf_s)],
        _pdf_parts(analysis, busiest),
    )
    progress(f"briefing: national deck of {len(icbs)} ICBs")
    deck_s, deck, _ = median_time(
        lambda: reports.briefing_document(analysis, ENGLAND_AREA, "pptx"), 1
    )
    slides = f"England + {len(icbs)} ICB slides"
    section.add(
        ["national deck (PPTX)", slides, seconds(deck_s), "1", f"{len(deck) / 1e6:.2f}"],
        [(DECK, deck_s)],
        f"About {deck_s / (len(icbs) + 1):.2f} s a slide; see the PDF's split for one area.",
    )
    return section


def _pdf_parts(analysis: Analysis, area: str) -> str:
    """Where one PDF's time goes: projecting the sites, the facts, the images, the PDF itself."""
    layers_s, layers, _ = median_time(lambda: reports.briefing_layers(analysis), 1)
    facts_s, facts, _ = median_time(lambda: reports.area_briefing(analysis, area), 1)
    images_s, illustrated, _ = median_time(lambda: briefing_render.illustrate(facts, layers), 1)
    pdf_s, _, _ = median_time(lambda: briefing_pdf.briefing_pdf(illustrated), 1)
    return (
        f"One PDF: sites and ICBs projected for drawing (once per analysis) {layers_s:.2f} s, "
        f"facts {facts_s:.2f} s, static map and chart (matplotlib) {images_s:.2f} s, "
        f"PDF layout {pdf_s:.2f} s."
    )


def _briefing_analysis(world: _World, count: int, icbs: gpd.GeoDataFrame) -> Analysis:
    progress(f"briefing: analysing {count:,} sites")
    provenance = pd.DataFrame(
        [
            ("Provider sites", "geo/bench/sites.py", "benchmark", "", "synthetic", "sites"),
            ("ICB boundaries 2023", ICB_FILE, "ONS", "2023-04", "shared data", "icb"),
            ("NHS England regions", REGION_FILE, "ONS", "2024-01", "shared data", "nhser"),
        ],
        columns=list(PROVENANCE_COLUMNS),
    )
    return analyse(Frames(icbs, world.sites(count), provenance, regions=world.regions))
