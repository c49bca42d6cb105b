"""The canonical provider-site table, and the rules that give each site its sector.

Every reader (CQC, NHS ODS, generic) produces this one table so that assignment,
metrics, maps and briefings never care where a provider list came from.
"""

from __future__ import annotations

# The columns every provider list is turned into, in this order. Publishers'
# other columns are passed through after these, unrenamed.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "site_id",
    "site_name",
    "provider_id",
    "provider_name",
    "sector",
    "service_type",
    "capacity",
    "planning_status",
    "postcode",
    "lat",
    "lon",
    "official_icb_code",
    "source",
)

NHS = "NHS"
LOCAL_AUTHORITY = "Local authority"
INDEPENDENT = "Independent"
VOLUNTARY = "Voluntary"
UNKNOWN = "Unknown"
SECTORS: tuple[str, ...] = (NHS, LOCAL_AUTHORITY, INDEPENDENT, VOLUNTARY, UNKNOWN)

# Independent and voluntary: the sectors whose place in ICS planning this tool measures.
IV_SECTORS: tuple[str, ...] = (INDEPENDENT, VOLUNTARY)

ENGAGED = "engaged"
NOT_ENGAGED = "not engaged"
UNKNOWN_STATUS = "unknown"
PLANNING_STATUSES: tuple[str, ...] = (ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS)


def sector_slug(sector: str) -> str:
    """The column-name form of a sector: 'Local authority' -> 'local_authority'."""
    return sector.lower().replace(" ", "_")
