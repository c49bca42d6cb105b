"""Write provider lists in the publishers' real formats, at any size, for tests and benchmarks.

CQC HSCA Active Locations (ODS as LibreOffice writes it, older XLSX with its
preamble, CSV, each with its `Dual_Registration_Locations` sheet), the older CQC
care-directory CSV with its padded preamble, and NHS ODS headerless 27-column CSV
reports (ets, etr, epraccur with its status and prescribing setting). Formats follow
../shared/DATA-FORMATS.md and DATA-FORMATS-2.md §9.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, groupby
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# ---------------------------------------------------------------- CQC HSCA header

_REGULATED_ACTIVITIES = (
    "Accommodation for persons who require nursing or personal care",
    "Accommodation for persons who require treatment for substance misuse",
    "Assessment or medical treatment for persons detained under the Mental Health Act 1983",
    "Diagnostic and screening procedures",
    "Family planning",
    "Management of supply of blood and blood derived products",
    "Maternity and midwifery services",
    "Nursing care",
    "Personal care",
    "Services in slimming clinics",
    "Surgical procedures",
    "Termination of pregnancies",
    "Transport services, triage and medical advice provided remotely",
    "Treatment of disease, disorder or injury",
)
_SERVICE_TYPES = (
    "Acute services with overnight beds",
    "Acute services without overnight beds / listed acute services with or without overnight beds",
    "Ambulance service",
    "Blood and Transplant service",
    "Care home service with nursing",
    "Care home service without nursing",
    "Community based services for people who misuse substances",
    "Community based services for people with a learning disability",
    "Community based services for people with mental health needs",
    "Community health care services - Independent Midwives",
    "Community health care services - Nurses Agency only",
    "Community healthcare service",
    "Dental service",
    "Diagnostic and/or screening service",
    "Diagnostic and/or screening service - single handed sessional providers",
    "Doctors consultation service",
    "Doctors treatment service",
    "Domiciliary care service",
    "Extra Care housing services",
    "Hospice services",
    "Hospice services at home",
    "Hospital services for people with mental health needs, learning disabilities and "
    "problems with substance misuse",
    "Hyperbaric Chamber",
    "Long term conditions services",
    "Mobile doctors service",
    "Prison Healthcare Services",
    "Rehabilitation services",
    "Remote clinical advice service",
    "Residential substance misuse treatment and/or rehabilitation service",
    "Shared Lives",
    "Specialist college service",
    "Supported living service",
    "Urgent care services",
)
_SERVICE_USER_BANDS = (
    "Children 0-18 years",
    "Dementia",
    "Learning disabilities or autistic spectrum disorder",
    "Mental Health",
    "Older People",
    "People detained under the Mental Health Act",
    "People who misuse drugs and alcohol",
    "People with an eating disorder",
    "Physical Disability",
    "Sensory Impairment",
    "Whole Population",
    "Younger Adults",
)

# The 122 columns of the 2026 HSCA_Active_Locations sheet, in order (DATA-FORMATS.md §1.4).
CQC_HSCA_COLUMNS: tuple[str, ...] = (
    "Location ID",
    "Location HSCA start date",
    "Dormant (Y/N)",
    "Care home?",
    "Location Name",
    "Location ODS Code",
    "Location Telephone Number",
    "Registered manager",
    "Location Web Address",
    "Care homes beds",
    "Location Type/Sector",
    "Location Inspection Directorate",
    "Location Primary Inspection Category",
    "Location Latest Overall Rating",
    "Publication Date",
    "Inherited Rating (Y/N)",
    "Location Region",
    "Location NHS Region",
    "Location Local Authority",
    "Location ONSPD CCG Code",
    "Location ONSPD CCG",
    "Location Commissioning CCG Code",
    "Location Commissioning CCG",
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location County",
    "Location Postal Code",
    "Location PAF ID",
    "Location UPRN ID",
    "Location Latitude",
    "Location Longitude",
    "Location Parliamentary Constituency",
    "Brand ID",
    "Brand Name",
    "Provider Companies House Number",
    "Provider Charity Number",
    "Provider ID",
    "Provider Name",
    "Provider HSCA start date",
    "Provider Type/Sector",
    "Provider Inspection Directorate",
    "Provider Primary Inspection Category",
    "Provider Ownership Type",
    "Provider Telephone Number",
    "Provider Web Address",
    "Provider Street Address",
    "Provider Address Line 2",
    "Provider City",
    "Provider County",
    "Provider Postal Code",
    "Provider PAF ID",
    "Provider UPRN ID",
    "Provider Local Authority",
    "Provider Region",
    "Provider NHS Region",
    "Provider Latitude",
    "Provider Longitude",
    "Provider Parliamentary Constituency",
    "Provider Nominated Individual Name",
    "Provider Main Partner Name",
    *(f"Regulated activity - {name}" for name in _REGULATED_ACTIVITIES),
    *(f"Service type - {name}" for name in _SERVICE_TYPES),
    *(f"Service user band - {name}" for name in _SERVICE_USER_BANDS),
    "Location Dual Registered",
    "Primary ID (Dual registration locations)",
)
assert len(CQC_HSCA_COLUMNS) == 122

CQC_HSCA_SHEET = "HSCA_Active_Locations"
CQC_README_ROWS: tuple[tuple[str, ...], ...] = (
    ("Active locations for providers registered under the Health and Social Care Act (HSCA)",),
    (),
    ("Source: CQC database as at 01 November 2026",),
    (),
    ("Each row is one location. Filter the Service type columns for 'Y'.",),
)
CQC_DUAL_SHEET = "Dual_Registration_Locations"
# The 11 columns of the Dual_Registration_Locations sheet (DATA-FORMATS-2.md §9).
CQC_DUAL_REGISTRATION_HEADER: tuple[str, ...] = (
    "Location ID",
    "Location Name",
    "Location HSCA Start Date",
    "Location Type/Sector",
    "Provider ID",
    "Provider Name",
    "Linked Organisation ID",
    "Linked Organisation Name",
    "Relationship",
    "Relationship Start Date",
    "Primary ID",
)

# Which CQC columns the publisher stores as typed cells in its spreadsheets.
_CQC_DATE_COLUMNS = frozenset(
    {"Location HSCA start date", "Publication Date", "Provider HSCA start date"}
)
_CQC_NUMBER_COLUMNS = frozenset(
    {
        "Care homes beds",
        "Location Latitude",
        "Location Longitude",
        "Provider Latitude",
        "Provider Longitude",
        "Location UPRN ID",
        "Provider UPRN ID",
        "Location PAF ID",
        "Provider PAF ID",
    }
)

# ------------------------------------------------------------ CQC rows to write


def cqc_hsca_row(**values: object) -> dict[str, object]:
    """One CQC location row: every one of the 122 columns, blank unless given.

    Column names have spaces, so pass them as `cqc_hsca_row(**{"Location ID": ...})`.
    """
    unknown = set(values) - set(CQC_HSCA_COLUMNS)
    if unknown:
        raise KeyError(f"not CQC HSCA columns: {sorted(unknown)}")
    return {column: values.get(column, "") for column in CQC_HSCA_COLUMNS}


_ARCHETYPES: tuple[dict[str, object], ...] = (
    {
        "Care home?": "Y",
        "Care homes beds": 42,
        "Location Type/Sector": "Social Care Org",
        "Location Inspection Directorate": "Adult social care",
        "Location Primary Inspection Category": "Residential social care",
        "Provider Ownership Type": "Organisation",
        "Provider Name": "Meadowbank Care Ltd",
        "Service type - Care home service with nursing": "Y",
        "Service user band - Older People": "Y",
    },
    {
        "Care home?": "N",
        "Location Type/Sector": "Social Care Org",
        "Location Inspection Directorate": "Adult social care",
        "Location Primary Inspection Category": "Community based adult social care services",
        "Provider Ownership Type": "Organisation",
        "Provider Name": "Northshire County Council",
        "Service type - Domiciliary care service": "Y",
    },
    {
        "Care home?": "N",
        "Location Type/Sector": "Primary Medical Services",
        "Location Inspection Directorate": "Primary medical services",
        "Location Primary Inspection Category": "GP Practices",
        "Provider Ownership Type": "Partnership",
        "Provider Name": "Dr A Patel and Partners",
        "Service type - Doctors consultation service": "Y",
    },
    {
        "Care home?": "N",
        "Location Type/Sector": "Independent Healthcare Org",
        "Location Inspection Directorate": "Hospitals",
        "Location Primary Inspection Category": "Hospice services",
        "Provider Ownership Type": "Organisation",
        "Provider Charity Number": "1012345",
        "Provider Name": "St Hilda's Hospice",
        "Service type - Hospice services": "Y",
    },
    {
        "Care home?": "N",
        "Location Type/Sector": "NHS Healthcare Organisation",
        "Location Inspection Directorate": "Hospitals",
        "Location Primary Inspection Category": "Acute hospital - NHS non-specialist",
        "Provider Ownership Type": "NHS Body",
        "Provider Name": "Northshire Hospitals NHS Foundation Trust",
        "Service type - Acute services with overnight beds": "Y",
    },
)


def dual_registration_row(**values: object) -> dict[str, object]:
    """One row of the Dual_Registration_Locations sheet; `Relationship` is 'Dual Registration'
    unless given. Pass names with spaces as `dual_registration_row(**{"Location ID": ...})`."""
    unknown = set(values) - set(CQC_DUAL_REGISTRATION_HEADER)
    if unknown:
        raise KeyError(f"not Dual_Registration_Locations columns: {sorted(unknown)}")
    return {
        column: values.get(column, "Dual Registration" if column == "Relationship" else "")
        for column in CQC_DUAL_REGISTRATION_HEADER
    }


def make_cqc_hsca_rows(count: int) -> Iterator[dict[str, object]]:
    """`count` realistic, distinct CQC location rows cycling through five kinds of site.

    Care homes, council home care, GP practices, charity hospices and NHS
    hospitals, spread over England's bounding box; deterministic, so a benchmark
    file is the same every run.
    """
    for number in range(count):
        kind = _ARCHETYPES[number % len(_ARCHETYPES)]
        provider = number // 3
        yield cqc_hsca_row(
            **{
                "Location ID": f"1-{100000000 + number}",
                "Location HSCA start date": dt.date(2010, 10, 1) + dt.timedelta(days=number % 4000),
                "Dormant (Y/N)": "N",
                "Location Name": f"{kind['Provider Name']} site {number}",
                "Location Telephone Number": f"01{number % 1000:03d} {number % 1000000:06d}",
                "Location Latest Overall Rating": ("Good", "Outstanding", "Requires improvement")[
                    number % 3
                ],
                "Location Region": "North West",
                "Location NHS Region": "North West",
                "Location Local Authority": "Northshire",
                "Location ONSPD CCG Code": f"E380000{10 + number % 90:02d}",
                "Location ONSPD CCG": "NHS Northshire ICB - 01A",
                "Location Street Address": f"{number % 200 + 1} High Street",
                "Location City": "Northtown",
                "Location Postal Code": f"NT{number % 20 + 1} {number % 9 + 1}AB",
                "Location Latitude": round(50.5 + (number * 7919 % 5000) / 1000, 6),
                "Location Longitude": round(-4.5 + (number * 104729 % 6000) / 1000, 6),
                "Brand ID": "-",
                "Brand Name": "-",
                "Provider ID": f"1-{200000000 + provider}",
                "Provider Region": "North West",
                **kind,
            }
        )


# Who runs the care homes of `make_cqc_national_rows`: (homes of every 20, owner's columns,
# beds as (fewest, range)). Loosely the national shape, NOT a measurement of it.
_CARE_HOME_OWNERS: tuple[tuple[int, dict[str, object], tuple[int, int]], ...] = (
    (16, {"Provider Name": "Meadowbank Care Ltd", "Provider Companies House Number": "04512345"},
     (20, 60)),  # a private company
    (3, {"Provider Name": "Abbeyfield Northshire Society", "Provider Charity Number": "1054321"},
     (15, 40)),  # a registered charity
    (1, {"Provider Name": "Northshire County Council"}, (25, 40)),  # a council
)  # fmt: skip
_CARE_HOME = {
    "Care home?": "Y",
    "Location Type/Sector": "Social Care Org",
    "Location Inspection Directorate": "Adult social care",
    "Location Primary Inspection Category": "Residential social care",
    "Provider Ownership Type": "Organisation",
    "Service type - Care home service without nursing": "Y",
    "Service user band - Older People": "Y",
}


def make_cqc_national_rows(count: int) -> Iterator[dict[str, object]]:
    """`count` CQC location rows, a quarter of them care homes run by companies, charities and
    councils (`_CARE_HOME_OWNERS`), the rest as `make_cqc_hsca_rows`'s other kinds of site.

    Synthetic and deterministic: for checking national sums end to end (docs/sanity.md),
    never for what England's care homes are.
    """
    blank = {column: "" for kind in _ARCHETYPES for column in kind}
    slots = [owner for owner, (homes, _, _) in enumerate(_CARE_HOME_OWNERS) for _ in range(homes)]
    for number, row in enumerate(make_cqc_hsca_rows(count)):
        if number % 4:
            if row["Care home?"] == "Y":  # make_cqc_hsca_rows's own care homes become home care
                row.update({**blank, **_ARCHETYPES[1]})
                row["Location Name"] = f"{_ARCHETYPES[1]['Provider Name']} site {number}"
            yield row
            continue
        home = number // 4
        owner = slots[home % len(slots)]
        _, columns, (fewest, spread) = _CARE_HOME_OWNERS[owner]
        row.update({**blank, **_CARE_HOME, **columns})
        row["Care homes beds"] = fewest + home * 37 % spread
        row["Location Name"] = f"{columns['Provider Name']} home {home}"
        row["Provider ID"] = f"1-{300000000 + owner * 10_000_000 + home // 3}"
        yield row


def read_cqc_hsca_csv_rows(path: str | Path) -> list[dict[str, object]]:
    """The rows of a CQC HSCA CSV as dicts (for writing the same rows as ODS or XLSX)."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        return [dict(row) for row in csv.DictReader(file)]


