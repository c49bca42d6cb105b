"""A shared catalogue of awkward test geometries, in British National Grid metres (EPSG:27700).

Each shape sits in the English Midlands so that reprojecting to EPSG:4326 gives
plausible lon/lat, and `boundary_frame` wraps any of them in an ONS-style layer.
"""

from __future__ import annotations

import geopandas as gpd
from shapely import LineString, MultiPolygon, Point, Polygon, box

CRS = "EPSG:27700"
X0, Y0 = 400_000.0, 300_000.0  # near Birmingham


def square(x: float = X0, y: float = Y0, size: float = 1_000.0) -> Polygon:
    """An axis-aligned square with its lower-left corner at (x, y)."""
    return box(x, y, x + size, y + size)


EMPTY = Polygon()
SQUARE = square()
# A 3 km square with a 1 km hole in the middle (a lake, or an enclave of another area).
WITH_HOLE = Polygon(
    square(X0, Y0, 3_000).exterior.coords, [square(X0 + 1_000, Y0 + 1_000).exterior.coords]
)
# Two separate squares 2 km apart (an ICB with islands).
MULTIPART = MultiPolygon([square(X0, Y0), square(X0 + 3_000, Y0)])
# A self-crossing ring: invalid. `make_valid` turns it into two triangles of 2 km² in total.
BOW_TIE = Polygon([(X0, Y0), (X0 + 2_000, Y0 + 2_000), (X0 + 2_000, Y0), (X0, Y0 + 2_000)])
BOW_TIE_AREA_M2 = 2_000_000.0
POINT = Point(X0, Y0)
LINE = LineString([(X0, Y0), (X0 + 1_000, Y0 + 1_000)])
# Two squares sharing one edge exactly: neighbours whose border must stay shared.
TOUCHING_LEFT = square(X0, Y0)
TOUCHING_RIGHT = square(X0 + 1_000, Y0)


def zigzag_neighbours(
    teeth: int = 40, amplitude: float = 150.0, size: float = 20_000.0
) -> tuple[Polygon, Polygon]:
    """Two neighbours sharing a finely zig-zagged border, the kind a simplifier can tear apart."""
    step = size / teeth
    border = [
        (X0 + size / 2 + (amplitude if i % 2 else -amplitude), Y0 + i * step)
        for i in range(teeth + 1)
    ]
    left = Polygon([(X0, Y0), *border, (X0, Y0 + size)])
    right = Polygon([(X0 + size, Y0), (X0 + size, Y0 + size), *reversed(border)])
    return left, right


_GSS_PREFIXES = {"ICB": "E54", "SICBL": "E38", "NHSER": "E40"}


def boundary_frame(
    geometries: list, *, prefix: str = "ICB23", first: int = 1, crs: str | None = CRS
) -> gpd.GeoDataFrame:
    """An ONS-style boundary layer ({prefix}CD, {prefix}NM, {prefix}CDH) around `geometries`."""
    gss = _GSS_PREFIXES[prefix.rstrip("0123456789")]
    numbers = range(first, first + len(geometries))
    return gpd.GeoDataFrame(
        {
            f"{prefix}CD": [f"{gss}{n:06d}" for n in numbers],
            f"{prefix}NM": [f"Test area {n}" for n in numbers],
            f"{prefix}CDH": [f"Q{n:02d}" for n in numbers],
        },
        geometry=list(geometries),
        crs=crs,
    )
