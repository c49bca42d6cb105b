"""Tests for geo/analysis/regions.py: one NHS region's figures, ICBs and sites not engaged."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.metrics import gap_metrics
from geo.analysis.regions import ICB_COLUMNS, SITE_COLUMNS, region_summary
from geo.model.errors import InputError
from tests.factories import site, sites_frame

NORTH, SOUTH = "E40000001", "E40000002"
LEEDS, YORK, KENT = "E54000001", "E54000002", "E54000003"


@pytest.fixture
def icbs() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [LEEDS, YORK, KENT], "name": ["Leeds", "York", "Kent"], "vintage": "2024"},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=4326,
    )


@pytest.fixture
def lookup() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "icb_code": [LEEDS, YORK, KENT],
            "region_code": [NORTH, NORTH, SOUTH],
            "region_name": ["North", "North", "South"],
        }
    )


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    return sites_frame(
        site("Oak", 0.5, 0.5, icb=LEEDS, beds=10.0, status="not engaged", postcode="LS1 1AA"),
        site("Elm", 0.5, 0.5, icb=LEEDS, beds=30.0, status="engaged", postcode="LS1 1AA"),
        site("Ash", 1.5, 0.5, icb=YORK, beds=20.0, status="not engaged", postcode="LS1 1AA"),
        site(
            "Yew",
            1.5,
            0.5,
            icb=YORK,
            sector="Voluntary",
            beds=5.0,
            status="not engaged",
            postcode="LS1 1AA",
        ),
        site(
            "Fir",
            1.5,
            0.5,
            icb=YORK,
            sector="NHS",
            beds=99.0,
            status="not engaged",
            postcode="LS1 1AA",
        ),
        site("Bay", 2.5, 0.5, icb=KENT, beds=10.0, status="not engaged", postcode="LS1 1AA"),
    )


def test_a_region_sums_its_own_icbs_only(icbs, lookup, sites):
    summary = region_summary(gap_metrics(sites, icbs), lookup, sites, NORTH)

    assert summary.name == "North"
    assert summary.figures["sites_total"] == 5
    assert summary.figures["iv_sites_not_engaged"] == 3
    assert summary.figures["iv_outside_share"] == pytest.approx(35 / 65)
    assert (summary.figures["rank"], summary.regions_ranked) == (2, 2)  # South: 100%


def test_its_icbs_stand_side_by_side_highest_share_first(icbs, lookup, sites):
    summary = region_summary(gap_metrics(sites, icbs), lookup, sites, NORTH)

    assert summary.icbs.columns.tolist() == list(ICB_COLUMNS)
    assert summary.icbs["icb_name"].tolist() == ["York", "Leeds"]  # 100% then 25%
    assert summary.icbs["iv_outside_share"].tolist() == [pytest.approx(1.0), 0.25]


def test_its_list_holds_every_iv_site_not_engaged_in_it_and_nothing_else(icbs, lookup, sites):
    summary = region_summary(gap_metrics(sites, icbs), lookup, sites, NORTH)

    assert summary.outside.columns.tolist() == list(SITE_COLUMNS)
    assert summary.outside["site_name"].tolist() == ["Oak", "Ash", "Yew"]  # NHS Fir is not I+V


def test_a_region_no_icb_lies_in_is_bad_input_naming_the_regions(icbs, lookup, sites):
    with pytest.raises(
        InputError, match=f"no ICB lies in it; the regions loaded are {NORTH}, {SOUTH}"
    ):
        region_summary(gap_metrics(sites, icbs), lookup, sites, "E40000009")
