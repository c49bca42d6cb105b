"""A region's population is the sum of its ICBs', and its figures per head are the sums of its
ICBs' numerators over that sum; one member without a population makes the region's unknown."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis import population

CODES = ["E54000001", "E54000002", "E54000003"]


def _per_head(populations: list[float | None]) -> pd.DataFrame:
    """Three ICBs' per-head table: the first two in region E40000001, the third in E40000002."""
    metrics = pd.DataFrame({"icb_code": CODES, "sites_total": [30, 12, 7]})
    for numerator, _ in population.per_head_measures().values():
        metrics[numerator] = metrics.get(numerator, 0)
    people = population.Populations(
        pd.DataFrame(
            {
                "icb_code": CODES,
                "population": populations,
                "population_65_plus": [p and p / 5 for p in populations],
                "population_year": "2024",
                "population_basis": "test",
                "population_not_known_reason": [None if p else "no estimate" for p in populations],
            }
        ),
        "test",
    )
    return population.per_head(metrics, people)


REGIONS = pd.DataFrame({"icb_code": CODES, "region_code": ["E40000001", "E40000001", "E40000002"]})


def test_a_regions_figure_per_head_is_its_icbs_sums_divided_not_an_average_of_rates():
    table = population.region_per_head(_per_head([1_500_000.0, 500_000.0, 700_000.0]), REGIONS)
    region = table.set_index("icb_code").loc["E40000001"]
    assert region["population"] == 2_000_000
    assert region["population_year"] == "2024"
    assert region["sites_per_100k"] == pytest.approx(round((30 + 12) / 2_000_000 * 1e5, 1))
    assert region["sites_per_100k"] != pytest.approx((30 / 15 + 12 / 5) / 2, abs=0.05)


def test_a_region_with_a_member_of_unknown_population_has_no_figure_per_head():
    table = population.region_per_head(_per_head([1_500_000.0, None, 700_000.0]), REGIONS)
    table = table.set_index("icb_code")
    assert pd.isna(table.loc["E40000001", "population"])
    assert pd.isna(table.loc["E40000001", "sites_per_100k"])
    assert table.loc["E40000002", "sites_per_100k"] == pytest.approx(1.0)
