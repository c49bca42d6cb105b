"""Synthetic provider sites for the benchmark: placed where people live, named and mixed like CQC's list.

LSOAs hold similar populations (about 1,500 people each), so picking LSOAs
uniformly at random and a point inside each places sites in proportion to
population, the way real care provision roughly is. The attributes follow the
national shape: mostly independent sites, a quarter of them care homes with
10–120 beds, names of realistic and varied length.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.model.errors import InputError
from geo.model.providers import (
    CANONICAL_COLUMNS,
    CANONICAL_DTYPES,
    CANONICAL_EXTRAS,
    ENGAGED,
    NOT_ENGAGED,
    UNKNOWN_STATUS,
)
from geo.model.sectors import INDEPENDENT, IV_SECTORS, LOCAL_AUTHORITY, NHS, UNKNOWN, VOLUNTARY

LSOA_FILE = "lsoa_2021_england_bsc.gpkg"
SECTOR_MIX: dict[str, float] = {
    NHS: 0.08,
    LOCAL_AUTHORITY: 0.04,
    INDEPENDENT: 0.72,
    VOLUNTARY: 0.12,
    UNKNOWN: 0.04,
}
STATUS_MIX: dict[str, float] = {ENGAGED: 0.40, NOT_ENGAGED: 0.45, UNKNOWN_STATUS: 0.15}
CARE_HOME_SERVICES = ("Care home service with nursing", "Care home service without nursing")
# Service types (CQC's names) each sector offers, with weights.
_SERVICES: dict[str, dict[str, float]] = {
    NHS: {
        "Acute services with overnight beds": 3,
        "Community healthcare service": 4,
        "Hospital services for people with mental health needs, learning disabilities and problems with substance misuse": 2,
        "Diagnostic and/or screening service": 1,
        "Urgent care services": 1,
    },
    LOCAL_AUTHORITY: {
        "Domiciliary care service": 4,
        "Care home service without nursing": 3,
        "Supported living service": 2,
        "Extra Care housing services": 1,
        "Shared Lives": 1,
    },
    INDEPENDENT: {
        "Care home service with nursing": 12,
        "Care home service without nursing": 16,
        "Domiciliary care service": 30,
        "Doctors consultation service": 14,
        "Dental service": 16,
        "Supported living service": 6,
        "Diagnostic and/or screening service": 3,
        "Acute services with overnight beds": 1,
        "Community based services for people with a learning disability": 2,
    },
    VOLUNTARY: {
        "Care home service without nursing": 30,
        "Care home service with nursing": 10,
        "Supported living service": 20,
        "Hospice services": 8,
        "Domiciliary care service": 15,
        "Community based services for people with a learning disability": 10,
        "Shared Lives": 7,
    },
    UNKNOWN: {
        "Domiciliary care service": 3,
        "Care home service without nursing": 2,
        "Doctors consultation service": 1,
        "Community healthcare service": 1,
    },
}
_PLACES = (
    "Ashford", "Barnsley", "Bedford", "Bolton", "Bradford", "Brighton", "Bristol", "Burnley",
    "Cambridge", "Carlisle", "Chelmsford", "Chester", "Colchester", "Coventry", "Crawley",
    "Darlington", "Derby", "Doncaster", "Dudley", "Durham", "Exeter", "Gateshead", "Gloucester",
    "Grimsby", "Halifax", "Harrogate", "Hastings", "Hereford", "Huddersfield", "Ipswich",
    "Kendal", "Kettering", "Lancaster", "Leicester", "Lincoln", "Luton", "Maidstone",
    "Mansfield", "Middlesbrough", "Newark", "Northampton", "Norwich", "Nottingham", "Oldham",
    "Oxford", "Peterborough", "Plymouth", "Preston", "Reading", "Redditch", "Rochdale",
    "Salisbury", "Scarborough", "Sheffield", "Shrewsbury", "Slough", "Southport", "Stafford",
    "Stockport", "Sunderland", "Swindon", "Taunton", "Telford", "Truro", "Wakefield",
    "Walsall", "Warrington", "Wigan", "Winchester", "Worcester", "Worthing", "York",
)  # fmt: skip
_HOME_WORDS = (
    "Meadowbank", "The Willows", "Oakwood", "St Anne's", "Rose Court", "Ashgrove", "Beechcroft",
    "Hollybank", "The Laurels", "Elm Lodge", "Highfield", "Brookside", "Cedar House",
    "Fairview", "Greenacres", "Hillcrest", "Lavender Fields", "Maple Grove", "Orchard View",
    "Pine Trees", "Riverside", "Sandringham", "Thornbury", "Victoria Park", "Westbourne",
    "Woodlands", "Abbeyfield", "Bramley", "Chestnut", "Kingsley", "Mill House", "Primrose",
    "Queen's Court", "Springfield", "Sycamore", "Wren's Nest", "Ferndale", "Heathlands",
)  # fmt: skip
_HOME_SUFFIXES = (
    "Care Home", "Nursing Home", "House", "Lodge", "Residential Home", "Manor",
    "Care Centre", "Nursing and Residential Care Home", "",
)  # fmt: skip
_SURNAMES = (
    "Patel", "Smith", "Jones", "Khan", "Williams", "Brown", "Taylor", "Ahmed", "Wilson",
    "Evans", "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "Hughes",
    "O'Brien", "Edwards", "Green", "Hall", "Lewis", "Shah", "Clarke", "Jackson", "Singh",
)  # fmt: skip
_COMPANY_WORDS = (
    "Meadowbank", "Bluebird", "Sunrise", "Caring Hands", "Hometouch", "Kare Plus",
    "Helping Hands", "Radfield", "Right at Home", "Home Instead", "Visiting Angels",
    "Barchester", "Abbey", "Avery", "Anchor", "Care UK", "Hallmark", "Sanctuary", "Orchard",
    "Castlerock", "Excelcare", "Runwood", "Kingsley", "Agincare", "Allied", "Bupa", "Nellsar",
    "Priory", "Spire", "Nuffield", "Mydentist", "Bupa Dental", "Oasis", "Porthaven",
)  # fmt: skip
_COMPANY_SUFFIXES = (
    "Limited", "Ltd", "Care Ltd", "Healthcare Limited", "Homes (UK) Limited",
    "Care Services Ltd", "Group plc", "Healthcare Homes Limited", "& Co Ltd",
)  # fmt: skip
_CHARITY_FORMS = (
    "{} Trust", "The {} Foundation", "{} Hospice Care", "{} Housing Association Limited",
    "{} Care Association", "Mencap ({})", "Leonard Cheshire Disability ({})",
)  # fmt: skip
_POSTCODE_AREAS = (
    "B", "BD", "BL", "BN", "BS", "CB", "CH", "CM", "CV", "DE", "DN", "E", "EX", "GL",
    "HU", "IP", "L", "LE", "LS", "M", "ME", "N", "NE", "NG", "NR", "OX", "PE", "PL", "PO",
    "RG", "S", "SE", "SO", "SW", "TN", "W", "WF", "WV", "YO",
)  # fmt: skip
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_PLACEMENT_ROUNDS = 12
_CHAINS = 400


def load_lsoas(data: Path) -> gpd.GeoDataFrame:
    """England's 33,755 LSOAs (2021, super-generalised) from the shared data folder, in EPSG:4326."""
    path = Path(data) / LSOA_FILE
    if not path.is_file():
        raise InputError(f"benchmark data {path}: not found; expected {LSOA_FILE} in --data")
    lsoas = pyogrio.read_dataframe(path, columns=["LSOA21CD"])
    if lsoas.crs is None or lsoas.crs.to_epsg() != 4326:
        raise InputError(f"benchmark data {path.name}: expected EPSG:4326, got {lsoas.crs}")
    shapely.prepare(lsoas.geometry.to_numpy())
    return lsoas


