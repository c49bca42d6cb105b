"""Write the voluntary-sector registers in their publishers' real formats, for tests.

The Charity Commission's `publicextract.charity.zip` (tab-separated text with CRLF line
ends and its embedded line breaks, DATA-FORMATS-2.md §4) and the Regulator of Social
Housing's `List_of_registered_providers_*.xlsx` (§5, in the current or the older header
spelling, with a hidden lookup sheet). `EXAMPLE_CHARITIES` and `EXAMPLE_RSH_PROVIDERS`
hold the awkward cases the readers must survive, and the providers of
`voluntary_care_homes`, a CQC-shaped list of the patterns issue 9 found in Birmingham.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from geo.testing.publisher_files import cqc_hsca_row

# The 34 columns of the charity table, in order (DATA-FORMATS-2.md §4).
CHARITY_COLUMNS: tuple[str, ...] = (
    "date_of_extract",
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "charity_reporting_status",
    "latest_acc_fin_period_start_date",
    "latest_acc_fin_period_end_date",
    "latest_income",
    "latest_expenditure",
    "charity_contact_address1",
    "charity_contact_address2",
    "charity_contact_address3",
    "charity_contact_address4",
    "charity_contact_address5",
    "charity_contact_postcode",
    "charity_contact_phone",
    "charity_contact_email",
    "charity_contact_web",
    "charity_company_registration_number",
    "charity_insolvent",
    "charity_in_administration",
    "charity_previously_excepted",
    "charity_is_cdf_or_cif",
    "charity_is_cio",
    "cio_is_dissolved",
    "date_cio_dissolution_notice",
    "charity_activities",
    "charity_gift_aid",
    "charity_has_land",
)
EXTRACT_DATE = "2026-05-01 00:00:00.0000000"
CHARITY_MEMBER = "publicextract.charity.txt"


def charity_row(**values: object) -> dict[str, str]:
    """One row of the charity table: every column, blank unless given, a main charity
    registered on the extract's date unless told otherwise."""
    unknown = set(values) - set(CHARITY_COLUMNS)
    if unknown:
        raise KeyError(f"not charity table columns: {sorted(unknown)}")
    defaults = {
        "date_of_extract": EXTRACT_DATE,
        "linked_charity_number": "0",
        "charity_registration_status": "Registered",
        "date_of_registration": "1998-04-01 00:00:00.0000000",
        "charity_insolvent": "False",
        "charity_in_administration": "False",
    }
    return {column: str(values.get(column, defaults.get(column, ""))) for column in CHARITY_COLUMNS}


# The register's awkward cases: a company number without its leading zero; a removed
# charity; a linked (subsidiary) charity with a company number of its own; an address
# whose line break is followed by the next field's tab (the publisher's quirk); an
# activities text broken mid-field; a trust with no company number.
EXAMPLE_CHARITIES: tuple[dict[str, str], ...] = (
    charity_row(
        organisation_number="5001",
        registered_charity_number="1100001",
        charity_name="MIDSHIRE CROSSROADS CARE",
        charity_type="Charitable company",
        charity_company_registration_number="1234567",
        charity_activities="Care and support for carers and older people",
    ),
    charity_row(
        organisation_number="5002",
        registered_charity_number="1100002",
        charity_name="OLD OAK CARE TRUST",
        charity_type="Charitable company",
        charity_registration_status="Removed",
        date_of_removal="2019-11-06 00:00:00.0000000",
        charity_reporting_status="Removed",
        charity_company_registration_number="02222222",
    ),
    charity_row(
        organisation_number="5003",
        registered_charity_number="1100001",
        linked_charity_number="1",
        charity_name="MIDSHIRE CROSSROADS CARE TRADING FUND",
        charity_company_registration_number="03333333",
    ),
    charity_row(
        organisation_number="5004",
        registered_charity_number="1012345",
        charity_name="ST HILDA'S HOSPICE",
        charity_type="Charitable company",
        charity_contact_address1="1 High Street\r\n",
        charity_contact_postcode="NT1 1AB",
        charity_company_registration_number="04444444",
        charity_activities="Hospice care at home\r\nand in our inpatient unit",
    ),
    charity_row(
        organisation_number="5005",
        registered_charity_number="207994",
        charity_name="MARIE CURIE",
        charity_type="Trust",
    ),
)


def write_charity_extract(
    path: str | Path, rows: Iterable[Mapping[str, str]] = EXAMPLE_CHARITIES
) -> Path:
    """`publicextract.charity.zip` as the Charity Commission ships it: one tab-separated
    member with a header, CRLF line ends, no quoting, values written as they are (so a
    value ending in a line break puts the next field's tab at the start of a line)."""
    lines = ["\t".join(CHARITY_COLUMNS)]
    lines += ["\t".join(row.get(column, "") for column in CHARITY_COLUMNS) for row in rows]
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CHARITY_MEMBER, "\r\n".join(lines) + "\r\n")
    return path


# --- Regulator of Social Housing --------------------------------------------------------

RSH_COLUMNS: tuple[str, ...] = (
    "Organisation name",
    "Registration number",
    "Registration date",
    "Designation",
    "Corporate form",
)
RSH_OLDER_COLUMNS: tuple[str, ...] = (
    "Organisation Name",
    "Registration Number",
    "Registration Date",
    "Designation",
    "Corporate Form",
)
RSH_SHEET = "Organisation Advanced Find View"

