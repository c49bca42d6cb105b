"""The benchmark runs end to end and reports what it measured; its parts behave (no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo.bench import files as bench_files
from geo.bench import run as bench
from geo.bench import sites as bench_sites
from geo.bench.report import QUICK, Section, Target
from geo.geocode import offline as geocode
from geo.model.errors import InputError
from geo.model.providers import CANONICAL_COLUMNS, PLANNING_STATUSES
from geo.model.sectors import IV_SECTORS, SECTORS
from tests.factories import PROJECT_DIR

BENCH = (sys.executable, "-m", "geo", "bench")


@pytest.fixture(scope="module")
def lsoas(shared_data) -> gpd.GeoDataFrame:
    return bench_sites.load_lsoas(shared_data)


def test_quick_assign_and_briefing_run_writes_a_table_per_section(shared_data, tmp_path):
    out = tmp_path / "bench.md"
    env = {**os.environ, "ICS_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            *BENCH,
            "--quick",
            "--only",
            "assign,briefing",
            "--data",
            str(shared_data),
            "--out",
            str(out),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks")
    assert "- **cores:** " in report
    assert "`python -m geo bench --quick --only assign,briefing" in report
    assert report.index("## 5. Board briefings") < report.index("## 6. Assigning sites")
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert any(row.startswith("| assign_sites | 10,000 |") for row in rows)
    assert any(row.startswith("| PDF (A4) |") and row.endswith(f"| {QUICK} |") for row in rows)
    assert any(row.startswith("| national deck (PPTX) | England + 4 ICB slides |") for row in rows)
    assert "## 1. Map" not in report
    assert "| assign_sites |" in done.stdout, "tables are printed while running"


def test_only_names_sections_in_the_benchmark_order_and_refuses_unknown_ones():
    assert bench.parse_only("assign, map") == ("map", "assign")
    assert bench.parse_only(None) == bench.SECTIONS
    with pytest.raises(InputError, match="unknown section maps"):
        bench.parse_only("maps,assign")


def test_a_missed_target_says_by_how_much_and_where_the_time_goes():
    section = Section("x", "X", "about", ["what", "size", "time s"])
    build = Target("build", 0.5, "s")
    assert section.add(["ours", "100", "0.4"], [(build, 0.4)]) == "PASS"
    assert section.add(["ours", "200", "0.7"], [(build, 0.7)], "payload 0.6 s") == "MISS (build)"
    assert section.add(["ours", "300", "—"], [(build, None)]) == "not run"
    assert section.notes == ["**ours 200**: build 0.7 s vs build ≤ 0.5 s. payload 0.6 s"]
    assert "| ours | 200 | 0.7 | build ≤ 0.5 s | MISS (build) |" in section.markdown()


def test_a_narrow_pass_is_noted_and_a_comfortable_one_is_not():
    section = Section("x", "X", "about", ["what", "size"])
    build = Target("build", 0.5, "s")
    assert section.add(["ours", "100"], [(build, 0.2)]) == "PASS"
    assert section.notes == []
    assert section.add(["ours", "200"], [(build, 0.45)]) == "PASS"
    assert section.notes[0].startswith("**ours 200** passes narrowly: build 0.45 s is 90%")


def test_a_ratio_target_is_met_from_above():
    speed_up = Target("speed-up", 20, "×", at_least=True)
    assert speed_up.met(25)
    assert not speed_up.met(19)
    assert speed_up.text() == "speed-up ≥ 20×"


def test_quick_sections_show_targets_without_judging_them():
    section = Section("x", "X", "about", ["what", "size"], quick=True)
    assert section.add(["ours", "1"], [(Target("build", 0.5, "s"), 9.0)]) == QUICK
    assert section.notes == []


def test_synthetic_sites_follow_the_sector_and_status_mix(lsoas):
    sites = bench_sites.synthetic_sites(lsoas, 20_000)
    assert list(sites.columns[: len(CANONICAL_COLUMNS)]) == list(CANONICAL_COLUMNS)
    assert sites["site_id"].is_unique
    shares = sites["sector"].value_counts(normalize=True)
    for sector, share in bench_sites.SECTOR_MIX.items():
        assert abs(shares[sector] - share) < 0.01, sector
    iv = sites[sites["sector"].isin(IV_SECTORS)]
    statuses = iv["planning_status"].value_counts(normalize=True)
    assert abs(statuses["not engaged"] - bench_sites.STATUS_MIX["not engaged"]) < 0.02
    assert set(sites["sector"]) == set(SECTORS)
    assert set(sites["planning_status"]) == set(PLANNING_STATUSES)
    assert (sites.loc[~sites["sector"].isin(IV_SECTORS), "planning_status"] == "unknown").all()


def test_only_care_homes_have_beds_between_10_and_120(lsoas):
    sites = bench_sites.synthetic_sites(lsoas, 5_000)
    care_home = sites["service_type"].isin(bench_sites.CARE_HOME_SERVICES)
    assert sites.loc[~care_home, "capacity"].isna().all()
    beds = sites.loc[care_home, "capacity"]
    assert beds.notna().all()
    assert beds.between(10, 120).all()
    assert sites["site_name"].str.len().max() > 2 * sites["site_name"].str.len().median()


def test_every_synthetic_site_lies_inside_the_area_it_was_placed_in():
    areas = gpd.GeoDataFrame(
        geometry=[box(0, 0, 1, 1), shapely.Polygon([(5, 5), (7, 5), (5, 7)])], crs=4326
    )
    lon, lat = bench_sites.place_points(areas, 2_000, np.random.default_rng(3))
    points = shapely.points(lon, lat)
    inside = shapely.contains(areas.geometry.iloc[0], points) | shapely.contains(
        areas.geometry.iloc[1], points
    )
    assert inside.all()
    in_triangle = lon > 4
    assert 0.3 < in_triangle.mean() < 0.7, "areas are picked uniformly, whatever their size"


def test_the_generated_onspd_file_geocodes_its_own_postcodes(tmp_path):
    path = bench_files.write_onspd(tmp_path / "onspd.csv", 5_000)
    wanted = bench_files.wanted_postcodes(5_000, 400)
    assert wanted.is_unique
    index = geocode.load_postcode_index(path, postcodes=wanted)
    sites = pd.DataFrame({"lat": pd.NA, "lon": pd.NA, "postcode": wanted}, dtype="string")
    placed = geocode.geocode_sites(sites, index=index)
    status = placed["geocode_status"]
    absent = len(wanted) // 100
    assert (status == "not found").sum() == absent, "1% of the list is not in the file"
    placed_or_no_grid = status.str.startswith("found").sum() + (status == "no grid reference").sum()
    assert placed_or_no_grid == len(wanted) - absent
