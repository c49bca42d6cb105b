"""Tests for geo/briefing/facts.py: the figures, sentences and caveats of a board briefing."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.metrics import MOSTLY_UNKNOWN, NO_STATUS_KNOWN, gap_metrics
from geo.analysis.pipeline import provenance_table
from geo.briefing.facts import Briefing, briefing_facts
from geo.fetch.catalogue import reconstruction_credit
from geo.model.errors import InputError
from geo.model.sectors import SECTORS
from tests.factories import CHESHIRE, iv_row, metrics_frame, metrics_row, site, sites_frame

LANCS, YORKS = "E54000048", "E54000051"
NORTH_WEST = "E40000010"


@pytest.fixture
def three_icbs() -> pd.DataFrame:
    return metrics_frame(
        iv_row(CHESHIRE, "Cheshire and Merseyside", share=0.31, rank=2, beds=400),
        iv_row(LANCS, "Lancashire and South Cumbria", share=0.5, rank=1, beds=200),
        iv_row(YORKS, "West Yorkshire", share=0.1, rank=3, beds=100),
    )


def facts(metrics, sites=None, area=CHESHIRE, **options) -> Briefing:
    return briefing_facts(metrics, sites if sites is not None else sites_frame(), area, **options)


def all_text(briefing: Briefing) -> str:
    parts = [briefing.title, briefing.subtitle, briefing.chart_alt, briefing.map_alt]
    parts += [f"{label} {value}" for label, value in briefing.headlines]
    parts += [*briefing.sentences, *briefing.caveats, *briefing.provenance]
    return "\n".join(parts)


# --- sentences and headline figures -------------------------------------------------------------


def test_icb_sentence_states_its_share_of_beds_and_its_rank(three_icbs):
    briefing = facts(three_icbs)

    assert (
        "31% of independent and voluntary beds in this ICS are run by providers that take no part"
        " in its planning, the 2nd highest of 3 ICSs." in briefing.sentences
    )


def test_top_ranked_icb_is_the_highest_not_the_1st_highest(three_icbs):
    briefing = facts(three_icbs, area=LANCS)

    assert any(s.endswith("the highest of 3 ICSs.") for s in briefing.sentences)


def test_tied_ranks_are_called_joint():
    metrics = metrics_frame(
        iv_row(CHESHIRE, "Cheshire", share=0.4, rank=1),
        iv_row(LANCS, "Lancashire", share=0.4, rank=1),
        iv_row(YORKS, "Yorkshire", share=0.1, rank=3),
    )

    assert dict(facts(metrics).headlines)["Rank"] == "joint highest of 3 ICSs"


def test_headline_figures_are_the_metrics_row_formatted(three_icbs):
    headlines = dict(facts(three_icbs).headlines)

    assert headlines["Provider sites"] == "15"
    assert headlines["Independent and voluntary sites"] == "10"
    assert headlines["I+V sites not engaged in planning"] == "3"
    assert headlines["I+V beds not engaged in planning"] == "124"
    assert headlines["Share of I+V capacity outside NHS planning"] == "31% of I+V beds"
    assert headlines["Rank"] == "2nd highest of 3 ICSs"
    assert headlines["Boundary vintage"] == "2024"


def test_a_tiny_share_reads_under_1_percent_never_0_percent():
    metrics = metrics_frame(iv_row(CHESHIRE, "Cheshire", share=0.002, rank=1, iv_sites=600))

    briefing = facts(metrics)

    assert any(s.startswith("Under 1% of independent") for s in briefing.sentences)
    assert " 0%" not in all_text(briefing)


def test_one_site_not_engaged_is_singular():
    metrics = metrics_frame(iv_row(CHESHIRE, "Cheshire", share=0.1, rank=1, not_engaged=1))

    sentences = facts(metrics).sentences

    assert "1 independent or voluntary site is run by providers not engaged in planning." in (
        sentences
    )


def unlisted_row(code, name, **more) -> dict:
    """An ICB whose I+V sites all have an unknown planning status, as gap_metrics gives it."""
    return metrics_row(
        code, name, sites_total=15, sites_nhs=5, sites_independent=10, iv_sites=10,
        iv_sites_unknown=10, iv_share_unknown=1.0, share_basis="sites",
        share_not_known_reason=NO_STATUS_KNOWN, **more,
    )  # fmt: skip


def test_without_an_engagement_list_no_share_is_claimed():
    metrics = metrics_frame(unlisted_row(CHESHIRE, "Cheshire"), unlisted_row(LANCS, "Lancs"))

    briefing = facts(metrics, sites_frame(site("Acorn Care", status="unknown")))

    assert "%" not in " ".join(briefing.sentences)
    assert (
        dict(briefing.headlines)["Share of I+V capacity outside NHS planning"]
        == "not known (no engagement list)"
    )
    assert dict(briefing.headlines)["I+V sites not engaged in planning"] == (
        "not known (no engagement list)"
    )
    assert "Rank" not in dict(briefing.headlines)
    assert briefing.caveats[0].startswith("No engagement list covers this ICS")
    assert briefing.top_providers_title.endswith("(planning status not known)")
    assert list(briefing.top_providers["provider_name"]) == ["Acorn Care"]
    assert briefing.map_alt.endswith("; no engagement list covers it.")


def test_a_share_resting_on_too_little_known_status_is_not_known_and_says_why():
    mostly_unknown = metrics_row(
        CHESHIRE, "Cheshire", sites_total=10, sites_independent=10, iv_sites=10,
        iv_sites_not_engaged=2, iv_sites_engaged=1, iv_sites_unknown=7, capacity_total=100.0,
        capacity_independent=100.0, iv_capacity=100.0, iv_capacity_not_engaged=20.0,
        iv_capacity_engaged=8.0, iv_capacity_unknown=72.0, iv_share_unknown=0.72,
        share_basis="capacity", share_not_known_reason=MOSTLY_UNKNOWN,
    )  # fmt: skip

    briefing = facts(metrics_frame(mostly_unknown))

    expected = "not known (planning status unknown for 72% of I+V beds)"
    assert dict(briefing.headlines)["Share of I+V capacity outside NHS planning"] == expected
    assert dict(briefing.headlines)["I+V sites not engaged in planning"] == "2"
    assert "Rank" not in dict(briefing.headlines)
    assert f"The share of independent and voluntary care outside its planning is {expected}." in (
        briefing.sentences
    )
    assert (
        "Planning status is unknown for 7 independent or voluntary sites (70%); that is 72% of"
        " I+V beds, more than 50%, so no share is given." in briefing.caveats
    )


def test_missing_numbers_never_print_as_nan():
    metrics = metrics_frame(
        metrics_row(
            CHESHIRE, "Cheshire", sites_total=4, sites_independent=4, iv_sites=4,
            iv_sites_unknown=4, capacity_total=pd.NA, iv_capacity_not_engaged=pd.NA,
        )
    )  # fmt: skip

    text = all_text(facts(metrics)).lower()

    assert "nan" not in text
    assert "<na>" not in text
    assert "none" not in text


def test_icb_with_no_independent_or_voluntary_sites_says_so():
    metrics = metrics_frame(metrics_row(CHESHIRE, "Cheshire", sites_total=3, sites_nhs=3))

    briefing = facts(metrics)

    assert briefing.sentences[0] == "Cheshire has 3 provider sites: 3 NHS."
    assert "There are no independent or voluntary sites in this ICS in this data." in (
        briefing.sentences
    )


def test_sector_mix_sentence_lists_only_sectors_present():
    metrics = metrics_frame(
        metrics_row(
            CHESHIRE, "Cheshire", sites_total=6, sites_nhs=2, sites_local_authority=1,
            sites_voluntary=2, sites_unknown=1, iv_sites=2, iv_sites_unknown=2,
        )
    )  # fmt: skip

    assert facts(metrics).sentences[0] == (
        "Cheshire has 6 provider sites: 2 NHS, 1 local authority, 2 voluntary and 1 of unknown"
        " sector."
    )


# --- caveats ----------------------------------------------------------------------------------


def test_missing_capacity_caveat_counts_sites_and_names_the_basis():
    metrics = metrics_frame(
        iv_row(CHESHIRE, "Cheshire", share=0.3, rank=1, iv_sites_capacity_missing=3)
    )

    assert (
        "Capacity is missing for 3 independent or voluntary sites, so the share counts sites,"
        " not beds." in facts(metrics).caveats
    )


def test_unknown_planning_status_is_a_caveat_with_its_share():
    metrics = metrics_frame(iv_row(CHESHIRE, "Cheshire", share=0.3, rank=1, iv_sites_unknown=2))

    caveats = " ".join(facts(metrics).caveats)

    assert "Planning status is unknown for 2 independent or voluntary sites (20%)" in caveats


def test_sites_outside_every_icb_and_disagreements_are_caveats(three_icbs):
    metrics = pd.concat(
        [three_icbs, metrics_frame(metrics_row("OUTSIDE", "Outside every ICB", sites_total=1))]
    )
    sites = sites_frame(site("A"), site("B"), site("C")).assign(
        official_icb_agrees=pd.array([False, False, True], dtype="boolean")
    )

    caveats = facts(metrics, sites).caveats

    assert any(c.startswith("Across England, 1 site lies outside every ICB") for c in caveats)
    assert any(c.startswith("2 sites are placed by location in a different ICB") for c in caveats)


# --- top providers ------------------------------------------------------------------------------


def test_top_providers_are_not_engaged_iv_providers_grouped_largest_first(three_icbs):
    sites = sites_frame(
        site("Acorn Care", beds=10), site("Acorn Care", beds=10), site("Acorn Care", beds=10),
        site("Beech Hospice", sector="Voluntary", beds=50),
        site("Cedar Homes", status="engaged", beds=500),
        site("County Council", sector="Local authority", beds=900),
        site("Elsewhere Ltd", icb=LANCS, beds=999),
    )  # fmt: skip

    top = facts(three_icbs, sites).top_providers

    assert list(top["provider_name"]) == ["Beech Hospice", "Acorn Care"]
    assert list(top["sites"]) == [1, 3]
    assert list(top["capacity"]) == [50.0, 30.0]
    assert list(top["sector"]) == ["Voluntary", "Independent"]


def test_top_providers_stop_at_ten(three_icbs):
    sites = sites_frame(*(site(f"Provider {n:02d}", beds=n) for n in range(15)))

    top = facts(three_icbs, sites).top_providers

    assert len(top) == 10
    assert top["provider_name"].iloc[0] == "Provider 14"


def test_largest_provider_sentence_names_it_with_sites_and_beds(three_icbs):
    sites = sites_frame(site("Acorn Care", beds=10), site("Acorn Care", beds=1))

    assert "The largest provider not engaged is Acorn Care, with 2 sites and 11 beds." in (
        facts(three_icbs, sites).sentences
    )


# --- England and regions --------------------------------------------------------------------------


def test_england_briefing_uses_the_england_row_and_names_the_highest_icss(three_icbs):
    england = iv_row("E92000001", "England", share=0.3, rank=pd.NA, iv_sites=30, beds=700)
    metrics = pd.concat([three_icbs, metrics_frame(england)], ignore_index=True)

    briefing = facts(metrics, area="england")

    assert briefing.area_kind == "england"
    assert dict(briefing.headlines)["Provider sites"] == "35"
    assert "Rank" not in dict(briefing.headlines)
    assert briefing.icb_codes == (CHESHIRE, LANCS, YORKS)
    assert briefing.sentences[-1] == (
        "The highest shares are in Lancashire and South Cumbria (50%), Cheshire and Merseyside"
        " (31%) and West Yorkshire (10%)."
    )
    assert list(briefing.icb_table["icb_code"]) == [LANCS, CHESHIRE, YORKS]


def test_region_briefing_covers_its_icbs_and_ranks_among_regions(three_icbs):
    regions = metrics_frame(
        iv_row(NORTH_WEST, "North West", share=0.4, rank=1),
        iv_row("E40000011", "North East and Yorkshire", share=0.1, rank=2),
    )
    icb_regions = pd.DataFrame(
        {"icb_code": [CHESHIRE, LANCS, YORKS], "region_code": [NORTH_WEST, NORTH_WEST, "E40000011"]}
    )

    briefing = facts(
        pd.concat([three_icbs, regions], ignore_index=True), area=NORTH_WEST,
        icb_regions=icb_regions,
    )  # fmt: skip

    assert briefing.icb_codes == (CHESHIRE, LANCS)
    assert dict(briefing.headlines)["Rank"] == "highest of 2 NHS regions"
    assert "in this region" in briefing.sentences[1]


def test_a_rank_among_one_region_is_not_given(three_icbs):
    region = metrics_frame(iv_row(NORTH_WEST, "North West", share=0.4, rank=1))
    icb_regions = pd.DataFrame({"icb_code": [CHESHIRE], "region_code": [NORTH_WEST]})

    briefing = facts(pd.concat([three_icbs, region]), area=NORTH_WEST, icb_regions=icb_regions)

    assert "Rank" not in dict(briefing.headlines)
    assert "highest" not in briefing.sentences[1]


def test_region_briefing_without_a_region_lookup_is_bad_input(three_icbs):
    with pytest.raises(InputError, match="icb_regions"):
        facts(three_icbs, area=NORTH_WEST)


# --- validation, provenance, alt text -----------------------------------------------------------


def test_an_area_missing_from_the_metrics_is_named_in_the_error(three_icbs):
    with pytest.raises(InputError, match="E54000999"):
        facts(three_icbs, area="E54000999")


def test_an_area_that_is_not_a_code_says_what_was_expected(three_icbs):
    with pytest.raises(InputError, match="expected an ICB code"):
        facts(three_icbs, area="Leeds")


def test_metrics_missing_a_column_is_named(three_icbs):
    with pytest.raises(InputError, match=r"metrics table: missing column.*rank"):
        facts(three_icbs.drop(columns="rank"))


def test_provenance_table_rows_become_lines_naming_each_dataset(three_icbs):
    provenance = provenance_table(
        [
            {
                "data": "ICB boundaries 2024",
                "from": "icb_2024_04_from_lsoa21_bsc.geojson (local file: /data/icb.geojson)",
                "publisher": reconstruction_credit(
                    "icb_2024_04_from_lsoa21_bsc.geojson", ("ICB24CD", "n_lsoa"), "icb", "2024"
                ),
                "date": "2025-01-02",
                "version": "cached file",
                "dataset": "icb",
            },
            {
                "data": "Provider sites",
                "from": "HSCA_Active_Locations.ods, published by jo",
                "publisher": "Care Quality Commission",
                "date": "2026-05-01 09:30",
                "version": "sites v3",
                "dataset": "sites",
            },
        ]
    )

    lines = facts(three_icbs, provenance=provenance, dataset_version="3").provenance

    assert lines[0] == (
        "ICB boundaries 2024, reconstructed from the ONS LSOA→ICB lookup (LSOA 2021 → sub-ICB →"
        " ICB 2024): icb_2024_04_from_lsoa21_bsc.geojson (local file: /data/icb.geojson);"
        " 2025-01-02; cached file."
    )
    assert lines[1] == (
        "Provider sites, from Care Quality Commission: HSCA_Active_Locations.ods, published by"
        " jo; 2026-05-01 09:30; sites v3."
    )
    assert lines[-2:] == ("ICB boundary vintage: 2024.", "Dataset version: 3.")
    assert not any(line.startswith("Data source") for line in lines)


def test_chart_alt_text_gives_every_sector_count(three_icbs):
    alt = facts(three_icbs).chart_alt

    assert alt.startswith(
        "Bar chart of provider sites by sector in Cheshire and Merseyside: NHS 5,"
    )
    assert "Local authority 0, Independent 10, Voluntary 0, Unknown 0; beds:" in alt


def test_sector_table_has_every_sector_in_order(three_icbs):
    table = facts(three_icbs).sector_table

    assert list(table["sector"]) == list(SECTORS)
    assert list(table["sites"]) == [5, 0, 10, 0, 0]


# --- the briefing and the metrics agree ----------------------------------------------------------


def test_briefing_says_not_known_exactly_where_the_metrics_give_no_share():
    icbs = pd.DataFrame({"code": [CHESHIRE, LANCS, YORKS], "name": ["Ches", "Lancs", "Yorks"]})
    sites = sites_frame(
        site("Known Care", icb=CHESHIRE, beds=30), site("Listed Care", icb=CHESHIRE,
        status="engaged", beds=10), site("Few Known", icb=LANCS, beds=10),
        site("Most Unknown", icb=LANCS, status="unknown", beds=40),
        site("Unlisted", icb=YORKS, status="unknown", beds=5),
    )  # fmt: skip
    metrics = gap_metrics(sites, icbs.assign(vintage="2024"))

    shares = {
        code: dict(facts(metrics, sites, area=code).headlines)[
            "Share of I+V capacity outside NHS planning"
        ]
        for code in (CHESHIRE, LANCS, YORKS)
    }

    assert metrics.set_index("icb_code")["iv_outside_share"].notna().tolist() == [
        True, False, False, False,
    ]  # fmt: skip
    assert shares == {
        CHESHIRE: "75% of I+V beds",
        LANCS: "not known (planning status unknown for 80% of I+V beds)",
        YORKS: "not known (no engagement list)",
    }
    england = dict(facts(metrics, sites, area="england").headlines)[
        "Share of I+V capacity outside NHS planning"
    ]
    assert england == "80% of I+V beds"  # 40 of the 50 beds with a status; 45 of 95 unknown