# ---------------------------------------------------------------- CQC writers


def write_cqc_hsca_csv(
    path: str | Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = CQC_HSCA_COLUMNS,
) -> Path:
    """A CQC HSCA Active Locations CSV: one header row, then the rows (dates ISO, UTF-8)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_as_text(row.get(column, "")) for column in columns])
    return path


def write_cqc_hsca_ods(
    path: str | Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = CQC_HSCA_COLUMNS,
    *,
    dual_rows: Iterable[Mapping[str, object]] = (),
) -> Path:
    """The ODS edition: README, HSCA_Active_Locations (header on row 1), Dual_Registration_Locations
    (its header, then `dual_rows`).

    Dates and numbers become typed cells, as in CQC's file.
    """
    body = ([_cqc_typed(column, row.get(column, "")) for column in columns] for row in rows)
    sheets = {
        "README": CQC_README_ROWS,
        CQC_HSCA_SHEET: chain([tuple(columns)], body),
        CQC_DUAL_SHEET: _dual_sheet_rows(dual_rows),
    }
    return write_ods(path, sheets)


def write_cqc_hsca_xlsx(
    path: str | Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = CQC_HSCA_COLUMNS,
    *,
    preamble_rows: int = 6,
    sheet: str = "HSCA Active Locations",
    dual_rows: Iterable[Mapping[str, object]] | None = None,
) -> Path:
    """An older XLSX edition: `preamble_rows` title rows above the header (6 in 2017–2024),
    and a Dual_Registration_Locations sheet when `dual_rows` is given."""
    from openpyxl import Workbook

    path = Path(path)
    workbook = Workbook(write_only=True)
    readme = workbook.create_sheet("README")
    for line in CQC_README_ROWS:
        readme.append(list(line))
    data = workbook.create_sheet(sheet)
    preamble = [*CQC_README_ROWS, *([()] * preamble_rows)][:preamble_rows]
    for line in preamble:
        data.append(list(line))
    data.append(list(columns))
    for row in rows:
        data.append([_cqc_typed(column, row.get(column, "")) for column in columns])
    if dual_rows is not None:
        dual = workbook.create_sheet(CQC_DUAL_SHEET)
        for line in _dual_sheet_rows(dual_rows):
            dual.append(list(line))
    workbook.save(path)
    return path


def _dual_sheet_rows(rows: Iterable[Mapping[str, object]]) -> Iterator[tuple[object, ...]]:
    """The dual-registration sheet's header and rows, as text (dates DD/MM/YYYY, as CQC writes them)."""
    yield CQC_DUAL_REGISTRATION_HEADER
    for row in rows:
        yield tuple(str(row.get(column, "")) for column in CQC_DUAL_REGISTRATION_HEADER)


