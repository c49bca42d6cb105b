"""Tests for geo/analysis/engagement.py: reading engagement lists and applying them to sites."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from geo.analysis.engagement import (
    EDITED_ON,
    ENGAGEMENT_COLUMNS,
    REPORT_COLUMNS,
    apply_engagement,
    load_engagement,
)
from geo.analysis.matching import ACCEPTED_MATCH, normalise_provider_name
from geo.model.errors import InputError
from geo.model.sectors import normalise_sector_labels

_LEEDS = "E54000054"  # West Yorkshire
_BRISTOL = "E54000039"


@pytest.fixture
def sites() -> pd.DataFrame:
    """Canonical-shaped sites: two ICBs, four sectors, one provider with two sites."""
    rows = [
        ("s1", "1-101", "Barchester Healthcare Homes Limited", "Independent", _LEEDS),
        ("s2", "1-101", "Barchester Healthcare Homes Limited", "Independent", _BRISTOL),
        ("s3", "1-202", "Café Care Ltd", "Voluntary", _LEEDS),
        ("s4", "1-303", "Helping Hands Home Care Ltd", "Independent", _LEEDS),
        ("s5", "1-404", "Sunrise Senior Living", "Independent", _BRISTOL),
        ("s6", "RR8", "Leeds Teaching Hospitals NHS Trust", "NHS", _LEEDS),
        ("s7", "1-505", "Leeds City Council", "Local authority", _LEEDS),
    ]
    table = pd.DataFrame.from_records(
        rows, columns=["site_id", "provider_id", "provider_name", "sector", "icb_code"]
    ).astype("string")
    table["planning_status"] = pd.Series(["unknown"] * len(table), dtype="string")
    return table


def _engagement(*rows: tuple) -> pd.DataFrame:
    """An engagement list as load_engagement returns it: (id, name, icb, status)."""
    records = [
        dict(zip(ENGAGEMENT_COLUMNS, (*row, number), strict=True))
        for number, row in enumerate(rows, start=2)
    ]
    frame = pd.DataFrame.from_records(records, columns=list(ENGAGEMENT_COLUMNS))
    return frame.astype({c: "string" for c in ENGAGEMENT_COLUMNS[:-1]} | {"row": "int64"})


def _status(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["site_id"], table["planning_status"], strict=True))


# --- matching -------------------------------------------------------------------------


def test_provider_id_match_engages_every_site_of_that_provider(sites):
    result, report = apply_engagement(sites, _engagement(("1-101", "Barchester", None, "engaged")))
    assert _status(result)["s1"] == _status(result)["s2"] == "engaged"
    assert report.loc[0, "matched_by"] == "provider_id"
    assert report.loc[0, "sites_matched"] == 2
    assert bool(report.loc[0, "applied"])


def test_listed_provider_engaged_and_unlisted_iv_sites_not_engaged(sites):
    result, _ = apply_engagement(sites, _engagement(("1-101", None, None, "engaged")))
    status = _status(result)
    assert [status[s] for s in ("s3", "s4", "s5")] == ["not engaged"] * 3


def test_nhs_and_local_authority_sites_keep_their_status(sites):
    sites.loc[sites["site_id"] == "s6", "planning_status"] = "engaged"
    listed = _engagement(("RR8", None, None, "not engaged"), ("1-505", None, None, "engaged"))
    result, report = apply_engagement(sites, listed)
    assert _status(result)["s6"] == "engaged"
    assert _status(result)["s7"] == "unknown"
    assert "not independent or voluntary" in report.loc[0, "note"]


def test_exact_normalised_name_matches_when_the_id_is_missing(sites):
    listed = _engagement((None, "THE CAFÉ CARE LIMITED", None, "engaged"))
    result, report = apply_engagement(sites, listed)
    assert _status(result)["s3"] == "engaged"
    assert report.loc[0, ["matched_by", "matched_provider_name"]].tolist() == [
        "exact name",
        "Café Care Ltd",
    ]


def test_ids_and_names_match_whatever_invisible_characters_they_carry(sites):
    listed = _engagement(
        ("1-101\u200b", "Barchester", None, "engaged"),
        (None, "Caf\u00e9\u200b Care\u202e Ltd", None, "engaged"),
    )

    result, report = apply_engagement(sites, listed)

    assert report["matched_by"].tolist() == ["provider_id", "exact name"]
    assert [_status(result)[site] for site in ("s1", "s2", "s3")] == ["engaged"] * 3


def test_unknown_id_falls_back_to_the_name(sites):
    listed = _engagement(("9-999", "Sunrise Senior Living", None, "engaged"))
    result, report = apply_engagement(sites, listed)
    assert report.loc[0, "matched_by"] == "exact name"
    assert _status(result)["s5"] == "engaged"


def test_fuzzy_name_is_reported_with_its_score_but_not_applied(sites):
    result, report = apply_engagement(
        sites,
        _engagement(
            (None, "Helping Hand Home Care", None, "engaged"), ("1-202", None, None, "engaged")
        ),
    )
    row = report.iloc[0]
    assert row["matched_by"] == "fuzzy name"
    assert row["matched_provider_name"] == "Helping Hands Home Care Ltd"
    assert 85 <= row["score"] < 100
    assert not row["applied"]
    assert _status(result)["s4"] == "not engaged"


def test_fuzzy_name_is_applied_when_its_score_clears_the_accepted_threshold(sites):
    listed = _engagement(
        (None, "Helping Hand Home Care", None, "engaged"), ("1-202", None, None, "engaged")
    )
    _, report = apply_engagement(sites, listed)
    score = report.loc[0, "score"]
    accepted, _ = apply_engagement(sites, listed, accept_fuzzy_above=score)
    refused, _ = apply_engagement(sites, listed, accept_fuzzy_above=score + 0.1)
    assert _status(accepted)["s4"] == "engaged"
    assert _status(refused)["s4"] == "not engaged"


def test_unmatched_list_row_is_reported_as_none(sites):
    _, report = apply_engagement(
        sites,
        _engagement((None, "Nobody Anywhere", None, "engaged"), ("1-202", None, None, "engaged")),
    )
    assert report.loc[0, ["matched_by", "sites_matched", "applied"]].tolist() == ["none", 0, False]
    assert pd.isna(report.loc[0, "score"])


def test_a_list_that_matches_no_provider_is_reported_and_not_applied(sites):
    listed = _engagement(
        ("9-001", "Nobody Anywhere", None, "engaged"), ("9-002", "Nor Here", None, "engaged")
    )
    result, report = apply_engagement(sites, listed)

    assert report["matched_by"].tolist() == ["none", "none"]
    assert not report["applied"].any()
    pd.testing.assert_series_equal(result["planning_status"], sites["planning_status"])


def test_row_with_an_icb_applies_only_to_that_icbs_sites(sites):
    listed = _engagement(
        ("1-101", None, _LEEDS, "engaged"), (None, "Sunrise Senior Living", None, "engaged")
    )
    result, report = apply_engagement(sites, listed)
    status = _status(result)
    assert status["s1"] == "engaged"
    assert status["s2"] == "not engaged"
    assert report["sites_matched"].tolist() == [1, 1]


def test_list_for_one_icb_leaves_other_icbs_unknown(sites):
    result, _ = apply_engagement(sites, _engagement(("1-101", None, _LEEDS, "engaged")))
    status = _status(result)
    assert status["s4"] == "not engaged"  # Leeds, not on the Leeds list
    assert status["s5"] == "unknown"  # Bristol: the list says nothing about it


def test_icb_rows_apply_everywhere_with_a_note_when_sites_have_no_icb_yet(sites):
    result, report = apply_engagement(
        sites.drop(columns="icb_code"), _engagement(("1-101", None, _LEEDS, "engaged"))
    )
    assert _status(result)["s2"] == "engaged"
    assert "no icb_code" in report.loc[0, "note"]


def test_no_list_leaves_every_status_as_it_was(sites):
    result, report = apply_engagement(sites, None)
    assert set(result["planning_status"]) == {"unknown"}
    assert report.empty
    assert report.columns.tolist() == list(REPORT_COLUMNS)


def test_publishers_own_status_is_respected_without_a_list(sites):
    sites["planning_status"] = ["Yes", "no", "", None, "engaged", "", ""]
    result, _ = apply_engagement(sites, None)
    assert result["planning_status"].tolist()[:5] == [
        "engaged",
        "not engaged",
        "unknown",
        "unknown",
        "engaged",
    ]


def test_report_has_one_row_per_list_row_in_order(sites):
    listed = _engagement(
        ("1-101", None, None, "engaged"),
        (None, "Nobody", None, "engaged"),
        (None, "Café Care", None, "not engaged"),
    )
    result, report = apply_engagement(sites, listed)
    assert report.columns.tolist() == list(REPORT_COLUMNS)
    assert report["row"].tolist() == [2, 3, 4]
    assert _status(result)["s3"] == "not engaged"


def test_input_sites_are_not_modified(sites):
    before = sites.copy()
    apply_engagement(sites, _engagement(("1-101", None, None, "engaged")))
    pd.testing.assert_frame_equal(sites, before)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("The Café & Co. Ltd", "cafe and co"),
        ("Guy's and St Thomas' NHS Foundation Trust", "guys and st thomas nhs foundation trust"),
        ("HELPING HANDS (UK) LIMITED", "helping hands uk"),
        ("Dimensions (UK) Ltd.", "dimensions uk"),
        ("Mind in Leeds CIC", "mind in leeds"),
        (None, ""),
    ],
)
def test_provider_names_are_normalised_for_matching(name, key):
    assert normalise_provider_name(name) == key


# --- conflicting rows --------------------------------------------------------------------


def test_a_provider_listed_as_engaged_and_as_not_engaged_is_not_engaged_and_both_rows_say_so(
    sites,
):
    listed = _engagement(
        ("1-101", None, None, "engaged"),
        ("1-202", None, None, "engaged"),
        ("1-101", None, None, "not engaged"),
    )
    result, report = apply_engagement(sites, listed)

    assert _status(result)["s1"] == _status(result)["s2"] == "not engaged"
    assert _status(result)["s3"] == "engaged"
    assert report["conflict"].tolist() == [
        "conflicts with row 4 (not engaged): not engaged kept",
        pd.NA,
        "conflicts with row 2 (engaged): not engaged kept",
    ]
    assert report["planning_status"].tolist() == ["engaged", "engaged", "not engaged"]


def test_rows_matching_one_provider_by_id_and_by_name_can_conflict_too(sites):
    listed = _engagement((None, "Cafe Care", None, "not engaged"), ("1-202", None, None, "engaged"))
    result, report = apply_engagement(sites, listed)

    assert _status(result)["s3"] == "not engaged"
    assert report["matched_by"].tolist() == ["exact name", "provider_id"]
    assert report["conflict"].tolist() == [
        "conflicts with row 3 (engaged): not engaged kept",
        "conflicts with row 2 (not engaged): not engaged kept",
    ]


def test_a_blank_status_does_not_conflict_with_a_given_one(sites):
    listed = _engagement(("1-101", None, None, "unknown"), ("1-101", None, None, "engaged"))
    result, report = apply_engagement(sites, listed)

    assert _status(result)["s1"] == "engaged"
    assert report["conflict"].isna().all()


def test_rows_for_different_icbs_of_one_provider_do_not_conflict(sites):
    listed = _engagement(
        ("1-101", None, _LEEDS, "engaged"), ("1-101", None, _BRISTOL, "not engaged")
    )
    result, report = apply_engagement(sites, listed)

    assert (_status(result)["s1"], _status(result)["s2"]) == ("engaged", "not engaged")
    assert report["conflict"].isna().all()


# --- long lists ---------------------------------------------------------------------------


def _long_list(count: int, listed_ids: list[str]) -> pd.DataFrame:
    """`count` rows: the listed IDs first, then providers no site has, each named uniquely."""
    ids = listed_ids + [f"9-{n:09d}" for n in range(count - len(listed_ids))]
    names = [None] * len(listed_ids) + [
        f"Unlisted Provider Number {n} Ltd" for n in range(count - len(listed_ids))
    ]
    return _engagement(*((i, name, None, "engaged") for i, name in zip(ids, names, strict=True)))


def test_a_long_list_is_matched_in_bounded_time(sites):
    listed = _long_list(200_000, ["1-101", "1-202"])

    started = time.perf_counter()
    result, report = apply_engagement(sites, listed)
    elapsed = time.perf_counter() - started

    assert elapsed < 30  # was quadratic in practice: a million rows took 36 s and 1.4 GB
    assert _status(result)["s1"] == _status(result)["s3"] == "engaged"
    assert _status(result)["s4"] == "not engaged"
    assert report["matched_by"].value_counts().to_dict() == {"none": 199_998, "provider_id": 2}


def test_approximate_matching_stops_at_its_budget_and_says_which_rows_it_left(sites, monkeypatch):
    from geo.analysis import matching

    distinct_site_names = 6  # the fixture's providers, each compared with every list name
    monkeypatch.setattr(matching, "FUZZY_COMPARISON_LIMIT", 10 * distinct_site_names)
    listed = _long_list(30, [])

    _, report = apply_engagement(sites, listed)

    left_out = report["note"].str.startswith("not compared approximately")
    assert left_out.tolist() == [False] * 10 + [True] * 20


# --- reading lists --------------------------------------------------------------------


def test_csv_in_windows_1252_with_an_accented_name_reads_right(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_bytes("Provider ID,Provider Name\n1-202,Café Care Ltd\n".encode("cp1252"))
    table = load_engagement(path)
    assert table["provider_name"].tolist() == ["Café Care Ltd"]
    assert table.columns.tolist() == list(ENGAGEMENT_COLUMNS)
    assert table.loc[0, "planning_status"] == "engaged"


def test_csv_with_a_utf8_bom_reads_its_first_header(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("CQC Provider ID,name\n1-101,Barchester\n", encoding="utf-8-sig")
    assert load_engagement(path)["provider_id"].tolist() == ["1-101"]


def test_xlsx_with_icb_and_status_columns_reads(tmp_path):
    path = tmp_path / "engaged.xlsx"
    pd.DataFrame(
        {
            "ODS code": ["nlo01", "ahh"],
            "Organisation Name": ["Nuffield Health", "Ann's Hospice"],
            "ICB": [_LEEDS, ""],
            "Engaged?": ["Yes", "No"],
        }
    ).to_excel(path, index=False)
    table = load_engagement(path)
    assert table["provider_id"].tolist() == ["NLO01", "AHH"]
    assert table["icb_code"].tolist()[0] == _LEEDS
    assert pd.isna(table["icb_code"].tolist()[1])
    assert table["planning_status"].tolist() == ["engaged", "not engaged"]
    assert table["row"].tolist() == [2, 3]


def test_row_numbers_match_the_spreadsheet_after_blank_lines(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("name\nA Care Ltd\n\nB Care Ltd\n", encoding="utf-8")
    table = load_engagement(path)
    assert table[["provider_name", "row"]].values.tolist() == [["A Care Ltd", 2], ["B Care Ltd", 4]]


def test_a_row_of_only_invisible_characters_is_a_blank_row(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("Provider ID,name\n1-101,A Care Ltd\n\u200b,\u200b\n", encoding="utf-8")

    table = load_engagement(path)

    assert table["provider_name"].tolist() == ["A Care Ltd"]


def test_columns_can_be_named_by_the_caller(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("Who,Where\nA Care Ltd,E54000054\n", encoding="utf-8")
    table = load_engagement(path, columns={"provider_name": "Who", "icb_code": "Where"})
    assert table.loc[0, ["provider_name", "icb_code"]].tolist() == ["A Care Ltd", _LEEDS]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Colour,Size\nred,3\n",
            "engaged.csv: no provider id or name column; expected one of provider_id",
        ),
        ("name,ICB\nA Ltd,QWE\n", "engaged.csv: row 2, column ICB: 'QWE' is not an ICB code"),
        (
            "name,status\nA Ltd,yes\nB Ltd,perhaps\n",
            "engaged.csv: row 3, column status: 'perhaps' is not",
        ),
        ("name,ICB\n,E54000054\n", "engaged.csv: row 2: no provider id or name (name blank)"),
    ],
)
def test_bad_engagement_list_names_the_file_and_what_was_expected(tmp_path, text, expected):
    path = tmp_path / "engaged.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_engagement(path)
    assert expected in str(raised.value)


def test_several_bad_rows_are_counted_in_one_line(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("name,status\nA,perhaps\nB,yes\nC,maybe\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_engagement(path)
    assert str(raised.value) == (
        "engagement list engaged.csv: row 2, column status: 'perhaps' is not a status; "
        "expected yes/engaged/member or no/not engaged (also row 4)"
    )


def test_missing_provider_columns_message_lists_what_was_found(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("Colour,Size\nred,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"found Colour, Size$"):
        load_engagement(path)


def test_mapping_a_header_the_file_lacks_is_refused(tmp_path):
    path = tmp_path / "engaged.csv"
    path.write_text("name\nA\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'Who' \\(for provider_name\\) is not in the file"):
        load_engagement(path, columns={"provider_name": "Who"})


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "engaged.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(InputError, match=r"expected a \.csv or \.xlsx file"):
        load_engagement(path)


# --- real open data -------------------------------------------------------------------


def test_engagement_list_of_real_independent_trusts_marks_exactly_their_sites(
    shared_data, tmp_path
):
    hospitals = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")
    sites = pd.DataFrame(
        {
            "site_id": hospitals["hospitalId"],
            "provider_id": hospitals["trustId"],
            "provider_name": hospitals["trustName"],
            "sector": normalise_sector_labels(hospitals["sector"]),
            "icb_code": hospitals["icb24_code"],
        }
    )
    independent = sites[sites["sector"] == "Independent"]
    chosen = independent.drop_duplicates("provider_id").head(5)
    path = tmp_path / "engaged.csv"
    chosen[["provider_name"]].rename(columns={"provider_name": "Provider Name"}).to_csv(
        path, index=False
    )
    result, report = apply_engagement(sites, load_engagement(path))
    names = set(chosen["provider_name"])
    engaged = result["planning_status"] == "engaged"
    expected = (result["sector"] == "Independent") & result["provider_name"].isin(names)
    assert engaged.tolist() == expected.tolist()
    assert report["matched_by"].eq("exact name").all()
    assert report["sites_matched"].sum() == sites["provider_name"].isin(names).sum()


# --- accepting approximate matches and statuses set in the app -------------------------


def _with(listed: pd.DataFrame, column: str, values: list) -> pd.DataFrame:
    return listed.assign(**{column: pd.Series(values, dtype="string")})


def test_an_approximate_match_an_analyst_accepted_is_applied_and_said_so(sites):
    listed = _engagement(
        (None, "Helping Hand Home Care", None, "engaged"),
        (None, "Sunrise Senior Livng", None, "engaged"),
    )
    accepted = _with(listed, ACCEPTED_MATCH, ["Helping Hands Home Care Ltd", None])

    result, report = apply_engagement(sites, accepted)

    assert [_status(result)[s] for s in ("s4", "s5")] == ["engaged", "not engaged"]
    assert report["applied"].tolist() == [True, False]
    assert report.loc[0, "note"] == "approximate match accepted by an analyst"


def test_an_accepted_name_that_is_no_longer_the_closest_match_is_not_applied(sites):
    listed = _engagement(
        (None, "Helping Hand Home Care", None, "engaged"), ("1-202", None, None, "engaged")
    )
    accepted = _with(listed, ACCEPTED_MATCH, ["Helping Hearts Home Care", None])

    result, report = apply_engagement(sites, accepted)

    assert _status(result)["s4"] == "not engaged"
    assert not report.loc[0, "applied"]
    assert "Helping Hearts Home Care is no longer the closest name" in report.loc[0, "note"]


def test_a_status_set_in_the_app_wins_over_the_lists_row_for_the_same_provider(sites):
    listed = _engagement(("1-101", None, None, "not engaged"), ("1-101", None, _LEEDS, "engaged"))
    edited = _with(listed, EDITED_ON, [None, "2025-03-01"]).assign(
        edited_by=pd.Series([None, "ada"], dtype="string"),
        edit_note=pd.Series([None, "signed the compact"], dtype="string"),
    )

    result, report = apply_engagement(sites, edited)

    assert [_status(result)[s] for s in ("s1", "s2")] == ["engaged", "not engaged"]
    assert report["conflict"].isna().all()
    assert report.loc[1, "note"] == "set in the app on 2025-03-01 by ada: signed the compact"


def test_the_report_counts_matched_sites_that_are_not_independent_or_voluntary(sites):
    listed = _engagement(("RR8", None, None, "engaged"), ("1-101", None, None, "engaged"))
    _, report = apply_engagement(sites, listed)
    assert report["sites_not_iv"].tolist() == [1, 0]
