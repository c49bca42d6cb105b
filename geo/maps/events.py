"""What st_folium reports back from the explorer map, parsed before any page logic sees it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.model.vocabulary import ICB_CODE


@dataclass(frozen=True)
class MapEvent:
    """What st_folium reported: the ICB clicked (if any) and the view the user left."""

    clicked_icb_code: str | None = None
    center: tuple[float, float] | None = None
    zoom: int | None = None
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None


def parse_map_event(returned: dict | None) -> MapEvent:
    """Read st_folium's return value into a MapEvent, before any page logic sees it.

    The ICB comes from the clicked feature's `code` property (last_active_drawing),
    else from the clicked tooltip's text; anything else is ignored.
    """
    if not isinstance(returned, dict):
        return MapEvent()
    return MapEvent(
        clicked_icb_code=_clicked_icb(returned),
        center=_latlng(returned.get("center")),
        zoom=_zoom(returned.get("zoom")),
        bounds=_bounds(returned.get("bounds")),
    )


def _clicked_icb(returned: dict) -> str | None:
    """The ICB code of the clicked polygon, from its properties or its tooltip text."""
    drawing = returned.get("last_active_drawing")
    if isinstance(drawing, dict):
        code = (drawing.get("properties") or {}).get("code")
        if isinstance(code, str) and ICB_CODE.fullmatch(code):
            return code
    tooltip = returned.get("last_object_clicked_tooltip")
    found = ICB_CODE.search(tooltip) if isinstance(tooltip, str) else None
    return found.group(0) if found else None


def _latlng(value: object) -> tuple[float, float] | None:
    """{'lat': .., 'lng': ..} as (lat, lng), or None."""
    if isinstance(value, dict) and _is_number(value.get("lat")) and _is_number(value.get("lng")):
        return (float(value["lat"]), float(value["lng"]))
    return None


def _zoom(value: object) -> int | None:
    """A zoom level as an int, or None."""
    return round(float(value)) if _is_number(value) else None


def _bounds(value: object) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Leaflet's {'_southWest': .., '_northEast': ..} as ((south, west), (north, east)), or None."""
    if not isinstance(value, dict):
        return None
    south_west, north_east = _latlng(value.get("_southWest")), _latlng(value.get("_northEast"))
    return (south_west, north_east) if south_west and north_east else None


def _is_number(value: object) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
