"""Filtering a map view, and writing it into a URL that opens the same view elsewhere."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.filters import (
    MapView,
    SiteFilter,
    filter_sites,
    from_query_params,
    iv_not_engaged,
    matching_rows,
    postcode_query,
    to_query_params,
)


@pytest.fixture
def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["a", "b", "c", "d", "e"],
            "site_name": ["Oak House", "St Mary's Hospital", "Elm Lodge", "Hill View", "Ash Court"],
            "provider_name": [
                "Care Co Ltd",
                "NHS Trust",
                "Elm Charity",
                "Leeds City Council",
                "Care Co Ltd",
            ],
            "sector": ["Independent", "NHS", "Voluntary", "Local authority", "Independent"],
            "service_type": ["Care home", "Acute", "Care home", "Care home", "Hospice"],
            "planning_status": ["not engaged", "unknown", "engaged", "unknown", "not engaged"],
            "capacity": pd.array([40, None, 12, 30, 8], dtype="Float64"),
            "postcode": ["LS1 4AP", "W2 1NY", "M1 1AE", "LS2 8HD", None],
            "icb_code": ["E54000054", "E54000027", "E54000057", "E54000054", pd.NA],
            "region_code": ["E40000012", "E40000003", "E40000010", "E40000012", pd.NA],
            "border_distance_m": pd.array([1500.0, 9000.0, 400.0, None, None], dtype="Float64"),
        }
    )


def test_no_filter_lets_every_site_through(sites):
    assert filter_sites(sites, SiteFilter()).equals(sites)


def test_each_restriction_narrows_the_sites(sites):
    assert list(filter_sites(sites, SiteFilter(sectors=("Independent",)))["site_id"]) == ["a", "e"]
    assert list(filter_sites(sites, SiteFilter(icbs=("E54000054",)))["site_id"]) == ["a", "d"]
    assert list(filter_sites(sites, SiteFilter(regions=("E40000003",)))["site_id"]) == ["b"]
    assert list(filter_sites(sites, SiteFilter(services=("Hospice",)))["site_id"]) == ["e"]
    assert list(filter_sites(sites, SiteFilter(statuses=("engaged",)))["site_id"]) == ["c"]


def test_capacity_range_excludes_sites_whose_capacity_is_unknown(sites):
    chosen = filter_sites(sites, SiteFilter(capacity_min=10, capacity_max=35))
    assert list(chosen["site_id"]) == ["c", "d"]


def test_near_border_keeps_sites_within_the_distance_and_drops_unmeasured_ones(sites):
    chosen = filter_sites(sites, SiteFilter(near_border_km=2))
    assert list(chosen["site_id"]) == ["a", "c"]


def test_search_finds_site_or_provider_names_case_insensitively(sites):
    assert list(filter_sites(sites, SiteFilter(search="care co"))["site_id"]) == ["a", "e"]
    assert list(filter_sites(sites, SiteFilter(search="MARY"))["site_id"]) == ["b"]


def test_search_by_postcode_matches_the_normalised_postcode(sites):
    assert postcode_query("ls14ap") == "LS1 4AP"
    assert postcode_query("Oak House") is None
    assert postcode_query("Ward 1AB") is None  # a postcode's outline, not a UK postcode
    assert list(filter_sites(sites, SiteFilter(search="ls14ap"))["site_id"]) == ["a"]


def test_a_filter_that_matches_nothing_returns_an_empty_table_with_the_same_columns(sites):
    empty = filter_sites(sites, SiteFilter(search="no such place"))
    assert empty.empty
    assert list(empty.columns) == list(sites.columns)


def test_independent_and_voluntary_sites_not_engaged_are_picked_out(sites):
    assert list(iv_not_engaged(sites)["site_id"]) == ["a", "e"]


def test_a_view_survives_the_round_trip_through_the_url():
    site_filter = SiteFilter(
        regions=("E40000012",),
        icbs=("E54000054", "E54000057"),
        sectors=("Independent", "Voluntary"),
        statuses=("not engaged",),
        capacity_min=5.0,
        near_border_km=2.5,
        search="St Mary's & Co",
    )
    view = MapView(
        selected_icb="E54000054", lat=53.8, lon=-1.55, zoom=9, metric="iv_sites_not_engaged"
    )
    params = to_query_params(site_filter, view)
    assert all(isinstance(value, str) for value in params.values())
    assert from_query_params(params) == (site_filter, view, ())


def test_the_default_view_writes_nothing_into_the_url():
    assert to_query_params(SiteFilter(), MapView()) == {}


def test_unreadable_url_values_fall_back_to_the_default_and_are_named():
    site_filter, view, ignored = from_query_params(
        {"zoom": "near", "capacity_min": "lots", "sectors": "NHS"}
    )
    assert view.zoom is None
    assert site_filter.capacity_min is None
    assert site_filter.sectors == ("NHS",)
    assert ignored == ("capacity_min", "zoom")


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "NaN"},
        {"lat": "inf", "lon": "-inf"},
        {"zoom": "inf"},
        {"zoom": "1e9"},
        {"zoom": "1e999"},
        {"near_border_km": "nan"},
        {"near_border_km": "5000"},
        {"capacity_min": "-3"},
        {"capacity_max": "1e308"},
    ],
)
def test_numbers_that_are_not_finite_or_out_of_range_are_ignored_and_named(params):
    site_filter, view, ignored = from_query_params(params)

    assert (site_filter, view) == (SiteFilter(), MapView())
    assert set(ignored) == set(params)


def test_a_link_with_unusable_values_is_written_back_without_them():
    site_filter, view, _ = from_query_params({"lat": "nan", "lon": "-1.55", "zoom": "inf"})

    assert to_query_params(site_filter, view) == {"lon": "-1.55"}


def test_sectors_and_statuses_outside_the_vocabulary_are_ignored():
    site_filter, _, ignored = from_query_params(
        {"sectors": "NHS~Martian", "statuses": "engaged", "icbs": "E54000054"}
    )

    assert site_filter.sectors == ()
    assert site_filter.statuses == ("engaged",)
    assert site_filter.icbs == ("E54000054",)  # ICBs depend on the data: the page decides
    assert ignored == ("sectors",)


def test_matching_rows_are_the_positions_of_the_filtered_sites(sites):
    """The explorer keeps a filter's row positions, not its rows: they must be the same sites."""
    indexed = sites.set_index(pd.Index([10, 3, 7, 42, 5]))  # positions, not labels
    for site_filter in (
        SiteFilter(),
        SiteFilter(sectors=("Independent",)),
        SiteFilter(near_border_km=2.0),
        SiteFilter(sectors=("NHS",), near_border_km=2.0),  # nothing
    ):
        rows = matching_rows(indexed, site_filter)
        assert rows.dtype.kind == "i"
        assert list(indexed.iloc[rows]["site_id"]) == list(
            filter_sites(indexed, site_filter)["site_id"]
        )
    assert list(matching_rows(indexed, SiteFilter(near_border_km=2.0))) == [0, 2]
