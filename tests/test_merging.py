"""Provider sources merged into one site table: one row per site, its sources kept."""

from __future__ import annotations

import pandas as pd

from geo.analysis.merging import merge_sources


def _sites(rows: list[tuple]) -> pd.DataFrame:
    columns = ["site_id", "site_name", "postcode", "capacity"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c: "string" for c in columns[:3]} | {"capacity": "Float64"})


def test_the_same_cqc_location_id_in_two_sources_is_one_site_with_both_sources():
    cqc = _sites([("1-1000210669", "Oak House", "AB1 2CD", 40)])
    team = _sites([("1-1000210669", "Oak House Care Home", "AB1 2CD", 40)])

    merged = merge_sources([("cqc-directory", cqc), ("team", team)])

    assert merged.sites["sources"].tolist() == ["cqc-directory, team"]
    assert merged.sites["site_name"].tolist() == ["Oak House"]  # the first source's value


def test_the_same_name_and_postcode_is_one_site_however_they_are_written():
    trusts = _sites([("RJ121", "St Thomas' Hospital", "SE1 7EH", None)])
    team = _sites([("17", "ST THOMAS HOSPITAL", "se17eh", None)])

    merged = merge_sources([("nhs-trust-sites", trusts), ("team", team)])

    assert len(merged.sites) == 1
    assert merged.sites["sources"].tolist() == ["nhs-trust-sites, team"]
    assert merged.conflicts.empty  # the postcode and name differ only in how they are written


def test_different_sites_are_all_kept_and_a_lists_own_row_numbers_never_merge():
    first = _sites([("1", "Elm Lodge", "E1 0AA", 10), ("1-2", "Ash Court", "N1 1AA", 5)])
    second = _sites([("1", "Birch House", "E2 0AA", 8)])

    merged = merge_sources([("a", first), ("b", second)])

    assert merged.sites["site_name"].tolist() == ["Elm Lodge", "Ash Court", "Birch House"]
    assert merged.sites["sources"].tolist() == ["a", "a", "b"]


def test_values_two_sources_disagree_on_are_reported_and_the_first_kept():
    cqc = _sites([("1-1000000001", "Oak House", "AB1 2CD", 40)])
    team = _sites([("1-1000000001", "Oak House", "AB1 2CD", 44)])

    merged = merge_sources([("cqc-directory", cqc), ("team", team)])

    assert merged.sites["capacity"].tolist() == [40]
    conflict = merged.conflicts.iloc[0]
    assert len(merged.conflicts) == 1
    assert (conflict["column"], conflict["kept_source"], conflict["other_source"]) == (
        "capacity", "cqc-directory", "team",
    )  # fmt: skip
    assert (conflict["kept_value"], conflict["other_value"]) == ("40.0", "44.0")


def test_sites_listed_twice_within_one_source_stay_two_rows():
    one = _sites([("1-5", "Oak House", "AB1 2CD", 1), ("1-5", "Oak House", "AB1 2CD", 2)])

    merged = merge_sources([("only", one)])

    assert len(merged.sites) == 2
    assert merged.sites["sources"].tolist() == ["only", "only"]
