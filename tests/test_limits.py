"""Small files that would expand without limit are refused while they stream in, by name.

Each file here is a few kilobytes on disk and would unpack to tens of megabytes, tens of
millions of rows or a gigabyte-long cell; geo/io/limits.py's limits (settings
ICS_UNPACKED_LIMIT_MB, ICS_ROW_LIMIT, ICS_COLUMN_LIMIT, ICS_CELL_LIMIT) stop each one
with a message naming the file, the limit and the setting, on every reader and on the
command line. No test here times anything: each asserts the refusal.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from geo.analysis.engagement import load_engagement
from geo.io import boundaries, limits, recognise
from geo.io.readers import read_sites
from geo.model.errors import InputError
from geo.publish import publishing
from geo.testing.publisher_files import write_ods
from tests.test_cli import run_cli

MB = 1024 * 1024


# --- writing crafted files --------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sites" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet"/></Relationships>'
)


def _write_xlsx(path: Path, sheet_xml: Iterable[str]) -> Path:
    """An .xlsx written by hand, its one sheet's XML streamed from `sheet_xml`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for chunk in sheet_xml:
                sheet.write(chunk.encode())
    return path


def _sheet(*rows: str) -> Iterable[str]:
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    yield from rows
    yield "</sheetData></worksheet>"


def _row(number: int, *cells: str) -> str:
    inline = "".join(f'<c t="inlineStr"><is><t>{cell}</t></is></c>' for cell in cells)
    return f'<row r="{number}">{inline}</row>'


_HEADER = ("name", "sector", "postcode")


def _huge_cell_rows(megabytes: int) -> Iterable[str]:
    """A header, then a row whose name is `megabytes` MB of text, streamed in 1 MB pieces."""
    yield _row(1, *_HEADER)
    yield '<row r="2"><c t="inlineStr"><is><t>'
    for _ in range(megabytes):
        yield "a" * MB
    yield "</t></is></c>" + "".join(
        f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in ("NHS", "LS1 4AP")
    )
    yield "</row>"


def _ods_content(rows_xml: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        '<office:body><office:spreadsheet><table:table table:name="Sites">'
        f"{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>"
    )


def _ods_row(*cells: str, repeat_rows: int = 1, repeat_last: int = 1) -> str:
    parts = [
        f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
        for c in cells
    ]
    if repeat_last > 1:
        parts[-1] = parts[-1].replace(
            "<table:table-cell ",
            f'<table:table-cell table:number-columns-repeated="{repeat_last}" ',
            1,
        )
    rows = f' table:number-rows-repeated="{repeat_rows}"' if repeat_rows > 1 else ""
    return f"<table:table-row{rows}>{''.join(parts)}</table:table-row>"


def _write_ods_xml(path: Path, content: str) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return path


_HEADER_ROW = _ods_row(*_HEADER)


# --- zip members that unpack to more than the limit --------------------------------------


def test_an_ods_whose_content_declares_more_than_the_limit_is_refused_before_reading(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("ICS_UNPACKED_LIMIT_MB", "1")
    padding = "<!--" + " " * (5 * MB) + "-->"  # 5 MB that deflate to a few kilobytes
    path = _write_ods_xml(tmp_path / "bomb.ods", _ods_content(_HEADER_ROW + padding))
    assert path.stat().st_size < 64 * 1024

    with pytest.raises(InputError) as raised:
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))

    assert str(raised.value) == (
        "spreadsheet bomb.ods: content.xml is 5.0 MB unpacked, over the limit of 1.0 MB "
        "(setting ICS_UNPACKED_LIMIT_MB); split the file or remove what is not needed"
    )


