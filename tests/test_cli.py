"""`python -m geo`: what analysts script, checked end to end on the real data."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.analysis.metrics import NO_STATUS_KNOWN
from geo.cli import main
from geo.model import sectors
from tests.factories import (
    feature_table,
    hospital_sectors,
    hospitals_table,
    in_some_polygon,
    run_cli,
    trust_sites_said_independent,
)


@pytest.fixture(scope="module")
def hospitals_assigned(shared_data, tmp_path_factory):
    """The real 2020 hospital list assigned to the real 2023 ICBs by the CLI."""
    out = tmp_path_factory.mktemp("cli") / "sites.csv"
    result = run_cli(
        "assign",
        "--boundaries",
        str(shared_data / "icb_2023_04_bgc.geojson"),
        "--sites",
        str(shared_data / "hospitals_england_2020_05_nhs_website.csv"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    return pd.read_csv(out, dtype={"icb_code": str}), result


def test_assign_keeps_every_hospital_and_puts_every_english_one_in_an_icb(
    shared_data, hospitals_assigned
):
    sites, _ = hospitals_assigned
    assert len(sites) == len(hospitals_table(shared_data))
    english = sites[sites["outside_england"].astype(str) == "False"]
    icbs = gpd.read_file(shared_data / "icb_2023_04_bgc.geojson")
    within = in_some_polygon(english["lon"], english["lat"], icbs)
    assert english["icb_code"].notna().all()
    assert list(english["assignment"]) == list(np.where(within, "inside", "nearest"))


def test_assign_flags_the_three_welsh_hospitals_as_outside(shared_data, hospitals_assigned):
    sites, _ = hospitals_assigned
    outside = sites[sites["assignment"] == "outside"]
    assert len(outside) == hospitals_table(shared_data)["outside_england"].sum()
    assert outside["outside_england"].astype(str).eq("True").all()
    assert outside["icb_code"].isna().all()
    assert outside["assignment_reason"].str.contains("outside every 2023 ICB").all()


def test_assign_agrees_with_the_publishers_own_icb_for_english_hospitals(hospitals_assigned):
    sites, _ = hospitals_assigned
    english = sites[sites["icb24_code"].notna()]
    assert (english["icb_code"] == english["icb24_code"]).all()


def test_metrics_reconcile_with_the_input_totals(shared_data, tmp_path):
    out = tmp_path / "metrics.csv"
    result = run_cli(
        "metrics",
        "--boundaries",
        str(shared_data / "icb_2023_04_bgc.geojson"),
        "--sites",
        str(shared_data / "hospitals_england_2020_05_nhs_website.csv"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    metrics = pd.read_csv(out)
    hospitals = hospitals_table(shared_data)
    sectors_counted = hospital_sectors(shared_data)
    moved = trust_sites_said_independent(shared_data)
    icbs = len(feature_table(shared_data / "icb_2023_04_bgc.geojson"))
    assert len(metrics) == icbs + 1  # every ICB and the row for sites outside every ICB
    assert metrics["sites_total"].sum() == len(hospitals)
    assert metrics["sites_nhs"].sum() == sectors_counted["NHS"]
    assert metrics["sites_independent"].sum() == sectors_counted["Independent"]
    assert f"{moved} sites are counted as NHS by their NHS trust's ODS code" in result.stderr
    outside = hospitals["outside_england"].sum()
    assert metrics.loc[metrics["icb_code"] == "OUTSIDE", "sites_total"].item() == outside
    for sector in sectors.SECTORS:
        assert f"sites_{sectors.sector_slug(sector)}" in metrics.columns
    assert "No planning-engagement list was loaded" in result.stderr


def test_metrics_without_an_engagement_list_leave_share_and_rank_empty_with_the_reason(
    shared_data, tmp_path
):
    out = tmp_path / "metrics.csv"
    result = run_cli(
        "metrics",
        "--boundaries",
        str(shared_data / "icb_2023_04_bgc.geojson"),
        "--sites",
        str(shared_data / "hospitals_england_2020_05_nhs_website.csv"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8-sig", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["icb_code"] != "OUTSIDE"]
    with_iv = [row for row in rows if int(row["iv_sites"]) > 0]
    assert len(with_iv) > 30
    assert {row["iv_outside_share"] for row in rows} == {""}  # never 0.0
    assert {row["rank"] for row in rows} == {""}
    assert {row["share_not_known_reason"] for row in with_iv} == {NO_STATUS_KNOWN}


def test_a_missing_file_exits_non_zero_with_one_line_naming_it(tmp_path):
    result = run_cli(
        "assign",
        "--boundaries",
        str(tmp_path / "nope.geojson"),
        "--sites",
        str(tmp_path / "sites.csv"),
        "--out",
        str(tmp_path / "out.csv"),
    )
    assert result.returncode == 2
    assert "nope.geojson" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_a_boundary_file_is_named_with_what_was_expected(shared_data, tmp_path):
    result = run_cli(
        "assign",
        "--boundaries",
        str(shared_data / "hospitals_england_2020_05_nhs_website.geojson"),
        "--sites",
        str(shared_data / "hospitals_england_2020_05_nhs_website.csv"),
        "--out",
        str(tmp_path / "out.csv"),
    )
    assert result.returncode == 2
    assert "hospitals_england_2020_05_nhs_website.geojson" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_provider_list_without_names_or_places_says_which_columns_it_expected(
    shared_data, tmp_path
):
    sites = tmp_path / "sites.csv"
    sites.write_text("colour,weight\nred,3\n", encoding="utf-8")
    result = run_cli(
        "assign",
        "--boundaries",
        str(shared_data / "icb_2022_07_buc.geojson"),
        "--sites",
        str(sites),
        "--out",
        str(tmp_path / "out.csv"),
    )
    assert result.returncode == 2
    assert "sites.csv" in result.stderr
    assert "colour" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_cached_data_the_cli_says_how_to_get_it(data_dir, tmp_path):
    env = {"ICS_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    result = run_cli("metrics", "--out", str(tmp_path / "m.csv"), env=env)
    assert result.returncode == 2
    assert "python -m geo fetch" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("spelling", ["nhs_ods", "ods"])  # 'ods': the README's old spelling
def test_sites_format_nhs_ods_reads_a_report_whatever_its_name(
    spelling, data_dir, fixtures_dir, tmp_path
):
    report = shutil.copy(fixtures_dir / "ets.csv", tmp_path / "download.csv")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["ICS_DATA_DIR"] = str(data_dir)
    options = ["--kind", "sites", "--sites-format", spelling, "--ods-report", "ets"]
    result = run_cli("publish", str(report), *options, env=env)
    assert result.returncode == 1, result.stderr  # ODS reports have no coordinates to map
    assert "read as NHS ODS report (headerless CSV): ets" in result.stderr
    assert "download.csv: 5 rows: 0 accepted" in result.stdout


# Placing sites by postcode: assign and metrics geocode as publish does


@pytest.fixture
def ods_report_with_postcodes(tmp_path):
    """An NHS ODS ets report (postcodes, no coordinates): two real hospitals and a bad postcode."""
    from geo.testing.publisher_files import ods_report_row, write_ods_report_csv

    rows = [
        ods_report_row("RR801", "LEEDS GENERAL INFIRMARY", "LS1 3EX", parent="RR8"),
        ods_report_row("RW3MR", "MANCHESTER ROYAL INFIRMARY", "M13 9WL", parent="RW3"),
        ods_report_row("RXX01", "NOWHERE HOSPITAL", "ZZ9 9ZZ", parent="RXX"),
    ]
    return write_ods_report_csv(tmp_path / "ets.csv", rows)


def test_assign_places_an_ods_report_from_an_onspd_file(
    shared_data, ods_report_with_postcodes, tmp_path
):
    from geo.testing.postcodes_server import write_onspd_csv

    onspd = write_onspd_csv(tmp_path / "ONSPD_MAY_2026_UK.csv")
    out = tmp_path / "sites.csv"
    result = run_cli(
        "assign",
        "--boundaries", str(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson"),
        "--sites", str(ods_report_with_postcodes),
        "--geocode", "offline",
        "--postcodes", str(onspd),
        "--out", str(out),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    sites = pd.read_csv(out, dtype=str).set_index("site_id")
    assert sites.loc[["RR801", "RW3MR"], "icb_code"].tolist() == ["E54000054", "E54000057"]
    assert sites.loc["RXX01", "assignment"] == "no coordinates"
    assert "2 of 3 postcodes geocoded" in result.stderr


def test_metrics_places_sites_through_postcodes_io(
    shared_data, ods_report_with_postcodes, tmp_path, postcodes_server
):
    out = tmp_path / "metrics.csv"
    env = {**os.environ, "ICS_POSTCODES_IO_URL": postcodes_server.root}
    result = run_cli(
        "metrics",
        "--boundaries", str(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson"),
        "--sites", str(ods_report_with_postcodes),
        "--geocode", "online",
        "--out", str(out),
        env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    metrics = pd.read_csv(out).set_index("icb_code")
    assert metrics.loc[["E54000054", "E54000057"], "sites_nhs"].tolist() == [1, 1]
    assert metrics.loc["OUTSIDE", "sites_total"] == 1
    assert "2 of 3 postcodes geocoded (postcodes.io)" in result.stderr


def test_without_geocode_the_same_report_places_nothing(
    shared_data, ods_report_with_postcodes, tmp_path
):
    out = tmp_path / "sites.csv"
    result = run_cli(
        "assign",
        "--boundaries", str(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson"),
        "--sites", str(ods_report_with_postcodes),
        "--out", str(out),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert set(pd.read_csv(out)["assignment"]) == {"no coordinates"}


def test_assign_says_which_sector_rules_could_not_run_on_cqc_api_records(
    shared_data, fixtures_dir, tmp_path
):
    out = tmp_path / "sites.csv"
    result = run_cli(
        "assign",
        "--boundaries", str(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson"),
        "--sites", str(fixtures_dir / "cqc_api_locations.json"),
        "--out", str(out),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "note: 4 of 6 rows have no sector (Unknown)" in result.stderr
    assert "charity_number needs column Provider Charity Number (4 rows)" in result.stderr
    sites = pd.read_csv(out)
    assert (sites["sector"] == sectors.INDEPENDENT).sum() == 0


# Faults of the store: one line on stderr, exit 2, nothing changed, no password.

SECRET = "s3cr3t-Pa55"


@pytest.fixture
def store_env(data_dir) -> dict:
    """The environment of a CLI run whose store is a SQLite file in `data_dir`."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["ICS_DATA_DIR"] = str(data_dir)
    return env


