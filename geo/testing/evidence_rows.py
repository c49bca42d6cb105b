"""Evidence rows in the readers' shapes (`geo.model.evidence`), for tests and the benchmark.

Each builder returns the table a `geo.io` reader returns for one kind of file: RTT/DM01
activity (ACTIVITY_COLUMNS), contract awards (AWARD_COLUMNS) and DSPT (DSPT_COLUMNS),
with the codes as the publishers write them (IS site codes such as NT447, sub-ICB
commissioner codes such as 15F with their ICB parent QWO, blank parents for NHS England
hubs and NONC).
"""

from __future__ import annotations

import pandas as pd

from geo.model.evidence import (
    ACTIVITY_COLUMNS,
    AWARD_COLUMNS,
    CONTRACTS,
    DSPT_COLUMNS,
    PATIENTS_WAITING,
    RTT,
)


def activity_row(
    provider_code: str,
    commissioner_code: str | None,
    commissioner_parent_code: str | None,
    value: float,
    *,
    provider_name: str = "DUCHY HOSPITAL",
    source: str = RTT,
    measure: str = PATIENTS_WAITING,
    period: str = "2026-06",
) -> dict:
    """One RTT or DM01 row as `geo.io.activity` reads it (summed over treatment functions)."""
    return {
        "source": source,
        "period": period,
        "provider_code": provider_code,
        "provider_name": provider_name,
        "provider_parent_code": "QT6",
        "commissioner_code": commissioner_code,
        "commissioner_name": None,
        "commissioner_parent_code": commissioner_parent_code,
        "measure": measure,
        "value": value,
        "file": f"{source.upper()}-June-2026-full-extract.csv",
        "published": "2026-08-13",
    }


def activity_frame(*rows: dict) -> pd.DataFrame:
    """Activity rows as the reader's table (text codes, NA for blanks)."""
    frame = pd.DataFrame(list(rows), columns=list(ACTIVITY_COLUMNS))
    text = [c for c in ACTIVITY_COLUMNS if c != "value"]
    return frame.astype({**dict.fromkeys(text, "str"), "value": "Float64"})


def award_row(
    supplier_name: str,
    *,
    scheme: str | None = None,
    number: str | None = None,
    buyer_name: str = "NHS West Yorkshire Integrated Care Board",
    buyer_ods_code: str | None = None,
    value: float = 250_000.0,
    title: str = "Elective orthopaedic surgery",
    psr: bool = True,
) -> dict:
    """One award x supplier as `geo.io.contracts` reads a Find a Tender release."""
    return {
        "source": CONTRACTS,
        "ocid": "ocds-h6vhtk-0a1b2c",
        "release_id": "0a1b2c-1",
        "notice_type": "award",
        "title": title,
        "buyer_id": "GB-NHS-QWO",
        "buyer_name": buyer_name,
        "buyer_ods_code": buyer_ods_code,
        "supplier_id": None if scheme is None else f"{scheme}-{number}",
        "supplier_name": supplier_name,
        "supplier_scheme": scheme,
        "supplier_number": number,
        "value": value,
        "currency": "GBP",
        "award_date": "2026-03-02",
        "start_date": "2026-04-01",
        "end_date": "2029-03-31",
        "psr": psr,
        "health": True,
        "file": "fts-2026-03.json",
        "published": "2026-03-05",
    }


def award_frame(*rows: dict) -> pd.DataFrame:
    """Award rows as the reader's table."""
    frame = pd.DataFrame(list(rows), columns=list(AWARD_COLUMNS))
    text = [c for c in AWARD_COLUMNS if c not in ("value", "psr", "health")]
    return frame.astype({**dict.fromkeys(text, "str"), "value": "Float64"})


def dspt_row(code: str, name: str, status: str = "Standards Met", edition: str = "2024-25") -> dict:
    """One organisation of a DSPT search export as `geo.io.dspt` reads it."""
    return {
        "code": code,
        "name": name,
        "status": status,
        "edition": edition,
        "published": "2025-06-30",
        "sector": "Independent Sector Provider",
        "icb_name": None,
        "file": "DSPT search results 01_07_2025 10_00_00.csv",
    }


def dspt_frame(*rows: dict) -> pd.DataFrame:
    """DSPT rows as the reader's table."""
    return pd.DataFrame(list(rows), columns=list(DSPT_COLUMNS)).astype("str")