def _understate_size(path: Path, member: str, size: int) -> None:
    """Make a zip's records claim `member` unpacks to `size` bytes, as a zip bomb may."""
    data, name = bytearray(path.read_bytes()), member.encode()
    # (signature, where the unpacked size is, where the name's length is, where the name is)
    for signature, size_at, length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),  # local file header
        (b"PK\x01\x02", 24, 28, 46),  # central directory entry
    ):
        at = data.find(signature)
        while at >= 0:
            (length,) = struct.unpack_from("<H", data, at + length_at)
            if bytes(data[at + name_at : at + name_at + length]) == name:
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_member_that_inflates_past_what_it_declares_is_refused_as_damaged(tmp_path):
    content = _ods_content(_HEADER_ROW + _ods_row("Ash House", "NHS", "LS1 4AP") + " " * MB)
    path = _write_ods_xml(tmp_path / "liar.ods", content)
    _understate_size(path, "content.xml", 1000)

    with pytest.raises(
        InputError,
        match=r"^spreadsheet liar\.ods: content\.xml cannot be read, the file is damaged \(Bad CRC-32",
    ):
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))


def test_a_zipped_boundary_file_declaring_more_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_UNPACKED_LIMIT_MB", "1")
    path = tmp_path / "icb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("icb.shp", b"\0" * (3 * MB))

    with pytest.raises(InputError, match=r"^boundary file icb\.zip: icb\.shp is 3\.0 MB unpacked"):
        boundaries.load_boundaries(path)
    with pytest.raises(recognise.NotUsedError, match=r"^icb\.zip: icb\.shp is 3\.0 MB unpacked"):
        recognise.sniff(path)


# --- cells longer than the limit ---------------------------------------------------------


def test_an_xlsx_cell_of_50_mb_is_refused_before_it_is_parsed(tmp_path):
    path = _write_xlsx(tmp_path / "huge.xlsx", _sheet(*_huge_cell_rows(50)))
    assert path.stat().st_size < 1 * MB

    with pytest.raises(InputError) as raised:
        read_sites(path)

    assert str(raised.value) == (
        "huge.xlsx: could not be read (spreadsheet huge.xlsx: xl/worksheets/sheet1.xml holds "
        "a cell or tag longer than 32,767 characters (setting ICS_CELL_LIMIT); is the file "
        "damaged?)"
    )


def test_a_cell_over_a_lowered_limit_is_named_by_row_and_column(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_CELL_LIMIT", "1000")
    long_name = "b" * 2000
    rows = _sheet(
        _row(1, *_HEADER),
        _row(2, "Ash House", "NHS", "LS1 4AP"),
        _row(3, long_name, "NHS", "LS2 9JT"),
    )
    path = _write_xlsx(tmp_path / "long.xlsx", rows)

    with pytest.raises(InputError) as raised:
        read_sites(path, recognise.Format("xlsx", "generic", sheet="Sites", header_row=0))

    assert str(raised.value) == (
        "provider list long.xlsx: row 3, column name has 2,000 characters, more than 1,000 "
        "(setting ICS_CELL_LIMIT)"
    )


def test_a_csv_cell_over_the_limit_is_named_by_row_and_column(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_CELL_LIMIT", "1000")
    path = tmp_path / "long.csv"
    path.write_text("name,sector,postcode\nAsh House,NHS,LS1 4AP\n" + "c" * 5000 + ",NHS,LS2 9JT\n")

    with pytest.raises(InputError, match=r"^provider list long\.csv: row 3, column name has 5,000"):
        read_sites(path)


def test_an_ods_run_of_a_billion_spaces_is_refused_before_it_is_made(tmp_path):
    cell = '<table:table-cell office:value-type="string"><text:p>a<text:s text:c="1000000000"/>b</text:p></table:table-cell>'
    content = _ods_content(_HEADER_ROW + f"<table:table-row>{cell}</table:table-row>")
    path = _write_ods_xml(tmp_path / "spaces.ods", content)

    with pytest.raises(InputError, match=r"a run of 1,000,000,000 spaces, more than 32,767"):
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))


# --- rows and columns repeated without limit ---------------------------------------------


def test_an_ods_row_repeated_fifty_million_times_is_refused_before_it_is_expanded(tmp_path):
    rows = _HEADER_ROW + _ods_row("Ash House", "NHS", "LS1 4AP", repeat_rows=50_000_000)
    path = _write_ods_xml(tmp_path / "rows.ods", _ods_content(rows))

    with pytest.raises(InputError) as raised:
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))

    assert str(raised.value) == (
        "spreadsheet rows.ods: sheet Sites: has more than 1,048,576 rows (setting ICS_ROW_LIMIT); "
        "if most are empty, delete them, else split the file"
    )