def _published_twice(data_dir) -> None:
    from geo.store.versions import open_store

    with open_store(f"sqlite:///{data_dir / 'store.sqlite'}") as store:
        for rows in (2, 3):
            store.publish(
                "sites", "sites", pd.DataFrame({"name": ["a"] * rows}), author="analyst",
                file_name="s.csv", checksum=str(rows), counts={},
            )  # fmt: skip


def _one_clear_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[-1]


@pytest.mark.parametrize("version", ["99999999999999999999", "0", "two"])
def test_revert_to_an_impossible_version_is_refused_at_the_command_line(
    data_dir, store_env, version
):
    _published_twice(data_dir)
    before = (data_dir / "store.sqlite").read_bytes()

    result = run_cli("revert", "--dataset", "sites", "--version", version, env=store_env)

    assert result.returncode == 2
    assert "expected a whole number from 1 to 2,147,483,647" in result.stderr
    assert "Traceback" not in result.stderr
    assert (data_dir / "store.sqlite").read_bytes() == before


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ics:{SECRET}@[::1:5432/ics",
        f"postgresql://ics:{SECRET}@bad host/ics",
        f"postgresql://ics:{SECRET}@127.0.0.1:1/ics?connect_timeout=2",
    ],
)
def test_a_bad_database_url_is_one_line_without_its_password(store_env, url):
    result = run_cli("versions", env=store_env | {"DATABASE_URL": url})

    line = _one_clear_line(result)
    assert line.startswith("error: store postgresql://")
    assert "cannot connect to PostgreSQL" in line
    assert SECRET not in result.stderr + result.stdout


