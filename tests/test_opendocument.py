"""Streaming .ods rows: repeats, typed cells, text markup, sheets, bad files and memory."""

from __future__ import annotations

import datetime as dt
import tracemalloc
import zipfile

import pytest

from geo.io.opendocument import iter_sheet_previews, iter_sheet_rows, sheet_names
from geo.model.errors import InputError
from geo.testing.publisher_files import (
    CQC_HSCA_COLUMNS,
    CQC_HSCA_SHEET,
    make_cqc_hsca_rows,
    write_cqc_hsca_ods,
    write_ods,
)

_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_from_tables(path, tables_xml: str, *, close: bool = True):
    """An .ods whose content.xml holds exactly `tables_xml`, as LibreOffice would frame it."""
    ending = "</office:spreadsheet></office:body></office:document-content>" if close else ""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NAMESPACES}>'
        f"<office:body><office:spreadsheet>{tables_xml}{ending}"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return path


_LIBREOFFICE_SHEET = """
<table:table table:name="Sites">
  <table:table-column table:number-columns-repeated="16384"/>
  <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Location ID</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>Care homes beds</text:p></table:table-cell>
    <table:table-cell table:number-columns-repeated="2"/>
    <table:table-cell office:value-type="string"><text:p>Start</text:p></table:table-cell>
    <table:table-cell table:number-columns-repeated="16379"/>
  </table:table-row>
  <table:table-row>
    <table:table-cell office:value-type="string"><text:p>1-101</text:p></table:table-cell>
    <table:table-cell office:value-type="float" office:value="42"><text:p>42</text:p></table:table-cell>
    <table:table-cell table:number-columns-repeated="2" office:value-type="string"><text:p>Y</text:p></table:table-cell>
    <table:table-cell office:value-type="date" office:date-value="2010-10-01"><text:p>01/10/2010</text:p></table:table-cell>
    <table:table-cell office:value-type="percentage" office:value="0.25"><text:p>25%</text:p></table:table-cell>
    <table:table-cell office:value-type="boolean" office:boolean-value="false"><text:p>FALSE</text:p></table:table-cell>
    <table:table-cell office:value-type="currency" office:currency="GBP" office:value="9.5"><text:p>£9.50</text:p></table:table-cell>
    <table:table-cell table:number-columns-repeated="16376"/>
  </table:table-row>
  <table:table-row table:number-rows-repeated="2">
    <table:table-cell table:number-columns-repeated="16384"/>
  </table:table-row>
  <table:table-row table:number-rows-repeated="2">
    <table:table-cell office:value-type="string"><text:p>twin</text:p></table:table-cell>
    <table:covered-table-cell/>
    <table:table-cell office:value-type="float" office:value="51.379997"><text:p>51.38</text:p></table:table-cell>
  </table:table-row>
  <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Flat 2,<text:s/> <text:s text:c="2"/>Mill<text:tab/>Lane</text:p><text:p>Leeds<text:line-break/>LS1 <text:span>4AP</text:span></text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p><text:a xlink:href="https://example.org" xmlns:xlink="http://www.w3.org/1999/xlink">example.org</text:a></text:p></table:table-cell>
  </table:table-row>
  <table:table-row table:number-rows-repeated="1048570">
    <table:table-cell table:number-columns-repeated="16384"/>
  </table:table-row>
</table:table>
"""


def test_repeated_cells_and_rows_are_expanded_and_typed_cells_give_their_office_values(tmp_path):
    path = _ods_from_tables(tmp_path / "sites.ods", _LIBREOFFICE_SHEET)

    rows = list(iter_sheet_rows(path))

    assert rows[0] == ["Location ID", "Care homes beds", "", "", "Start"]
    assert rows[1] == ["1-101", "42", "Y", "Y", "2010-10-01", "0.25", "false", "9.5"]
    assert rows[2] == rows[3] == []
    assert rows[4] == rows[5] == ["twin", "", "51.379997"]


def test_text_markup_becomes_spaces_tabs_and_newlines(tmp_path):
    path = _ods_from_tables(tmp_path / "sites.ods", _LIBREOFFICE_SHEET)

    address, link = list(iter_sheet_rows(path))[6]

    assert address == "Flat 2,    Mill\tLane\nLeeds\nLS1 4AP"
    assert link == "example.org"


def test_trailing_empty_repeats_are_not_expanded(tmp_path):
    path = _ods_from_tables(tmp_path / "sites.ods", _LIBREOFFICE_SHEET)

    rows = list(iter_sheet_rows(path))

    assert len(rows) == 7
    assert max(len(row) for row in rows) == 8


def test_a_row_of_empty_cells_with_a_style_is_empty(tmp_path):
    sheet = (
        '<table:table table:name="A"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row><table:table-row>"
        '<table:table-cell table:style-name="ce1" table:number-columns-repeated="3"/>'
        "</table:table-row><table:table-row>"
        '<table:table-cell office:value-type="string"><text:p>y</text:p></table:table-cell>'
        "</table:table-row></table:table>"
    )
    path = _ods_from_tables(tmp_path / "a.ods", sheet)

    assert list(iter_sheet_rows(path)) == [["x"], [], ["y"]]


def _three_sheets(path):
    return write_ods(
        path,
        {
            "README": [["Active locations for providers registered under the HSCA"]],
            "HSCA_Active_Locations": [["Location ID", "Location Name"], ["1-1", "Ash House"]],
            "Dual_Registration_Locations": [["Location ID"], ["1-9"]],
        },
    )


