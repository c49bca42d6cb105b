"""The app's settings in one declarative table, read from environment variables.

Every setting is documented in the README's settings table, which a test keeps in
step with `SETTINGS` below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_DIR / "data"


@dataclass(frozen=True)
class Setting:
    """A named setting: its environment variable, default and one line of help."""

    env: str
    default: str
    help: str


SETTINGS: dict[str, Setting] = {
    "data_dir": Setting(
        "ICS_DATA_DIR",
        str(DEFAULT_DATA_DIR),
        "Folder for the download cache (`cache/`) and the embedded SQLite store.",
    ),
    "database_url": Setting(
        "DATABASE_URL",
        "",
        "PostgreSQL URL for the shared multi-user store; empty means the SQLite file under the data folder.",
    ),
    "vintage": Setting(
        "ICS_VINTAGE",
        "",
        "ICB boundary vintage shown first (2022, 2023, 2024, 2026); empty means the newest one loaded.",
    ),
    "coastal_snap_m": Setting(
        "ICS_COASTAL_SNAP_M",
        "250",
        "A site this close (metres) outside the generalised coastline is given the nearest ICB, flagged `nearest`.",
    ),
    "near_border_km": Setting(
        "ICS_NEAR_BORDER_KM",
        "5",
        "Default distance (km) to another ICB's border under which a site counts as near the border.",
    ),
    "upload_limit_mb": Setting(
        "ICS_UPLOAD_LIMIT_MB",
        "200",
        "Largest file an analyst may upload or publish (from the page or the command line), in megabytes.",
    ),
    "unpacked_limit_mb": Setting(
        "ICS_UNPACKED_LIMIT_MB",
        "1024",
        "Largest a data file may be once unpacked, in megabytes: a CSV as it is, each part of an .xlsx, .ods or .zip by what it declares and by what is read.",
    ),
    "row_limit": Setting(
        "ICS_ROW_LIMIT",
        "1048576",
        "Most rows read from one table (a CSV, or a sheet counting its empty rows); Excel's own limit.",
    ),
    "column_limit": Setting(
        "ICS_COLUMN_LIMIT",
        "1000",
        "Most columns read in one row of a table (CQC's register has 122).",
    ),
    "cell_limit": Setting(
        "ICS_CELL_LIMIT",
        "32767",
        "Most characters read in one cell; Excel's own limit.",
    ),
    "allow_uploads": Setting(
        "ICS_ALLOW_UPLOADS",
        "true",
        "Show the analysts' pages (upload, publish, revert); `false` hides them on a read-only deployment.",
    ),
    "author": Setting(
        "ICS_AUTHOR",
        "",
        "Name recorded as the author of published versions by default; empty means the operating-system user.",
    ),
    "analysts": Setting(
        "ICS_ANALYSTS",
        "",
        "With sign-in: who may upload, publish, revert, withdraw and edit engagement: e-mail addresses, `@domain`s and `group:ID`s, comma-separated; empty means nobody.",
    ),
    "viewers": Setting(
        "ICS_VIEWERS",
        "",
        "With sign-in: who may view, in the same forms as ICS_ANALYSTS (analysts always may); empty means everyone the identity provider signs in.",
    ),
    "groups_claim": Setting(
        "ICS_GROUPS_CLAIM",
        "groups",
        "The ID-token claim listing the user's groups, matched by `group:ID` entries (Entra ID: `groups` for group object IDs, `roles` for app roles).",
    ),
    "allow_open_network": Setting(
        "ICS_ALLOW_OPEN_NETWORK",
        "false",
        "Without sign-in, serve visitors from other machines (`true`), each of whom may publish, under a warning banner; otherwise they are refused.",
    ),
    "map_assets": Setting(
        "ICS_MAP_ASSETS",
        "local",
        "Where maps load Leaflet from: `local` (the pinned npm copies installed by `npm ci`, inlined), `cdn`, or a base URL.",
    ),
    "map_tiles": Setting(
        "ICS_MAP_TILES",
        "OpenStreetMap",
        "Background map tiles (fetched from the internet by the browser); `none` for no background.",
    ),
    "http_timeout_s": Setting(
        "ICS_HTTP_TIMEOUT_S",
        "60",
        "Seconds to wait for a publisher's server before giving up on a download.",
    ),
    "arcgis_base": Setting(
        "ICS_ARCGIS_BASE",
        "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services",
        "ONS Open Geography Portal ArcGIS services root that boundary and lookup layers are fetched from.",
    ),
    "cqc_index_url": Setting(
        "ICS_CQC_INDEX_URL",
        "https://www.cqc.org.uk/about-us/transparency/using-cqc-data",
        "CQC page that links the monthly 'Care directory with filters' (HSCA active locations) file.",
    ),
    "ods_base": Setting(
        "ICS_ODS_BASE",
        "https://www.odsdatasearchandexport.nhs.uk/api/getReport",
        "NHS ODS Data Search and Export report endpoint (`?report=<code>` is added).",
    ),
    "charity_register_url": Setting(
        "ICS_CHARITY_REGISTER_URL",
        "https://ccewuksprdoneregsadata1.blob.core.windows.net/data/txt/publicextract.charity.zip",
        "The Charity Commission's register extract (charity table, text edition), fetched as it is.",
    ),
    "rsh_index_url": Setting(
        "ICS_RSH_INDEX_URL",
        "https://www.gov.uk/government/publications/current-registered-providers-of-social-housing "
        "https://www.gov.uk/government/publications/registered-providers-of-social-housing",
        "gov.uk page(s) linking the Regulator of Social Housing's `List_of_registered_providers_*.xlsx`; several, space-separated, are tried in order.",
    ),
    "code_history_url": Setting(
        "ICS_CODE_HISTORY_URL",
        "https://www.arcgis.com/sharing/rest/content/items/d7be63c8bd144ae0a26c6593eb5e00b7/data",
        "ONS Code History Database zip (its Changes.csv maps old CCG and sub-ICB codes to today's).",
    ),
    "rtt_index_url": Setting(
        "ICS_RTT_INDEX_URL",
        "https://www.england.nhs.uk/statistics/statistical-work-areas/rtt-waiting-times/",
        "NHS England's RTT waiting times page, linking a page per financial year with each month's full CSV zip.",
    ),
    "dm01_index_url": Setting(
        "ICS_DM01_INDEX_URL",
        "https://www.england.nhs.uk/statistics/statistical-work-areas/diagnostics-waiting-times-and-activity/monthly-diagnostics-waiting-times-and-activity/",
        "NHS England's monthly diagnostics (DM01) page, linking a page per financial year with each month's full extract zip.",
    ),
    "dspt_url": Setting(
        "ICS_DSPT_URL",
        "",
        "A URL serving the DSPT organisation search export (CSV); empty means none is known: save it from the search page by hand and use `fetch --from DIR`.",
    ),
    "fts_base": Setting(
        "ICS_FTS_BASE",
        "https://www.find-tender.service.gov.uk",
        "Find a Tender root; contract award releases are harvested from its `/api/1.0/ocdsReleasePackages`.",
    ),
    "cf_base": Setting(
        "ICS_CF_BASE",
        "https://www.contractsfinder.service.gov.uk",
        "Contracts Finder root; award notices are harvested from its `/Published/Notices/OCDS/Search`.",
    ),
    "fts_since": Setting(
        "ICS_FTS_SINCE",
        "2025-02-24",
        "First day of the Find a Tender harvest (default: the Procurement Act 2023 went live; `fetch --since` overrides).",
    ),
    "cf_since": Setting(
        "ICS_CF_SINCE",
        "2024-01-01",
        "First day of the Contracts Finder harvest (default: the Provider Selection Regime came into force; `fetch --since` overrides).",
    ),
    "contracts_delay_s": Setting(
        "ICS_CONTRACTS_DELAY_S",
        "10",
        "Seconds between requests to Find a Tender and Contracts Finder (Find a Tender allows 12 requests in 2 minutes).",
    ),
    "cf_wait_s": Setting(
        "ICS_CF_WAIT_S",
        "300",
        "Seconds to wait after Contracts Finder answers 403 (too many requests) before trying again.",
    ),
    "population_pages": Setting(
        "ICS_POPULATION_PAGES",
        "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/clinicalcommissioninggroupmidyearpopulationestimates "
        "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/lowersuperoutputareamidyearpopulationestimates",
        "ONS dataset pages linking the mid-year population estimates by ICB (`sapeicb…xlsx`) and by LSOA, single year of age (`sapelsoasyoa…xlsx`); space-separated, each fetched.",
    ),
    "postcodes_io_url": Setting(
        "ICS_POSTCODES_IO_URL",
        "https://api.postcodes.io",
        "postcodes.io API root used to geocode postcodes online (bulk `POST /postcodes`).",
    ),
    "onspd_path": Setting(
        "ICS_ONSPD_PATH",
        "",
        "ONSPD or NSPL file (CSV, or the zip ONS ships) for geocoding postcodes offline; empty means none.",
    ),
}


def get_setting(name: str) -> str:
    """The value of setting `name`: its environment variable if set, else its default."""
    setting = SETTINGS[name]
    return os.environ.get(setting.env, setting.default)


def data_dir() -> Path:
    """The data folder, derived from this file's location unless ICS_DATA_DIR says otherwise."""
    return Path(get_setting("data_dir"))


def cache_dir() -> Path:
    """Where downloaded official files and their provenance records are kept."""
    return data_dir() / "cache"
