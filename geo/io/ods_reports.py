"""What an NHS ODS report row says beyond its name: open or closed, and what kind of place it is.

Close Date (column 12) and, in `epraccur`, Status Code (13) say whether an organisation
still counts; `epraccur`'s Prescribing Setting (26) says what a prescribing cost centre
is: a GP practice, or a hospice, care home, prison, walk-in centre, … (DATA-FORMATS.md
§2.2). Only GP practices are NHS by their setting; a hospice (most are charities) or a
care home is whatever other evidence says, Unknown when the file cannot tell.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from geo.io import recognise, tables
from geo.model import problems, sectors
from geo.model.errors import InputError
from geo.model.text import trimmed_text
from geo.model.trust_codes import trust_of

# Prescribing Setting codes of `epraccur` column 26 and the ODS non-primary role of each
# (the Data Search & Export edition gives roles there, '|'-separated). Codes and names:
# the ODS reference data catalogue, "GP Practices (Prescribing Cost Centres)": "'GP
# Practice' is a sub set of these codes and can be identified by the non primary
# role/prescribing setting of RO76 GP Practice. The other prescribing settings can be
# seen in the table below (as non primary roles)"
# (https://odsdatasearchandexport.dc4h.link/referenceDataCatalogue/565791179.html). The
# numeric codes and their roles are as public loaders of epraccur list them; [U] the copy
# of that page found here does not show its table, so they rest on those loaders.
# code: (role, service type)
PRESCRIBING_SETTINGS: dict[str, tuple[str, str]] = {
    "0": ("RO72", "Other prescribing cost centre"),
    "1": ("RO87", "Walk-in centre"),
    "2": ("RO80", "Out-of-hours service"),
    "3": ("RO87|RO80", "Walk-in centre and out-of-hours service"),
    "4": ("RO76", "GP practice"),
    "8": ("RO255", "Public health service"),
    "9": ("RO247", "Community health service"),
    "10": ("RO250", "Hospital service"),
    "11": ("RO252", "Optometry service"),
    "12": ("RO259", "Urgent and emergency care"),
    "13": ("RO249", "Hospice"),
    "14": ("RO246", "Care home / nursing home"),
    "15": ("RO245", "Border Force"),
    "16": ("RO260", "Young offender institution"),
    "17": ("RO257", "Secure training centre"),
    "18": ("RO256", "Secure children's home"),
    "19": ("RO251", "Immigration removal centre"),
    "20": ("RO248", "Court"),
    "21": ("RO254", "Police custody"),
    "22": ("RO258", "Sexual assault referral centre"),
    "24": ("RO253", "Other justice estate"),
    "25": ("RO82", "Prison"),
    "26": ("RO321", "Primary care network"),
    "27": ("RO323", "Independent pharmacy prescriber pathfinder"),
}
GP_PRACTICE = "4"
NO_SETTING = "Prescribing cost centre (setting not given)"
# The sector rules an epraccur row can be decided by.
GP_PRACTICE_RULE = "gp_practice"
OPERATOR_UNKNOWN_RULE = "operator_not_in_file"
# The sector rule of reports whose kind fixes the sector (ets, etr, ephp, ephpsite).
REPORT_RULE = "ods_report"

# Status Code (column 13, epraccur): legacy letters and the DSE words ([U] in §2.2).
_STATUS_CODES: dict[str, str | None] = {
    **dict.fromkeys(("A", "ACTIVE"), None),
    **dict.fromkeys(("C", "CLOSED", "B", "RETIRED"), problems.CLOSED),
    **dict.fromkeys(("D", "DORMANT"), problems.DORMANT),
    **dict.fromkeys(("P", "PROPOSED"), problems.PROPOSED),
}
_ROLE_SETTING = {role: code for code, (role, _) in PRESCRIBING_SETTINGS.items()}


def classify_settings(setting: pd.Series) -> pd.DataFrame:
    """Service type, sector and `sector_rule` of epraccur rows from their Prescribing Setting
    (a code such as '4', or the DSE role list such as 'RO177|RO76')."""
    codes = trimmed_text(setting).map(_setting_code, na_action="ignore").astype("string")
    service = codes.map(lambda code: PRESCRIBING_SETTINGS[code][1], na_action="ignore")
    gp = codes.eq(GP_PRACTICE).fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "service_type": service.astype("string").fillna(NO_SETTING),
            "sector": pd.Series(sectors.UNKNOWN, index=setting.index).mask(gp, sectors.NHS),
            "sector_rule": pd.Series(OPERATOR_UNKNOWN_RULE, index=setting.index).mask(
                gp, GP_PRACTICE_RULE
            ),
        },
        index=setting.index,
    ).astype("string")


def _setting_code(value: str) -> str | None:
    """'4', '04' or a role list naming a setting's role ('RO177|RO76') as a setting code."""
    text = value.strip().upper()
    if text.isdigit():
        code = str(int(text))
        return code if code in PRESCRIBING_SETTINGS else None
    roles = [role.strip() for role in text.replace(",", "|").split("|")]
    if "RO87" in roles and "RO80" in roles:
        return "3"
    return next((_ROLE_SETTING[role] for role in roles if role in _ROLE_SETTING), None)


def status_problems(raw: pd.DataFrame, *, today: dt.date | None = None) -> pd.DataFrame:
    """A problem for each row that does not count: Close Date passed, or a Status Code
    saying closed, dormant or proposed; an unknown Status Code is a warning."""
    today = today or dt.date.today()
    close = trimmed_text(raw["Close Date"])
    when = pd.to_datetime(close, format="%Y%m%d", errors="coerce")
    passed = (when <= pd.Timestamp(today)).fillna(False).astype(bool)
    found = [problems.found(passed, problems.CLOSED, "Close Date", close, problems.NOTE)]
    code = trimmed_text(raw["Status Code"]).str.upper()
    kind = code.map(lambda value: _STATUS_CODES.get(value, "?"), na_action="ignore")
    for status in (problems.CLOSED, problems.DORMANT, problems.PROPOSED):
        found.append(
            problems.found(kind.eq(status) & ~passed, status, "Status Code", code, problems.NOTE)
        )
    unknown = kind.eq("?").fillna(False).astype(bool)
    found.append(
        problems.found(unknown, problems.UNKNOWN_STATUS_CODE, "Status Code", code, problems.WARNING)
    )
    return problems.concat(found)


def read_trust_codes(path: str | Path) -> frozenset[str]:
    """The NHS trusts an ODS `etr` (trust codes in column 1) or `ets` report (site codes in
    column 1, their trust in column 15) names, closed ones included, to confirm trust
    codes in other lists."""
    path = Path(path)
    raw = tables.read_csv_text(path, header=None).frame
    if raw.shape[1] < 15:
        raise InputError(
            f"NHS trust list {path.name}: has {raw.shape[1]} columns; expected an ODS etr or "
            "ets report (27 headerless fields)"
        )
    codes = pd.concat([trust_of(raw[0]), trust_of(raw[14])]).dropna()
    if codes.empty:
        raise InputError(
            f"NHS trust list {path.name}: no NHS trust codes (R or T and two characters) in "
            "column 1 or 15; expected an ODS etr or ets report"
        )
    return frozenset(codes)


def report_rule(report: str) -> str:
    """The `sector_rule` of a report whose kind fixes its rows' sector: 'ods_report:etr'."""
    if report not in recognise.NHS_ODS_REPORTS:
        raise InputError(f"unknown NHS ODS report {report!r}")
    return f"{REPORT_RULE}:{report}"
