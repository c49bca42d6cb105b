"""Write NHS England's activity extracts and the DSPT export in their real formats, for tests
and the benchmark.

- RTT "Full CSV data file" (DATA-FORMATS-2.md §1): 121 columns in order, minimal quoting
  (only cells with a comma are quoted), zipped alone as `{YYYYMMDD}-RTT-{Month}-{YYYY}-full-extract.csv`;
  or the older layout (three preamble lines, `Period Name`, the codes under `Treatment Function
  Name`, bands to 52+ weeks).
- DM01 full extract (§2): 30 columns, every cell quoted, zipped as `DM01-{MONTH}-{YYYY}-full-extract.csv`.
- DSPT organisation search export (§7): the 2022+ header, or the 2019-21 one.

Providers and commissioners are real: independent-sector sites and an NHS trust from the NHS
website's hospital list, sub-ICB locations with their ICBs from ONS's lookups, all read at
build time from the shared data folder passed in (`ActivityWorld.load`), never copied.
`example_rtt_rows`, `example_dm01_rows` and `example_dspt_rows` hold the awkward cases the
readers must survive; `write_large_rtt_csv` the benchmark's 180,000-row month.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RTT_BANDS: tuple[str, ...] = (
    *(f"Gt {week:02d} To {week + 1:02d} Weeks SUM 1" for week in range(104)),
    "Gt 104 Weeks SUM 1",
)
RTT_COLUMNS: tuple[str, ...] = (
    "Period",
    "Provider Parent Org Code",
    "Provider Parent Name",
    "Provider Org Code",
    "Provider Org Name",
    "Commissioner Parent Org Code",
    "Commissioner Parent Name",
    "Commissioner Org Code",
    "Commissioner Org Name",
    "RTT Part Type",
    "RTT Part Description",
    "Treatment Function Code",
    "Treatment Function Name",
    *RTT_BANDS,
    "Total",
    "Patients with unknown clock start date",
    "Total All",
)
# The older (pre-April 2021) layout: bands stop at 52+ weeks, with a preamble above.
OLD_RTT_BANDS: tuple[str, ...] = (
    *(f"Gt {week:02d} To {week + 1:02d} Weeks SUM 1" for week in range(52)),
    "Gt 52 Weeks SUM 1",
)
OLD_RTT_PREAMBLE: tuple[str, ...] = (
    "Referral to Treatment (RTT) Waiting Times",
    "Full CSV data file",
    "",
)
DM01_BANDS: tuple[str, ...] = (
    "00 < 01 Week",
    *(f"{week:02d} < {week + 1:02d} Weeks" for week in range(1, 13)),
    "13+ Weeks",
)
DM01_COLUMNS: tuple[str, ...] = (
    "Period",
    "Provider Parent Org Code",
    "Provider Parent Name",
    "Provider Org Code",
    "Provider Org Name",
    "Commissioner Parent Org Code",
    "Commissioner Parent Name",
    "Commissioner Org Code",
    "Commissioner Org Name",
    "Diagnostic Tests Sort Order",
    "Diagnostic Tests",
    *DM01_BANDS,
    "Total WL",
    "Waiting List Activity",
    "Planned Activity",
    "Unscheduled Activity",
    "Total Activity",
)
DM01_TESTS: tuple[str, ...] = (
    "AUDIOLOGY_ASSESSMENTS",
    "BARIUM_ENEMA",
    "COLONOSCOPY",
    "CT",
    "CYSTOSCOPY",
    "DEXA_SCAN",
    "ECHOCARDIOGRAPHY",
    "ELECTROPHYSIOLOGY",
    "FLEXI_SIGMOIDOSCOPY",
    "GASTROSCOPY",
    "MRI",
    "NON_OBSTETRIC_ULTRASOUND",
    "PERIPHERAL_NEUROPHYS",
    "SLEEP_STUDIES",
    "URODYNAMICS",
)
DSPT_COLUMNS: tuple[str, ...] = (
    "Code",
    "Organisation Name",
    "Status",
    "Date Of Publication",
    "Primary Sector",
    "Integrated Care Board (where available, from ODS)",
)
OLD_DSPT_COLUMNS: tuple[str, ...] = (
    "Code",
    "Organisation Name",
    "Latest Status",
    "Date Of Publication",
    "Primary Sector",
    "Commissioner (From ODS)",
)
RTT_PARTS: dict[str, str] = {
    "Part_1A": "Completed Pathways For Admitted Patients",
    "Part_1B": "Completed Pathways For Non-Admitted Patients",
    "Part_2": "Incomplete Pathways",
    "Part_2A": "Incomplete Pathways with DTA",
    "Part_3": "New RTT Periods - All Patients",
}
FUNCTIONS: dict[str, str] = {
    "C_100": "General Surgery Service",
    "C_101": "Urology Service",
    "C_110": "Trauma and Orthopaedic Service",
    "C_120": "Ear Nose and Throat Service",
    "C_130": "Ophthalmology Service",
    "C_140": "Oral Surgery Service",
    "C_300": "General Internal Medicine Service",
    "C_301": "Gastroenterology Service",
    "C_320": "Cardiology Service",
    "C_330": "Dermatology Service",
    "C_340": "Respiratory Medicine Service",
    "C_410": "Rheumatology Service",
    "C_430": "Elderly Medicine Service",
    "C_502": "Gynaecology Service",
    "X02": "Other - Medical Services",
    "X04": "Other - Paediatric Services",
    "X05": "Other - Surgical Services",
    "X06": "Other - Other Services",
    "C_999": "Total",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

HOSPITALS_FILE = "hospitals_england_2020_05_nhs_website.csv"
LOOKUP_FILE = "lookup_lsoa21_sicbl24_icb24_icb26.csv"
ICB_FILE = "icb_2024_04_from_lsoa21_bsc.geojson"
SUB_ICB_FILE = "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"
# Independent-sector sites (and one NHS trust site) used by the examples, all in HOSPITALS_FILE.
EXAMPLE_PROVIDERS: tuple[str, ...] = ("NT401", "NT402", "NDA07", "R1ARE")


@dataclass(frozen=True)
class Org:
    """An organisation as the extracts name it: code, name, parent code and parent name."""

    code: str
    name: str
    parent_code: str = ""
    parent_name: str = ""


# NHS England commissioning (blank parent): a national hub, a region, a non-English commissioner.
HUB = Org("13Q", "NATIONAL COMMISSIONING HUB 1")
REGION = Org("Y56", "")
NONC = Org("NONC", "")


@dataclass(frozen=True)
class ActivityWorld:
    """Real providers and commissioners, read from the shared data folder."""

    providers: dict[str, Org]  # site code -> the site, its host ICB as parent
    sub_icbs: tuple[Org, ...]  # every sub-ICB location, its ICB as parent, ordered by code
    icbs: dict[str, str]  # ICB ODS code -> name

    @classmethod
    def load(cls, shared_data: Path) -> ActivityWorld:
        """Read the hospital list, the sub-ICB → ICB lookup and the ICB codes."""
        icb_features = json.loads((shared_data / ICB_FILE).read_text(encoding="utf-8"))["features"]
        icb_ods = {f["properties"]["ICB24CD"]: f["properties"]["ICB24CDH"] for f in icb_features}
        icbs = {
            f["properties"]["ICB24CDH"]: f["properties"]["ICB24NM"].upper() for f in icb_features
        }
        sub_icb_features = json.loads((shared_data / SUB_ICB_FILE).read_text(encoding="utf-8"))
        sub_icb_names = {
            f["properties"]["SICBL24CDH"]: f["properties"]["SICBL24NM"].upper()
            for f in sub_icb_features["features"]
        }
        lookup = pd.read_csv(
            shared_data / LOOKUP_FILE, usecols=["sicbl24_code_nhs", "icb24_code"], dtype=str
        ).drop_duplicates()
        sub_icbs = tuple(
            Org(row.sicbl24_code_nhs, sub_icb_names.get(row.sicbl24_code_nhs, row.sicbl24_code_nhs),
                icb_ods[row.icb24_code], icbs[icb_ods[row.icb24_code]])
            for row in lookup.sort_values("sicbl24_code_nhs").itertuples()
        )  # fmt: skip
        hospitals = pd.read_csv(shared_data / HOSPITALS_FILE, dtype=str)
        providers = {
            row.hospitalId: Org(
                row.hospitalId,
                row.name.upper(),
                icb_ods.get(row.icb24_code, ""),
                icbs.get(icb_ods.get(row.icb24_code, ""), ""),
            )
            for row in hospitals.itertuples()
        }
        return cls(providers, sub_icbs, icbs)

    def independent(self, shared_data: Path) -> list[Org]:
        """Every independent-sector site of the hospital list, by code."""
        hospitals = pd.read_csv(shared_data / HOSPITALS_FILE, dtype=str)
        codes = hospitals.loc[hospitals["sector"] == "Independent Sector", "hospitalId"]
        return [self.providers[code] for code in sorted(codes)]


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RttRow:
    """One RTT row: bands (None = blank) for Parts 1 and 2; Part_3 has only `total_all`.

    For Parts 1A/1B `Total` is the bands summed (blank as 0, as the publisher's totals do)
    and `Total All` that plus `unknown`; for Parts 2/2A `Total All` is the bands summed.
    `total_all` overrides what is written there ('' writes a blank cell).
    """

    provider: Org
    commissioner: Org
    part: str
    function: str
    bands: tuple[int | None, ...] = ()
    unknown: int | None = 0
    total_all: int | str | None = None

    def written_total_all(self) -> str:
        """The `Total All` cell as written."""
        if self.total_all is not None:
            return str(self.total_all)
        return str(_sum(self.bands) + (self.unknown or 0 if self.part.startswith("Part_1") else 0))


@dataclass(frozen=True)
class Dm01Row:
    """One DM01 row: the test, its 14 waiting-list bands and its three activity counts."""

    provider: Org
    commissioner: Org
    test: str
    bands: tuple[int | None, ...]
    activity: tuple[int | None, int | None, int | None]  # waiting list, planned, unscheduled
    total_activity: int | str | None = None  # overrides the sum ('' = blank)
    total_wl: int | str | None = None

    def written_total_wl(self) -> str:
        """The `Total WL` cell as written."""
        return str(self.total_wl) if self.total_wl is not None else str(_sum(self.bands))

    def written_total_activity(self) -> str:
        """The `Total Activity` cell as written."""
        if self.total_activity is not None:
            return str(self.total_activity)
        return str(_sum(self.activity))


def _sum(values: Iterable[int | None]) -> int:
    return sum(value or 0 for value in values)


def _bands(*filled: int | None, width: int = len(RTT_BANDS)) -> tuple[int | None, ...]:
    """The first bands as given, the rest 0 (None = a blank cell)."""
    return (*filled, *([0] * (width - len(filled))))


def example_rtt_rows(world: ActivityWorld) -> list[RttRow]:
    """The awkward cases: C_999 beside detail rows, parts without C_999, blank bands mixed with
    0, blank parents (hub, region, NONC), an all-blank total, Part_2A over Part_2, Part_3,
    a trust, a code in lower case with spaces."""
    nt401, nt402, nda07, trust = (world.providers[code] for code in EXAMPLE_PROVIDERS)
    first, second, third = world.sub_icbs[0], world.sub_icbs[1], world.sub_icbs[40]
    return [
        # NT401 x first: Part_2 has C_999 (used; it counts functions not listed too) beside
        # its functions (not added again).
        RttRow(nt401, first, "Part_2", "C_100", _bands(3, None, 2, 0, None, 1)),
        RttRow(nt401, first, "Part_2", "C_110", _bands(None, 4, 4)),
        RttRow(nt401, first, "Part_2", "C_999", _bands(3, 4, 6, 0, None, 1, 5)),
        RttRow(nt401, first, "Part_2A", "C_999", _bands(1, 1, 2)),
        # Part_1A with C_999; Part_1B without one: its functions are summed.
        RttRow(nt401, first, "Part_1A", "C_100", _bands(2, 1), unknown=1),
        RttRow(nt401, first, "Part_1A", "C_999", _bands(2, 1, 3), unknown=1),
        RttRow(nt401, first, "Part_1B", "C_100", _bands(5, None, 1)),
        RttRow(nt401, first, "Part_1B", "C_130", _bands(0, 2), unknown=2),
        RttRow(nt401, first, "Part_3", "C_999", (), total_all=9),
        # NT401 for NHS England's national hub (blank parent): functions only.
        RttRow(nt401, HUB, "Part_2", "C_110", _bands(7, 1)),
        RttRow(nt401, HUB, "Part_2", "X05", _bands(None, None, 2)),
        # NT402 for a non-English commissioner (blank parent and name).
        RttRow(nt402, NONC, "Part_2", "C_120", _bands(1)),
        # NT402 x second: every Total All blank, so its figures are NA, not 0.
        RttRow(nt402, second, "Part_2", "C_100", _bands(None, None), total_all=""),
        RttRow(nt402, second, "Part_2", "C_999", _bands(None, None), total_all=""),
        RttRow(nt402, second, "Part_1A", "C_999", _bands(), unknown=None, total_all=""),
        # NT402 x third: more waiting with a decision to admit than waiting (a data error).
        RttRow(nt402, third, "Part_2", "C_999", _bands(10, 20, 30)),
        RttRow(nt402, third, "Part_2A", "C_100", _bands(50, 20)),
        RttRow(nt402, third, "Part_2A", "C_110", _bands(5)),
        # NDA07 for an NHS England region code (blank parent and name).
        RttRow(nda07, REGION, "Part_2", "C_999", _bands(6, 6)),
        RttRow(nda07, REGION, "Part_1B", "C_999", _bands(4), unknown=0),
        # An NHS trust site, kept (the evidence join decides who matters).
        RttRow(trust, first, "Part_2", "C_999", _bands(100, 50)),
        # The same provider written in lower case with spaces: one provider.
        RttRow(Org(f" {nda07.code.lower()} ", nda07.name, nda07.parent_code, nda07.parent_name),
               NONC, "Part_2", "C_100", _bands(1)),
    ]  # fmt: skip


def example_dm01_rows(world: ActivityWorld) -> list[Dm01Row]:
    """The awkward cases: tests beside a TOTAL row (the tests are summed), a TOTAL alone,
    a blank activity cell, a blank parent."""
    nt401, nt402, nda07, _trust = (world.providers[code] for code in EXAMPLE_PROVIDERS)
    first = world.sub_icbs[0]
    bands = len(DM01_BANDS)
    return [
        Dm01Row(nt401, first, "MRI", _bands(4, 3, 1, width=bands), (10, 5, 2)),
        Dm01Row(nt401, first, "CT", _bands(2, 0, 1, width=bands), (3, 1, 0)),
        Dm01Row(nt401, first, "COLONOSCOPY", _bands(1, width=bands), (1, 0, 0)),
        Dm01Row(nt401, first, "TOTAL", _bands(7, 3, 2, width=bands), (14, 6, 2)),
        Dm01Row(nt402, HUB, "TOTAL", _bands(5, width=bands), (8, 0, 1)),
        Dm01Row(nda07, NONC, "MRI", _bands(2, width=bands), (None, None, None), total_activity=""),
        Dm01Row(nda07, NONC, "CT", _bands(1, width=bands), (2, 2, 0)),
    ]


def example_dspt_rows(world: ActivityWorld) -> list[dict[str, str]]:
    """Organisations as the DSPT search lists them: editions old and new, Not Published,
    a code in lower case, a social care site."""
    icb_name = next(iter(world.icbs.values()))
    return [
        _dspt("NT4", "BMI HEALTHCARE LIMITED", "22/23 Standards Met", "29/06/2023",
              "Independent Sector Healthcare Provider", icb_name),
        _dspt("nda", "VIRGIN CARE SERVICES LTD", "2024-25 Standards Exceeded", "30/06/2025",
              "Independent Sector Healthcare Provider", ""),
        _dspt("R1A", "WORCESTERSHIRE HEALTH AND CARE NHS TRUST", "23/24 Approaching Standards",
              "28/06/2024", "NHS Trust", icb_name),
        _dspt("VNB3R", "ROSE LODGE CARE HOME", "Not Published", "", "Social Care", ""),
        _dspt(" NT2 ", "NUFFIELD HEALTH", "23/24 Standards Not Met", "01/07/2024",
              "Independent Sector Healthcare Provider", icb_name),
    ]  # fmt: skip


def _dspt(
    code: str, name: str, status: str, published: str, sector: str, icb: str
) -> dict[str, str]:
    return dict(zip(DSPT_COLUMNS, (code, name, status, published, sector, icb), strict=True))


# --- writers --------------------------------------------------------------------------------


def rtt_period(year: int, month: int) -> str:
    """'RTT-June-2026'."""
    return f"RTT-{MONTHS[month - 1]}-{year}"


def dm01_period(year: int, month: int) -> str:
    """'DM01-MAY-2026'."""
    return f"DM01-{MONTHS[month - 1].upper()}-{year}"


def rtt_csv_text(rows: Sequence[RttRow], period: str, *, older: bool = False) -> str:
    """The RTT full CSV as text: the current 121 columns, or the older layout with its preamble."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if older:
        for line in OLD_RTT_PREAMBLE:
            writer.writerow([line] if line else [])
        writer.writerow(_old_rtt_header())
    else:
        writer.writerow(RTT_COLUMNS)
    width = len(OLD_RTT_BANDS) if older else len(RTT_BANDS)
    for row in rows:
        writer.writerow(_rtt_cells(row, period, width, older))
    return buffer.getvalue()


def _old_rtt_header() -> list[str]:
    header = [column for column in RTT_COLUMNS if column not in RTT_BANDS]
    header[0] = "Period Name"
    header.remove("Treatment Function Name")
    header[header.index("Treatment Function Code")] = "Treatment Function Name"
    at = header.index("Total")
    return [*header[:at], *OLD_RTT_BANDS, *header[at:]]


def _rtt_cells(row: RttRow, period: str, width: int, older: bool) -> list[str]:
    part_1 = row.part.startswith("Part_1")
    bands = [_cell(value) for value in row.bands[:width]] + [""] * (width - len(row.bands))
    names = [] if older else [FUNCTIONS.get(row.function, row.function)]
    return [
        period,
        row.provider.parent_code,
        row.provider.parent_name,
        row.provider.code,
        row.provider.name,
        row.commissioner.parent_code,
        row.commissioner.parent_name,
        row.commissioner.code,
        row.commissioner.name,
        row.part,
        RTT_PARTS[row.part],
        row.function,
        *names,
        *(bands if row.part != "Part_3" else [""] * width),
        str(_sum(row.bands)) if part_1 and row.total_all != "" else "",
        _cell(row.unknown) if part_1 else "",
        row.written_total_all(),
    ]


def dm01_csv_text(rows: Sequence[Dm01Row], period: str) -> str:
    """The DM01 full extract as text, every cell quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(DM01_COLUMNS)
    for row in rows:
        order = DM01_TESTS.index(row.test) + 1 if row.test in DM01_TESTS else 16
        writer.writerow(
            [
                period,
                row.provider.parent_code,
                row.provider.parent_name,
                row.provider.code,
                row.provider.name,
                row.commissioner.parent_code,
                row.commissioner.parent_name,
                row.commissioner.code,
                row.commissioner.name,
                str(order),
                row.test,
                *(_cell(value) for value in row.bands),
                row.written_total_wl(),
                *(_cell(value) for value in row.activity),
                row.written_total_activity(),
            ]
        )
    return buffer.getvalue()


def dspt_csv_text(rows: Sequence[dict[str, str]], *, older: bool = False) -> str:
    """The DSPT search export as text; `older` uses the 2019-21 header names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OLD_DSPT_COLUMNS if older else DSPT_COLUMNS)
    for row in rows:
        writer.writerow([row.get(column, "") for column in DSPT_COLUMNS])
    return buffer.getvalue()


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def rtt_member_name(year: int, month: int) -> str:
    """The CSV's name inside the RTT zip: '20260630-RTT-June-2026-full-extract.csv' [U: the
    date prefix rests on one fixture's name]."""
    last_day = pd.Timestamp(year=year, month=month, day=1).days_in_month
    return f"{year}{month:02d}{last_day:02d}-RTT-{MONTHS[month - 1]}-{year}-full-extract.csv"


