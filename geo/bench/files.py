"""Benchmark sections 'upload', 'geocode' and 'activity': publisher-sized files, each run in a
fresh process.

The CQC file (57,000 rows × 122 columns, as CSV and as ODS) is written with
geo/testing/publisher_files.py from the synthetic sites; the ONSPD-format postcode
directory (about 2.7 million rows, the 2023 header of 53 columns) is written
here; the RTT full CSV (180,000 rows × 121 columns) with geo/testing/activity_files.py.
Each measured job runs in its own Python process (geo.bench.child), so its
peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from geo.bench.report import Section, Target, progress, seconds
from geo.bench.sites import CARE_HOME_SERVICES
from geo.model.errors import InputError
from geo.model.settings import PROJECT_DIR
from geo.testing import activity_files

CQC_ROWS, QUICK_CQC_ROWS = 57_000, 2_000
ONSPD_ROWS, QUICK_ONSPD_ROWS = 2_700_000, 100_000
WANTED, QUICK_WANTED = 100_000, 5_000
RUNS = 3  # each job in a fresh process; the median total is reported, the highest peak
UPLOAD_TIME = {"csv": Target("time", 10, "s"), "ods": Target("time", 30, "s")}
PEAK = Target("peak", 500, "MB")
GEOCODE_TIME = Target("time", 10, "s")
RTT_ROWS, QUICK_RTT_ROWS = 180_000, 20_000
RTT_TIME = Target("time", 15, "s")
RTT_PEAK = Target("peak", 400, "MB")
ICB_FILE = "icb_2023_04_bgc.geojson"
_ONSPD_AREAS = (
    "AL", "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "CA", "CB", "CH", "CM", "CO", "CR",
    "CT", "CV", "CW", "DA", "DE", "DH", "DL", "DN", "DT", "DY", "EN", "EX", "FY", "GL", "GU",
)  # fmt: skip
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_MANAGERS = ("Smith", "Patel", "Jones", "O'Neill", "Ahmed-Whitfield")
_PER_AREA = 30 * 10 * len(_LETTERS) ** 2  # districts 1-30, sectors 0-9, two letters


def upload_section(sites: pd.DataFrame, data: Path, work: Path, *, quick: bool) -> Section:
    """Write the CQC file as CSV and ODS, then time parse → publish → assign for each."""
    rows = QUICK_CQC_ROWS if quick else CQC_ROWS
    section = Section(
        "upload",
        "Upload: a CQC-shaped file, parsed, classified, published and assigned",
        _UPLOAD_ABOUT.format(rows=rows),
        ["file", "rows × columns", "file MB", "read + check s", "publish s", "assign s",
         "total s", "peak MB", "runs (total s)"],
        quick=quick,
    )  # fmt: skip
    files = _write_cqc_files(sites.iloc[:rows], work)
    section.about += f" Here content.xml is {_content_xml_mb(files['ods']):.0f} MB."
    for fmt, path in files.items():
        progress(f"upload: {fmt.upper()} file of {rows:,} rows in a fresh process")
        store_path = work / f"upload-{fmt}.sqlite"
        job, peak, totals = _median_job(
            "upload",
            lambda job: job["prepare_s"] + job["publish_s"] + job["assign_s"],
            file=str(path), icbs=str(data / ICB_FILE), store=str(store_path),
        )  # fmt: skip
        total = statistics.median(totals)
        section.add(
            [f"CQC {fmt.upper()}", f"{job['rows']:,} × 122", f"{path.stat().st_size / 1e6:.1f}",
             seconds(job["prepare_s"]), seconds(job["publish_s"]), seconds(job["assign_s"]),
             seconds(total), f"{peak:.0f}", _list(totals)],
            [(UPLOAD_TIME[fmt], total), (PEAK, peak)],
            _upload_where(job),
        )  # fmt: skip
    return section


def geocode_section(work: Path, *, quick: bool) -> Section:
    """Write the ONSPD-format file, then time loading its index for 100k postcodes and geocoding."""
    rows, wanted = (QUICK_ONSPD_ROWS, QUICK_WANTED) if quick else (ONSPD_ROWS, WANTED)
    section = Section(
        "geocode",
        "Geocoding postcodes offline from an ONSPD-format file",
        _GEOCODE_ABOUT.format(rows=rows, wanted=wanted),
        [
            "job",
            "postcodes",
            "file MB",
            "load index s",
            "geocode s",
            "total s",
            "peak MB",
            "runs (total s)",
        ],
        quick=quick,
    )
    onspd = work / "ONSPD_BENCH_UK.csv"
    progress(f"geocode: writing an ONSPD-format file of {rows:,} rows")
    write_onspd(onspd, rows)
    postcodes = work / "wanted_postcodes.csv"
    wanted_postcodes(rows, wanted).to_frame("postcode").to_csv(postcodes, index=False)
    progress(f"geocode: {wanted:,} postcodes in a fresh process")
    job, peak, totals = _median_job(
        "geocode",
        lambda job: job["load_s"] + job["geocode_s"],
        onspd=str(onspd),
        postcodes=str(postcodes),
    )
    total = statistics.median(totals)
    section.add(
        ["load_postcode_index + geocode_sites", f"{wanted:,}",
         f"{onspd.stat().st_size / 1e6:.0f}", seconds(job["load_s"]), seconds(job["geocode_s"]),
         seconds(total), f"{peak:.0f}", _list(totals)],
        [(GEOCODE_TIME, total), (PEAK, peak)],
        f"Memory after imports and reading the wanted list: {job['rss_before_mb']:.0f} MB. "
        f"Statuses: {job['statuses']}.",
    )  # fmt: skip
    return section


def activity_section(data: Path, work: Path, *, quick: bool) -> Section:
    """Write an RTT full CSV of a month's size, then time reading and aggregating it."""
    rows = QUICK_RTT_ROWS if quick else RTT_ROWS
    section = Section(
        "activity",
        "NHS activity: an RTT full CSV read and aggregated",
        _ACTIVITY_ABOUT.format(rows=rows),
        ["job", "rows × columns", "file MB", "read + aggregate s", "filter + per ICB s",
         "total s", "peak MB", "runs (total s)"],
        quick=quick,
    )  # fmt: skip
    progress(f"activity: writing an RTT full CSV of {rows:,} rows")
    world = activity_files.ActivityWorld.load(data)
    path = activity_files.write_large_rtt_csv(
        work / "20260630-RTT-June-2026-full-extract.csv", world, world.independent(data), rows
    )
    job, peak, totals = _median_job(
        "rtt", lambda job: job["read_s"] + job["filter_s"], file=str(path)
    )
    total = statistics.median(totals)
    section.add(
        ["activity.read_activity_file + per ICB", f"{rows:,} × 121",
         f"{path.stat().st_size / 1e6:.0f}", seconds(job["read_s"]), seconds(job["filter_s"]),
         seconds(total), f"{peak:.0f}", _list(totals)],
        [(RTT_TIME, total), (RTT_PEAK, peak)],
        f"Memory after imports: {job['rss_before_mb']:.0f} MB. {job['figures']:,} provider × "
        f"commissioner figures; {job['independent_by_icb']:,} independent provider × ICB × "
        f"measure sums; {job['problems']:,} problems.",
    )  # fmt: skip
    return section