def _cqc_typed(column: str, value: object) -> object:
    """A CSV string turned into the typed cell CQC's spreadsheets hold for that column."""
    if not isinstance(value, str) or value == "":
        return value
    if column in _CQC_DATE_COLUMNS:
        return dt.date.fromisoformat(value)
    if column in _CQC_NUMBER_COLUMNS:
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value


def _as_text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


# ------------------------------------------------------------ CQC directory CSV

CQC_DIRECTORY_COLUMNS: tuple[str, ...] = (
    "Name",
    "Also known as",
    "Address",
    "Postcode",
    "Phone number",
    "Service's website (if available)",
    "Service types",
    "Date of latest check",
    "Specialisms/services",
    "Provider name",
    "Local Authority",
    "Region",
    "Location URL",
    "CQC Location ID (for office use only)",
    "CQC Provider ID (for office use only)",
)


def cqc_directory_columns(edition: int = 2020) -> tuple[str, ...]:
    """The directory header of a given year: 2017–2020 had a typo; 2024+ says 'Local authority'."""
    columns = list(CQC_DIRECTORY_COLUMNS)
    if edition <= 2020:
        columns[13] = "CQC Location (for office use only"
    if edition >= 2024:
        columns[10] = "Local authority"
    return tuple(columns)


def write_cqc_directory_csv(
    path: str | Path,
    rows: Iterable[Sequence[str]],
    *,
    produced: str = "01 November 2020",
    columns: Sequence[str] | None = None,
) -> Path:
    """`DD_Month_YYYY_CQC_directory.csv`: 4 preamble lines padded with 14 commas, then header."""
    path = Path(path)
    columns = tuple(columns or cqc_directory_columns())
    padding = "," * (len(columns) - 1)
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(f"CQC Locations data{padding}\r\n{padding}\r\n")
        file.write(f"This data was produced on {produced}{padding}\r\n{padding}\r\n")
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


