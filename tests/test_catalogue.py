"""Tests for geo/fetch/catalogue.py: the cache manifest (provenance, preferences, what is missing)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from geo.fetch import catalogue
from geo.fetch.catalogue import CacheEntry
from geo.io import recognise
from geo.model.errors import InputError


def _cached(kind: str, vintage: str, name: str, content: bytes, **changes) -> CacheEntry:
    """Write `content` into the cache as `name` and describe it, as a fetch would."""
    file = f"{kind}/{name}"
    path = catalogue.settings.cache_dir() / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    fields = {
        "kind": kind,
        "vintage": vintage,
        "file": file,
        "source_url": f"local file: /somewhere/{name}",
        "publisher": recognise.ONS,
        "licence": catalogue.attribution(recognise.ONS),
        "retrieved_at": "2026-11-01T09:00:00Z",
        "published": None,
        "sha256": f"sha-of-{content!r}",
        "bytes": len(content),
        "rows": 42,
        "title": name,
    }
    return CacheEntry(**{**fields, **changes})


# ------------------------------------------------------------------ the manifest


def test_an_empty_cache_has_no_entries_and_says_what_the_app_lacks(data_dir):
    lines = catalogue.missing_for_app()

    assert catalogue.load_manifest() == []
    assert catalogue.find("icb") is None
    assert lines[0] == (
        "No ICB boundaries yet: run `python -m geo fetch` (online) or "
        "`python -m geo fetch --from DIR` (offline) or upload them on the Upload page."
    )
    assert lines[1].startswith("No provider sites yet:")


def test_a_recorded_entry_is_found_again_with_its_provenance(data_dir):
    entry = _cached("icb", "2023", "icbs.geojson", b"{}", published="2023-04-01")

    catalogue.record(entry)

    assert catalogue.load_manifest() == [entry]
    assert catalogue.find("icb", "2023") == entry
    assert catalogue.find("icb", "2022") is None
    assert catalogue.entries("sites") == []
    assert catalogue.entry_path(entry).read_bytes() == b"{}"
    manifest = json.loads((data_dir / "cache" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest[0]["published"] == "2023-04-01"
    assert manifest[0]["source_url"] == "local file: /somewhere/icbs.geojson"


def test_the_manifest_is_replaced_whole_leaving_no_temporary_file(data_dir):
    catalogue.record(_cached("icb", "2023", "a.geojson", b"a"))
    catalogue.record(_cached("icb", "2024", "b.geojson", b"b"))

    leftovers = [p.name for p in (data_dir / "cache").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert len(json.loads((data_dir / "cache" / "manifest.json").read_text())) == 2


def test_a_newer_entry_for_the_same_kind_vintage_and_title_replaces_the_older(data_dir):
    old = _cached("icb", "2023", "icbs-old.geojson", b"old", title="ICB 2023")
    new = _cached("icb", "2023", "icbs-new.geojson", b"new", title="ICB 2023")
    catalogue.record(old)

    catalogue.record(new)

    assert catalogue.entries() == [new]
    assert not catalogue.entry_path(old).exists()  # the superseded file is not left behind
    assert catalogue.entry_path(new).exists()


def test_recording_the_same_content_twice_keeps_one_entry(data_dir):
    entry = _cached("sicbl_lookup", "2024", "lookup.csv", b"x")

    catalogue.record(entry)
    catalogue.record(entry)

    assert catalogue.entries() == [entry]


def test_one_file_can_serve_two_vintages(data_dir):
    for_2024 = _cached("sicbl_lookup", "2024", "lookup.csv", b"x")
    for_2026 = dataclasses.replace(for_2024, vintage="2026")

    catalogue.record(for_2024)
    catalogue.record(for_2026)

    assert catalogue.vintages("sicbl_lookup") == ["2024", "2026"]
    assert catalogue.entry_path(for_2024).exists()


def test_find_prefers_the_newest_vintage_then_the_most_detailed_file(data_dir):
    coarse = _cached("icb", "2022", "buc.geojson", b"c" * 10)
    detailed = _cached("icb", "2022", "bsc.geojson", b"d" * 100)
    older_vintage = _cached("icb", "2021", "old.geojson", b"o" * 1000)
    for entry in (coarse, detailed, older_vintage):
        catalogue.record(entry)

    assert catalogue.find("icb", "2022") == detailed
    assert catalogue.find("icb") == detailed
    assert catalogue.vintages() == ["2021", "2022"]


def test_provenance_table_shows_every_file_and_which_one_is_in_use(data_dir):
    coarse = _cached("icb", "2022", "buc.geojson", b"c")
    detailed = _cached("icb", "2022", "bsc.geojson", b"dd")
    sites = _cached("sites", "", "sites.csv", b"s", publisher="unknown", licence="?", rows=3)
    for entry in (coarse, detailed, sites):
        catalogue.record(entry)

    table = catalogue.provenance_table()

    assert list(table["Title"]) == ["buc.geojson", "bsc.geojson", "sites.csv"]
    assert list(table["In use"]) == [False, True, True]
    assert list(table["What"]) == ["ICB boundaries", "ICB boundaries", "Provider sites"]
    assert table.loc[0, "Licence"] == catalogue.ATTRIBUTIONS[recognise.ONS]


def test_an_entry_whose_file_has_gone_is_reported_missing(data_dir):
    entry = _cached("icb", "2023", "icbs.geojson", b"{}")
    catalogue.record(entry)
    catalogue.entry_path(entry).unlink()

    lines = catalogue.missing_for_app()

    assert any("icb/icbs.geojson but the file is missing" in line for line in lines)
    assert not any(line.startswith("No ICB boundaries") for line in lines)


def test_a_corrupt_manifest_is_an_input_error_naming_it(data_dir):
    (data_dir / "cache").mkdir()
    (data_dir / "cache" / "manifest.json").write_text("[{not json")

    with pytest.raises(InputError, match=r"cache manifest .*manifest\.json: is not valid JSON"):
        catalogue.load_manifest()


def test_an_entry_of_an_unknown_kind_is_refused(data_dir):
    with pytest.raises(InputError, match="kind 'hospitals' is not one of"):
        catalogue.record(dataclasses.replace(_cached("icb", "2023", "x", b"x"), kind="hospitals"))
    assert catalogue.entries() == []


def test_ons_attribution_is_the_one_ogl_requires():
    assert catalogue.attribution(recognise.ONS) == (
        "Source: Office for National Statistics licensed under the Open Government Licence "
        "v.3.0. Contains OS data © Crown copyright and database right 2022–2025."
    )
    assert "CQC" in catalogue.attribution(recognise.CQC)
    assert catalogue.attribution("someone else") == catalogue.ATTRIBUTIONS["unknown"]


def test_attribution_text_credits_each_publisher_in_the_cache_once(data_dir):
    assert catalogue.attribution_text() == ""
    catalogue.record(_cached("icb", "2023", "a.geojson", b"a"))
    catalogue.record(_cached("icb", "2024", "b.geojson", b"b"))
    catalogue.record(_cached("sites", "", "c.ods", b"c", publisher=recognise.CQC))

    text = catalogue.attribution_text()

    assert text == (
        f"{catalogue.ATTRIBUTIONS[recognise.ONS]} {catalogue.ATTRIBUTIONS[recognise.CQC]}"
    )


# ------------------------------------------------------------------ reconstructions


def test_a_layer_counting_its_lsoas_is_a_reconstruction_whatever_its_name():
    credit = catalogue.reconstruction_credit(
        "my_icbs.geojson", ("ICB25CD", "ICB25NM", "n_lsoa"), "icb", "2025"
    )

    assert credit == "reconstructed from the ONS LSOA→ICB lookup (LSOA → sub-ICB → ICB 2025)"


def test_a_name_saying_from_lsoa_names_the_lsoa_year_and_the_lookup():
    credit = catalogue.reconstruction_credit(
        "sub_icb_locations_2030_04_from_lsoa31.gpkg", ("SICBL30CD", "ICB30CD"), "sicbl", "2030"
    )

    assert credit == "reconstructed from the ONS LSOA→ICB lookup (LSOA 2031 → sub-ICB → ICB 2030)"


def test_a_layer_with_predecessor_codes_names_the_earlier_lookup_and_the_changes():
    credit = catalogue.reconstruction_credit(
        "icbs_2028.geojson", ("ICB28CD", "n_lsoa", "predecessor_icb26_codes"), "icb", "2028"
    )

    assert credit == (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA → sub-ICB → ICB 2026, with the 2028"
        " ICB changes applied by the file's maker)"
    )


def test_ons_own_layers_and_lookups_are_not_reconstructions():
    assert (
        catalogue.reconstruction_credit(
            "Integrated_Care_Boards_April_2023_EN_BGC", ("ICB23CD", "ICB23NM"), "icb", "2023"
        )
        is None
    )
    assert catalogue.reconstruction_credit(
        "LSOA21_SICBL26_ICB26_NHSER26_LAD26.csv", ("LSOA21CD", "SICBL26CD", "ICB26CD"),
        "sicbl_lookup", "2026",
    ) is None  # fmt: skip


def test_a_lookup_whose_icb_year_has_no_sub_icb_codes_of_its_own_is_a_reconstruction():
    columns = ("lsoa21_code", "sicbl24_code", "icb24_code", "icb26_code")

    credit = catalogue.reconstruction_credit("lookup.csv", columns, "sicbl_lookup", "2026")

    assert credit == (
        "reconstructed from the ONS LSOA→ICB lookup (2024 sub-ICB codes mapped to 2026 ICBs by"
        " the file's maker; not an ONS lookup)"
    )
    assert catalogue.reconstruction_credit("lookup.csv", columns, "sicbl_lookup", "2024") is None


def test_a_reconstruction_carries_the_ons_licence_and_says_it_is_not_ons(data_dir):
    credit = catalogue.reconstruction_credit("icb.geojson", ("ICB24CD", "n_lsoa"), "icb", "2024")
    catalogue.record(_cached("icb", "2024", "icb.geojson", b"i", publisher=credit))

    table = catalogue.provenance_table()

    assert table.loc[0, "Publisher"] == credit
    assert catalogue.attribution(credit).startswith(catalogue.ATTRIBUTIONS[recognise.ONS])
    assert "not ONS products" in catalogue.attribution_text()
