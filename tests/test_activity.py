"""Reading NHS England's RTT and DM01 extracts into provider x commissioner figures."""

from __future__ import annotations

import dataclasses
import zipfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from geo.io import activity
from geo.model import problems
from geo.model.errors import InputError
from geo.model.evidence import (
    ACTIVITY_COLUMNS,
    COMPLETED_PATHWAYS,
    DIAGNOSTIC_TESTS,
    PATIENTS_WAITING,
    WAITING_FOR_TEST,
)
from geo.testing import activity_files as files


@pytest.fixture(scope="module")
def world(shared_data) -> files.ActivityWorld:
    return files.ActivityWorld.load(shared_data)


@pytest.fixture(scope="module")
def rtt_rows(world) -> list[files.RttRow]:
    return files.example_rtt_rows(world)


@pytest.fixture(scope="module")
def rtt_zip(rtt_rows, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rtt")
    return files.write_rtt_zip(
        folder / "Full-CSV-data-file-Jun26-ZIP-4M-Dc1i9U.zip", rtt_rows, 2026, 6
    )


@pytest.fixture(scope="module")
def rtt(rtt_zip) -> activity.ActivityFile:
    return activity.read_activity_file(rtt_zip, activity.RTT)


def _figure(table: pd.DataFrame, provider: str, commissioner: str, measure: str) -> object:
    """The one value of a provider x commissioner x measure (the test fails if not one)."""
    found = table[
        (table["provider_code"] == provider)
        & (table["commissioner_code"] == commissioner)
        & (table["measure"] == measure)
    ]
    assert len(found) == 1, found
    return found["value"].iloc[0]


def _rtt_expected(rows: list[files.RttRow]) -> dict[tuple[str, str, str], float | None]:
    """What each provider x commissioner x measure should be, computed row by row: the
    C_999 row where a part has one, else its functions; a blank Total All adds nothing, and
    a figure with no number at all is None."""
    measures = {"Part_2": PATIENTS_WAITING, "Part_1A": COMPLETED_PATHWAYS}
    measures["Part_1B"] = COMPLETED_PATHWAYS
    by_part: dict[tuple, list[files.RttRow]] = defaultdict(list)
    for row in rows:
        if row.part in measures:
            key = (row.provider.code.strip().upper(), row.commissioner.code, row.part)
            by_part[key].append(row)
    expected: dict[tuple[str, str, str], float | None] = {}
    for (provider, commissioner, part), group in by_part.items():
        totals = [row for row in group if row.function == "C_999"]
        cells = [row.written_total_all() for row in (totals or group)]
        numbers = [float(cell) for cell in cells if cell != ""]
        key = (provider, commissioner, measures[part])
        if numbers:
            expected[key] = (expected.get(key) or 0.0) + sum(numbers)
        else:
            expected.setdefault(key, None)
    return expected


def test_rtt_figures_reconcile_with_the_fixture_rows_counted_by_hand(rtt, rtt_rows):
    expected = _rtt_expected(rtt_rows)

    table = rtt.rows
    got = {
        (row.provider_code, row.commissioner_code, row.measure): (
            None if pd.isna(row.value) else row.value
        )
        for row in table.itertuples()
    }
    assert got == expected
    assert list(table.columns) == list(ACTIVITY_COLUMNS)


def test_the_c_999_total_is_used_and_its_functions_are_not_added_to_it(rtt, world):
    nt401, first = "NT401", world.sub_icbs[0].code

    # C_999 (19) counts functions not listed; C_100 (6) + C_110 (8) are not added to it.
    assert _figure(rtt.rows, nt401, first, PATIENTS_WAITING) == 19
    # Part_1A's C_999 (6 + unknown 1) plus Part_1B's two functions (6 + 4), which have no C_999.
    assert _figure(rtt.rows, nt401, first, COMPLETED_PATHWAYS) == 17


def test_blank_totals_are_not_reported_so_the_figure_is_na_not_zero(rtt, world):
    second = world.sub_icbs[1].code

    assert pd.isna(_figure(rtt.rows, "NT402", second, PATIENTS_WAITING))
    assert pd.isna(_figure(rtt.rows, "NT402", second, COMPLETED_PATHWAYS))


def test_nhs_england_hubs_regions_and_non_english_commissioners_are_kept_with_no_parent(rtt):
    blank_parent = rtt.rows[rtt.rows["commissioner_parent_code"].isna()]

    assert sorted(set(blank_parent["commissioner_code"])) == ["13Q", "NONC", "Y56"]
    assert _figure(rtt.rows, "NT401", "13Q", PATIENTS_WAITING) == 7 + 1 + 2
    hub = rtt.rows[rtt.rows["commissioner_code"] == "13Q"]
    assert hub["commissioner_name"].tolist() == ["NATIONAL COMMISSIONING HUB 1"]
    assert rtt.rows.loc[rtt.rows["commissioner_code"] == "NONC", "commissioner_name"].isna().all()


def test_codes_are_trimmed_and_upper_cased_so_one_provider_is_one_row(rtt):
    nda07 = rtt.rows[rtt.rows["provider_code"] == "NDA07"]

    # ' nda07 ' for NONC is NDA07, beside its rows for region Y56.
    assert sorted(zip(nda07["commissioner_code"], nda07["measure"], strict=True)) == [
        ("NONC", PATIENTS_WAITING),
        ("Y56", COMPLETED_PATHWAYS),
        ("Y56", PATIENTS_WAITING),
    ]
    assert _figure(rtt.rows, "NDA07", "NONC", PATIENTS_WAITING) == 1


def test_every_provider_is_kept_trusts_too_with_its_host_icb_as_parent(rtt, world):
    providers = set(rtt.rows["provider_code"])

    assert providers == set(files.EXAMPLE_PROVIDERS)
    trust = rtt.rows[rtt.rows["provider_code"] == "R1ARE"]
    assert set(trust["provider_parent_code"]) == {world.providers["R1ARE"].parent_code}


def test_the_period_is_the_month_the_file_describes_and_the_file_is_named(rtt, rtt_zip):
    assert set(rtt.rows["period"]) == {"2026-06"}
    assert set(rtt.rows["source"]) == {"rtt"}
    assert set(rtt.rows["file"]) == {rtt_zip.name}
    assert rtt.rows["published"].isna().all()


def test_more_waiting_with_a_decision_to_admit_than_waiting_is_flagged_not_capped(rtt, world):
    third = world.sub_icbs[40].code

    flagged = rtt.problems[rtt.problems["kind"] == problems.DTA_OVER_WAITING]
    assert flagged["value"].tolist() == ["75"]  # Part_2A: 70 + 5
    assert flagged["detail"].tolist() == [f"NT402/{third} (Part_2 60)"]
    assert _figure(rtt.rows, "NT402", third, PATIENTS_WAITING) == 60  # as published
    assert "kept as published" in problems.sentence(flagged.iloc[0])


def test_the_published_date_given_is_carried_on_every_row(rtt_zip):
    table = activity.read_rtt(rtt_zip, published="2026-08-13")

    assert set(table["published"]) == {"2026-08-13"}


def test_the_older_layout_with_a_preamble_gives_the_same_figures(rtt, rtt_rows, tmp_path):
    older = tmp_path / "RTT-June-2019.csv"
    older.write_text(files.rtt_csv_text(rtt_rows, "RTT-June-2019", older=True), encoding="utf-8")

    read = activity.read_activity_file(older, activity.RTT)

    assert read.header_row == len(files.OLD_RTT_PREAMBLE)
    assert set(read.rows["period"]) == {"2019-06"}
    same = ["provider_code", "commissioner_code", "measure", "value"]
    pd.testing.assert_frame_equal(read.rows[same], rtt.rows[same])
    header_note = problems.of_file(read.problems)
    assert header_note["kind"].tolist() == [problems.HEADER_ROW]


def test_the_csv_itself_reads_the_same_as_the_zip(rtt, rtt_zip, tmp_path):
    with zipfile.ZipFile(rtt_zip) as archive:
        (member,) = archive.namelist()
        archive.extract(member, tmp_path)

    table = activity.read_rtt(tmp_path / member)

    columns = [name for name in ACTIVITY_COLUMNS if name != "file"]
    pd.testing.assert_frame_equal(table[columns], rtt.rows[columns])


def test_a_missing_header_is_named_with_the_file(rtt_rows, tmp_path):
    text = files.rtt_csv_text(rtt_rows, "RTT-June-2026").replace(",Total All", ",Grand Total", 1)
    path = tmp_path / "rtt.csv"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(InputError, match=r"rtt\.csv: its header \(line 1\) has no 'Total All'"):
        activity.read_rtt(path)


def test_a_file_without_an_rtt_header_says_what_was_looked_for(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    with pytest.raises(InputError, match="no header row with 'Provider Org Code'"):
        activity.read_rtt(path)


def test_a_zip_with_two_csvs_is_refused_saying_it_expected_one(rtt_rows, tmp_path):
    text = files.rtt_csv_text(rtt_rows, "RTT-June-2026")
    path = files.write_zip(tmp_path / "two.zip", {"a.csv": text, "b.csv": text})

    with pytest.raises(
        InputError, match=r"holds 2 CSV files \(a\.csv, b\.csv\); expected exactly one"
    ):
        activity.read_rtt(path)


def test_a_total_that_is_not_a_number_is_a_problem_and_left_out(rtt_rows, tmp_path):
    broken = [*rtt_rows[:2], dataclasses.replace(rtt_rows[2], total_all="n/a")]  # C_999
    path = tmp_path / "rtt.csv"
    path.write_text(files.rtt_csv_text(broken, "RTT-June-2026"), encoding="utf-8")

    read = activity.read_activity_file(path, activity.RTT)

    bad = read.problems[read.problems["kind"] == problems.NOT_A_NUMBER]
    assert (bad["row"].tolist(), bad["value"].tolist()) == ([2], ["n/a"])
    # The C_999 row is still the part's total, so its functions are not used instead: NA.
    assert pd.isna(read.rows["value"].iloc[0])


def test_a_period_that_is_not_a_month_is_a_problem_not_a_guess(rtt_rows, tmp_path):
    path = tmp_path / "rtt.csv"
    path.write_text(files.rtt_csv_text(rtt_rows[:1], "RTT-Summer-2026"), encoding="utf-8")

    read = activity.read_activity_file(path, activity.RTT)

    assert read.rows["period"].isna().all()
    assert read.problems["kind"].tolist() == [problems.NOT_A_PERIOD]


@pytest.mark.parametrize(
    ("text", "year", "period"),
    [
        ("RTT-June-2026", None, "2026-06"),
        ("DM01-MAY-2026", None, "2026-05"),
        ("DM01-MARCH-2026", None, "2026-03"),
        ("February", "2015-16", "2016-02"),
        ("April", "2015-16", "2015-04"),
        ("RTT-Summer-2026", None, None),
    ],
)
def test_periods_are_read_as_the_month_they_name(text, year, period):
    assert activity.period_of(text, year) == period


# --- DM01 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dm01(world, tmp_path_factory) -> tuple[list[files.Dm01Row], pd.DataFrame]:
    rows = files.example_dm01_rows(world)
    folder = tmp_path_factory.mktemp("dm01")
    path = files.write_dm01_zip(folder / "DM01-MAY-2026-full-extract_8BN1G.zip", rows, 2026, 5)
    return rows, activity.read_dm01(path)


def _dm01_expected(rows: list[files.Dm01Row], measure: str) -> dict[tuple[str, str], float | None]:
    """Per provider x commissioner: the tests summed, or TOTAL where there are no tests."""
    groups: dict[tuple[str, str], list[files.Dm01Row]] = defaultdict(list)
    for row in rows:
        groups[(row.provider.code, row.commissioner.code)].append(row)
    expected = {}
    for key, group in groups.items():
        tests = [row for row in group if row.test != "TOTAL"] or group
        if measure == DIAGNOSTIC_TESTS:
            cells = [row.written_total_activity() for row in tests]
        else:
            cells = [row.written_total_wl() for row in tests]
        numbers = [float(cell) for cell in cells if cell != ""]
        expected[key] = sum(numbers) if numbers else None
    return expected


@pytest.mark.parametrize("measure", [DIAGNOSTIC_TESTS, WAITING_FOR_TEST])
def test_dm01_figures_reconcile_with_the_fixture_rows_counted_by_hand(dm01, measure):
    rows, table = dm01

    of_measure = table[table["measure"] == measure]
    got = {
        (row.provider_code, row.commissioner_code): None if pd.isna(row.value) else row.value
        for row in of_measure.itertuples()
    }
    assert got == _dm01_expected(rows, measure)


def test_dm01_sums_the_tests_leaving_out_total_and_uses_total_only_when_alone(dm01, world):
    _, table = dm01
    first = world.sub_icbs[0].code

    assert _figure(table, "NT401", first, DIAGNOSTIC_TESTS) == 17 + 4 + 1  # not + TOTAL's 22
    assert _figure(table, "NT402", "13Q", DIAGNOSTIC_TESTS) == 9  # TOTAL alone
    assert _figure(table, "NDA07", "NONC", DIAGNOSTIC_TESTS) == 4  # MRI's blank left out
    assert set(table["period"]) == {"2026-05"}
    assert set(table["source"]) == {"dm01"}


def test_dm01_without_total_activity_names_the_missing_column(world, tmp_path):
    text = files.dm01_csv_text(files.example_dm01_rows(world), "DM01-MAY-2026")
    path = tmp_path / "dm01.csv"
    path.write_text(text.replace('"Total Activity"', '"Activity"'), encoding="utf-8")

    with pytest.raises(InputError, match=r"dm01\.csv: its header .* has no 'Total Activity'"):
        activity.read_dm01(path)


def test_an_rtt_file_is_not_read_as_dm01(rtt_zip):
    with pytest.raises(InputError, match="'Diagnostic Tests'"):
        activity.read_dm01(rtt_zip)
