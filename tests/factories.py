"""What the tests share: where the data is, plain reads of it, awkward geometries, sites, metrics.

Test modules import what they need from here and never from one another. Each builder
gives a small, typed example with explicit defaults, which a test overrides by name; the
plain readers count what is in the real data, so a test derives its expected figures
from the files instead of copying them in.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, MultiPolygon, Point, Polygon, box

from geo.analysis.metrics import EVIDENCE_SUM_COLUMNS, STATUS_SLUGS
from geo.model.sectors import DEFAULT_CQC_RULES, INDEPENDENT, SECTORS, sector_slug
from geo.model.settings import PROJECT_DIR
from geo.model.text import name_key

# --- where things are, and how a test whose prerequisite is missing skips --------------------------

SHARED_DATA = PROJECT_DIR.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNDER_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip a test whose prerequisite is missing, except under CI, where it must run."""
    if available:
        return
    if UNDER_CI:
        pytest.fail(f"{reason} (CI=true, so this test must run: .ci/run should provide it)")
    pytest.skip(reason)


def require_node_modules() -> None:
    """Skip unless `npm ci` has installed the pinned Leaflet assets (fail under CI)."""
    from geo.maps.assets import NODE_MODULES

    require(
        (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file(), "needs `npm ci` for Leaflet"
    )


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m geo ARGS` as a user would, from another working directory."""
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=300,
        check=False,
    )


# --- the real open data, read plainly to derive what a test expects --------------------------------

HOSPITALS_CSV = "hospitals_england_2020_05_nhs_website.csv"


def feature_table(path: Path) -> pd.DataFrame:
    """The properties of every feature in a GeoJSON file, read with json, not the code under test."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return pd.DataFrame([feature["properties"] for feature in features])


def hospitals_table(shared_data: Path) -> pd.DataFrame:
    """The real hospital list as pandas reads it, to count what the app must find site for site."""
    return pd.read_csv(shared_data / HOSPITALS_CSV)


def hospital_sectors(shared_data: Path) -> dict[str, int]:
    """Sites per sector the app must count on the real hospital list: the publisher's sector,
    except that a site whose trust code has an NHS trust's shape (R or T and two characters)
    is NHS whatever the list says (252 "Independent Sector" sites on the 2020 list)."""
    hospitals = hospitals_table(shared_data)
    trust = hospitals["trustId"].astype("string").str.fullmatch(r"[RT][A-Z0-9]{2}").fillna(False)
    sector = hospitals["sector_normalised"].mask(trust, "NHS")
    return sector.value_counts().to_dict()


def trust_sites_said_independent(shared_data: Path) -> int:
    """How many sites of the real hospital list say Independent but carry an NHS trust's code."""
    hospitals = hospitals_table(shared_data)
    trust = hospitals["trustId"].astype("string").str.fullmatch(r"[RT][A-Z0-9]{2}").fillna(False)
    return int((trust & (hospitals["sector_normalised"] == "Independent")).sum())


def in_some_polygon(lon, lat, boundaries: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each point touches one of the polygons, tested plainly with a geopandas join."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    layer = boundaries[["geometry"]].to_crs("EPSG:4326")
    return points.index.isin(gpd.sjoin(points, layer, predicate="intersects").index)


# The committed CQC file and its two rows that cannot be mapped: one without coordinates (and
# no ONSPD here to place its postcode), one with latitude and longitude swapped.
CQC_FIXTURE = "01_November_2026_HSCA_Active_Locations.csv"
CQC_FIXTURE_UNUSABLE = ("1-101234008", "1-101234009")


def cqc_fixture_ids(fixtures_dir: Path) -> list[str]:
    """The location IDs of the committed CQC file in file order, read plainly with pandas."""
    return pd.read_csv(fixtures_dir / CQC_FIXTURE, dtype=str)["Location ID"].tolist()


# --- awkward geometries, in British National Grid metres (EPSG:27700) ------------------------------
# Each shape sits in the English Midlands so that reprojecting to EPSG:4326 gives plausible
# lon/lat, and `boundary_frame` wraps any of them in an ONS-style layer.

CRS = "EPSG:27700"
X0, Y0 = 400_000.0, 300_000.0  # near Birmingham


def square(x: float = X0, y: float = Y0, size: float = 1_000.0) -> Polygon:
    """An axis-aligned square with its lower-left corner at (x, y)."""
    return box(x, y, x + size, y + size)


EMPTY = Polygon()
SQUARE = square()
# A 3 km square with a 1 km hole in the middle (a lake, or an enclave of another area).
WITH_HOLE = Polygon(
    square(X0, Y0, 3_000).exterior.coords, [square(X0 + 1_000, Y0 + 1_000).exterior.coords]
)
# Two separate squares 2 km apart (an ICB with islands).
MULTIPART = MultiPolygon([square(X0, Y0), square(X0 + 3_000, Y0)])
# A self-crossing ring: invalid. `make_valid` turns it into two triangles of 2 km² in total.
BOW_TIE = Polygon([(X0, Y0), (X0 + 2_000, Y0 + 2_000), (X0 + 2_000, Y0), (X0, Y0 + 2_000)])
BOW_TIE_AREA_M2 = 2_000_000.0
POINT = Point(X0, Y0)
LINE = LineString([(X0, Y0), (X0 + 1_000, Y0 + 1_000)])
# Two squares sharing one edge exactly: neighbours whose border must stay shared.
TOUCHING_LEFT = square(X0, Y0)
TOUCHING_RIGHT = square(X0 + 1_000, Y0)


def zigzag_neighbours(
    teeth: int = 40, amplitude: float = 150.0, size: float = 20_000.0
) -> tuple[Polygon, Polygon]:
    """Two neighbours sharing a finely zig-zagged border, the kind a simplifier can tear apart."""
    step = size / teeth
    border = [
        (X0 + size / 2 + (amplitude if i % 2 else -amplitude), Y0 + i * step)
        for i in range(teeth + 1)
    ]
    left = Polygon([(X0, Y0), *border, (X0, Y0 + size)])
    right = Polygon([(X0 + size, Y0), (X0 + size, Y0 + size), *reversed(border)])
    return left, right


_GSS_PREFIXES = {"ICB": "E54", "SICBL": "E38", "NHSER": "E40"}


def boundary_frame(
    geometries: list, *, prefix: str = "ICB23", first: int = 1, crs: str | None = CRS
) -> gpd.GeoDataFrame:
    """An ONS-style boundary layer ({prefix}CD, {prefix}NM, {prefix}CDH) around `geometries`."""
    gss = _GSS_PREFIXES[prefix.rstrip("0123456789")]
    numbers = range(first, first + len(geometries))
    return gpd.GeoDataFrame(
        {
            f"{prefix}CD": [f"{gss}{n:06d}" for n in numbers],
            f"{prefix}NM": [f"Test area {n}" for n in numbers],
            f"{prefix}CDH": [f"Q{n:02d}" for n in numbers],
        },
        geometry=list(geometries),
        crs=crs,
    )


# --- assigned sites ------------------------------------------------------------------------------

XSS = "<img src=x onerror=alert(1)>"
CHESHIRE = "E54000008"  # the ICB a site is in unless a test says otherwise


def site(
    name: str,
    lon: float | None = None,
    lat: float | None = None,
    *,
    provider: str | None = None,
    icb: str | None = CHESHIRE,
    sector: str = "Independent",
    status: str = "not engaged",
    beds: float | None = None,
    **columns,
) -> dict:
    """One assigned site, as `assign_sites` returns it; `columns` sets any other column.

    Its provider is named after the site unless `provider` is given; without `lon` and
    `lat` it has no coordinates, and its official ICB agrees with the one it lies in.
    """
    provider = name if provider is None else provider
    return {
        "site_id": f"{provider}-{icb}-{beds}",
        "site_name": name,
        "provider_id": provider.upper().replace(" ", "-"),
        "provider_name": provider,
        "sector": sector,
        "service_type": "Care home service with nursing",
        "capacity": beds,
        "planning_status": status,
        "icb_code": icb,
        "icb_name": None if icb is None else f"ICB {icb}",
        "official_icb_code": icb,
        "official_icb_agrees": True,
        "assignment": "inside",
        "assignment_reason": "inside the ICB polygon",
        "border_distance_m": 1234.0,
        "lon": lon,
        "lat": lat,
        **columns,
    }


def sites_frame(*rows: dict) -> gpd.GeoDataFrame:
    """Site rows as a GeoDataFrame of points in EPSG:4326 (no geometry where lon/lat are None)."""
    columns = list(dict.fromkeys(key for row in (site("x"), *rows) for key in row))
    frame = pd.DataFrame(list(rows), columns=columns)
    geometry = [
        None if pd.isna(lon) or pd.isna(lat) else Point(lon, lat)
        for lon, lat in zip(frame.pop("lon"), frame.pop("lat"), strict=True)
    ]
    frame["capacity"] = frame["capacity"].astype("Float64")
    frame = frame.astype({"icb_code": "string", "provider_name": "string", "sector": "string"})
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def synthetic_sites(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """`n` sites scattered over England with CQC-like names, sectors and statuses."""
    rng = np.random.default_rng(seed)
    words = ["Oakwood", "Riverside", "Meadow", "Highfield", "The Elms", "Willow", "Abbey"]
    kinds = ["Care Home", "Surgery", "Clinic", "Nursing Home", "Hospice"]
    names = [f"{words[i % 7]} {kinds[i % 5]} {i}" for i in range(n)]
    frame = pd.DataFrame(
        {
            "site_name": names,
            "provider_name": [f"{words[i % 997 % 7]} Healthcare Ltd {i % 997}" for i in range(n)],
            "sector": rng.choice(
                ["NHS", "Local authority", "Independent", "Voluntary", "Unknown"], n
            ),
            "service_type": rng.choice(["Hospice services", "Doctors/GPs", "Dentist"], n),
            "capacity": pd.array(
                np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 120, n)), dtype="Float64"
            ),
            "planning_status": rng.choice(["engaged", "not engaged", "unknown"], n),
            "icb_code": rng.choice(["E54000027", "E54000028", "E54000029"], n),
            "icb_name": "NHS Somewhere ICB",
            "assignment": "inside",
            "border_distance_m": pd.array(rng.exponential(4000, n), dtype="Float64"),
        }
    )
    points = gpd.points_from_xy(rng.uniform(-5.5, 1.7, n), rng.uniform(50.1, 55.7, n))
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def embedded_payload(html: str) -> dict:
    """The site payload a rendered map gave its canvas layer."""
    match = re.search(r"IcsMap\.sitesLayer\(\s*(\{.*?\}),\s*\{", html, re.DOTALL)
    return json.loads(match.group(1))


# --- gap-metrics rows ----------------------------------------------------------------------------


def metrics_row(code: str, name: str, **figures) -> dict:
    """One row of the gap-metrics contract: zeros and NA unless the test says otherwise."""
    row = {"icb_code": code, "icb_name": name, "vintage": "2024", "share_basis": "none"}
    for sector in SECTORS:
        row[f"sites_{sector_slug(sector)}"] = 0
        row[f"capacity_{sector_slug(sector)}"] = 0.0
    for kind in STATUS_SLUGS:
        row[f"iv_sites_{kind}"], row[f"iv_capacity_{kind}"] = 0, 0.0
    for column in EVIDENCE_SUM_COLUMNS:
        row[column] = 0 if column.startswith("iv_sites") else 0.0
    row.update(sites_total=0, iv_sites=0, iv_sites_capacity_missing=0)
    row.update(capacity_total=0.0, iv_capacity=0.0)
    row.update(iv_outside_share=pd.NA, iv_share_unknown=pd.NA, rank=pd.NA)
    row.update(share_not_known_reason=pd.NA, status_basis="none", iv_no_evidence_share=pd.NA)
    row.update(figures)
    return row


def metrics_frame(*rows: dict) -> pd.DataFrame:
    """Metrics rows as a table with the contract's nullable share and rank columns."""
    frame = pd.DataFrame(list(rows))
    frame["iv_outside_share"] = frame["iv_outside_share"].astype("Float64")
    frame["rank"] = frame["rank"].astype("Int64")
    return frame


def iv_row(code, name, *, share, rank, not_engaged=3, iv_sites=10, beds=None, **more) -> dict:
    """An ICB with independent sites, some not engaged, and a share on beds or on sites."""
    basis = {"share_basis": "sites"} if beds is None else {"share_basis": "capacity"}
    return metrics_row(
        code, name, sites_total=iv_sites + 5, sites_nhs=5, sites_independent=iv_sites,
        iv_sites=iv_sites, iv_sites_not_engaged=not_engaged, iv_sites_engaged=iv_sites - not_engaged,
        iv_outside_share=share, rank=rank, capacity_total=float(beds or 0),
        capacity_independent=float(beds or 0), iv_capacity=float(beds or 0),
        iv_capacity_not_engaged=float(round((beds or 0) * share)), **basis, **more,
    )  # fmt: skip


def undecided_by_elimination(*present: str) -> str:
    """The `sector_rule` of a row the rules would call Independent when the file has only the
    `present` rule columns: every earlier rule of another sector whose column is missing."""
    keys = {name_key(column) for column in present}
    names = [rule.name for rule in DEFAULT_CQC_RULES]
    earlier = DEFAULT_CQC_RULES[: names.index("independent_type")]
    blockers = [r for r in earlier if r.sector != INDEPENDENT and name_key(r.column) not in keys]
    return "undecided: " + "; ".join(f"{rule.name} needs {rule.column}" for rule in blockers)


# --- a data folder of open data only ------------------------------------------------------------

# The real files of ../shared/data an open-data folder takes beside the open data itself.
OPEN_DATA_SHARED_FILES = (
    "icb_2024_04_from_lsoa21_bsc.geojson",
    "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson",
    "nhs_england_regions_2024_01_bgc.geojson",
    "lookup_lsoa21_sicbl24_icb24_icb26.csv",
    "hospitals_england_2020_05_nhs_website.csv",
)


def open_data_folder(shared_data: Path, root: Path) -> Path:
    """A data folder under `root` whose cache holds the 2024 boundaries, regions and lookup,
    the NHS website's hospitals and the open data of geo.testing.open_data_world (RTT, DM01,
    awards, DSPT, ONS population), taken in with `fetch --from` as a user would."""
    from geo.fetch import sources
    from geo.testing import open_data_world

    given = root / "in"
    open_data_world.write_open_data(shared_data, given)
    for name in OPEN_DATA_SHARED_FILES:
        (given / name).symlink_to(shared_data / name)
    folder = root / "data"
    folder.mkdir()
    with using_data_folder(folder):
        report = sources.fetch_from_dir(given)
    assert not report.failed, report.failed
    return folder


@contextmanager
def using_data_folder(folder: Path) -> Iterator[None]:
    """A block in which the settings read `folder` as the data folder, with no DATABASE_URL."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        yield
