"""Old sub-ICB (CCG) codes reach the chosen vintage's ICBs through ONS's code history."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.official_codes import (
    MAPPED,
    SOURCE_COLUMN,
    SPLIT,
    UNMAPPED,
    attach_official_codes,
    successor_table,
    trace_successors,
)
from geo.io.code_history import load_code_history
from geo.io.lookups import load_sicbl_to_icb
from geo.model import problems

BIRMINGHAM_AND_SOLIHULL = "E54000055"
BLACK_COUNTRY = "E54000062"


@pytest.fixture(scope="module")
def lookup(shared_data) -> pd.DataFrame:
    return load_sicbl_to_icb(shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv")


@pytest.fixture(scope="module")
def history(fixtures_dir) -> pd.DataFrame:
    return load_code_history(fixtures_dir / "code_history_Changes.csv")


def _sites(*codes: str | None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": [f"1-{n}" for n in range(len(codes))],
            "official_icb_code": pd.array([None] * len(codes), dtype="string"),
            "official_sicbl_code": pd.array(codes, dtype="string"),
        }
    )


def _attached(lookup, history, *codes, vintage="2024"):
    return attach_official_codes(_sites(*codes), lookup, vintage, history)


# Tracing one code


def test_a_ccg_that_became_one_sub_icb_maps_cleanly():
    follow = {"E38000220": ("E38000258",)}

    traced = trace_successors("E38000220", follow, {"E38000258": ("E54000055",)})

    assert (traced.status, traced.successors, traced.icbs) == (
        MAPPED,
        ("E38000258",),
        ("E54000055",),
    )


def test_a_code_split_between_two_icbs_is_reported_not_guessed():
    follow = {"E38000250": ("E38000258", "E38000259")}
    icbs_of = {"E38000258": ("E54000055",), "E38000259": ("E54000062",)}

    traced = trace_successors("E38000250", follow, icbs_of)

    assert (traced.status, traced.icbs) == (SPLIT, ("E54000055", "E54000062"))


def test_a_split_whose_parts_stay_in_one_icb_still_maps():
    follow = {"E38000001": ("E38000002", "E38000003")}
    icbs_of = {"E38000002": ("E54000001",), "E38000003": ("E54000001",)}

    assert trace_successors("E38000001", follow, icbs_of).status == MAPPED


def test_a_chain_whose_end_the_lookup_does_not_know_is_unmapped_and_cycles_end():
    follow = {"E38000001": ("E38000002",), "E38000002": ("E38000001",)}

    traced = trace_successors("E38000001", follow, {})

    assert (traced.status, traced.icbs) == (UNMAPPED, ())


def test_successors_of_a_history_list_every_new_code_of_an_old_one(history):
    follow = successor_table(history)

    assert follow["E38000250"] == ("E38000258", "E38000259")
    assert follow["E38000012"] == ("E38000220",)


# Sites: the 2024 lookup, then the code history


def test_old_birmingham_codes_reach_birmingham_and_solihull_icb(lookup, history):
    sites, notes = _attached(lookup, history, "E38000220", "E38000012", "E38000258")

    assert sites["official_icb_code"].tolist() == [BIRMINGHAM_AND_SOLIHULL] * 3
    assert sites.loc[0, SOURCE_COLUMN] == (
        "old sub-ICB code E38000220 became E38000258 (ONS code history): ICB E54000055"
    )
    assert sites.loc[2, SOURCE_COLUMN] == "sub-ICB E38000258 in the 2024 lookup: ICB E54000055"
    assert notes == [
        (
            "Older sub-ICB (CCG) codes mapped to 2024 ICBs through the ONS code history: "
            "E38000012 → E38000258 (ICB E54000055): 1 site; "
            "E38000220 → E38000258 (ICB E54000055): 1 site.",
            problems.NOTE,
        )
    ]


def test_black_country_and_west_birmingham_is_split_and_its_sites_placed_by_coordinates(
    lookup, history
):
    sites, notes = _attached(lookup, history, "E38000250", "E38000250", "E38000144")

    assert sites["official_icb_code"].isna().all()
    assert sites.loc[0, SOURCE_COLUMN] == (
        "old sub-ICB code E38000250 was split between 2024 ICBs E54000055, E54000062 "
        "(ONS code history): placed by coordinates"
    )
    [(text, level)] = notes
    assert level == problems.WARNING
    assert "E38000250 (ICBs E54000055, E54000062): 2 sites" in text
    assert "E38000144 (ICBs E54000055, E54000062): 1 site" in text


def test_a_code_nobody_knows_is_counted_per_code_and_placed_by_coordinates(lookup, history):
    sites, notes = _attached(lookup, history, "E38000999", "E38000999", "E38000777")

    assert sites["official_icb_code"].isna().all()
    [(text, level)] = notes
    assert level == problems.WARNING
    assert text.startswith("3 sites have a sub-ICB code the 2024 lookup does not map to an ICB")
    assert text.endswith("E38000999: 2 sites; E38000777: 1 site.")


def test_without_a_code_history_old_codes_are_not_mapped_and_the_note_says_how_to_get_one(
    lookup,
):
    sites, notes = attach_official_codes(_sites("E38000220"), lookup, "2024", None)

    assert sites["official_icb_code"].isna().all()
    assert "no ONS code history loaded" in sites.loc[0, SOURCE_COLUMN]
    assert "python -m geo fetch" in notes[0][0]


def test_frimley_stays_ambiguous_in_2026_and_surrey_recodes_follow_to_the_merged_icb(
    lookup, history
):
    frimley = "E38000252"
    sites, notes = _attached(lookup, history, frimley, "E38000246", vintage="2026")

    assert pd.isna(sites.loc[0, "official_icb_code"])
    assert sites.loc[1, "official_icb_code"] == "E54000069"  # Surrey and Sussex, 2026
    assert notes[0] == (
        f"Sub-ICB {frimley} lies in several 2026 ICBs (E54000067, E54000069, E54000070), so "
        "the sites carrying it are placed by their coordinates: 1 site.",
        problems.NOTE,
    )


def test_a_site_with_its_own_official_icb_keeps_it_and_gets_no_reason(lookup, history):
    sites = _sites("E38000250")
    sites["official_icb_code"] = pd.array(["E54000062"], dtype="string")

    attached, notes = attach_official_codes(sites, lookup, "2024", history)

    assert attached.loc[0, "official_icb_code"] == "E54000062"
    assert pd.isna(attached.loc[0, SOURCE_COLUMN])
    assert notes == []


# The whole analysis, from a CQC file with old codes and no coordinates


def test_cqc_sites_with_old_codes_and_no_coordinates_reach_their_icb_not_outside(
    shared_data, fixtures_dir, tmp_path
):
    from geo.analysis import pipeline
    from geo.testing.publisher_files import cqc_hsca_row, write_cqc_hsca_csv

    rows = [
        cqc_hsca_row(**{"Location ID": "1-1", "Location Name": "Old code home",
                        "Location ONSPD CCG Code": "E38000220"}),
        cqc_hsca_row(**{"Location ID": "1-2", "Location Name": "Split code home",
                        "Location ONSPD CCG Code": "E38000250"}),
    ]  # fmt: skip
    files = pipeline.InputFiles(
        boundaries=shared_data / "icb_2024_04_from_lsoa21_bsc.geojson",
        sites=write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", rows),
        lookup=shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv",
        code_history=fixtures_dir / "code_history_Changes.csv",
    )

    analysis = pipeline.analyse(pipeline.load_files(files))

    assigned = analysis.assigned.set_index("site_id")
    assert assigned.loc["1-1", ["icb_code", "assignment"]].tolist() == [
        BIRMINGHAM_AND_SOLIHULL,
        "official",
    ]
    assert assigned.loc["1-2", "assignment"] == "no coordinates"
    assert "split" in assigned.loc["1-2", SOURCE_COLUMN]
    warnings = [note.text for note in analysis.notes if note.level == problems.WARNING]
    assert any("E38000250 (ICBs E54000055, E54000062): 1 site" in text for text in warnings)
    assert analysis.provenance["dataset"].tolist()[-1] == "code_history"