_ACTIVITY_ABOUT = (
    "An RTT full CSV in NHS England's layout (121 columns, minimal quoting, 30% of band cells "
    "blank) of {rows:,} rows (the real June 2026 file has 182,411 rows, 82 MB), written by "
    "geo/testing/activity_files.py from real provider, sub-ICB and ICB codes: trusts and "
    "independent sites x commissioners x the five parts x 20 treatment functions. 3 runs, each "
    "in a fresh process (the run with the median total is shown, and the highest peak): "
    "`activity.read_activity_file` finds the header, reads only the 10 columns it needs "
    "(pyarrow) and sums each provider x commissioner (C_999 or the functions, never both); "
    "then the independent providers (codes beginning N) are summed per commissioning ICB. "
    "**Peak MB** is the process's VmHWM, imports included."
)


_UPLOAD_ABOUT = (
    "A CQC HSCA Active Locations file of {rows:,} rows × 122 columns (the real file's shape; "
    "written by geo/testing/publisher_files.py, locations and names from the synthetic sites, the "
    "five kinds of location cycling), as CSV and as ODS (README, HSCA_Active_Locations and "
    "Dual_Registration_Locations sheets; typed cells). Each is run 3 times, each in a fresh Python "
    "process (the table shows the run with the median total, and the highest peak): `publishing.prepare` (read, recognise, classify sectors, validate every row), "
    "`publishing.publish` into a new SQLite store, then `spatial.assign_sites` to the 2023 BGC "
    "ICBs (loading the boundaries is not timed). **Peak MB** is the process's VmHWM, imports "
    "included. The real ODS is about 24 MB (its content.xml about 440 MB) because its cells "
    "are fuller; this one has the same rows and columns."
)
_GEOCODE_ABOUT = (
    "A postcode directory in the ONSPD 2023 layout (53 columns, text quoted, 0.5% without a "
    "grid reference, 10% terminated) of {rows:,} rows (the real UK file has about 2.7 million), "
    "and {wanted:,} postcodes to place: 99% drawn from the file (a third of them lower-case "
    "or without the space, as analysts' lists have them), 1% not in it. 3 runs, each in a fresh "
    "process (the run with the median total is shown, and the highest peak): `geocode.load_postcode_index(file, postcodes=...)` streams the file keeping "
    "only the wanted rows, then `geocode.geocode_sites`. **Peak MB** is the process's VmHWM."
)


