"""The data everyone sees: published versions first, the cached official files otherwise."""

from __future__ import annotations

import pytest

from geo import workspace
from geo.briefing import documents
from geo.fetch import sources
from geo.io import boundaries, readers
from geo.model import problems
from geo.model.errors import InputError
from geo.store.versions import open_store
from tests.factories import hospitals_table


@pytest.fixture
def cached(data_dir, shared_data):
    """A data folder loaded the way an offline user would: `python -m geo fetch --from`."""
    sources.fetch_from_dir(shared_data)
    return data_dir


@pytest.fixture
def store(cached):
    with open_store() as opened:
        yield opened


def _sites(shared_data, count: int):
    sites = readers.read_sites(shared_data / "hospitals_england_2020_05_nhs_website.csv").sites
    return sites.head(count).reset_index(drop=True)


def test_with_nothing_loaded_it_says_how_to_get_data(data_dir):
    with pytest.raises(InputError, match="python -m geo fetch"):
        workspace.analyse(None, None)


def test_cached_vintages_are_all_offered_and_the_newest_is_shown_first(cached, store):
    assert workspace.vintages(store) == ["2022", "2023", "2024", "2026"]
    assert workspace.newest_vintage(store) == "2026"


def test_the_vintage_setting_chooses_what_is_shown_first(cached, store, monkeypatch):
    monkeypatch.setenv("ICS_VINTAGE", "2023")
    assert workspace.newest_vintage(store) == "2023"


def test_until_something_is_published_the_cached_files_are_used(cached, store, shared_data):
    analysis = workspace.analyse("2023", store)
    assert analysis.metrics["sites_total"].sum() == len(hospitals_table(shared_data))
    assert set(analysis.provenance["version"]) == {"cached file"}
    assert analysis.provenance["data"].str.contains("ICB boundaries 2023").any()


def test_notes_that_change_what_the_figures_mean_are_warnings_the_rest_notes(cached, store):
    analysis = workspace.analyse("2023", store)

    levels = {note.text: note.level for note in analysis.notes}
    warnings = [text for text, level in levels.items() if level == problems.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("No planning-engagement list was loaded")
    assert levels["ICB boundaries: 2023 vintage, 42 ICBs."] == problems.NOTE


def test_each_provenance_row_names_its_dataset_for_code_to_select_by(cached, store, shared_data):
    store.publish(
        "sites",
        "sites",
        _sites(shared_data, 100),
        author="analyst",
        file_name="first100.csv",
        checksum="x",
        counts={"accepted": 100},
    )

    provenance = workspace.analyse("2023", store).provenance.set_index("dataset")

    assert provenance.loc["sites", "version"] == "sites v1"
    assert provenance.loc["icb", "data"] == "ICB boundaries 2023"
    assert provenance.loc["icb", "version"] == "cached file"


def test_the_default_2026_boundaries_are_credited_as_a_reconstruction_in_every_source_line(
    cached, store
):
    analysis = workspace.analyse("2026", store)

    credit = analysis.provenance.set_index("dataset").loc["icb", "publisher"]
    lines = documents.area_briefing(analysis, "england").provenance

    assert credit.startswith("reconstructed from the ONS LSOA→ICB lookup (LSOA 2021")
    assert lines[0].startswith(f"ICB boundaries 2026, {credit}: ")
    assert "Office for National Statistics" not in lines[0]
    assert not any(line.startswith("Data source") for line in lines)


def test_a_published_provider_list_replaces_the_cached_one_for_everyone(cached, store, shared_data):
    store.publish(
        "sites",
        "sites",
        _sites(shared_data, 100),
        author="analyst",
        file_name="first100.csv",
        checksum="x",
        counts={"accepted": 100},
    )
    analysis = workspace.analyse("2023", store)
    assert analysis.metrics["sites_total"].sum() == 100
    assert "sites v1" in analysis.provenance["version"].tolist()


def test_an_earlier_version_can_be_pinned(cached, store, shared_data):
    for count in (50, 80):
        store.publish(
            "sites",
            "sites",
            _sites(shared_data, count),
            author="analyst",
            file_name=f"{count}.csv",
            checksum=str(count),
            counts={"accepted": count},
        )
    assert workspace.analyse("2023", store).metrics["sites_total"].sum() == 80
    pinned = workspace.analyse("2023", store, workspace.Pins(sites=1))
    assert pinned.metrics["sites_total"].sum() == 50


def test_a_published_boundary_vintage_is_offered_and_used(cached, store, shared_data):
    layer = boundaries.load_boundaries(shared_data / "icb_2022_07_buc.geojson")
    layer["vintage"] = "2027"
    store.publish(
        workspace.boundary_dataset("icb", "2027"),
        "boundaries",
        layer,
        author="analyst",
        file_name="icb27.geojson",
        checksum="y",
        counts={"accepted": 42},
    )
    assert workspace.vintages(store)[-1] == "2027"
    analysis = workspace.analyse("2027", store)
    assert analysis.vintage == "2027"
    assert "boundaries-icb-2027 v1" in analysis.provenance["version"].tolist()


def test_the_fingerprint_changes_when_anything_is_published(cached, store, shared_data):
    before = workspace.fingerprint(store)
    store.publish(
        "sites",
        "sites",
        _sites(shared_data, 10),
        author="analyst",
        file_name="10.csv",
        checksum="z",
        counts={"accepted": 10},
    )
    assert workspace.fingerprint(store) != before


def test_a_provider_list_stored_under_a_boundary_name_before_names_were_checked_is_ignored(
    cached, store, shared_data, monkeypatch
):
    from geo.store import versions

    monkeypatch.setattr(versions, "check_dataset_name", lambda dataset, kind: None)
    store.publish(
        "boundaries-icb-2099", "sites", _sites(shared_data, 50), author="analyst",
        file_name="sites.csv", checksum="x", counts={"accepted": 50},
    )  # fmt: skip
    store.publish(
        "boundaries-sicbl-2024", "sites", _sites(shared_data, 50), author="analyst",
        file_name="sites.csv", checksum="x", counts={"accepted": 50},
    )  # fmt: skip

    assert workspace.vintages(store) == ["2022", "2023", "2024", "2026"]
    analysis = workspace.analyse(None, store)
    assert analysis.vintage == "2026"
    assert workspace.analyse("2024", store).provenance["version"].eq("cached file").all()