# (name, registration number, date, designation, corporate form); None is a blank row.
# fmt: off
EXAMPLE_RSH_PROVIDERS: tuple[tuple[str, str, str, str, str] | None, ...] = (
    ("Anchor Hanover Group", "L4598", "12/12/1980", "Non-profit", "Registered society"),
    ("GreenSquareAccord Limited", "4851", "01/04/2022", "Non-profit", "Registered society"),
    ("New Outlook Housing Association Limited", "L0287", "03/02/1976", "Non-profit",
     "Registered society"),
    None,
    ("Midshire Homes Limited", "4790", "22/03/2013", "Non-profit", "Charitable company"),
    ("Ashdene Housing Association Limited", "L1133", "08/12/1975", "Non-profit",
     "Registered society"),
    ("Sterling Living Limited", "5071", "19/06/2017", "Profit", "Company"),
    ("Birmingham City Council", "45UB", "01/04/2010", "Local authority", "Local Authority"),
)
# fmt: on


def write_rsh_list(
    path: str | Path,
    providers: Sequence[tuple[str, str, str, str, str] | None] = EXAMPLE_RSH_PROVIDERS,
    *,
    older_headers: bool = False,
) -> Path:
    """`List_of_registered_providers_*.xlsx`: a hidden lookup sheet first, then the data
    sheet with its header on row 1 (the older spelling when `older_headers`) and a blank
    row wherever `providers` has None."""
    from openpyxl import Workbook

    workbook = Workbook()
    lookup = workbook.active
    lookup.title = "Lookup"
    for value in ("Designation", "Profit", "Non-profit", "Local authority"):
        lookup.append([value])
    lookup.sheet_state = "hidden"
    data = workbook.create_sheet(RSH_SHEET)
    data.append(list(RSH_OLDER_COLUMNS if older_headers else RSH_COLUMNS))
    for provider in providers:
        data.append(list(provider) if provider else [])
    workbook.active = 1
    path = Path(path)
    workbook.save(path)
    return path


# --- a CQC-shaped list of the patterns -------------------------------------------------

# (provider, Companies House number, charity number, beds per home, expected sector, rule)
# fmt: off
VOLUNTARY_PATTERNS: tuple[tuple[str, str, str, tuple[int, ...], str, str], ...] = (
    ("Meadowbank Care Ltd", "06666666", "-", (40, 52, 60), "Independent", "independent_type"),
    ("Sterling Living Limited", "07777777", "-", (30,), "Independent", "independent_type"),
    ("Old Oak Care Limited", "02222222", "-", (25,), "Independent", "independent_type"),
    ("Crossroads Homes Ltd", "03333333", "-", (24,), "Independent", "independent_type"),
    ("Ashdene Housing Assocation Ltd", "08888888", "-", (22,), "Independent", "independent_type"),
    ("Anchor Hanover Group", "RS007843", "-", (45, 38), "Voluntary", "society_or_cio_prefix"),
    ("GreenSquareAccord Limited", "RS027052", "-", (33,), "Voluntary", "society_or_cio_prefix"),
    ("New Outlook Housing Association Limited", "IP21410R", "-", (28,), "Voluntary",
     "society_or_cio_prefix"),
    ("Midshire Crossroads Care", "01234567", "-", (20,), "Voluntary", "charity_register_company"),
    ("Brookfield Care C.I.C.", "09999999", "-", (18,), "Voluntary", "cic_name"),
    ("Midshire Homes Limited", "05555555", "-", (36,), "Voluntary", "rsh_non_profit"),
    ("St Hilda's Care", "04444444", "1012345", (30,), "Voluntary", "charity_number"),
    ("Birmingham City Council", "-", "-", (40,), "Local authority", "council_name"),
)
# fmt: on


def voluntary_care_homes() -> list[dict[str, object]]:
    """CQC HSCA rows, one care home per entry of `VOLUNTARY_PATTERNS`' beds: for-profit
    chains, housing associations with RS/IP numbers, a charitable company without a
    charity number, a CIC, a non-profit housing provider known only by name, a for-profit
    one, a charity, a council, and a near miss of a housing association's name."""
    rows = []
    for provider_number, (provider, company, charity, beds, _sector, _rule) in enumerate(
        VOLUNTARY_PATTERNS, start=1
    ):
        for home, capacity in enumerate(beds, start=1):
            number = provider_number * 10 + home
            rows.append(
                cqc_hsca_row(
                    **{
                        "Location ID": f"1-{300000000 + number}",
                        "Dormant (Y/N)": "N",
                        "Care home?": "Y",
                        "Location Name": f"{provider} home {home}",
                        "Care homes beds": capacity,
                        "Location Type/Sector": "Social Care Org",
                        "Location Inspection Directorate": "Adult social care",
                        "Location Primary Inspection Category": "Residential social care",
                        "Location ONSPD CCG Code": "E38000258",
                        "Location Postal Code": f"B{number % 40 + 1} 1AA",
                        "Location Latitude": 52.48 + number / 10000,
                        "Location Longitude": -1.89 - number / 10000,
                        "Provider Companies House Number": company,
                        "Provider Charity Number": charity,
                        "Provider ID": f"1-{400000000 + provider_number}",
                        "Provider Name": provider,
                        "Provider Ownership Type": "Organisation",
                        "Service type - Care home service without nursing": "Y",
                    }
                )
            )
    return rows