def _content_xml_mb(path: Path) -> float:
    """The unpacked size of an ODS file's content.xml, what a reader has to parse."""
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo("content.xml").file_size / 1e6


def _upload_where(job: dict) -> str:
    return (
        f"Memory after imports: {job['rss_before_mb']:.0f} MB. Rows: {job['counts']}. "
        f"Loading the ICB boundaries (not counted) took {job['icbs_s']:.2f} s."
    )


def _median_job(job: str, total, **arguments: str) -> tuple[dict, float, list[float]]:
    """Run a job RUNS times in fresh processes: the run with the median total, the highest
    peak, and every run's total."""
    runs = []
    for number in range(RUNS):
        progress(f"{job}: run {number + 1} of {RUNS}")
        if "store" in arguments:
            Path(arguments["store"]).unlink(missing_ok=True)
        runs.append(_child(job, **arguments))
    ordered = sorted(runs, key=total)
    peak = max(run["peak_mb"] for run in runs)
    return ordered[len(ordered) // 2], peak, [total(run) for run in runs]


def _list(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


def _child(job: str, **arguments: str) -> dict:
    """Run one benchmark job in a fresh Python process and return what it reports."""
    done = subprocess.run(
        [sys.executable, "-m", "geo.bench.child", job, json.dumps(arguments)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise InputError(f"benchmark job {job} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_cqc_files(sites: pd.DataFrame, work: Path) -> dict[str, Path]:
    """The same CQC rows as CSV and as ODS, in the publisher's formats."""
    publisher_files = _publisher_files()
    progress(f"upload: writing the CQC file ({len(sites):,} rows) as CSV and ODS")
    rows = [_cqc_row(row, site) for row, site in zip(
        publisher_files.make_cqc_hsca_rows(len(sites)), sites.itertuples(), strict=True
    )]  # fmt: skip
    csv_path = publisher_files.write_cqc_hsca_csv(work / "HSCA_Active_Locations.csv", rows)
    ods_path = publisher_files.write_cqc_hsca_ods(work / "HSCA_Active_Locations.ods", rows)
    return {"csv": csv_path, "ods": ods_path}


def _publisher_files():
    """geo/testing/publisher_files.py, which writes the publishers' formats (a developer checkout has it)."""
    try:
        from geo.testing import publisher_files
    except ImportError as error:
        raise InputError(
            f"the upload benchmark writes its CQC file with geo/testing/publisher_files.py, "
            f"which is missing from {PROJECT_DIR} ({error})"
        ) from None
    return publisher_files


def _cqc_row(row: dict[str, object], site) -> dict[str, object]:
    """A CQC location row placed and named like one synthetic site, with the columns CQC fills."""
    number = int(site.Index)
    care_home = row["Care home?"] == "Y"
    beds = site.capacity if site.service_type in CARE_HOME_SERVICES else 10 + number % 80
    row.update(
        {
            "Location Name": site.site_name,
            "Location ODS Code": f"VN{number % 100000:05d}",
            "Registered manager": f"Mrs J {_MANAGERS[number % len(_MANAGERS)]}",
            "Location Web Address": f"www.example-care-{number % 5000}.co.uk",
            "Care homes beds": int(beds) if care_home and pd.notna(beds) else "",
            "Location Street Address": f"{number % 300 + 1} {site.site_name.split()[0]} Road",
            "Location Address Line 2": "Westfield" if number % 3 else "",
            "Location County": "Northshire",
            "Location Postal Code": site.postcode,
            "Location PAF ID": str(10_000_000 + number),
            "Location UPRN ID": str(100_000_000_000 + number),
            "Location Latitude": round(float(site.lat), 6),
            "Location Longitude": round(float(site.lon), 6),
            "Location Parliamentary Constituency": "Northtown and District",
            "Provider HSCA start date": dt.date(2010, 10, 1),
            "Provider Type/Sector": row["Location Type/Sector"],
            "Provider Inspection Directorate": row["Location Inspection Directorate"],
            "Provider Telephone Number": f"0300 {number % 1000000:06d}",
            "Provider Street Address": "1 Head Office Park",
            "Provider City": "Leeds",
            "Provider Postal Code": "LS1 4AB",
            "Provider Local Authority": "Leeds",
            "Provider NHS Region": "North East and Yorkshire",
            "Provider Latitude": 53.79648,
            "Provider Longitude": -1.54785,
            "Provider Nominated Individual Name": "A Director",
            "Regulated activity - Treatment of disease, disorder or injury": "Y",
            "Service user band - Older People": "Y" if number % 2 else "",
            "Service user band - Dementia": "Y" if number % 3 == 0 else "",
        }
    )
    return row


def write_onspd(path: Path, rows: int) -> Path:
    """An ONSPD 2023-layout CSV of `rows` distinct postcodes (reused if already written)."""
    written = path.with_suffix(".rows")
    if path.is_file() and written.is_file() and written.read_text().strip() == str(rows):
        return path
    header = _onspd_header()
    rng = np.random.default_rng(7)
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(",".join(f'"{name}"' for name in header) + "\n")
        for start in range(0, rows, 200_000):
            count = min(200_000, rows - start)
            file.write(_onspd_lines(header, _postcodes(start, count), rng))
    path.with_suffix(".rows").write_text(str(rows))
    return path


def wanted_postcodes(rows: int, count: int, seed: int = 1) -> pd.Series:
    """`count` postcodes as an analyst's list holds them: 99% in the file, 1% not."""
    rng = np.random.default_rng(seed)
    present = count - count // 100
    codes = _postcodes_at(rng.choice(rows, present, replace=False))
    absent = [f"ZZ{n % 90 + 1} {n % 10}AB" for n in range(count - present)]
    shown = [
        code.lower() if i % 3 == 0 else code.replace(" ", "") if i % 3 == 1 else code
        for i, code in enumerate(codes)
    ]
    return pd.Series(shown + absent, dtype="string")


def _onspd_header() -> tuple[str, ...]:
    try:
        from geo.testing.postcodes_server import EDITIONS
    except ImportError as error:
        raise InputError(
            f"the geocode benchmark needs geo/testing/postcodes_server.py ({error})"
        ) from None
    return EDITIONS["onspd_2023"]


def _postcodes(start: int, count: int) -> list[str]:
    return _postcodes_at(np.arange(start, start + count))


def _postcodes_at(numbers: np.ndarray) -> list[str]:
    """The postcode numbered n in the file (areas × districts × sectors × two letters)."""
    letters = len(_LETTERS)
    area, rest = np.divmod(numbers, _PER_AREA)
    district, rest = np.divmod(rest, 10 * letters**2)
    sector, rest = np.divmod(rest, letters**2)
    first, second = np.divmod(rest, letters)
    return [
        f"{_ONSPD_AREAS[a % len(_ONSPD_AREAS)]}{d + 1} {s}{_LETTERS[x]}{_LETTERS[y]}"
        for a, d, s, x, y in zip(area, district, sector, first, second, strict=True)
    ]


def _onspd_lines(header: tuple[str, ...], postcodes: list[str], rng: np.random.Generator) -> str:
    """CSV lines for these postcodes; columns the geocoder ignores get code-like filler."""
    n = len(postcodes)
    no_grid = rng.random(n) < 0.005
    terminated = rng.random(n) < 0.1
    lat = np.where(no_grid, 99.999999, rng.uniform(50.5, 55.0, n))
    lon = np.where(no_grid, 0.0, rng.uniform(-4.5, 1.5, n))
    east = rng.integers(100_000, 650_000, n)
    north = rng.integers(10_000, 650_000, n)
    icb = rng.integers(10, 65, n)
    sicbl = rng.integers(100, 999, n)
    template = ",".join(_onspd_cell(name) for name in header) + "\n"
    lines = []
    for i, pcds in enumerate(postcodes):
        outward, inward = pcds.split(" ")
        lines.append(
            template.format(
                pcd=f"{outward:<4}{inward}",
                pcd2=f"{outward:<4} {inward}",
                pcds=pcds,
                doterm="200506" if terminated[i] else "",
                east="" if no_grid[i] else east[i],
                north="" if no_grid[i] else north[i],
                lat=f"{lat[i]:.6f}",
                lon=f"{lon[i]:.6f}",
                icb=f"E540000{icb[i]}",
                sicbl=f"E38000{sicbl[i]}",
            )
        )
    return "".join(lines)


def _onspd_cell(name: str) -> str:
    """The template cell for one ONSPD column: a placeholder, or a constant code."""
    placeholders = {
        "pcd": '"{pcd}"', "pcd2": '"{pcd2}"', "pcds": '"{pcds}"', "dointr": '"198001"',
        "doterm": '"{doterm}"', "oseast1m": "{east}", "osnrth1m": "{north}",
        "ctry": '"E92000001"', "lat": "{lat}", "long": "{lon}", "icb": '"{icb}"',
        "sicbl": '"{sicbl}"',
    }  # fmt: skip
    return placeholders.get(name, f'"E0{len(name):07d}"')
