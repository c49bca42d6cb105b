"""Downloads must be safe to open in Excel: no cell may be read as a formula."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from geo.io.exports import csv_bytes, sheet_title, spreadsheet_safe, whole_metres, xlsx_bytes


def _hostile_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_name": ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "Café Care", None],
            "capacity": pd.array([1.0, None, -3.0, 4.0, 5.0, 6.0], dtype="Float64"),
        }
    )


def test_text_cells_that_look_like_formulas_are_prefixed_with_an_apostrophe():
    safe = spreadsheet_safe(_hostile_table())
    assert safe["site_name"].tolist()[:5] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "Café Care",
    ]
    assert pd.isna(safe["site_name"].iloc[5])


def test_numbers_are_left_alone_even_when_negative():
    safe = spreadsheet_safe(_hostile_table())
    assert safe["capacity"].iloc[2] == -3.0


def test_csv_download_has_a_bom_and_no_cell_starting_with_a_formula_character():
    text = csv_bytes(_hostile_table()).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str)
    starts = parsed["site_name"].dropna().str[0]
    assert not starts.isin(list("=+-@")).any()
    assert "Café Care" in parsed["site_name"].tolist()


def test_xlsx_download_stores_hostile_names_as_text_not_formulas():
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_hostile_table(), sheet_name="Sites")))
    sheet = workbook.active
    cells = [sheet.cell(row=row, column=1) for row in range(2, 8)]
    assert all(cell.data_type != "f" for cell in cells)
    assert cells[0].value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=4, column=2).value == -3.0


def _awkward_table() -> pd.DataFrame:
    """Names a provider list can carry that Excel cannot hold as they are."""
    return pd.DataFrame(
        {
            "site_name": [
                "Oak\x0bHouse",  # vertical tab
                "\u202eesuoH hsA",  # right-to-left override
                "Elm\x00 House\x1f",
                '\x0b=HYPERLINK("http://x")',  # a formula once the tab is gone
                "Lone \ud800 surrogate",
            ],
            "Bad\x0bcolumn": ["a", "b", "c", "d", "e"],
        },
        dtype=object,  # pandas' own string dtype cannot hold a lone surrogate at all
    )


def test_xlsx_download_of_names_with_control_characters_opens_with_them_replaced():
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_awkward_table(), sheet_name="Sites")))
    sheet = workbook.active

    names = [sheet.cell(row=row, column=1).value for row in range(2, 7)]

    assert names == [
        "Oak House",
        "\u202eesuoH hsA",
        "Elm House ",  # NUL removed, the unit separator a space
        '\' =HYPERLINK("http://x")',
        "Lone  surrogate",
    ]
    assert sheet.cell(row=1, column=2).value == "Bad column"


def test_csv_download_of_names_with_control_characters_has_them_replaced_too():
    text = csv_bytes(_awkward_table()).decode("utf-8")

    parsed = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str)

    assert parsed.columns.tolist() == ["site_name", "Bad column"]
    assert parsed["site_name"].tolist()[0] == "Oak House"
    assert parsed["site_name"].tolist()[3] == '\' =HYPERLINK("http://x")'


def test_an_xlsx_cell_is_cut_at_excels_limit_and_a_csv_keeps_the_whole_text():
    table = pd.DataFrame({"site_name": ["x" * 40_000, "=" + "y" * 40_000]})

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table, sheet_name="Sites"))).active
    parsed = pd.read_csv(io.StringIO(csv_bytes(table).decode("utf-8").lstrip("\ufeff")))

    cells = [sheet.cell(row=row, column=1).value for row in (2, 3)]
    assert [len(cell) for cell in cells] == [32_767, 32_767]
    assert cells[0].endswith("x…")
    assert cells[1].startswith("'=")
    assert parsed["site_name"].tolist() == ["x" * 40_000, "'=" + "y" * 40_000]


def _distances() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_name": ["Oak", "Elm", "Ash"],
            "border_distance_m": pd.array([1234.56789012345, 0.4, None], dtype="Float64"),
            "capacity": [12.5, 3.0, 1.0],
        }
    )


def test_distances_are_downloaded_in_whole_metres_and_other_numbers_are_not_rounded():
    rounded = whole_metres(_distances())

    assert rounded["border_distance_m"].tolist() == [1235, 0, pd.NA]
    assert rounded["capacity"].tolist() == [12.5, 3.0, 1.0]


def test_csv_and_xlsx_downloads_carry_whole_metres():
    csv = pd.read_csv(io.BytesIO(csv_bytes(_distances())), encoding="utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_distances(), sheet_name="Sites"))).active

    assert csv["border_distance_m"].tolist()[:2] == [1235, 0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [1235, 0, None]


def test_an_xlsx_sheet_is_named_for_what_it_holds():
    workbook = openpyxl.load_workbook(
        io.BytesIO(xlsx_bytes(_distances(), sheet_name="I+V not engaged"))
    )

    assert workbook.sheetnames == ["I+V not engaged"]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("North East and Yorkshire: I+V not engaged", "North East and Yorkshire I+V no"),
        ("a/b\\c[d]*?", "a b c d"),
        ("'quoted'", "quoted"),
        (":::", "Sheet1"),
    ],
)
def test_a_sheet_name_follows_excels_rules(name, title):
    assert sheet_title(name) == title
    assert len(sheet_title(name)) <= 31
