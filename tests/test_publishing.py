"""From a file to a published version: prepare, publish, and what everyone then sees."""

from __future__ import annotations

import hashlib
import os

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo import workspace
from geo.fetch import sources
from geo.io import opendocument, recognise
from geo.model import access
from geo.model.errors import InputError
from geo.publish import publishing
from geo.store import backends as store_sql
from geo.store.versions import open_store
from geo.testing import postcodes_server as fake
from geo.testing.publisher_files import make_cqc_hsca_rows, write_cqc_hsca_ods
from tests.factories import CQC_FIXTURE, CQC_FIXTURE_UNUSABLE, cqc_fixture_ids, run_cli

ALICE = access.operating_system_user("alice")  # as the command line publishes
BOB = access.operating_system_user("bob")


@pytest.fixture
def store(data_dir):
    with open_store() as opened:
        yield opened


@pytest.fixture
def cqc_file(fixtures_dir):
    return fixtures_dir / CQC_FIXTURE


def _rows_in(path) -> int:
    return len(pd.read_csv(path, dtype=str))


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def _all_rejected(tmp_path):
    """Twelve sites, none of which can be placed: no coordinates and no postcode."""
    lines = "".join(f"Site {n},\n" for n in range(12))
    return _write(tmp_path / "x.csv", "name,postcode\n" + lines)


# --- provider lists --------------------------------------------------------------------


def test_a_cqc_file_is_judged_row_by_row_and_the_counts_add_up_to_its_rows(cqc_file):
    prepared = publishing.prepare(cqc_file, "sites")
    counts = prepared.counts
    assert counts["accepted"] + counts["warned"] + counts["rejected"] == _rows_in(cqc_file)
    assert counts["rejected"] == prepared.report.counts["rejected"]
    assert prepared.report.rejected["site_id"].tolist() == list(CQC_FIXTURE_UNUSABLE)
    assert len(prepared.table) == counts["accepted"] + counts["warned"]
    assert prepared.dataset == workspace.SITES
    assert prepared.fmt == "cqc"
    assert prepared.checksum == hashlib.sha256(cqc_file.read_bytes()).hexdigest()
    assert all(line.startswith("row ") for line in prepared.rejections())


def _counting(monkeypatch, module, name: str) -> list:
    """Record the first argument of every call to module.name (which still does its work)."""
    calls, original = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **kw: calls.append(a[0]) or original(*a, **kw))
    return calls


def test_an_uploaded_ods_is_sniffed_once_and_opened_once_to_recognise_and_once_to_read(
    tmp_path, monkeypatch
):
    path = write_cqc_hsca_ods(tmp_path / "HSCA_Active_Locations.ods", make_cqc_hsca_rows(3))
    sniffed = _counting(monkeypatch, recognise, "sniff")
    opened = _counting(monkeypatch, opendocument, "_open_content")

    found = publishing.recognise_upload(path, "sites")
    prepared = publishing.prepare(path, "sites", sniffed=found.sniffed)

    assert (found.fmt, prepared.fmt, prepared.total) == ("cqc", "cqc", 3)
    assert sniffed == [path]
    assert opened == [path, path]  # content.xml: once to recognise it, once to read the rows


def test_a_generic_upload_is_sniffed_once_for_its_preview_and_its_check(fixtures_dir, monkeypatch):
    path = fixtures_dir / "validation_provider_list.csv"
    sniffed = _counting(monkeypatch, recognise, "sniff")

    found = publishing.recognise_upload(path, "sites")
    prepared = publishing.prepare(path, "sites", sniffed=found.sniffed)

    assert found.fmt == "generic"
    assert list(found.preview.columns) == list(found.sniffed.columns)
    assert prepared.total == 16
    assert sniffed == [path]


def test_a_published_cqc_file_is_what_every_page_then_analyses(cqc_file, store, shared_data):
    sources.fetch_from_dir(shared_data)
    prepared = publishing.prepare(cqc_file, "sites")
    version = publishing.publish(prepared, store, by=ALICE)
    assert (version.dataset, version.version, version.author) == ("sites", 1, "alice")
    assert version.counts == prepared.counts
    assert version.meta["publisher"] == "Care Quality Commission"
    assert version.file_name == CQC_FIXTURE
    analysis = workspace.analyse("2024", store)
    assert analysis.metrics["sites_total"].sum() == len(prepared.table)
    assert "sites v1" in analysis.provenance["version"].tolist()
    published_ids = set(analysis.assigned["site_id"])
    assert published_ids == set(prepared.table["site_id"])


