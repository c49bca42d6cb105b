"""Write ONS mid-year population estimate workbooks in their real layouts, for tests and the benchmark.

The layouts are ONS's (DATA-FORMATS-2.md §8): front sheets (Cover, Contents, Notes), then
one sheet per year, `Mid-2024 ICB 2024` or `Mid-2024 LSOA 2021`, with three title rows
above a header on row 4, area codes and names, `Total`, `F0`…`F90`, `M0`…`M90`. The areas
are real (the sub-ICB locations and LSOAs of the ONS lookup in ../shared/data, read when
a file is written); the numbers are NOT ONS's: each area gets a made-up, repeatable
population of a plausible size, so sums can be checked but no figure is a real one.

The workbook is written as raw SpreadsheetML (numbers inline), because writing the
33,755-row single-year-of-age LSOA sheet cell by cell through openpyxl takes minutes.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

AGES = range(0, 91)
AGE_COLUMNS: tuple[str, ...] = tuple(f"{sex}{age}" for sex in "FM" for age in AGES)
ICB_ID_COLUMNS = (
    "SICBL {g} Code",
    "SICBL {g} Name",
    "ICB {g} Code",
    "ICB {g} Name",
    "NHSER {g} Code",
    "NHSER {g} Name",
)
LSOA_ID_COLUMNS = ("LAD 2021 Code", "LAD 2021 Name", "LSOA 2021 Code", "LSOA 2021 Name")
# England's mid-2024 population is about 57.7 million over 33,755 LSOAs: ~1,700 each.
_MEAN_LSOA = 1_700


def made_up_ages(code: str, year: str, scale: float = 1.0) -> list[int]:
    """A repeatable made-up count for each of F0..F90, M0..M90 for one area and year: an
    older area has more people over 65, and every area's count changes a little each year."""
    seed = zlib.crc32(f"{code}".encode())
    older = 0.6 + (seed % 100) / 100  # 0.6-1.6: how old the area is
    growth = 1 + 0.004 * (int(year) - 2022)
    counts = []
    for _ in "FM":
        for age in AGES:
            base = 11.0 if age < 65 else 8.0 * older
            base = base * (3.0 if age == 90 else 1.0)  # 90 and over is one band
            counts.append(round(base * growth * scale * (0.8 + ((seed >> (age % 16)) % 40) / 100)))
    return counts


def lsoa_rows(lookup: pd.DataFrame, year: str) -> list[list[object]]:
    """One row per LSOA of an ONS LSOA lookup (lsoa21_code, lsoa21_name), LSOA sheet layout."""
    rows = []
    for code, name in zip(lookup["lsoa21_code"], lookup["lsoa21_name"], strict=True):
        ages = made_up_ages(code, year, scale=_MEAN_LSOA / 1_900)
        district = str(name).rsplit(" ", 1)[0]
        rows.append(
            [
                "E0" + str(zlib.crc32(district.encode()) % 10**7).zfill(7),
                district,
                code,
                name,
                sum(ages),
                *ages,
            ]
        )
    return rows


def sicbl_rows(lookup: pd.DataFrame, year: str, geography: str) -> list[list[object]]:
    """One row per sub-ICB location (sum of its LSOAs' made-up counts), ICB sheet layout."""
    lsoas = lookup.assign(
        ages=[made_up_ages(code, year, _MEAN_LSOA / 1_900) for code in lookup["lsoa21_code"]]
    )
    rows = []
    for (sicbl, icb, icb_name), group in lsoas.groupby(
        ["sicbl24_code", "icb24_code", "icb24_name"], sort=True
    ):
        ages = [sum(column) for column in zip(*group["ages"], strict=True)]
        name = f"NHS {icb_name.removeprefix('NHS ').removesuffix(' Integrated Care Board')} ICB - {group['sicbl24_code_nhs'].iloc[0]}"
        region = ("E40000000", "Made-up region")
        rows.append([sicbl, name, icb, icb_name, *region, sum(ages), *ages])
    return rows


def write_population_workbook(
    path: Path,
    level: str,
    years: Iterable[str],
    rows_for_year,
    *,
    geography: str,
    id_columns: Sequence[str],
) -> Path:
    """An ONS-layout workbook: front sheets, then one sheet per year from `rows_for_year(year)`."""
    area = "ICB" if level == "sicbl" else "LSOA"
    header = [column.format(g=geography) for column in id_columns] + ["Total", *AGE_COLUMNS]
    sheets: list[tuple[str, list[list[object]]]] = [
        (
            "Cover",
            [["Population estimates by " + area], ["Made-up numbers for tests: not ONS data."]],
        ),
        (
            "Contents",
            [
                ["Worksheet", "Title"],
                *([f"Mid-{y} {area} {geography}", "Estimates"] for y in years),
            ],
        ),
        (
            "Notes",
            [["Note number", "Note text"], ["1", "Figures may not sum because of rounding."]],
        ),
    ]
    for year in years:
        title = [
            [f"Mid-{year} population estimates for {area} areas in England"],
            ["Source: made up for tests"],
            [],
        ]
        sheets.append((f"Mid-{year} {area} {geography}", [*title, header, *rows_for_year(year)]))
    _write_xlsx(path, sheets)
    return path


def write_icb_population(
    path: Path, lookup: pd.DataFrame, years: Sequence[str] = ("2022", "2023", "2024")
) -> Path:
    """`sapeicb…xlsx`: sub-ICB locations of the 2024 geography, one sheet per year."""
    return write_population_workbook(
        path,
        "sicbl",
        years,
        lambda year: sicbl_rows(lookup, year, "2024"),
        geography="2024",
        id_columns=ICB_ID_COLUMNS,
    )


def write_lsoa_population(
    path: Path, lookup: pd.DataFrame, years: Sequence[str] = ("2023", "2024")
) -> Path:
    """`sapelsoasyoa…xlsx`: LSOAs (2021), single year of age, one sheet per year."""
    return write_population_workbook(
        path,
        "lsoa",
        years,
        lambda year: lsoa_rows(lookup, year),
        geography="2021",
        id_columns=LSOA_ID_COLUMNS,
    )


def read_shared_lookup(shared_data: Path) -> pd.DataFrame:
    """The LSOA21 -> SICBL24 -> ICB24 -> ICB26 lookup in ../shared/data, codes as text."""
    return pd.read_csv(shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv", dtype=str)


# --- raw SpreadsheetML --------------------------------------------------------------------------


def _write_xlsx(path: Path, sheets: list[tuple[str, list[list[object]]]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(name for name, _ in sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        for number, (_, rows) in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{number}.xml", _sheet(rows))


def _sheet(rows: list[list[object]]) -> str:
    body = "".join(
        f'<row r="{n}">{"".join(_cell(v) for v in row)}</row>'
        for n, row in enumerate(rows, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>{body}</sheetData></worksheet>'


def _cell(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<c><v>{value}</v></c>"
    return f'<c t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook(names: Iterable[str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'


def _workbook_rels(count: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
