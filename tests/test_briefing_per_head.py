"""The ICB briefing's sentence per head of population, with the population's year and rank."""

from __future__ import annotations

import pandas as pd

from geo.analysis.population import POPULATION_COLUMNS, Populations, per_head
from geo.briefing.facts import briefing_facts
from tests.factories import CHESHIRE, iv_row, metrics_frame, sites_frame

LANCS, YORKS = "E54000048", "E54000051"
BASIS = "ONS mid-2024 population estimates (ICB 2024 areas)"


def _with_populations(metrics: pd.DataFrame, people: dict[str, float | None]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "icb_code": list(people),
            "population": pd.array(list(people.values()), dtype="Float64"),
            "population_65_plus": pd.array([None] * len(people), dtype="Float64"),
            "population_year": "2024",
            "population_basis": BASIS,
            "population_not_known_reason": [
                None if value else "no population estimate for this ICB"
                for value in people.values()
            ],
        }
    )[list(POPULATION_COLUMNS)]
    return per_head(metrics, Populations(table, BASIS))


def _metrics() -> pd.DataFrame:
    return metrics_frame(
        iv_row(CHESHIRE, "Cheshire and Merseyside", share=0.31, rank=2, beds=400),
        iv_row(LANCS, "Lancashire and South Cumbria", share=0.5, rank=1, beds=200),
        iv_row(YORKS, "West Yorkshire", share=0.1, rank=3, beds=100),
    )


def test_an_icb_briefing_says_its_sites_per_head_and_rank_with_the_population_year():
    metrics = _metrics()
    people = {CHESHIRE: 1_000_000.0, LANCS: 300_000.0, YORKS: 2_400_000.0}
    table = _with_populations(metrics, people)
    briefing = briefing_facts(metrics, sites_frame(), CHESHIRE, per_head=table)

    sites = metrics.set_index("icb_code")["sites_total"]
    per_100k = {code: round(sites[code] / people[code] * 100_000, 1) for code in people}
    rank = sorted(per_100k.values(), reverse=True).index(per_100k[CHESHIRE]) + 1
    median = sorted(per_100k.values())[1]
    rank_words = {1: "1st", 2: "2nd", 3: "3rd"}[rank]
    assert (
        f"With 1,000,000 people (ONS mid-2024 estimate), this ICS has {per_100k[CHESHIRE]:,.1f} "
        f"provider sites per 100,000 people: {rank_words} highest of 3 ICBs "
        f"(national median {median:,.1f})." in briefing.sentences
    )


def test_without_a_population_the_briefing_says_figures_per_head_are_not_known():
    metrics = _metrics()
    table = _with_populations(metrics, {CHESHIRE: None, LANCS: 1_800_000.0, YORKS: 2_400_000.0})
    briefing = briefing_facts(metrics, sites_frame(), CHESHIRE, per_head=table)

    assert (
        "Figures per head are not known for this ICS: no population estimate for this ICB."
        in briefing.sentences
    )


def test_without_population_estimates_there_is_no_sentence_per_head():
    briefing = briefing_facts(_metrics(), sites_frame(), CHESHIRE)

    assert not [s for s in briefing.sentences if "per 100,000" in s or "per head" in s]