# ------------------------------------------------------------ NHS ODS reports


def ods_report_row(
    code: str,
    name: str,
    postcode: str,
    *,
    open_date: str = "20000401",
    close_date: str = "",
    parent: str = "",
    address: Sequence[str] = ("1 HOSPITAL ROAD", "", "NORTHTOWN", "NORTHSHIRE", ""),
    grouping: str = "Y61",
    geography: str = "QE1",
    status: str = "",
    prescribing_setting: str = "",
) -> list[str]:
    """One 27-field NHS ODS report record (DATA-FORMATS.md §2.2); dates are YYYYMMDD.

    `parent` is column 15 (ets: the trust; epraccur: the commissioner); `status` column
    13 and `prescribing_setting` column 26 are epraccur's ('A'/'C'/'D'/'P' and '4' in
    the legacy file, 'ACTIVE' and role codes such as 'RO76' in the DSE edition).
    """
    fields = [""] * 27
    fields[0], fields[1], fields[2], fields[3] = code, name, grouping, geography
    fields[4:9] = [*address, "", "", "", "", ""][:5]
    fields[9], fields[10], fields[11] = postcode, open_date, close_date
    fields[12] = status
    fields[14], fields[15] = parent, open_date if parent else ""
    fields[17], fields[21] = "01234 567890", "0"
    fields[25] = prescribing_setting
    return fields


