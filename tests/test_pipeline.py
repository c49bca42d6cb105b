"""The one constructor of an Analysis: frames from files or from the store, provenance built in."""

from __future__ import annotations

import dataclasses

import pytest
from pandas.testing import assert_frame_equal

from geo import workspace
from geo.analysis import pipeline
from geo.analysis.engagement import load_engagement
from geo.fetch import sources
from geo.io import readers
from geo.model import problems
from geo.store.versions import open_store

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"


@pytest.fixture
def files_2024(shared_data) -> pipeline.InputFiles:
    """The 2024 files the download cache holds, named directly as a CLI user would."""
    return pipeline.InputFiles(
        boundaries=shared_data / "icb_2024_04_from_lsoa21_bsc.geojson",
        sites=shared_data / HOSPITALS,
        sub_icbs=shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson",
        regions=shared_data / "nhs_england_regions_2024_01_bgc.geojson",
        lookup=shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv",
    )


@pytest.fixture
def store_with_hospitals(data_dir, shared_data):
    """The cache loaded from the shared data and the same hospitals published into the store."""
    sources.fetch_from_dir(shared_data)
    with open_store() as store:
        store.publish(
            workspace.SITES, "sites", readers.read_sites(shared_data / HOSPITALS).sites,
            author="analyst", file_name=HOSPITALS, checksum="h", counts={"accepted": 1213},
        )  # fmt: skip
        yield store


def test_the_same_data_from_files_or_from_the_store_gives_the_same_figures(
    files_2024, store_with_hospitals
):
    from_files = pipeline.analyse(pipeline.load_files(files_2024))
    from_store = pipeline.analyse(workspace.load_frames("2024", store_with_hospitals))

    assert "sites v1" in from_store.provenance["version"].tolist()  # the sites came from the store
    assert_frame_equal(from_files.metrics, from_store.metrics)
    columns = ["site_id", "icb_code", "sicbl_code", "region_code", "assignment"]
    assert_frame_equal(from_files.assigned[columns], from_store.assigned[columns])
    assert from_files.notes == from_store.notes


def test_an_analysis_carries_the_provenance_of_its_frames_from_construction(files_2024):
    frames = pipeline.load_files(files_2024)

    analysis = pipeline.analyse(frames)

    assert analysis.provenance is frames.provenance
    assert analysis.provenance["from"].tolist() == [
        str(files_2024.boundaries),
        str(files_2024.sites),
        str(files_2024.sub_icbs),
        str(files_2024.regions),
        str(files_2024.lookup),
    ]
    assert analysis.provenance["data"].iloc[0] == "ICB boundaries 2024"
    assert set(analysis.provenance["version"]) == {"local file"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.provenance = None


def test_frames_cannot_be_made_without_saying_where_they_came_from(files_2024):
    frames = pipeline.load_files(files_2024)

    with pytest.raises(TypeError, match="provenance"):
        pipeline.Frames(icbs=frames.icbs, sites=frames.sites)


def _engagement_csv(path, provider: str):
    path.write_text(f"provider_name,status\n{provider},engaged\n", encoding="utf-8")
    return path


def test_an_engagement_file_replaces_the_published_list_and_its_provenance_row(
    data_dir, shared_data, tmp_path
):
    sources.fetch_from_dir(shared_data)
    published = load_engagement(_engagement_csv(tmp_path / "published.csv", "Nuffield Health"))
    given = _engagement_csv(tmp_path / "given.csv", "Spire Healthcare")
    with open_store() as store:
        store.publish(
            workspace.ENGAGEMENT, "engagement", published,
            author="analyst", file_name="published.csv", checksum="e", counts={"accepted": 1},
        )  # fmt: skip
        frames = workspace.load_frames("2024", store)

    replaced = pipeline.replace_engagement(frames, given)

    assert frames.engagement["provider_name"].tolist() == ["Nuffield Health"]
    assert replaced.engagement["provider_name"].tolist() == ["Spire Healthcare"]
    engagement_rows = replaced.provenance[replaced.provenance["data"] == pipeline.ENGAGEMENT_LABEL]
    assert engagement_rows["from"].tolist() == [str(given)]
    assert len(replaced.provenance) == len(frames.provenance)


def test_what_was_noticed_reading_a_named_file_is_among_the_analysis_notes(files_2024, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_bytes(
        b"name,sector,lat,lon\n"
        + "Café Ñandú,NHS,53.80,-1.55\n".encode()
        + "Crème House,NHS,53.81,-1.56\n".encode("cp1252")
    )

    frames = pipeline.load_files(dataclasses.replace(files_2024, sites=sites))
    analysis = pipeline.analyse(frames)

    assert frames.sites["site_name"].tolist() == ["Café Ñandú", "Crème House"]
    assert (
        pipeline.Note(
            "sites.csv: lines not in UTF-8, read as Windows-1252 (check their accented letters): 3"
        )
        in analysis.notes
    )


def _warnings(analysis: pipeline.Analysis) -> list[str]:
    return [note.text for note in analysis.notes if note.level == problems.WARNING]


def test_an_engagement_list_that_matches_no_hospital_is_not_applied_and_says_so(
    files_2024, tmp_path
):
    listed = tmp_path / "engaged.csv"
    listed.write_text(
        "provider_name,status\n" + "".join(f"Nobody Number {n},engaged\n" for n in range(50)),
        encoding="utf-8",
    )
    without = pipeline.analyse(pipeline.load_files(files_2024))

    analysis = pipeline.analyse(
        pipeline.load_files(dataclasses.replace(files_2024, engagement=listed))
    )

    assert (
        analysis.assigned["planning_status"].tolist()
        == without.assigned["planning_status"].tolist()
    )
    assert any(
        text.startswith("The engagement list was not applied") for text in _warnings(analysis)
    )


def test_engagement_rows_that_conflict_are_a_warning_naming_the_rule(files_2024, tmp_path):
    listed = tmp_path / "engaged.csv"
    listed.write_text(
        "provider_name,status\nNuffield Health,engaged\nNuffield Health,not engaged\n",
        encoding="utf-8",
    )

    analysis = pipeline.analyse(
        pipeline.load_files(dataclasses.replace(files_2024, engagement=listed))
    )

    assert (
        "2 engagement rows give the same sites different statuses; 'not engaged' wins over "
        "'engaged', and either over a blank status (see the match report's conflict column)."
    ) in _warnings(analysis)
    nuffield = analysis.assigned["provider_name"] == "Nuffield Health"
    assert set(analysis.assigned.loc[nuffield, "planning_status"]) == {"not engaged"}


def test_an_icbs_sites_are_those_assigned_to_it_and_a_code_with_none_has_no_rows(files_2024):
    analysis = pipeline.analyse(pipeline.load_files(files_2024))
    columns = ["site_name", "sector", "icb_code"]
    for code in analysis.icbs["code"]:
        expected = analysis.assigned.loc[analysis.assigned["icb_code"] == code, columns]
        assert_frame_equal(analysis.sites_in(code, columns), expected)
    nowhere = analysis.sites_in("E54099999", columns)
    assert nowhere.empty
    assert list(nowhere.columns) == columns
    in_all = sum(len(analysis.sites_in(code, ["site_id"])) for code in analysis.icbs["code"])
    assert in_all == int(analysis.assigned["icb_code"].notna().sum())  # outside every ICB: none


def test_region_names_come_back_the_same_and_a_caller_cannot_change_them(files_2024):
    analysis = pipeline.analyse(pipeline.load_files(files_2024))
    names = analysis.region_names()
    assert len(names) == 7  # NHS England's regions
    names.clear()
    assert len(analysis.region_names()) == 7
