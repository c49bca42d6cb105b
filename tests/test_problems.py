"""Tests for geo/model/problems.py: the problems table, built, joined and put into words."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.model import problems


def test_an_empty_problems_table_has_every_column_typed():
    table = problems.empty()

    assert table.empty
    assert table.dtypes.astype(str).to_dict() == problems.DTYPES


def test_found_makes_a_row_per_bad_cell_quoting_it_as_the_file_gave_it():
    values = pd.Series(["12", " ten ", None, 207994.0], index=[10, 11, 12, 13], dtype=object)
    bad = pd.Series([False, True, None, True], index=values.index)

    table = problems.found(bad, problems.NOT_A_NUMBER, "capacity", values, problems.WARNING)

    assert list(table.itertuples(index=False, name=None)) == [
        (11, "capacity", "not_a_number", "ten", "warning"),
        (13, "capacity", "not_a_number", "207994", "warning"),
    ]
    assert table.dtypes.astype(str).to_dict() == problems.DTYPES


def test_concat_keeps_the_order_and_stays_typed_when_nothing_was_found():
    values = pd.Series(["Martian", "LS1"])
    first = problems.found(pd.Series([True, False]), "unknown_sector", "sector", values, "warning")
    second = problems.found(
        pd.Series([False, True]), "invalid_postcode", "postcode", values, "warning"
    )

    joined = problems.concat([first, problems.empty(), second])

    assert joined["kind"].tolist() == ["unknown_sector", "invalid_postcode"]
    assert joined.index.tolist() == [0, 1]
    assert problems.concat([]).dtypes.astype(str).to_dict() == problems.DTYPES


@pytest.mark.parametrize(
    ("column", "kind", "value", "severity", "sentence"),
    [
        (
            "capacity",
            "not_a_number",
            "ten",
            "warning",
            'capacity: "ten" is not a number; left empty',
        ),
        ("capacity", "negative", "-5", "warning", 'capacity: "-5" is negative; left empty'),
        (
            "capacity",
            "too_large",
            "1e20",
            "warning",
            'capacity: "1e20" is more than any one site plausibly has (over 5,000); left empty',
        ),
        ("lat", "not_a_number", "north", "error", 'lat: "north" is not a number'),
        (
            "sector",
            "unknown_sector",
            "Martian",
            "warning",
            'sector: "Martian" not recognised, counted as Unknown',
        ),
        ("postcode", "invalid_postcode", "LS1", "warning", 'postcode: "LS1" is not a UK postcode'),
        (
            "planning_status",
            "unknown_planning_status",
            "maybe",
            "warning",
            'planning_status: "maybe" not recognised (expected engaged or not engaged)',
        ),
    ],
)
def test_each_kind_of_problem_has_one_sentence(column, kind, value, severity, sentence):
    problem = {"row": 0, "column": column, "kind": kind, "value": value, "severity": severity}

    assert problems.sentence(problem) == sentence


def test_every_kind_can_be_put_into_words():
    for kind in problems.KINDS:
        problem = {"row": 0, "column": "x", "kind": kind, "value": "v", "severity": "warning"}
        assert problems.sentence(problem).startswith('x: "v" ')


def test_a_problem_citing_evidence_from_its_row_carries_it_in_detail():
    sector = pd.Series(["Independent", "NHS"], index=[7, 8])
    trust = pd.Series(["R1C", None], index=[7, 8])
    bad = pd.Series([True, False], index=[7, 8])

    table = problems.found(
        bad, problems.SECTOR_CONTRADICTS_CODE, "sector", sector, problems.WARNING, detail=trust
    )
    joined = problems.concat([problems.empty(), table])

    assert joined[problems.DETAIL].tolist() == ["R1C"]
    assert problems.sentence(joined.iloc[0].to_dict()) == (
        'sector: "Independent" contradicts NHS trust code R1C; counted as NHS'
    )
