"""UK postcodes: their ONS `pcds` form, their shape, and what a geocoder says of each one.

Readers, validation, the ONSPD geocoder and the postcodes.io client all speak of
postcodes the same way through this module, which imports nothing else of ours.
"""

from __future__ import annotations

import re

import pandas as pd

GEOCODE_COLUMNS: tuple[str, ...] = ("lat", "lon", "geocode_status", "geocode_source")

FOUND = "found"
NOT_FOUND = "not found"
INVALID = "invalid postcode"
NO_GRID = "no grid reference"
NO_POSTCODE = "no postcode"
GIVEN = "coordinates given"
NOT_GEOCODED = "not geocoded (no postcode file or online lookup chosen)"
TERMINATED_PREFIX = "found (terminated"
FAILED_PREFIX = "lookup failed: "

_PCDS_SHAPE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(value: object) -> str | None:
    """A postcode in ONS `pcds` form ('e10aa' -> 'E1 0AA'); other shapes are returned
    trimmed as given, and blanks as None."""
    normalised = normalise_postcodes(pd.Series([value], dtype=object)).iloc[0]
    return None if pd.isna(normalised) else str(normalised)


def normalise_postcodes(postcodes: pd.Series) -> pd.Series:
    """Postcodes in ONS `pcds` form ('e10aa' -> 'E1 0AA'), others trimmed, blanks NA;
    vectorised for the 100,000s a postcode file holds. String dtype, same index."""
    text = pd.Series(postcodes, dtype="string").str.strip()
    text = text.mask(text == "")
    compact = text.str.replace(r"\s+", "", regex=True).str.upper()
    pcds = compact.str[:-3] + " " + compact.str[-3:]
    return pcds.where(_shaped(pcds), text)


def is_postcode(postcodes: pd.Series) -> pd.Series:
    """Whether each value is a UK postcode in shape (any case or spacing), as booleans."""
    return _shaped(normalise_postcodes(postcodes))


def geocode_frame(index: pd.Index, lat, lon, status, source: str | None) -> pd.DataFrame:
    """GEOCODE_COLUMNS for looked-up postcodes, offline or online alike; the source is
    left NA for rows never looked up (no postcode, or not a postcode)."""
    status = pd.Series(status, index=index, dtype="string")
    looked_up = ~status.isin([NO_POSTCODE, INVALID])
    return pd.DataFrame(
        {
            "lat": pd.array(lat, dtype="Float64"),
            "lon": pd.array(lon, dtype="Float64"),
            "geocode_status": status,
            "geocode_source": pd.Series(source, index=index, dtype="string").where(looked_up),
        },
        index=index,
    )


def _shaped(normalised: pd.Series) -> pd.Series:
    return normalised.str.fullmatch(_PCDS_SHAPE.pattern).fillna(False).astype(bool)
