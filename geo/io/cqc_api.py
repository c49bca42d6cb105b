"""CQC Syndication API location records, as the API returns them (JSON) or flattened to a table.

A location record (`GET /public/v1/locations/{locationId}`) is one JSON object. What
this reader relies on, from records and schemas seen in public code (CQC's own API
documentation was not available to check; [U] marks what is less certain):

- `locationId`, `providerId`, `name`, `type` (the same vocabulary as the HSCA file's
  `Location Type/Sector`: 'Social Care Org', 'NHS Healthcare Organisation', 'Primary
  Medical Services', …), `organisationType` ('Location'), `registrationStatus`
  ('Registered', 'Deregistered'), `registrationDate`, `deregistrationDate`, `dormancy`
  ('Y'/'N') [U], `careHome` ('Y'/'N'), `numberOfBeds` (a number), `postalCode`,
  `onspdLatitude`, `onspdLongitude` (numbers), `onspdCcgCode` (a GSS E38 code, the
  sub-ICB or pre-2022 CCG), `onspdCcgName`, `odsCode`, `uprn`, `postalAddressLine1`,
  `region`, `localAuthority`;
- lists of objects: `gacServiceTypes` ({name, description}), `inspectionCategories`
  ({code, primary 'true'/'false', name}), `regulatedActivities` ({name, code, …}),
  `specialisms` ({name}); nested objects: `lastInspection` {date}, `currentRatings` {…};
- newer records also carry `onspdIcbCode`/`onspdIcbName` and `odsCcgCode` [U]. The ICB
  code is kept as it is, not used: the sub-ICB code through the chosen vintage's lookup
  follows mergers (2026) that a code stamped by CQC does not.

A file may hold one record (an object), a list of records, or a page of the locations
list (`{"locations": [{"locationId", "locationName", "postalCode"}, …]}`). Flattened
tables (pandas.json_normalize, then CSV) have the same top-level names, nested ones as
`lastInspection.date`, and lists as their JSON or Python text.

Location records carry no provider name, charity number or ownership type, so CQC's
sector rules that need them cannot run; `geo.model.sector_coverage` leaves the rows
they might have changed Unknown and says so. If a table also has provider columns
(`providerName`, `ownershipType`, `charityNumber` [U], or the HSCA spellings), the rules use them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

from geo.model import providers, sector_coverage, sectors
from geo.model.errors import InputError

# Canonical name -> API key (flattened tables keep the keys as column names).
API_COLUMNS: dict[str, tuple[str, ...]] = {
    "site_id": ("locationId",),
    "site_name": ("name", "locationName"),
    "provider_id": ("providerId",),
    "provider_name": ("providerName",),
    "postcode": ("postalCode",),
    "lat": ("onspdLatitude",),
    "lon": ("onspdLongitude",),
    providers.SICBL_COLUMN: ("onspdCcgCode",),
}
# API key -> the HSCA column a CQC sector rule reads.
RULE_COLUMNS: dict[str, str] = {
    "type": "Location Type/Sector",
    "providerName": "Provider Name",
    "ownershipType": "Provider Ownership Type",
    "charityNumber": "Provider Charity Number",
    "companiesHouseNumber": "Provider Companies House Number",  # [U] joined from the provider
}
_LIST_COLUMNS = (
    "gacServiceTypes",
    "inspectionCategories",
    "regulatedActivities",
    "specialisms",
    "locationTypes",
    "relationships",
)


def load_json_records(path: Path) -> pd.DataFrame:
    """The location records of a JSON file, flattened one row per record, every cell as text.

    Lists of objects stay whole, as JSON text, for the columns derived from them.
    """
    try:
        with open(path, encoding="utf-8-sig") as file:
            data = json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"CQC API file {path.name}: not valid JSON ({error})") from None
    records = _records(path, data)
    flat = pd.json_normalize(records, max_level=3)
    return flat.apply(_as_text)


def read_records(
    path: Path,
    raw: pd.DataFrame,
    *,
    columns: dict,
    sector_rules: tuple[sectors.SectorRule, ...],
    registers: dict | None = None,
) -> providers.ProviderList:
    """CQC API location records (text columns) as the canonical provider table.

    Capacity is `numberOfBeds` for care homes (blank, never 0, otherwise); service type
    the primary inspection category, else the first GAC service type; the sector from
    CQC's rules with `type` as `Location Type/Sector`, undecided rows said so.
    """
    found = _found_columns(raw)
    missing = [name for name in ("site_id", "site_name") if name not in found]
    if missing:
        expected = "; ".join(f"{name}: {' or '.join(API_COLUMNS[name])}" for name in missing)
        raise InputError(f"CQC API file {path.name}: missing {expected}")
    derived = pd.DataFrame(
        {"capacity": _care_home_beds(raw), "service_type": _service_type(raw)}, index=raw.index
    )
    classified = sector_coverage.classify_with_coverage(_rule_view(raw), sector_rules, registers)
    table = pd.concat([derived, classified, raw], axis=1)
    mapping = {**found, "capacity": "capacity", "service_type": "service_type", "sector": "sector"}
    mapping.update(columns)
    return providers.to_canonical(table, mapping, source=f"CQC API locations ({path.name})")


def _records(path: Path, data: object) -> list[dict]:
    """The records in a record, a list of them, or a page of the locations list."""
    if isinstance(data, dict) and "locationId" in data:
        return [data]
    if isinstance(data, dict) and isinstance(data.get("locations"), list):
        data = data["locations"]
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return data
    raise InputError(
        f"CQC API file {path.name}: expected a location record, a list of them or a page of "
        "the locations list ({'locations': [...]}), each with a locationId"
    )


def _as_text(values: pd.Series) -> pd.Series:
    """A column as text: lists and objects as JSON, numbers as written, blanks missing."""
    return values.map(_cell_text).astype("string")


def _cell_text(value: object) -> str | None:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _found_columns(raw: pd.DataFrame) -> dict[str, str]:
    found = {}
    for canonical, keys in API_COLUMNS.items():
        column = next((key for key in keys if key in raw.columns), None)
        if column is not None:
            found[canonical] = column
    return found


def _care_home_beds(raw: pd.DataFrame) -> pd.Series:
    """Beds where the location is a care home with beds; blank elsewhere (never 0)."""
    if "numberOfBeds" not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    beds = raw["numberOfBeds"].astype("string")
    number = pd.to_numeric(beds, errors="coerce")
    care_home = (
        raw["careHome"].astype("string").str.strip().str.upper().eq("Y")
        if "careHome" in raw.columns
        else pd.Series(True, index=raw.index)
    )
    keep = (care_home & ((number > 0) | number.isna())).fillna(False).astype(bool)
    return beds.where(keep)


def _service_type(raw: pd.DataFrame) -> pd.Series:
    """The primary inspection category's name, else the first GAC service type's name."""
    primary = _from_lists(raw, "inspectionCategories", _primary_category)
    first_service = _from_lists(raw, "gacServiceTypes", _first_name)
    return primary.fillna(first_service).astype("string")


def _from_lists(raw: pd.DataFrame, column: str, pick) -> pd.Series:
    if column not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    return raw[column].map(lambda text: pick(_list_cell(text)), na_action="ignore").astype("string")


def _list_cell(text: str) -> list:
    """A list cell as JSON text, or as pandas writes a Python list to CSV; [] if neither."""
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return value if isinstance(value, list) else []
    return []


def _primary_category(items: list) -> str | None:
    for item in items:
        if isinstance(item, dict) and str(item.get("primary", "")).lower() == "true":
            return item.get("name") or None
    return None


def _first_name(items: list) -> str | None:
    for item in items:
        if isinstance(item, dict) and item.get("name"):
            return str(item["name"])
    return None


def _rule_view(raw: pd.DataFrame) -> pd.DataFrame:
    """The columns CQC's sector rules read, under the HSCA names they are written for."""
    renamed = {key: column for key, column in RULE_COLUMNS.items() if key in raw.columns}
    view = raw[list(renamed)].rename(columns=renamed)
    hsca = [column for column in raw.columns if column in RULE_COLUMNS.values()]
    return pd.concat([view, raw[hsca]], axis=1) if hsca else view