def test_a_file_whose_every_row_is_rejected_is_refused_and_the_store_is_unchanged(
    cqc_file, store, tmp_path
):
    publishing.publish(publishing.prepare(cqc_file, "sites"), store, by=ALICE)
    before = store.versions()
    prepared = publishing.prepare(_all_rejected(tmp_path), "sites")
    assert prepared.counts == {"accepted": 0, "warned": 0, "rejected": 12}
    with pytest.raises(
        InputError, match=r"nothing to publish: all 12 rows of x\.csv were rejected"
    ):
        publishing.publish(prepared, store, by=ALICE)
    pd.testing.assert_frame_equal(store.versions(), before)


def test_a_publish_that_fails_midway_leaves_the_store_as_it_was(cqc_file, store, monkeypatch):
    first = publishing.prepare(cqc_file, "sites")
    publishing.publish(first, store, by=ALICE)
    before = store.versions()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_sql, "write_payload", broken)
    with pytest.raises(OSError, match="disk full"):
        publishing.publish(first, store, by=BOB)
    pd.testing.assert_frame_equal(store.versions(), before)
    assert store.current_version("sites") == 1
    assert len(store.load("sites")) == len(first.table)


def test_a_file_that_cannot_be_read_raises_one_line_and_nothing_is_written(store, tmp_path):
    path = _write(tmp_path / "colours.csv", "colour,weight\nred,3\n")
    with pytest.raises(InputError, match=r"colours\.csv") as raised:
        publishing.prepare(path, "sites")
    assert "\n" not in str(raised.value)
    assert store.datasets().empty


def test_a_list_mixing_utf8_and_windows_1252_lines_is_read_right_and_the_notes_say_so(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"name,sector,lat,lon\n"
        + "Café Ñandú,NHS,53.80,-1.55\n".encode()
        + "Crème House,NHS,53.81,-1.56\n".encode("cp1252")
    )

    prepared = publishing.prepare(path, "sites")

    assert prepared.table["site_name"].tolist() == ["Café Ñandú", "Crème House"]
    assert "lines not in UTF-8, read as Windows-1252 (check their accented letters): 3" in (
        prepared.notes
    )


def test_coordinates_of_infinity_in_the_postcode_file_count_as_no_grid_reference(tmp_path):
    onspd = tmp_path / "ONSPD_MAY_2026_UK.csv"
    onspd.write_text(
        "pcds,lat,long,doterm\nLS1 3EX,inf,-1.55,\nM13 9WL,53.46,1e999,\nLS2 9JT,53.8,-1.5,\n"
    )
    path = _write(tmp_path / "pc.csv", "name,postcode\nLGI,LS1 3EX\nMRI,M13 9WL\nUni,LS2 9JT\n")

    prepared = publishing.prepare(path, "sites", geocode="offline", postcode_file=onspd)

    assert prepared.counts == {"accepted": 1, "warned": 0, "rejected": 2}
    assert prepared.report.rows["reason"].tolist()[:2] == [
        "postcode: LS1 3EX has no grid reference in ONSPD May 2026",
        "postcode: M13 9WL has no grid reference in ONSPD May 2026",
    ]


def test_grid_references_become_latitude_and_longitude(tmp_path):
    to_grid = Transformer.from_crs(4326, 27700, always_xy=True)
    east, north = to_grid.transform(-1.552119, 53.80146)
    path = _write(
        tmp_path / "grid.csv",
        f"name,E,N\nLeeds General Infirmary,{east:.0f},{north:.0f}\nNowhere,abc,434000\n",
    )
    prepared = publishing.prepare(
        path, "sites", columns={"site_name": "name", "easting": "E", "northing": "N"}
    )
    leeds = prepared.table.iloc[0]
    assert leeds["lat"] == pytest.approx(53.80146, abs=1e-4)
    assert leeds["lon"] == pytest.approx(-1.552119, abs=1e-4)
    assert prepared.counts["rejected"] == 1
    nowhere = prepared.report.rows.iloc[1]
    assert (nowhere["column"], nowhere["reason"]) == ("easting", 'easting: "abc" is not a number')
    assert any("grid references" in note for note in prepared.notes)


