"""CQC Syndication API location records in the API's own shape, and the files people save them as.

`cqc_api_location` builds one record with the keys and nesting of
`GET /public/v1/locations/{locationId}` (see geo.io.cqc_api for what is relied on);
`write_cqc_api_json` saves records as the API returns them (one object, or a list);
`write_cqc_api_csv` flattens them as pandas.json_normalize does and writes a CSV, lists
left as pandas writes them (Python text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

_CARE_HOME = {
    "gacServiceTypes": [{"name": "Nursing homes", "description": "Care home service with nursing"}],
    "inspectionCategories": [{"code": "S1", "primary": "true", "name": "Residential social care"}],
    "regulatedActivities": [
        {
            "name": "Accommodation for persons who require nursing or personal care",
            "code": "RA2",
            "contacts": [],
        }
    ],
    "specialisms": [{"name": "Caring for adults over 65 yrs"}, {"name": "Dementia"}],
}


def cqc_api_location(location_id: str, name: str, **values: object) -> dict[str, object]:
    """One API location record: a registered Devon care home unless `values` say otherwise."""
    record: dict[str, object] = {
        "locationId": location_id,
        "providerId": "1-" + location_id.removeprefix("1-")[::-1],
        "organisationType": "Location",
        "type": "Social Care Org",
        "name": name,
        "onspdCcgCode": "E38000230",
        "onspdCcgName": "NHS Devon ICB - 15N",
        "odsCode": "V" + location_id[-4:],
        "uprn": "100040000000",
        "registrationStatus": "Registered",
        "registrationDate": "2011-02-15",
        "dormancy": "N",
        "numberOfBeds": 30,
        "website": "",
        "postalAddressLine1": "1 Chudleigh Road",
        "postalAddressTownCity": "Exeter",
        "postalAddressCounty": "Devon",
        "region": "South West",
        "postalCode": "EX2 8TU",
        "onspdLatitude": 50.699089,
        "onspdLongitude": -3.533912,
        "careHome": "Y",
        "inspectionDirectorate": "Adult social care",
        "constituency": "Exeter",
        "localAuthority": "Devon",
        "lastInspection": {"date": "2024-09-18"},
        "lastReport": {"publicationDate": "2024-10-31"},
        "relationships": [],
        "locationTypes": [],
        **_CARE_HOME,
        "inspectionAreas": [],
        "currentRatings": {"overall": {"rating": "Good", "reportDate": "2024-10-31"}},
    }
    record.update(values)
    return record


def write_cqc_api_json(path: str | Path, records: Iterable[Mapping[str, object]]) -> Path:
    """Records as the API returns them: one object for one record, else a list of them."""
    path = Path(path)
    records = list(records)
    data = records[0] if len(records) == 1 else records
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def write_cqc_api_csv(path: str | Path, records: Iterable[Mapping[str, object]]) -> Path:
    """Records flattened by pandas.json_normalize and written by pandas, as analysts do."""
    path = Path(path)
    pd.json_normalize(list(records)).to_csv(path, index=False)
    return path
