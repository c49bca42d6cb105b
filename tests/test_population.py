"""ONS population estimates: read in their real layouts, summed into ICBs of any vintage, per head."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis import population as per_head
from geo.io import boundaries
from geo.io.population import load_lsoa_to_icb, read_population, sheet_names, year_sheets
from geo.model.errors import InputError
from geo.testing import population_files


@pytest.fixture(scope="module")
def lookup(shared_data):
    return population_files.read_shared_lookup(shared_data)


@pytest.fixture(scope="module")
def icb_workbook(lookup, tmp_path_factory):
    path = tmp_path_factory.mktemp("ons") / "sapeicb20222024.xlsx"
    return population_files.write_icb_population(path, lookup)


@pytest.fixture(scope="module")
def lsoa_workbook(lookup, tmp_path_factory):
    path = tmp_path_factory.mktemp("ons") / "sapelsoasyoa20222024.xlsx"
    return population_files.write_lsoa_population(path, lookup, years=("2023", "2024"))


def test_the_year_sheets_are_found_by_name_among_the_front_sheets(icb_workbook):
    names = sheet_names(icb_workbook)
    assert names[:3] == ["Cover", "Contents", "Notes"]
    assert year_sheets(names)["Mid-2023 ICB 2024"] == ("sicbl", "2023", "2024")


def test_the_newest_year_is_read_unless_one_is_asked_for(icb_workbook, lookup):
    newest = read_population(icb_workbook)
    older = read_population(icb_workbook, year="2022")
    assert (newest.year, older.year) == ("2024", "2022")
    assert len(newest.areas) == lookup["sicbl24_code"].nunique() == 106
    assert newest.areas["total"].sum() > older.areas["total"].sum()  # the made-up growth


def test_sub_icb_totals_and_65_plus_are_the_sums_of_their_single_years(icb_workbook, lookup):
    area = read_population(icb_workbook).areas.set_index("area_code").loc["E38000068"]
    lsoas = lookup.loc[lookup["sicbl24_code"] == "E38000068", "lsoa21_code"]
    ages = [population_files.made_up_ages(code, "2024", 1_700 / 1_900) for code in lsoas]
    assert area["total"] == sum(sum(counts) for counts in ages)
    older_at = [n for n, column in enumerate(population_files.AGE_COLUMNS) if int(column[1:]) >= 65]
    assert area["aged_65_plus"] == sum(counts[n] for counts in ages for n in older_at)
    assert area["icb_code"] == "E54000008"


def test_icb_populations_sum_to_england_and_agree_whichever_file_they_come_from(
    icb_workbook, lsoa_workbook, shared_data
):
    icbs = boundaries.load_boundaries(
        shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", kind="icb"
    )
    lsoa_lookup = load_lsoa_to_icb(shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv")
    by_icb = per_head.icb_populations(icbs, read_population(icb_workbook)).table
    by_lsoa = per_head.icb_populations(icbs, read_population(lsoa_workbook), lsoa_lookup).table
    england = read_population(lsoa_workbook).areas["total"].sum()
    assert by_icb["population"].sum() == by_lsoa["population"].sum() == england
    pd.testing.assert_series_equal(
        by_icb.set_index("icb_code")["population"], by_lsoa.set_index("icb_code")["population"]
    )


def test_the_2026_icbs_get_populations_from_lsoa_sums(lsoa_workbook, icb_workbook, shared_data):
    icbs = boundaries.load_boundaries(
        shared_data / "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson", kind="icb"
    )
    lsoa_lookup = shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv"
    found, note = per_head.populations_for(icbs, [icb_workbook, lsoa_workbook], [lsoa_lookup])
    assert note == ""
    assert "summed into 2026 ICBs" in found.label
    assert found.table["population_year"].eq("2024").all()
    assert len(found.table) == 36
    assert found.table["population"].notna().all()
    lookup = pd.read_csv(lsoa_lookup, dtype=str)
    areas = read_population(lsoa_workbook).areas.set_index("area_code")["total"]
    essex = lookup.loc[lookup["icb26_code"] == "E54000066", "lsoa21_code"]
    assert found.table.set_index("icb_code").loc["E54000066", "population"] == areas[essex].sum()


def test_an_icb_missing_some_lsoas_has_no_population_rather_than_a_wrong_one(
    lookup, tmp_path, shared_data
):
    icbs = boundaries.load_boundaries(
        shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", kind="icb"
    )
    partial = lookup[~lookup["lsoa21_code"].isin(["E01012392", "E01012393"])]  # two Halton LSOAs
    path = population_files.write_lsoa_population(
        tmp_path / "sapelsoasyoa.xlsx", partial, ("2024",)
    )
    table = per_head.icb_populations(
        icbs,
        read_population(path),
        load_lsoa_to_icb(shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv"),
    ).table.set_index("icb_code")
    assert pd.isna(table.loc["E54000008", "population"])
    assert (
        table.loc["E54000008", "population_not_known_reason"] == "the estimates lack 2 of its LSOAs"
    )
    assert table["population"].notna().sum() == 41


def test_per_head_figures_are_recomputable_and_unknown_capacity_is_not_zero():
    metrics = pd.DataFrame(
        {"icb_code": ["E54000001", "E54000002"], "sites_total": [30, 4], "iv_sites": [2, 0]}
    )
    for numerator, _ in per_head.per_head_measures().values():
        metrics[numerator] = metrics.get(numerator, 0)  # the site table gives the ones it counts
    populations = per_head.Populations(
        pd.DataFrame(
            {
                "icb_code": ["E54000001", "E54000002"],
                "population": [1_500_000.0, None],
                "population_65_plus": [300_000.0, None],
                "population_year": "2024",
                "population_basis": "test",
                "population_not_known_reason": [None, "no population estimate for this ICB"],
            }
        ),
        "test",
    )
    sites = pd.DataFrame(
        {
            "icb_code": ["E54000001"] * 3,
            "capacity": [40.0, None, 25.0],
            "service_type": ["Residential social care", "Hospital", "Residential social care"],
            "sector": ["Independent", "Independent", "NHS"],
            "planning_status": ["no evidence", "NHS-commissioned", "unknown"],
        }
    )
    table = per_head.per_head(metrics, populations, sites).set_index("icb_code")
    assert table.loc["E54000001", "sites_per_100k"] == round(30 / 1_500_000 * 100_000, 1)
    assert table.loc["E54000001", "care_home_beds_per_100k_65_plus"] == round(65 / 300_000 * 1e5, 1)
    assert table.loc["E54000001", "iv_capacity_outside_per_100k"] == round(40 / 1_500_000 * 1e5, 1)
    assert pd.isna(
        table.loc["E54000001", "capacity_independent_per_100k"]
    )  # one site: no beds given
    assert pd.isna(table.loc["E54000002", "sites_per_100k"])  # no population


def test_peers_rank_all_icbs_and_within_the_region():
    table = pd.DataFrame({"icb_code": list("ABCD"), "x": [3.0, 1.0, None, 2.0]})
    ranks = per_head.peer_ranks(table, "x", pd.Series({"A": "R1", "B": "R1", "C": "R2", "D": "R2"}))
    ranks = ranks.set_index("icb_code")
    assert ranks["rank"].tolist()[:2] == [1, 3]
    assert pd.isna(ranks.loc["C", "rank"])
    assert ranks.loc["D", "rank_in_region"] == 1
    assert ranks.loc["B", "rank_in_region"] == 2
    assert ranks.loc["A", "national_median"] == 2.0


def test_a_workbook_without_year_sheets_is_refused_with_what_was_expected(tmp_path):
    path = tmp_path / "not_ons.xlsx"
    population_files.write_population_workbook(
        path, "sicbl", [], lambda year: [], geography="2024", id_columns=()
    )
    with pytest.raises(InputError, match="Mid-2024 ICB 2024"):
        read_population(path)


# --- fetching from ONS's dataset pages ------------------------------------------------------


@pytest.fixture
def ons(shared_data, tmp_path):
    from geo.testing.ons_server import serving_ons

    with serving_ons(tmp_path, shared_data) as fake:
        yield fake


def test_the_newest_edition_of_each_workbook_is_fetched_from_the_dataset_pages(
    ons, data_dir, monkeypatch
):
    from geo.fetch import catalogue
    from geo.fetch.population import fetch_population
    from geo.testing import ons_server

    monkeypatch.setenv("ICS_POPULATION_PAGES", ons.pages)
    icb = fetch_population("sapeicb")
    lsoa = fetch_population("sapelsoasyoa")

    assert icb.title == ons_server.CURRENT_ICB  # not the mid-2011 to mid-2022 edition
    assert lsoa.title == ons_server.CURRENT_LSOA  # nor the broad-age workbook
    assert (icb.kind, icb.vintage, lsoa.vintage) == ("population", "2024", "2024")
    assert icb.publisher == "Office for National Statistics"
    assert read_population(catalogue.entry_path(icb)).year == "2024"
    assert {entry.title for entry in catalogue.entries("population")} == {
        ons_server.CURRENT_ICB,
        ons_server.CURRENT_LSOA,
    }


def test_a_busy_ons_server_is_waited_for_and_a_page_without_workbooks_is_explained(
    ons, data_dir, monkeypatch
):
    from geo.fetch.http import SourceError
    from geo.fetch.population import fetch_population

    monkeypatch.setenv("ICS_POPULATION_PAGES", ons.pages)
    ons.fail_next.append((503, "0"))
    assert fetch_population("sapeicb").vintage == "2024"

    monkeypatch.setenv("ICS_POPULATION_PAGES", f"{ons.root}/nothing-here")
    with pytest.raises(SourceError, match="fetch --from DIR"):
        fetch_population("sapeicb")


def test_fetch_from_a_folder_takes_a_population_workbook(icb_workbook, data_dir, tmp_path):
    from geo.fetch import catalogue, sources

    folder = tmp_path / "given"
    folder.mkdir()
    (folder / icb_workbook.name).write_bytes(icb_workbook.read_bytes())
    report = sources.fetch_from_dir(folder)
    assert [(entry.kind, entry.vintage) for entry in report.taken] == [("population", "2024")]
    assert catalogue.find("population", "2024") is not None