def test_an_easting_without_a_northing_is_refused_by_name(tmp_path):
    path = _write(tmp_path / "grid.csv", "name,E\nA,430000\n")
    with pytest.raises(InputError, match="easting column but no northing"):
        publishing.prepare(path, "sites", columns={"site_name": "name", "easting": "E"})


def test_postcodes_are_geocoded_offline_from_an_onspd_file(tmp_path):
    onspd = fake.write_onspd_csv(tmp_path / "ONSPD_MAY_2026_UK.csv")
    path = _write(tmp_path / "pc.csv", "name,postcode\nLGI,ls1 3ex\nMRI,M13 9WL\nGone,ZZ9 9ZZ\n")
    prepared = publishing.prepare(path, "sites", geocode="offline", postcode_file=onspd)
    assert prepared.counts == {"accepted": 2, "warned": 0, "rejected": 1}
    assert prepared.table["lat"].tolist() == pytest.approx([53.80146, 53.461674])
    assert "ZZ9 9ZZ not found in ONSPD May 2026" in prepared.report.rows.iloc[2]["reason"]
    assert any("2 of 3 postcodes geocoded" in note for note in prepared.notes)


def test_offline_geocoding_without_a_postcode_file_says_how_to_name_one(tmp_path, monkeypatch):
    monkeypatch.delenv("ICS_ONSPD_PATH", raising=False)
    path = _write(tmp_path / "pc.csv", "name,postcode\nLGI,LS1 3EX\n")
    with pytest.raises(InputError, match="ICS_ONSPD_PATH"):
        publishing.prepare(path, "sites", geocode="offline")


def test_postcodes_are_geocoded_online_with_progress(tmp_path, monkeypatch, postcodes_server):
    monkeypatch.setenv("ICS_POSTCODES_IO_URL", postcodes_server.root)
    path = _write(tmp_path / "pc.csv", "name,postcode\nLGI,LS1 3EX\nGuy's,SE1 7EH\n")
    steps: list[tuple[str, float]] = []
    prepared = publishing.prepare(
        path, "sites", geocode="online", progress=lambda step, share: steps.append((step, share))
    )
    assert prepared.counts["accepted"] == 2
    assert set(prepared.table["geocode_source"]) == {"postcodes.io"}
    shares = [share for _, share in steps]
    assert shares == sorted(shares)
    assert shares[-1] == 1.0
    assert any(step.startswith("Geocoding") for step, _ in steps)


# --- engagement lists and boundaries ----------------------------------------------------


def test_an_engagement_list_is_published_under_engagement(store, tmp_path):
    path = _write(
        tmp_path / "engaged.csv",
        "CQC Provider ID,name,status\n1-102643003,East Lancashire Hospice,engaged\n"
        "1-102643008,Ramsay Health Care,not engaged\n",
    )
    prepared = publishing.prepare(path, "engagement")
    assert prepared.counts == {"accepted": 2, "warned": 0, "rejected": 0}
    version = publishing.publish(prepared, store, by=ALICE)
    assert version.dataset == workspace.ENGAGEMENT
    assert store.load("engagement")["planning_status"].tolist() == ["engaged", "not engaged"]


def test_a_new_boundary_vintage_in_another_crs_is_published_as_its_own_dataset(
    store, shared_data, tmp_path
):
    layer = gpd.read_file(shared_data / "icb_2022_07_buc.geojson").to_crs(27700)
    path = tmp_path / "icb_2027.gpkg"
    layer.to_file(path)
    assert publishing.recognise_upload(path, "boundaries").fmt == "ons"
    prepared = publishing.prepare(path, "boundaries", vintage="2027")
    assert prepared.dataset == "boundaries-icb-2027"
    assert prepared.counts["accepted"] + prepared.counts["warned"] == len(layer)
    publishing.publish(prepared, store, by=ALICE)
    loaded = store.load("boundaries-icb-2027")
    assert loaded.crs.to_epsg() == 4326
    assert len(loaded) == len(layer)
    assert "2027" in workspace.vintages(store)


