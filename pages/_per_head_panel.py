"""The ICB panel's figures per head of population and where the ICB stands among its peers."""

from __future__ import annotations

import streamlit as st

from geo.analysis.peers import Standing, icb_population, icb_standings
from geo.analysis.pipeline import Analysis
from geo.maps import build as maps
from pages import _text


def per_head_panel(analysis: Analysis, icb_code: str) -> None:
    """The ICB's population (year and basis) and three per-head figures with their ranks;
    nothing when no population estimates are loaded."""
    if analysis.per_head is None:
        return
    population = icb_population(analysis.per_head, icb_code)
    st.markdown("**Per head of population**")
    if population.population is None:
        st.caption(_text.plain(f"Population not known: {population.not_known_reason}."))
        return
    st.caption(
        _text.plain(f"Population {population.population:,.0f} (mid-{population.year}); "
                    f"{population.basis}.")
    )  # fmt: skip
    standings = icb_standings(analysis.per_head, icb_code, analysis.icb_regions)
    cells = st.columns(len(standings))
    for cell, standing in zip(cells, standings, strict=True):
        cell.metric(
            _text.plain(standing.label),
            maps.NOT_KNOWN if standing.value is None else f"{standing.value:,.1f}",
        )
        cell.caption(_text.plain(_rank_words(standing)))


def _rank_words(standing: Standing) -> str:
    """'Rank 12 of 42 ICBs (3 of 7 in its region); national median 45.2.'"""
    if standing.rank is None:
        return f"Not ranked: not known here ({standing.of} ICBs have a figure)."
    words = f"Rank {standing.rank} of {standing.of} ICBs"
    if standing.rank_in_region is not None:
        words += f" ({standing.rank_in_region} of {standing.of_in_region} in its region)"
    return words + f"; national median {standing.national_median:,.1f}."
