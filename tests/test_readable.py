"""Tests for geo/analysis/readable.py: tables as people read them."""

from __future__ import annotations

import pandas as pd

from geo.analysis.metrics import METRIC_COLUMNS
from geo.analysis.readable import COLUMN_LABELS, SHARE_COLUMN, by_share, label, labelled


def _areas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "icb_code": ["E1", "E2", "E3", "E4"],
            "icb_name": ["Delta", "Alpha", "Charlie", "Bravo"],
            "sites_local_authority": [1, 2, 3, 4],
            SHARE_COLUMN: pd.array([0.2, None, 0.9, 0.2], dtype="Float64"),
            "rank": pd.array([2, None, 1, 2], dtype="Int64"),
        }
    )


def test_every_metric_column_has_a_human_label_and_no_two_share_one():
    assert all(column in COLUMN_LABELS for column in METRIC_COLUMNS)
    assert len(set(COLUMN_LABELS.values())) == len(COLUMN_LABELS)


def test_labels_read_as_words_and_a_column_without_one_keeps_its_name():
    shown = labelled(_areas().assign(new_measure=1))

    assert "Local authority sites" in shown.columns
    assert "new_measure" in shown.columns
    assert label("icb_code") == "ICB code"


def test_areas_sort_by_the_share_highest_first_ties_by_name_unknown_last():
    assert by_share(_areas())["icb_name"].tolist() == ["Charlie", "Bravo", "Delta", "Alpha"]


def test_the_name_and_share_come_first_and_the_other_columns_keep_their_order():
    assert by_share(_areas()).columns.tolist() == [
        "icb_name", SHARE_COLUMN, "rank", "icb_code", "sites_local_authority",
    ]  # fmt: skip
