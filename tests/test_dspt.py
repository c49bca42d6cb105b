"""Reading the Data Security and Protection Toolkit's organisation search export."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.io import dspt
from geo.model.errors import InputError
from geo.model.evidence import DSPT_COLUMNS
from geo.testing import activity_files as files

SAVED_NAME = "DSPT search results 16_11_2023 11_17_41.csv"


@pytest.fixture(scope="module")
def rows(shared_data) -> list[dict[str, str]]:
    return files.example_dspt_rows(files.ActivityWorld.load(shared_data))


@pytest.fixture
def export(rows, tmp_path):
    path = tmp_path / SAVED_NAME
    path.write_text(files.dspt_csv_text(rows), encoding="utf-8")
    return path


def test_statuses_are_split_from_their_edition_old_and_new(export):
    table = dspt.read_dspt(export).set_index("code")

    assert table.loc["NT4", ["status", "edition"]].tolist() == ["Standards Met", "22/23"]
    assert table.loc["NDA", ["status", "edition"]].tolist() == ["Standards Exceeded", "2024-25"]
    assert table.loc["VNB3R", "status"] == "Not Published"
    assert pd.isna(table.loc["VNB3R", "edition"])


def test_codes_are_upper_case_and_trimmed_and_dates_iso(export, rows):
    table = dspt.read_dspt(export)

    assert table["code"].tolist() == [row["Code"].strip().upper() for row in rows]
    assert table.set_index("code").loc["NT4", "published"] == "2023-06-29"
    assert pd.isna(table.set_index("code").loc["VNB3R", "published"])  # blank stays blank


def test_the_table_has_the_shared_columns_and_names_its_file(export, rows):
    table = dspt.read_dspt(export)

    assert list(table.columns) == list(DSPT_COLUMNS)
    assert set(table["file"]) == {SAVED_NAME}
    assert table["icb_name"].isna().sum() == sum(not row[files.DSPT_COLUMNS[5]] for row in rows)


def test_the_2019_to_2021_header_spellings_are_read_the_same(export, rows, tmp_path):
    older = tmp_path / "older.csv"
    older.write_text(files.dspt_csv_text(rows, older=True), encoding="utf-8")

    same = [name for name in DSPT_COLUMNS if name != "file"]
    pd.testing.assert_frame_equal(dspt.read_dspt(older)[same], dspt.read_dspt(export)[same])


def test_headers_with_spaces_around_them_are_read(rows, tmp_path):
    path = tmp_path / "spaced.csv"
    text = files.dspt_csv_text(rows)
    header, rest = text.split("\r\n", 1)
    path.write_text(",".join(f" {name} " for name in header.split(",")) + "\r\n" + rest)

    assert dspt.read_dspt(path)["status"].notna().all()


def test_an_export_without_a_status_column_is_refused_naming_it(rows, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(files.dspt_csv_text(rows).replace("Status", "State", 1), encoding="utf-8")

    with pytest.raises(
        InputError, match=r"export\.csv: its header has no 'Status' or 'Latest Status'"
    ):
        dspt.read_dspt(path)


def test_the_saved_name_gives_the_date_of_the_export():
    assert dspt.saved_on(SAVED_NAME) == "2023-11-16"
    assert dspt.saved_on("dspt.csv") is None