def write_ods_report_csv(
    path: str | Path, rows: Iterable[Sequence[str]], *, bom: bool = False
) -> Path:
    """A headerless NHS ODS CSV report, every field quoted as the publisher does."""
    path = Path(path)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as file:
        csv.writer(file, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


# ------------------------------------------------------------ ODS writer

_ODS_MAX_COLUMNS = 16_384
_ODS_MAX_ROWS = 1_048_576
_ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
    'office:version="1.3"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def write_ods(
    path: str | Path,
    sheets: Mapping[str, Iterable[Sequence[object]]],
    *,
    pad: bool = True,
) -> Path:
    """An .ods file written the way LibreOffice writes one, streamed so it can be any size.

    Cells: str → string (newlines as paragraphs, runs of spaces as <text:s>),
    int/float → float, date/datetime → date, bool → boolean, None/"" → empty.
    Equal neighbouring cells and rows are run-length encoded with
    number-columns-repeated / number-rows-repeated; with `pad`, every row and
    sheet is padded to 16,384 columns and 1,048,576 rows as LibreOffice does.
    """
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr(
            "styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {_ODS_NAMESPACES}/>',
        )
        with archive.open("content.xml", "w", force_zip64=True) as content:
            for chunk in _content_xml(sheets, pad=pad):
                content.write(chunk.encode("utf-8"))
    return path


