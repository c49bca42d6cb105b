"""Figures per head of population colour the ICB map, from the per-head table, NA as 'not known'."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from geo.maps import build as maps
from geo.model.errors import InputError
from tests.factories import metrics_frame, metrics_row, square

CODES = ("E54000001", "E54000002", "E54000003")


def icbs() -> gpd.GeoDataFrame:
    """Three 10 km ICBs side by side, in EPSG:4326."""
    shapes = [square(400_000 + i * 10_000, 300_000, 10_000) for i in range(3)]
    frame = gpd.GeoDataFrame(
        {"code": list(CODES), "name": ["North", "Middle", "South"]}, geometry=shapes, crs=27700
    )
    return frame.to_crs(4326)


def per_head_table(values: list) -> pd.DataFrame:
    """The metrics table with populations and sites per 100,000 (`values`, None = not known)."""
    metrics = metrics_frame(*(metrics_row(code, code) for code in CODES))
    return metrics.assign(
        population=[500_000.0, 1_000_000.0, None],
        population_year="2024",
        sites_per_100k=pd.array(values, dtype="Float64"),
    )


def feature_fills(page: str) -> dict[str, str]:
    """Each ICB's fill in the rendered map, by code."""
    fills = {}
    for code in CODES:
        at = page.index(f'"code": "{code}"')
        fill_at = page.index('"fill": "', at) + len('"fill": "')
        fills[code] = page[fill_at : page.index('"', fill_at)]
    return fills


def test_per_head_metrics_are_offered_only_with_populations():
    assert "sites_per_100k" in maps.metric_choices(True)
    assert "care_home_beds_per_100k_65_plus" in maps.metric_choices(True)
    assert "sites_per_100k" not in maps.metric_choices(False)
    assert set(maps.METRICS) <= set(maps.metric_choices(False))


def test_a_per_head_metric_is_coloured_from_the_per_head_table():
    metrics = metrics_frame(*(metrics_row(code, code) for code in CODES))
    table = per_head_table([12.5, 40.0, None])
    assert maps.metrics_for("sites_per_100k", metrics, table) is table
    assert maps.metrics_for("iv_sites", metrics, table) is metrics
    with pytest.raises(InputError, match="needs populations"):
        maps.metrics_for("sites_per_100k", metrics, None)


def test_an_icb_whose_figure_per_head_is_not_known_is_grey_and_says_so_never_zero():
    page = (
        maps.build_map(icbs(), per_head_table([12.5, 40.0, None]), None, metric="sites_per_100k")
        .get_root()
        .render()
    )
    fills = feature_fills(page)
    assert fills[CODES[2]] == maps.NO_DATA_FILL
    assert fills[CODES[0]] != fills[CODES[1]]
    assert maps.NO_DATA_FILL not in (fills[CODES[0]], fills[CODES[1]])
    assert 'ics-no-data\\"\\u003e\\u003c/span\\u003enot known' in page  # the legend's grey row
    assert '"metric": "no data"' not in page
    assert '"metric": "not known"' in page
    assert '"metric": "12.5"' in page


def test_the_legend_title_gives_the_population_year():
    page = (
        maps.build_map(icbs(), per_head_table([12.5, 40.0, None]), None, metric="sites_per_100k")
        .get_root()
        .render()
    )
    assert "Sites per 100,000 people (ONS mid-2024 population)" in page
