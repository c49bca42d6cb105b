"""What assignment, validation, maps and briefings agree on about England's areas.

The shape of an ONS area code, the codes for England and for 'outside every ICB',
the ways a site gets its ICB, and which coordinates are plausible for a site in
England: one definition of each, so a site the validation accepts is one the map
draws, and a code the mapping suggests is one the briefing recognises.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# --- area codes ---------------------------------------------------------------------------------

# ONS (GSS) codes: a three-character prefix naming the kind of area, then six digits.
GSS_PREFIXES: dict[str, str] = {"icb": "E54", "sicbl": "E38", "nhser": "E40"}
ICB_CODE = re.compile(GSS_PREFIXES["icb"] + r"\d{6}")  # E54000008; fullmatch or search
REGION_CODE = re.compile(GSS_PREFIXES["nhser"] + r"\d{6}")  # E40000010
# ONS names a table's ICB code column ICB<yy>CD after the year of its boundaries: ICB23CD.
ICB_CODE_COLUMN = re.compile(r"ICB\d\dCD", re.IGNORECASE)  # fullmatch

ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
# The metrics row for sites outside every ICB or without coordinates.
OUTSIDE_CODE = "OUTSIDE"
OUTSIDE_NAME = "Outside every ICB / no coordinates"

# --- how a site got its ICB ---------------------------------------------------------------------

INSIDE = "inside"
OFFICIAL = "official"
NEAREST = "nearest"
OUTSIDE = "outside"
NO_COORDINATES = "no coordinates"
ASSIGNMENTS: tuple[str, ...] = (INSIDE, OFFICIAL, NEAREST, OUTSIDE, NO_COORDINATES)

# --- plausible coordinates ----------------------------------------------------------------------

# England from the Isles of Scilly (49.9°N, 6.4°W) to Berwick-upon-Tweed (55.8°N) and
# Lowestoft (1.76°E), with a small margin: a site outside this box is not in England.
ENGLAND_LAT: tuple[float, float] = (49.8, 55.9)
ENGLAND_LON: tuple[float, float] = (-6.5, 1.8)
ENGLAND_BOX_TEXT = (
    f"lat {ENGLAND_LAT[0]} to {ENGLAND_LAT[1]}, lon {ENGLAND_LON[0]} to {ENGLAND_LON[1]}"
)
# British National Grid metres covering England, for eastings and northings alike.
ENGLAND_GRID: tuple[float, float] = (0, 700_000)
# Coordinates a web map can draw (Web Mercator stops short of the poles, at ±85.05°):
# anything beyond is a typing error, not a place a provider could be.
EARTH_LAT: tuple[float, float] = (-85.0, 85.0)
EARTH_LON: tuple[float, float] = (-180.0, 180.0)

# --- plausible capacity -------------------------------------------------------------------------

# Beds or places at one site. England's largest hospital sites have about 2,000 beds and
# its largest care homes a few hundred places, so a figure above this is a typing or unit
# error (or 1e308): it is left empty with a warning, never added into an ICB's totals.
MAX_SITE_CAPACITY = 5_000


def is_icb_code(values: pd.Series) -> pd.Series:
    """Whether each value is exactly an ICB code (E54 and six digits), as booleans."""
    return values.astype("string").str.fullmatch(ICB_CODE.pattern).fillna(False).astype(bool)


def within(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Whether each number lies in [low, high]; NaN never does."""
    with np.errstate(invalid="ignore"):
        return (values >= bounds[0]) & (values <= bounds[1])


def in_england(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether each lat/lon pair lies in England's box."""
    return within(lat, ENGLAND_LAT) & within(lon, ENGLAND_LON)


def looks_swapped(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether each pair would lie in England's box with latitude and longitude exchanged."""
    return in_england(lon, lat)


def on_earth(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether each lat/lon pair is a place a web map can draw (NaN is not)."""
    return within(lat, EARTH_LAT) & within(lon, EARTH_LON)