def dm01_member_name(year: int, month: int) -> str:
    """'DM01-MAY-2026-full-extract.csv'."""
    return f"{dm01_period(year, month)}-full-extract.csv"


def write_zip(path: Path, members: dict[str, str]) -> Path:
    """A zip holding the given text files, deflated, as the publisher ships them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("utf-8"))
    return path


def write_rtt_zip(path: Path, rows: Sequence[RttRow], year: int, month: int) -> Path:
    """The RTT month as NHS England ships it: a zip holding the one full-extract CSV."""
    text = rtt_csv_text(rows, rtt_period(year, month))
    return write_zip(path, {rtt_member_name(year, month): text})


def write_dm01_zip(path: Path, rows: Sequence[Dm01Row], year: int, month: int) -> Path:
    """The DM01 month as NHS England ships it: a zip holding the one full-extract CSV."""
    text = dm01_csv_text(rows, dm01_period(year, month))
    return write_zip(path, {dm01_member_name(year, month): text})


# --- the benchmark's month ------------------------------------------------------------------

LARGE_RTT_ROWS = 180_000


def write_large_rtt_csv(
    path: Path, world: ActivityWorld, independent: Sequence[Org], rows: int = LARGE_RTT_ROWS
) -> Path:
    """An RTT full CSV of `rows` rows × 121 columns, about the real month's size (82 MB for
    182,411 rows): trusts and independent sites (about a quarter) x commissioners x the five
    parts x 24 functions, 30% of band cells blank. Deterministic."""
    generator = np.random.default_rng(2026)
    functions = [*FUNCTIONS, "X03"]  # 19 named + X03: 20 a part, C_999 among them
    per_pair = len(RTT_PARTS) * len(functions)
    pairs = -(-rows // per_pair)
    trusts = [org for code, org in sorted(world.providers.items()) if code.startswith("R")]
    providers = [*independent, *trusts]
    commissioners = [*world.sub_icbs, HUB, REGION, NONC]
    chosen = generator.integers(0, len(providers), pairs)
    towards = generator.integers(0, len(commissioners), pairs)
    frame = _large_frame(
        [providers[number] for number in chosen],
        [commissioners[number] for number in towards],
        functions,
        generator,
    ).iloc[:rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\r\n")
    return path


def _large_frame(
    providers: list[Org], commissioners: list[Org], functions: list[str], generator
) -> pd.DataFrame:
    parts = list(RTT_PARTS)
    repeat = len(parts) * len(functions)
    count = len(providers) * repeat

    def per_pair(values: list[str]) -> np.ndarray:
        return np.repeat(np.array(values, dtype=object), repeat)

    part = np.tile(np.repeat(np.array(parts, dtype=object), len(functions)), len(providers))
    function = np.tile(np.array(functions, dtype=object), len(providers) * len(parts))
    bands = generator.integers(0, 6, size=(count, len(RTT_BANDS))).astype("float64")
    bands[generator.random(bands.shape) < 0.3] = np.nan
    bands[part == "Part_3"] = np.nan
    with_dta = np.flatnonzero(part == "Part_2A")  # half of the same function's Part_2, at most
    bands[with_dta] = np.floor(bands[with_dta - len(functions)] / 2)
    band_total = np.nansum(bands, axis=1)
    part_1 = np.isin(part, ["Part_1A", "Part_1B"])
    unknown = np.where(part_1, generator.integers(0, 3, count), np.nan)
    total = np.where(part_1, band_total, np.nan)
    total_all = np.where(part == "Part_3", generator.integers(0, 50, count), band_total)
    total_all = np.where(part_1, band_total + np.nan_to_num(unknown), total_all)
    columns = {
        "Period": np.full(count, rtt_period(2026, 6), dtype=object),
        "Provider Parent Org Code": per_pair([org.parent_code for org in providers]),
        "Provider Parent Name": per_pair([org.parent_name for org in providers]),
        "Provider Org Code": per_pair([org.code for org in providers]),
        "Provider Org Name": per_pair([org.name for org in providers]),
        "Commissioner Parent Org Code": per_pair([org.parent_code for org in commissioners]),
        "Commissioner Parent Name": per_pair([org.parent_name for org in commissioners]),
        "Commissioner Org Code": per_pair([org.code for org in commissioners]),
        "Commissioner Org Name": per_pair([org.name for org in commissioners]),
        "RTT Part Type": part,
        "RTT Part Description": np.array([RTT_PARTS[p] for p in part], dtype=object),
        "Treatment Function Code": function,
        "Treatment Function Name": np.array(
            [FUNCTIONS.get(code, "Other - Mental Health Services") for code in function],
            dtype=object,
        ),
    }
    frame = pd.DataFrame(columns)
    numbers = pd.DataFrame(bands, columns=list(RTT_BANDS)).astype("Int64")
    numbers["Total"] = pd.array(total).astype("Int64")
    numbers["Patients with unknown clock start date"] = pd.array(unknown).astype("Int64")
    numbers["Total All"] = pd.array(total_all).astype("Int64")
    return pd.concat([frame, numbers], axis=1)
