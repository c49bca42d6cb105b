"""Downloads must be safe to open in Excel: no cell may be read as a formula."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from geo.io.exports import csv_bytes, neutralise_formulas, xlsx_bytes


def _hostile_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_name": ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "Café Care", None],
            "capacity": pd.array([1.0, None, -3.0, 4.0, 5.0, 6.0], dtype="Float64"),
        }
    )


def test_text_cells_that_look_like_formulas_are_prefixed_with_an_apostrophe():
    safe = neutralise_formulas(_hostile_table())
    assert safe["site_name"].tolist()[:5] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "Café Care",
    ]
    assert pd.isna(safe["site_name"].iloc[5])


def test_numbers_are_left_alone_even_when_negative():
    safe = neutralise_formulas(_hostile_table())
    assert safe["capacity"].iloc[2] == -3.0


def test_csv_download_has_a_bom_and_no_cell_starting_with_a_formula_character():
    text = csv_bytes(_hostile_table()).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str)
    starts = parsed["site_name"].dropna().str[0]
    assert not starts.isin(list("=+-@")).any()
    assert "Café Care" in parsed["site_name"].tolist()


def test_xlsx_download_stores_hostile_names_as_text_not_formulas():
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_hostile_table())))
    sheet = workbook.active
    cells = [sheet.cell(row=row, column=1) for row in range(2, 8)]
    assert all(cell.data_type != "f" for cell in cells)
    assert cells[0].value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=4, column=2).value == -3.0