def test_sheet_is_found_by_name_ignoring_case_spaces_and_underscores(tmp_path):
    path = _three_sheets(tmp_path / "cqc.ods")

    assert list(iter_sheet_rows(path, "hsca active locations")) == [
        ["Location ID", "Location Name"],
        ["1-1", "Ash House"],
    ]
    assert list(iter_sheet_rows(path, "Dual_Registration_Locations")) == [["Location ID"], ["1-9"]]


def test_first_sheet_is_read_when_none_is_named(tmp_path):
    path = _three_sheets(tmp_path / "cqc.ods")

    assert list(iter_sheet_rows(path)) == [
        ["Active locations for providers registered under the HSCA"]
    ]


def test_missing_sheet_is_an_input_error_listing_the_sheets(tmp_path):
    path = _three_sheets(tmp_path / "cqc.ods")

    with pytest.raises(InputError, match=r"cqc\.ods: has no sheet 'Locations'; its sheets are: "):
        list(iter_sheet_rows(path, "Locations"))


def test_sheet_names_are_listed_in_order(tmp_path):
    path = _three_sheets(tmp_path / "cqc.ods")

    assert sheet_names(path) == ["README", "HSCA_Active_Locations", "Dual_Registration_Locations"]


def test_previews_come_sheet_by_sheet_and_stop_at_the_first_rows(tmp_path):
    path = write_ods(tmp_path / "a.ods", {"One": [[str(n)] for n in range(50)], "Two": [["z"]]})

    previews = list(iter_sheet_previews(path, rows=3))

    assert previews == [("One", [["0"], ["1"], ["2"]]), ("Two", [["z"]])]


def test_reading_a_sheet_stops_at_its_end(tmp_path):
    """A sheet before a broken one still reads, so the parse never goes past it."""
    sheet = (
        '<table:table table:name="Good"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>ok</text:p></table:table-cell>'
        '</table:table-row></table:table><table:table table:name="Broken"><table:table-row>'
    )
    path = _ods_from_tables(tmp_path / "truncated.ods", sheet, close=False)

    assert list(iter_sheet_rows(path, "Good")) == [["ok"]]
    with pytest.raises(InputError, match=r"truncated\.ods: content\.xml is not valid XML"):
        sheet_names(path)


def test_a_preview_is_given_before_the_rest_of_its_sheet_is_parsed(tmp_path):
    """Recognising CQC's header must not cost a parse of its 440 MB sheet."""
    row = '<table:table-row><table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell></table:table-row>'
    sheet = '<table:table table:name="Big">' + "".join(row.format(n) for n in range(3))
    path = _ods_from_tables(tmp_path / "truncated.ods", sheet + "<table:table-row>", close=False)

    previews = iter_sheet_previews(path, rows=2)

    assert next(previews) == ("Big", [["0"], ["1"]])
    with pytest.raises(InputError, match="not valid XML"):
        next(previews)


def test_a_file_that_is_not_a_zip_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "locations.ods"
    path.write_text("Location ID,Location Name\n1-1,Ash House\n")

    with pytest.raises(InputError, match=r"locations\.ods: is not an OpenDocument spreadsheet"):
        list(iter_sheet_rows(path))


def test_a_zip_without_content_xml_is_an_input_error(tmp_path):
    path = tmp_path / "empty.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")

    with pytest.raises(InputError, match=r"empty\.ods: .*no content\.xml"):
        list(iter_sheet_rows(path))


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.ods: file not found"):
        list(iter_sheet_rows(tmp_path / "nowhere.ods"))


def test_written_cells_read_back_as_the_strings_a_spreadsheet_stores(tmp_path):
    row = ["Ash  House", 42, 51.379997, dt.date(2010, 10, 1), True, None, "", " lead", "a\nb"]
    path = write_ods(tmp_path / "cells.ods", {"S": [row, row]})

    rows = list(iter_sheet_rows(path))

    expected = ["Ash  House", "42", "51.379997", "2010-10-01", "true", "", "", " lead", "a\nb"]
    assert rows == [expected, expected]


def test_cqc_edition_reads_back_its_122_column_header_and_rows(tmp_path):
    rows = list(make_cqc_hsca_rows(7))
    path = write_cqc_hsca_ods(tmp_path / "01_November_2026_HSCA_Active_Locations.ods", rows)

    read = list(iter_sheet_rows(path, CQC_HSCA_SHEET))

    assert read[0] == list(CQC_HSCA_COLUMNS)
    assert len(read) == 1 + len(rows)
    first = dict(zip(CQC_HSCA_COLUMNS, read[1], strict=False))
    assert first["Location ID"] == rows[0]["Location ID"]
    assert first["Care homes beds"] == str(rows[0]["Care homes beds"])
    assert first["Location HSCA start date"] == rows[0]["Location HSCA start date"].isoformat()


def test_peak_memory_stays_small_on_a_20k_row_cqc_file(tmp_path):
    """Memory must not grow with the file: tree parsers need over 3 GB for CQC's real one.

    tracemalloc sees Python's allocations (the row lists, strings and element proxies),
    not libxml2's own buffers; the benchmark measures the process's whole peak.
    """
    rows = 20_000
    path = write_cqc_hsca_ods(tmp_path / "big.ods", make_cqc_hsca_rows(rows))

    tracemalloc.start()
    try:
        count = 0
        widths = set()
        for row in iter_sheet_rows(path, CQC_HSCA_SHEET):
            count += 1
            widths.add(len(row))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == rows + 1
    assert max(widths) <= len(CQC_HSCA_COLUMNS)
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.1f} MB"