def test_a_damaged_store_is_one_line_saying_how_to_recover(data_dir, store_env):
    (data_dir / "store.sqlite").write_bytes(b"\x00" * 50_000)

    line = _one_clear_line(run_cli("versions", env=store_env))

    assert f"store {data_dir / 'store.sqlite'}: file is not a database" in line
    assert "restore it from a backup" in line
    assert (data_dir / "store.sqlite").read_bytes() == b"\x00" * 50_000


def test_a_provider_list_cannot_be_published_under_a_boundary_layers_name(
    fixtures_dir, store_env, data_dir
):
    listed = fixtures_dir / "validation_provider_list.csv"
    result = run_cli(
        "publish", str(listed), "--kind", "sites", "--dataset", "boundaries-icb-2099",
        env=store_env,
    )  # fmt: skip

    line = _one_clear_line(result)
    assert "dataset name 'boundaries-icb-2099' is a boundaries name, not a sites one" in line
    assert not (data_dir / "store.sqlite").exists()  # refused before the file was even read


def test_a_read_only_data_folder_is_one_line_naming_it(data_dir, store_env, read_only):
    _published_twice(data_dir)
    before = (data_dir / "store.sqlite").read_bytes()
    read_only(data_dir)

    line = _one_clear_line(run_cli("revert", "--dataset", "sites", "--version", "1", env=store_env))

    assert f"the folder {data_dir} must be writable by the app's user" in line
    assert (data_dir / "store.sqlite").read_bytes() == before


def test_a_missing_postcode_file_names_the_flag_that_gives_one(
    data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("ICS_ONSPD_PATH", raising=False)
    listed = tmp_path / "homes.csv"
    listed.write_text("name,postcode\nRose House,BB2 6AA\n")
    assert main(["publish", str(listed), "--kind", "sites", "--geocode", "offline"]) == 2
    said = capsys.readouterr().err
    assert "offline geocoding needs an ONSPD or NSPL file" in said
    assert said.rstrip().endswith("(--postcodes)")
