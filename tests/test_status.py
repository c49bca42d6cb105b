"""Tests for geo/model/status.py: which sites count, and why the others do not."""

from __future__ import annotations

import pandas as pd

from geo.model import problems, status


def _found(*rows: tuple[int, str, str, str]) -> pd.DataFrame:
    """Problems of (row, kind, column, value), as a reader records them."""
    return problems.concat(
        problems.found(
            pd.Series([True], index=[row]), kind, column, pd.Series([value], index=[row]),
            problems.NOTE,
        )
        for row, kind, column, value in rows
    )  # fmt: skip


def test_a_row_is_counted_unless_a_problem_discounts_it_and_the_worst_reason_is_given():
    sites = pd.DataFrame({"site_id": ["A", "B", "C"], "status": ["x", "y", "z"]})
    found = _found(
        (1, problems.DUAL_REGISTRATION, "site_id", "B"),
        (1, problems.CLOSED, "Close Date", "20200331"),
        (2, problems.DORMANT, "Dormant (Y/N)", "Y"),
    )

    table = status.with_status(sites, found, after="site_id")

    assert list(table.columns) == ["site_id", *status.STATUS_COLUMNS, "raw_status"]
    assert table["counted"].tolist() == [True, False, False]
    assert table["status"].tolist() == [status.OPEN, status.CLOSED, status.DORMANT]
    assert table["status_reason"].tolist()[1:] == [
        'Close Date: "20200331" marks it closed; kept, not counted',
        'Dormant (Y/N): "Y" marks it dormant; kept, not counted',
    ]
    assert table["raw_status"].tolist() == ["x", "y", "z"]  # the publisher's own column, kept


def test_a_table_published_before_sites_were_flagged_counts_every_site():
    sites = pd.DataFrame({"site_id": ["A", "B"]})

    counted, left_out = status.counted_sites(sites)

    assert counted["site_id"].tolist() == ["A", "B"]
    assert left_out == {}
    assert status.status_sentence(left_out) is None


def test_what_was_left_out_is_said_in_one_sentence():
    assert status.status_sentence({status.MERGED: 5, status.CLOSED: 71}) == (
        "76 sites are kept in the table but not counted in any figure, chart, map or briefing: "
        "71 closed, 5 dual registrations merged into the primary record."
    )
    assert status.status_sentence({status.DORMANT: 1}) == (
        "1 site is kept in the table but not counted in any figure, chart, map or briefing: "
        "1 dormant."
    )
