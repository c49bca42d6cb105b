"""The map payload's wire format: integer columns as base64 LEB128 varints, and mixed radixes.

Kept apart from geo/maps/payload.py so the encoding (mirrored by geo/maps/static/ics_map.js,
and checked row for row against it by tests/test_maps_browser.py) reads in one place.
Missing numbers travel as 0, so every value is stored plus one.

Why a hand codec and not a standard typed layout: measured on 100,000 synthetic sites
(geo.bench.sites over England's LSOAs, assigned to the 2023 ICBs), the same payload
with each column as a base64 little-endian typed array (Int32 coordinates in 1e-5
degrees, Uint8/16 codes and indexes, Float32 capacity and border distance):

    layout                               encode (min of 11)   JSON      gzip -6
    varints + mixed radix (this module)  0.14 s               2.29 MB   1.07 MB
    typed arrays                         0.14 s               4.23 MB   1.38 MB
    typed arrays, coordinates as deltas  0.13 s               4.23 MB   1.24 MB
    typed arrays, each column gzipped    0.30 s               1.91 MB   1.14 MB

Encoding costs the same, but typed arrays make the page 85% larger (4.2 MB, over the
benchmark's 4 MB payload target) and 16-29% larger even compressed, as Streamlit
sends it; gzipping each column comes within 7% but doubles the encode time and needs
the browser's asynchronous DecompressionStream before the first draw. So the codec
stays, with the browser test as the guard that its two implementations agree.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from geo.model.errors import InputError

COORD_SCALE = 100_000  # 1e-5 degrees, about a metre


def combine_digits(digits: dict[str, tuple[np.ndarray, int]]) -> np.ndarray:
    """Several small codes as one mixed-radix integer per site (digits least significant first).

    The browser splits them again; one varint column instead of six saves bytes.
    """
    code, weight = 0, 1
    for values, radix in digits.values():
        code = code + values * weight
        weight *= radix
    return np.asarray(code, dtype=np.int64)


def split_digits(codes: np.ndarray, digit_spec: list[list]) -> dict[str, np.ndarray]:
    """Split mixed-radix integers back into their named digits (the inverse of `combine_digits`)."""
    out = {}
    for name, radix in digit_spec:
        out[name] = codes % radix
        codes = codes // radix
    return out


def scale_degrees(degrees: np.ndarray) -> np.ndarray:
    """Turn degrees into integer 1e-5 degree steps (about a metre), which varints pack small."""
    return np.round(degrees * COORD_SCALE).astype(np.int64)


def encode_optional(values: np.ndarray, scale: float) -> np.ndarray:
    """Encode optional numbers as round(value × scale) + 1, with 0 for missing, for varints."""
    coded = np.round(np.nan_to_num(values, nan=0.0) * scale) + 1
    return np.where(np.isnan(values), 0, coded).astype(np.int64)


def decode_optional(coded: np.ndarray, scale: float) -> pd.Series:
    """Decode `encode_optional` output back into Float64, NA where 0."""
    values = pd.Series((coded - 1) / scale, dtype="Float64")
    return values.mask(coded == 0)


def zigzag_encode(values: np.ndarray) -> np.ndarray:
    """Map signed deltas to unsigned so small magnitudes stay small: 0, -1, 1, -2 → 0, 1, 2, 3."""
    return np.where(values < 0, -2 * values - 1, 2 * values).astype(np.int64)


def zigzag_decode(values: np.ndarray) -> np.ndarray:
    """Map zigzag-encoded integers back to signed ones."""
    return np.where(values % 2 == 1, -(values + 1) // 2, values // 2)


def pack_varints(values: np.ndarray) -> str:
    """Pack non-negative integers as base64 LEB128 varints (7 bits a byte, high bit = more)."""
    values = np.asarray(values, dtype=np.uint64)
    if len(values) == 0:
        return ""
    lengths = np.ones(len(values), dtype=np.int64)
    rest = values >> np.uint64(7)
    while rest.any():
        lengths += rest > 0
        rest >>= np.uint64(7)
    starts = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    for k in range(int(lengths.max())):
        has = lengths > k
        byte = (values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + k] = (byte | more).astype(np.uint8)
    return base64.b64encode(out.tobytes()).decode("ascii")


def unpack_varints(packed: str, n: int) -> np.ndarray:
    """Unpack `n` integers packed by `pack_varints`; InputError if the count is wrong."""
    data = np.frombuffer(base64.b64decode(packed), dtype=np.uint8).astype(np.int64)
    ends = np.flatnonzero(data < 0x80)
    if len(ends) != n:
        raise InputError(f"site payload: a column holds {len(ends)} values; expected {n}")
    starts = np.concatenate(([0], ends[:-1] + 1))
    out = np.zeros(n, dtype=np.int64)
    for k in range(int((ends - starts).max(initial=-1)) + 1):
        has = starts + k <= ends
        out[has] |= (data[starts[has] + k] & 0x7F) << (7 * k)
    return out


def pack_bits(flags: np.ndarray) -> str:
    """Booleans as base64 bits, the first in the lowest bit of the first byte.

    A filter sends the map which of the sites it already holds to show: 100,000
    sites take 17 kB this way, where the sites themselves take 2.3 MB.
    """
    packed = np.packbits(np.asarray(flags, dtype=bool), bitorder="little")
    return base64.b64encode(packed.tobytes()).decode("ascii")


def unpack_bits(packed: str, n: int) -> np.ndarray:
    """The `n` booleans packed by `pack_bits`; InputError if the bytes cannot hold exactly n."""
    data = np.frombuffer(base64.b64decode(packed), dtype=np.uint8)
    if len(data) != (n + 7) // 8:
        raise InputError(f"site mask: {len(data)} bytes; expected {(n + 7) // 8} for {n} sites")
    return np.unpackbits(data, bitorder="little")[:n].astype(bool)
