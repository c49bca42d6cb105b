"""Which sites a map view shows, and how that view is written into a shareable URL.

A regional lead's view (vintage, filters, selected ICB, map centre and zoom) lives
in the page's query string, so a link opens the same view in another browser. The
filter is a small frozen value: hashable, so pages can cache on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo.model import postcodes, providers, sectors
from geo.model.evidence import OUTSIDE_STATUSES, PLANNING_STATUSES
from geo.model.numbers import Plausible, read_number
from geo.model.vocabulary import MAX_SITE_CAPACITY

_LIST_SEPARATOR = "~"
NEAR_BORDER_KM_MAX = 100.0  # the explorer's widget goes no further
# Where each number a URL may carry can be; anything else in a link is ignored.
_PLAUSIBLE: dict[str, Plausible] = {
    "capacity_min": Plausible(0, MAX_SITE_CAPACITY),
    "capacity_max": Plausible(0, MAX_SITE_CAPACITY),
    "near_border_km": Plausible(0, NEAR_BORDER_KM_MAX),
    "lat": Plausible(-90, 90),
    "lon": Plausible(-180, 180),
    "zoom": Plausible(0, 22),  # Leaflet's zoom levels
}
# Lists whose every value is known in advance; others (ICBs, regions) depend on the data.
_KNOWN: dict[str, tuple[str, ...]] = {
    "sectors": sectors.SECTORS,
    "statuses": PLANNING_STATUSES,
}


@dataclass(frozen=True)
class SiteFilter:
    """What to show: empty tuples and None mean 'no restriction'."""

    regions: tuple[str, ...] = ()
    icbs: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    capacity_min: float | None = None
    capacity_max: float | None = None
    near_border_km: float | None = None
    search: str = ""


@dataclass(frozen=True)
class MapView:
    """The rest of a shareable view: the ICB and NHS region whose panels are open (the map
    fits the region and greys the rest), and where the map looks."""

    selected_icb: str | None = None
    selected_region: str | None = None
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None
    metric: str | None = None


def filter_sites(sites: pd.DataFrame, site_filter: SiteFilter) -> pd.DataFrame:
    """The sites the filter lets through, in their original order; empty but typed if none."""
    return sites.iloc[matching_rows(sites, site_filter)]


def matching_rows(sites: pd.DataFrame, site_filter: SiteFilter) -> np.ndarray:
    """The positions of the rows the filter lets through, ascending: what to keep of a
    filter (a few hundred kilobytes for 100,000 sites, where the rows themselves are
    tens of megabytes)."""
    keep = pd.Series(True, index=sites.index)
    keep &= _in(sites, "region_code", site_filter.regions)
    keep &= _in(sites, "icb_code", site_filter.icbs)
    keep &= _in(sites, "sector", site_filter.sectors)
    keep &= _in(sites, "service_type", site_filter.services)
    keep &= _in(sites, "planning_status", site_filter.statuses)
    keep &= _capacity_between(sites["capacity"], site_filter.capacity_min, site_filter.capacity_max)
    if site_filter.near_border_km is not None:
        distance = pd.to_numeric(sites["border_distance_m"], errors="coerce")
        keep &= (distance <= site_filter.near_border_km * 1000).fillna(False)
    if site_filter.search.strip():
        keep &= _matches_search(sites, site_filter.search)
    return np.flatnonzero(keep.to_numpy(dtype=bool))


def iv_not_engaged(sites: pd.DataFrame) -> pd.DataFrame:
    """Independent and voluntary sites whose provider takes no part in ICS planning."""
    mask = sites["sector"].isin(sectors.IV_SECTORS) & (
        sites["planning_status"] == providers.NOT_ENGAGED
    )
    return sites[mask.fillna(False).astype(bool)]


def iv_outside(sites: pd.DataFrame) -> pd.DataFrame:
    """Independent and voluntary sites outside NHS planning: not engaged by a list, or with no
    evidence of NHS commissioning by their own ICB (geo.model.evidence.OUTSIDE_STATUSES)."""
    mask = sites["sector"].isin(sectors.IV_SECTORS) & sites["planning_status"].isin(
        OUTSIDE_STATUSES
    )
    return sites[mask.fillna(False).astype(bool)]


def postcode_query(search: str) -> str | None:
    """The search text as a normalised postcode when it looks like one (to zoom to it), else None."""
    if not search.strip():
        return None  # every run of the explorer asks; no search is the usual answer
    postcode = postcodes.normalise_postcode(search)
    if postcode is None or not postcodes.is_postcode(pd.Series([postcode])).iloc[0]:
        return None
    return postcode


def to_query_params(site_filter: SiteFilter, view: MapView) -> dict[str, str]:
    """The view as query-string parameters: only what differs from the default, short and stable."""
    params: dict[str, str] = {}
    for item in (*_items(site_filter, SiteFilter()), *_items(view, MapView())):
        name, value = item
        params[name] = value
    return params


class SharedView(NamedTuple):
    """What a shared URL describes: the filter, the view, and the names of the parameters
    whose values could not be used (in the order of the fields), which keep their defaults."""

    site_filter: SiteFilter
    view: MapView
    ignored: tuple[str, ...] = ()


def from_query_params(params: Mapping[str, str]) -> SharedView:
    """The filter and view a shared URL describes; a value that is unreadable, not finite
    (`nan`, `inf`), out of range or unknown is ignored, and named in `ignored`."""
    site_filter, ignored_filter = _read(SiteFilter, params)
    view, ignored_view = _read(MapView, params)
    return SharedView(site_filter, view, ignored_filter + ignored_view)


def _in(sites: pd.DataFrame, column: str, allowed: tuple[str, ...]) -> pd.Series:
    if not allowed or column not in sites.columns:
        return pd.Series(True, index=sites.index)
    return sites[column].isin(allowed).fillna(False).astype(bool)


def _capacity_between(capacity: pd.Series, low: float | None, high: float | None) -> pd.Series:
    values = pd.to_numeric(capacity, errors="coerce")
    keep = pd.Series(True, index=capacity.index)
    if low is not None:
        keep &= (values >= low).fillna(False).astype(bool)
    if high is not None:
        keep &= (values <= high).fillna(False).astype(bool)
    return keep


def _matches_search(sites: pd.DataFrame, search: str) -> pd.Series:
    postcode = postcode_query(search)
    if postcode is not None and "postcode" in sites.columns:
        return (sites["postcode"] == postcode).fillna(False).astype(bool)
    text = search.strip().casefold()
    found = pd.Series(False, index=sites.index)
    for column in ("site_name", "provider_name"):
        names = sites[column].astype("string").str.casefold()
        found |= names.str.contains(text, regex=False).fillna(False).astype(bool)
    return found


def _items(value, default) -> list[tuple[str, str]]:
    items = []
    for field in fields(value):
        current = getattr(value, field.name)
        if current == getattr(default, field.name):
            continue
        if isinstance(current, tuple):
            items.append((field.name, _LIST_SEPARATOR.join(current)))
        else:
            items.append((field.name, str(current)))
    return items


def _read(kind, params: Mapping[str, str]) -> tuple[object, tuple[str, ...]]:
    """A SiteFilter or MapView from URL parameters, and the names of those not usable."""
    value, ignored = kind(), []
    for field in fields(kind):
        raw = params.get(field.name)
        if raw is None or raw == "":
            continue
        parsed = _parse(field.name, str(raw), getattr(value, field.name), field.type)
        if parsed is None:
            ignored.append(field.name)
        else:
            value = replace(value, **{field.name: parsed})
    return value, tuple(ignored)


def _parse(name: str, raw: str, default: object, annotation: str):
    """One parameter's value, or None when it cannot be used."""
    if isinstance(default, tuple):
        parts = tuple(part for part in raw.split(_LIST_SEPARATOR) if part)
        known = _KNOWN.get(name)
        return parts if known is None or set(parts) <= set(known) else None
    if "int" in annotation or "float" in annotation:
        number = read_number(raw, _PLAUSIBLE[name])
        if number is None:
            return None
        return round(number) if "int" in annotation else number
    return raw
