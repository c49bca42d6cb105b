"""Where one ICB stands among its peers on figures per head."""

from __future__ import annotations

import pandas as pd

from geo.analysis.peers import HEADLINE_MEASURES, icb_population, icb_standings


def _per_head() -> pd.DataFrame:
    """Four ICBs in two regions, and the row for sites outside every ICB (no population)."""
    return pd.DataFrame(
        {
            "icb_code": ["E54000001", "E54000002", "E54000003", "E54000004", "OUTSIDE"],
            "population": [500_000, 1_000_000, 2_000_000, None, None],
            "population_year": ["2024"] * 4 + [None],
            "population_basis": ["ONS mid-2024 population estimates (ICB 2024)"] * 4 + [None],
            "population_not_known_reason": [None, None, None, "no population estimate", None],
            "sites_per_100k": [40.0, 20.0, 30.0, None, None],
            "iv_capacity_per_100k": [100.0, 300.0, 200.0, None, None],
            "care_home_beds_per_100k_65_plus": [900.0, 800.0, 700.0, None, None],
        }
    ).astype({"population": "Float64"})


REGIONS = pd.DataFrame(
    {
        "icb_code": ["E54000001", "E54000002", "E54000003", "E54000004"],
        "region_code": ["E40000001", "E40000001", "E40000002", "E40000002"],
    }
)


def test_an_icb_ranks_among_every_icb_with_a_figure_and_among_its_regions():
    standings = icb_standings(_per_head(), "E54000002", REGIONS)

    assert [s.measure for s in standings] == list(HEADLINE_MEASURES)
    sites = standings[0]
    assert (sites.value, sites.rank, sites.of, sites.national_median) == (20.0, 3, 3, 30.0)
    assert (sites.rank_in_region, sites.of_in_region, sites.region_median) == (2, 2, 30.0)
    beds = standings[1]
    assert (beds.rank, beds.rank_in_region) == (1, 1)


def test_an_icb_without_a_population_has_no_figure_and_no_rank():
    standing = icb_standings(_per_head(), "E54000004", REGIONS)[0]

    assert (standing.value, standing.rank, standing.of) == (None, None, 3)
    assert icb_population(_per_head(), "E54000004").not_known_reason == "no population estimate"


def test_the_population_says_its_year_and_basis():
    population = icb_population(_per_head(), "E54000003")

    assert (population.population, population.year) == (2_000_000, "2024")
    assert population.basis == "ONS mid-2024 population estimates (ICB 2024)"