def test_an_uploaded_reconstruction_is_credited_to_the_lookup_not_to_ons(shared_data, tmp_path):
    path = tmp_path / "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"
    path.write_bytes((shared_data / path.name).read_bytes())

    prepared = publishing.prepare(path, "boundaries")

    assert prepared.dataset == "boundaries-icb-2026"
    assert prepared.publisher.startswith("reconstructed from the ONS LSOA→ICB lookup (LSOA 2021")
    ons = publishing.prepare(shared_data / "icb_2023_04_bgc.geojson", "boundaries")
    assert ons.publisher == recognise.ONS


def test_an_earlier_version_can_be_brought_back(cqc_file, store, tmp_path):
    publishing.publish(publishing.prepare(cqc_file, "sites"), store, by=ALICE)
    smaller = tmp_path / "three.csv"
    smaller.write_text("".join(cqc_file.read_text(encoding="utf-8").splitlines(True)[:4]))
    publishing.publish(publishing.prepare(smaller, "sites"), store, by=ALICE)
    assert len(store.load("sites")) == 3
    store.revert("sites", 1, author="bob")
    assert len(store.load("sites")) == len(publishing.prepare(cqc_file, "sites").table)


# --- who publishes ------------------------------------------------------------------------


def test_the_author_comes_from_the_setting_else_the_operating_system(monkeypatch):
    monkeypatch.setenv("ICS_AUTHOR", "Ada Analyst")
    assert publishing.default_author() == "Ada Analyst"
    monkeypatch.delenv("ICS_AUTHOR")
    monkeypatch.setenv("LOGNAME", "osuser")
    assert publishing.default_author() == "osuser"


@pytest.mark.parametrize(("value", "allowed"), [("true", True), ("False", False), ("0", False)])
def test_the_analyst_pages_can_be_switched_off(monkeypatch, value, allowed):
    monkeypatch.setenv("ICS_ALLOW_UPLOADS", value)
    assert publishing.uploads_allowed() is allowed


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_env(data_dir):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(ICS_DATA_DIR=str(data_dir), ICS_AUTHOR="cron")
    return env


def test_cli_publish_prints_the_summary_and_the_new_version(
    cqc_file, fixtures_dir, cli_env, tmp_path
):
    rows, unusable = len(cqc_fixture_ids(fixtures_dir)), len(CQC_FIXTURE_UNUSABLE)
    rejected = tmp_path / "rejected.csv"
    result = run_cli(
        "publish", str(cqc_file), "--kind", "sites", "--rejected", str(rejected), env=cli_env
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"{CQC_FIXTURE}: {rows} rows: {rows - unusable} accepted, 0 accepted with a warning,"
        f" {unusable} rejected" in result.stdout
    )
    assert "rejected row 9: lat/lon look swapped" in result.stdout
    assert f"published sites v1 ({rows - unusable} rows) by cron" in result.stdout
    assert len(pd.read_csv(rejected, encoding="utf-8-sig")) == unusable


def test_cli_publish_exits_1_when_nothing_could_be_published(cli_env, tmp_path):
    result = run_cli("publish", str(_all_rejected(tmp_path)), "--kind", "sites", env=cli_env)
    assert result.returncode == 1
    assert "all 12 rows of x.csv were rejected" in result.stderr
    with open_store() as store:
        assert store.datasets().empty