def test_fifty_million_empty_ods_rows_before_a_filled_one_are_refused(tmp_path):
    empty = '<table:table-row table:number-rows-repeated="50000000"><table:table-cell/></table:table-row>'
    rows = _HEADER_ROW + empty + _ods_row("Ash House", "NHS", "LS1 4AP")
    path = _write_ods_xml(tmp_path / "rows.ods", _ods_content(rows))

    with pytest.raises(InputError, match=r"sheet Sites: has more than 1,048,576 rows"):
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))


def test_trailing_empty_ods_rows_and_columns_cost_nothing_and_are_not_refused(tmp_path):
    write_ods(tmp_path / "padded.ods", {"Sites": [list(_HEADER), ["Ash House", "NHS", "LS1 4AP"]]})

    listed = read_sites(tmp_path / "padded.ods")

    assert listed.sites["site_name"].tolist() == ["Ash House"]


def test_an_ods_cell_repeated_across_fifty_million_columns_is_refused(tmp_path):
    rows = _HEADER_ROW + _ods_row("Ash House", "NHS", "LS1 4AP", repeat_last=50_000_000)
    path = _write_ods_xml(tmp_path / "wide.ods", _ods_content(rows))

    with pytest.raises(InputError) as raised:
        read_sites(path, recognise.Format("odf", "generic", sheet="Sites", header_row=0))

    assert str(raised.value) == (
        "spreadsheet wide.ods: sheet Sites: has a row of 50,000,002 columns, more than 1,000 "
        "(setting ICS_COLUMN_LIMIT); delete the columns that are not needed"
    )


def test_an_xlsx_jumping_to_row_fifty_million_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_ROW_LIMIT", "1000")  # openpyxl makes up each skipped row
    rows = _sheet(
        _row(1, *_HEADER),
        _row(2, "Ash House", "NHS", "LS1 4AP"),
        _row(50_000_000, "Elm", "NHS", "LS2 9JT"),
    )
    path = _write_xlsx(tmp_path / "gap.xlsx", rows)

    refusal = r"^spreadsheet gap\.xlsx: sheet Sites: has more than 1,000 rows \(setting ICS_ROW"
    with pytest.raises(InputError, match=refusal):
        read_sites(path, recognise.Format("xlsx", "generic", sheet="Sites", header_row=0))
    with pytest.raises(InputError, match=refusal):
        load_engagement(path)


def test_a_csv_with_more_rows_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_ROW_LIMIT", "10")
    path = tmp_path / "many.csv"
    path.write_text("name,sector,postcode\n" + "Ash House,NHS,LS1 4AP\n" * 11)

    with pytest.raises(InputError, match=r"^provider list many\.csv: has more than 10 rows"):
        read_sites(path)


# --- the limits themselves, and the command line -----------------------------------------


def test_a_limit_setting_that_is_not_a_number_is_named(monkeypatch):
    monkeypatch.setenv("ICS_ROW_LIMIT", "lots")

    with pytest.raises(InputError, match=r'^setting ICS_ROW_LIMIT is "lots"; expected a number'):
        limits.current()


def test_the_upload_limit_holds_for_publishing_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ICS_UPLOAD_LIMIT_MB", "1")
    path = tmp_path / "big.csv"
    path.write_text("name,sector,lat,lon\n" + "Ash House,NHS,53.80,-1.55\n" * 60_000)

    with pytest.raises(InputError, match=r"^big\.csv is 1\.5 MB; the upload limit is 1 MB"):
        publishing.prepare(path, "sites")
    done = run_cli("publish", str(path), "--kind", "sites", env=dict(os.environ))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: big.csv is 1.5 MB; the upload limit is 1 MB (setting ICS_UPLOAD_LIMIT_MB)"
    )