def _content_xml(sheets: Mapping[str, Iterable[Sequence[object]]], *, pad: bool) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NAMESPACES}>'
    yield "<office:automatic-styles/><office:body><office:spreadsheet>"
    for name, rows in sheets.items():
        yield f"<table:table table:name={quoteattr(name)}>"
        yield f'<table:table-column table:number-columns-repeated="{_ODS_MAX_COLUMNS}"/>'
        written = 0
        for row_xml, repeats in _run_lengths(_row_xml(row, pad=pad) for row in rows):
            row_xml = str(row_xml)
            written += repeats
            attribute = f' table:number-rows-repeated="{repeats}"' if repeats > 1 else ""
            yield f"<table:table-row{attribute}>{row_xml}</table:table-row>"
        if pad:
            yield (
                f'<table:table-row table:number-rows-repeated="{_ODS_MAX_ROWS - written}">'
                f'<table:table-cell table:number-columns-repeated="{_ODS_MAX_COLUMNS}"/>'
                "</table:table-row>"
            )
        yield "</table:table>"
    yield "</office:spreadsheet></office:body></office:document-content>"


def _row_xml(row: Sequence[object], *, pad: bool) -> str:
    parts = []
    for value, repeats in _run_lengths(row):
        cell_xml = _cell_xml(value)
        if repeats > 1:
            cell_xml = cell_xml.replace(
                "<table:table-cell",
                f'<table:table-cell table:number-columns-repeated="{repeats}"',
                1,
            )
        parts.append(cell_xml)
    if pad and len(row) < _ODS_MAX_COLUMNS:
        parts.append(
            f'<table:table-cell table:number-columns-repeated="{_ODS_MAX_COLUMNS - len(row)}"/>'
        )
    return "".join(parts)


def _run_lengths(items: Iterable[object]) -> Iterator[tuple[object, int]]:
    for item, group in groupby(items, key=_run_key):
        yield item[1], len(list(group))


def _run_key(value: object) -> tuple[type, object]:
    """Group equal neighbours, but never 1 with 1.0 or True (same value, different cells)."""
    return (type(value), value)


def _cell_xml(value: object) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{text.lower()}">'
            f"<text:p>{text}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}" '
            f'calcext:value-type="float"><text:p>{value}</text:p></table:table-cell>'
        )
    if isinstance(value, dt.datetime):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y %H:%M}</text:p></table:table-cell>"
        )
    if isinstance(value, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    paragraphs = "".join(f"<text:p>{_ods_text(line)}</text:p>" for line in str(value).split("\n"))
    return f'<table:table-cell office:value-type="string">{paragraphs}</table:table-cell>'


def _ods_text(line: str) -> str:
    """Escape a line for <text:p>, writing runs of spaces as LibreOffice does (<text:s>)."""
    if "  " not in line and not line.startswith(" "):
        return escape(line)
    return _SPACE_RUN.sub(_space_element, escape(line))


_SPACE_RUN = re.compile(r"(^ +)|(?<= ) +")


def _space_element(match: re.Match) -> str:
    count = len(match.group(0))
    return f'<text:s text:c="{count}"/>' if count > 1 else "<text:s/>"
