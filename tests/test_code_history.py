"""ONS's Code History Database Changes.csv: which sub-ICB (CCG) code replaced which.

The fixture `code_history_Changes.csv` has the real file's eleven columns and rows for the
changes that matter here: the 2018 Birmingham merger, the 2021 Black Country merger, the
July 2022 boundary changes (Black Country and West Birmingham and Tameside and Glossop
split between ICBs) and the April 2023 Surrey and Sussex recodes, plus a name-only change
and a local authority row, which are left out. SI_ID and SI_TITLE are left blank.
"""

from __future__ import annotations

import pytest

from geo.io import recognise
from geo.io.code_history import HISTORY_COLUMNS, load_code_history
from geo.model.errors import InputError

CHANGES = "code_history_Changes.csv"


@pytest.fixture
def history(fixtures_dir):
    return load_code_history(fixtures_dir / CHANGES)


def test_only_sub_icb_code_changes_are_kept_one_row_per_old_and_new_code(history):
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert len(history) == 12  # 14 rows less the name-only change and the local authority
    assert set(history["code"].str[:3]) == {"E38"}
    assert not (history["code"] == history["previous_code"]).any()


def test_a_split_is_one_old_code_with_several_new_ones(history):
    black_country = history[history["previous_code"] == "E38000250"]

    assert sorted(black_country["code"]) == ["E38000258", "E38000259"]
    assert set(black_country["operational"]) == {"2022-07-01"}
    assert set(black_country["previous_name"]) == {"NHS Black Country and West Birmingham CCG"}


def test_changes_read_in_date_order(history):
    dates = history["operational"].tolist()

    assert dates == sorted(dates)
    assert dates[0] == "2018-04-01"


def test_iso_dates_and_a_file_without_the_optional_columns_are_read(tmp_path):
    path = tmp_path / "Changes.csv"
    path.write_text("GEOGCD,GEOGCD_P,OPER_DATE\nE38000258,E38000220,2022-07-01\n", encoding="utf-8")

    history = load_code_history(path)

    assert history[["code", "previous_code", "operational"]].values.tolist() == [
        ["E38000258", "E38000220", "2022-07-01"]
    ]
    assert history["name"].isna().all()


def test_a_table_without_the_code_columns_is_refused_naming_them(tmp_path):
    path = tmp_path / "Changes.csv"
    path.write_text("code,previous\nE38000258,E38000220\n", encoding="utf-8")

    with pytest.raises(InputError, match=r"Changes.csv: no column\(s\) GEOGCD, GEOGCD_P"):
        load_code_history(path)


def test_recognised_as_the_ons_code_history(fixtures_dir):
    found = recognise.sniff(fixtures_dir / CHANGES)

    assert (found.holds, found.kind, found.publisher) == (
        "code_history",
        "code_history",
        recognise.ONS,
    )
    assert found.rows == 14