def place_points(
    areas: gpd.GeoDataFrame, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`count` random points (lon, lat): an area picked uniformly, then a point inside it.

    Points are drawn in each area's bounding box and the ones outside it redrawn;
    the few left after several rounds take the area's representative point.
    """
    geoms = areas.geometry.to_numpy()
    picked = rng.integers(0, len(geoms), count)
    bounds = shapely.bounds(geoms)[picked]
    lon = np.full(count, np.nan)
    lat = np.full(count, np.nan)
    todo = np.arange(count)
    for _ in range(_PLACEMENT_ROUNDS):
        if not len(todo):
            break
        x = rng.uniform(bounds[todo, 0], bounds[todo, 2])
        y = rng.uniform(bounds[todo, 1], bounds[todo, 3])
        inside = shapely.contains_xy(geoms[picked[todo]], x, y)
        lon[todo[inside]], lat[todo[inside]] = x[inside], y[inside]
        todo = todo[~inside]
    if len(todo):
        fallback = shapely.point_on_surface(geoms[picked[todo]])
        lon[todo], lat[todo] = shapely.get_x(fallback), shapely.get_y(fallback)
    return lon, lat


def synthetic_sites(lsoas: gpd.GeoDataFrame, count: int, seed: int = 2024) -> pd.DataFrame:
    """`count` provider sites as the canonical provider table, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    lon, lat = place_points(lsoas, count, rng)
    sector = _choose(rng, SECTOR_MIX, count)
    service = _services(rng, sector)
    care_home = np.isin(service, CARE_HOME_SERVICES)
    provider_id, provider_name = _providers(rng, sector)
    columns = {
        "site_id": [f"1-{1_000_000_000 + i}" for i in range(count)],
        "site_name": _site_names(rng, service),
        "provider_id": provider_id,
        "provider_name": provider_name,
        "sector": sector,
        "service_type": service,
        "capacity": np.where(care_home, _beds(rng, count), np.nan),
        "planning_status": _statuses(rng, sector),
        "postcode": _postcodes(rng, count),
        "lat": np.round(lat, 6),
        "lon": np.round(lon, 6),
        "official_icb_code": None,
        "source": "benchmark: synthetic sites",
        "official_sicbl_code": None,
    }
    frame = pd.DataFrame(columns, index=pd.RangeIndex(count))
    return frame.astype(
        {name: CANONICAL_DTYPES[name] for name in (*CANONICAL_COLUMNS, *CANONICAL_EXTRAS)}
    )


def _choose(rng: np.random.Generator, mix: dict[str, float], count: int) -> np.ndarray:
    """Labels drawn with the mix's weights."""
    labels = np.array(list(mix), dtype=object)
    weights = np.array(list(mix.values()), dtype=float)
    return labels[rng.choice(len(labels), size=count, p=weights / weights.sum())]


def _services(rng: np.random.Generator, sector: np.ndarray) -> np.ndarray:
    """A CQC service type per site, from what its sector offers."""
    service = np.empty(len(sector), dtype=object)
    for name, offered in _SERVICES.items():
        rows = np.flatnonzero(sector == name)
        service[rows] = _choose(rng, offered, len(rows))
    return service


def _statuses(rng: np.random.Generator, sector: np.ndarray) -> np.ndarray:
    """Planning status: drawn for independent and voluntary sites, 'unknown' for the rest."""
    status = np.full(len(sector), UNKNOWN_STATUS, dtype=object)
    iv = np.flatnonzero(np.isin(sector, IV_SECTORS))
    status[iv] = _choose(rng, STATUS_MIX, len(iv))
    return status


def _beds(rng: np.random.Generator, count: int) -> np.ndarray:
    """Care-home beds, 10–120, most homes between 25 and 60 as in CQC's list."""
    return np.clip(np.round(rng.gamma(4.0, 11.0, count)), 10, 120)


def _site_names(rng: np.random.Generator, service: np.ndarray) -> list[str]:
    """Names in CQC's styles: homes, surgeries, branch offices; 5 to 80+ characters."""
    n = len(service)
    home = rng.choice(_HOME_WORDS, n)
    suffix = rng.choice(_HOME_SUFFIXES, n)
    place = rng.choice(_PLACES, n)
    surname = rng.choice(_SURNAMES, n)
    company = rng.choice(_COMPANY_WORDS, n)
    initial = rng.choice(list("ABCDEFGHJKLMNPRST"), n)
    style = rng.integers(0, 4, n)
    names = []
    for i in range(n):
        kind = service[i]
        if kind.startswith("Care home") or kind == "Hospice services":
            name = f"{home[i]} {suffix[i]}".strip()
            name = f"{name}, {place[i]}" if style[i] == 0 else name
        elif kind in ("Doctors consultation service", "Dental service"):
            name = (
                f"Dr {initial[i]} {surname[i]} & Partners"
                if style[i] < 2
                else f"{home[i]} {'Surgery' if kind.startswith('Doctors') else 'Dental Practice'}"
            )
        elif style[i] == 3:
            name = f"{company[i]} - {place[i]} and District Branch Office"
        else:
            name = f"{company[i]} ({place[i]})" if style[i] else f"{place[i]} {kind}"
        names.append(name)
    return names


def _providers(rng: np.random.Generator, sector: np.ndarray) -> tuple[list[str], list[str]]:
    """Provider IDs and names: 40% of sites run by a few hundred chains (the largest with
    about 2% of all sites), the rest by providers with one or two sites."""
    n = len(sector)
    weights = 1 / (np.arange(_CHAINS) + 5)
    chain = rng.choice(_CHAINS, n, p=weights / weights.sum())
    key = np.where(rng.random(n) < 0.4, chain, _CHAINS + np.arange(n) // 2)
    place = rng.choice(_PLACES, n)
    company = rng.choice(_COMPANY_WORDS, n)
    form = rng.integers(0, 10**6, n)
    ids, names = [], []
    for i in range(n):
        ids.append(f"1-{2_000_000_000 + key[i] * 8 + _SECTOR_SLOT[sector[i]]}")
        names.append(_provider_name(sector[i], key[i], place[i], company[i], form[i]))
    return ids, names


_SECTOR_SLOT = {name: slot for slot, name in enumerate(SECTOR_MIX)}


def _provider_name(sector: str, key: int, place: str, company: str, form: int) -> str:
    """A provider name in its sector's style; the same key gives the same chain name."""
    if key < _CHAINS:
        place = _PLACES[key % len(_PLACES)]
        company = _COMPANY_WORDS[key % len(_COMPANY_WORDS)]
        form = key
    if sector == NHS:
        return f"{place} {('Hospitals', 'Community Health', 'Mental Health')[form % 3]} NHS Foundation Trust"
    if sector == LOCAL_AUTHORITY:
        return (f"{place} City Council", f"London Borough of {place}", f"{place} County Council")[
            form % 3
        ]
    if sector == VOLUNTARY:
        return _CHARITY_FORMS[form % len(_CHARITY_FORMS)].format(place)
    return f"{company} {_COMPANY_SUFFIXES[form % len(_COMPANY_SUFFIXES)]}"


def _postcodes(rng: np.random.Generator, count: int) -> list[str]:
    """Postcodes of the right shape ('LS6 2AB'), not real ones."""
    area = rng.choice(_POSTCODE_AREAS, count)
    district = rng.integers(1, 30, count)
    sector = rng.integers(0, 10, count)
    first = rng.choice(_INWARD_LETTERS, count)
    second = rng.choice(_INWARD_LETTERS, count)
    return [
        f"{a}{d} {s}{x}{y}"
        for a, d, s, x, y in zip(area, district, sector, first, second, strict=True)
    ]