def test_cli_publish_exits_2_with_one_line_on_bad_input(cli_env, tmp_path):
    path = _write(tmp_path / "colours.csv", "colour,weight\nred,3\n")
    result = run_cli("publish", str(path), "--kind", "sites", env=cli_env)
    assert result.returncode == 2
    assert "colours.csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_cli_revert_and_versions_keep_an_audit_log(cqc_file, fixtures_dir, cli_env, store):
    prepared = publishing.prepare(cqc_file, "sites")
    published = len(cqc_fixture_ids(fixtures_dir)) - len(CQC_FIXTURE_UNUSABLE)
    for author in ("alice", "carol"):
        publishing.publish(prepared, store, by=access.operating_system_user(author))
    missing = run_cli("revert", "--dataset", "sites", "--version", "7", env=cli_env)
    assert missing.returncode == 2
    assert "has no version 7" in missing.stderr
    reverted = run_cli("revert", "--dataset", "sites", "--version", "1", env=cli_env)
    assert reverted.returncode == 0, reverted.stderr
    assert f"sites v3: back to the rows of v1 ({published} rows), by cron" in reverted.stdout
    log = run_cli("versions", "--dataset", "sites", env=cli_env)
    assert log.returncode == 0
    header, *lines = log.stdout.strip().splitlines()
    assert header.split()[:4] == ["dataset", "version", "action", "author"]
    assert [line.split()[:4] for line in lines] == [
        ["sites", "1", "publish", "alice"],
        ["sites", "2", "publish", "carol"],
        ["sites", "3", "revert", "cron"],
    ]
    assert lines[-1].rstrip().endswith("*")
    assert not lines[0].rstrip().endswith("*")
    checksum = prepared.checksum[:12]
    assert all(checksum in line for line in lines)


def test_a_boundary_layer_is_published_only_under_the_name_of_its_layer_and_vintage(
    store, shared_data
):
    prepared = publishing.prepare(
        shared_data / "sub_icb_locations_2023_04_bsc.geojson", "boundaries"
    )

    with pytest.raises(
        InputError, match="holds the layer that is published as boundaries-sicbl-2023"
    ):
        publishing.publish(prepared, store, by=ALICE, dataset="boundaries-icb-2023")
    assert store.datasets().empty


def test_a_boundary_file_covering_the_world_is_refused_before_anything_is_published(
    store, shared_data, tmp_path
):
    layer = gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    layer.loc[0, "geometry"] = shapely.box(-180, -85, 180, 85)
    path = tmp_path / "icb_2099.geojson"
    layer.to_file(path)

    with pytest.raises(InputError, match="1 area\\(s\\) reaching outside England"):
        publishing.prepare(path, "boundaries", vintage="2099")
    assert store.datasets().empty


def test_an_engagement_list_that_names_no_provider_is_refused_and_nothing_is_published(
    cqc_file, store, tmp_path
):
    publishing.publish(publishing.prepare(cqc_file, "sites"), store, by=ALICE)
    names = "".join(f"9-{n:09d},Nobody Number {n},engaged\n" for n in range(50))
    path = _write(tmp_path / "engaged.csv", "CQC Provider ID,name,status\n" + names)

    with pytest.raises(InputError) as raised:
        publishing.prepare(path, "engagement", store=store)

    assert str(raised.value) == (
        "engagement list engaged.csv: none of its 50 rows names a provider of the provider "
        "list every page uses (Provider sites, sites v1, 9 sites) by ID or name; published, it "
        "would mark every independent and voluntary site 'not engaged'. Check its provider ID "
        "and name columns, or publish the provider list it was made for first"
    )
    prepared = publishing.prepare(path, "engagement")  # checked against nothing: no store
    with pytest.raises(InputError, match="none of its 50 rows names a provider"):
        publishing.publish(prepared, store, by=ALICE)
    assert store.current_version(workspace.ENGAGEMENT) is None


def test_an_engagement_list_that_names_few_providers_says_how_many(cqc_file, store, tmp_path):
    publishing.publish(publishing.prepare(cqc_file, "sites"), store, by=ALICE)
    path = _write(
        tmp_path / "engaged.csv",
        "CQC Provider ID,name,status\n1-102643003,East Lancashire Hospice,engaged\n"
        "9-000000001,Nobody,engaged\n9-000000002,Nor Anybody,engaged\n",
    )

    prepared = publishing.prepare(path, "engagement", store=store)

    assert (
        "1 of 3 rows (33%) name a provider of the provider list every page uses "
        "(Provider sites, sites v1) by ID or name" in prepared.notes
    )
    assert publishing.publish(prepared, store, by=ALICE).version == 1
