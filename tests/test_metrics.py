"""Tests for geo/analysis/metrics.py: every site is counted once, and the shares say what they rest on."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.metrics import (
    MAX_UNKNOWN_SHARE,
    METRIC_COLUMNS,
    MOSTLY_UNKNOWN,
    NO_IV_SITES,
    NO_STATUS_KNOWN,
    gap_metrics,
    national_rollup,
    reconcile,
    region_rollup,
)
from geo.analysis.spatial import assign_sites
from geo.io.exports import csv_bytes, xlsx_bytes
from geo.model.errors import InputError
from geo.model.providers import ENGAGED, NOT_ENGAGED, PLANNING_STATUSES, UNKNOWN_STATUS
from geo.model.sectors import (
    INDEPENDENT,
    IV_SECTORS,
    LOCAL_AUTHORITY,
    NHS,
    SECTORS,
    UNKNOWN,
    VOLUNTARY,
    sector_slug,
)
from geo.model.vocabulary import ENGLAND_CODE, OUTSIDE_CODE, OUTSIDE_NAME

A, B, C = "E54000001", "E54000002", "E54000003"


@pytest.fixture
def icbs() -> gpd.GeoDataFrame:
    """Three ICBs, listed out of code order; C gets no sites."""
    return gpd.GeoDataFrame(
        {
            "code": [B, C, A],
            "name": ["NHS B ICB", "NHS C ICB", "NHS A ICB"],
            "kind": "icb",
            "vintage": "2023",
        },
        geometry=[box(1, 0, 2, 1), box(2, 0, 3, 1), box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )


def assigned_sites(rows: list[tuple]) -> pd.DataFrame:
    """Assigned site rows from (icb_code, sector, capacity, planning_status, assignment)."""
    icb, sector, capacity, status, assignment = zip(*rows, strict=True) if rows else ([],) * 5
    return pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(rows))],
            "icb_code": pd.array(icb, dtype="str"),
            "sector": pd.array(sector, dtype="str"),
            "capacity": pd.array(capacity, dtype="Float64"),
            "planning_status": pd.array(status, dtype="str"),
            "assignment": pd.array(assignment, dtype="str"),
        }
    )


@pytest.fixture
def mixed() -> pd.DataFrame:
    """NA capacity, an Unknown sector, a site outside every ICB and one without coordinates."""
    return assigned_sites(
        [
            (A, INDEPENDENT, 40.0, NOT_ENGAGED, "inside"),
            (A, INDEPENDENT, None, NOT_ENGAGED, "inside"),
            (A, VOLUNTARY, 10.0, ENGAGED, "official"),
            (A, NHS, 300.0, UNKNOWN_STATUS, "inside"),
            (A, UNKNOWN, 7.0, UNKNOWN_STATUS, "nearest"),
            (B, VOLUNTARY, 35.0, UNKNOWN_STATUS, "inside"),
            (B, LOCAL_AUTHORITY, 60.0, UNKNOWN_STATUS, "inside"),
            (B, INDEPENDENT, 25.0, NOT_ENGAGED, "inside"),
            (None, INDEPENDENT, 12.0, NOT_ENGAGED, "outside"),
            (None, VOLUNTARY, None, UNKNOWN_STATUS, "no coordinates"),
        ]
    )


def row(metrics: pd.DataFrame, code: str) -> pd.Series:
    return metrics.set_index("icb_code").loc[code]


def test_one_row_per_icb_sorted_by_code_with_outside_last(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert list(metrics["icb_code"]) == [A, B, C, OUTSIDE_CODE]
    assert list(metrics["icb_name"]) == ["NHS A ICB", "NHS B ICB", "NHS C ICB", OUTSIDE_NAME]
    assert set(metrics["vintage"]) == {"2023"}


def test_icb_without_sites_has_zeros(icbs, mixed):
    empty = row(gap_metrics(mixed, icbs), C)
    assert empty["sites_total"] == 0
    assert empty["capacity_total"] == 0
    assert empty["iv_sites"] == 0
    assert pd.isna(empty["iv_outside_share"])
    assert empty["share_basis"] == "none"
    assert pd.isna(empty["rank"])


def test_sites_outside_and_without_coordinates_are_counted_in_the_outside_row(icbs, mixed):
    outside = row(gap_metrics(mixed, icbs), OUTSIDE_CODE)
    assert outside["sites_total"] == mixed["icb_code"].isna().sum()
    assert outside["iv_sites_not_engaged"] == 1
    assert outside["iv_capacity_not_engaged"] == 12
    assert pd.isna(outside["rank"])


def test_sums_over_rows_equal_the_input_totals(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)
    assert metrics["sites_total"].sum() == len(mixed)
    assert metrics["capacity_total"].sum() == mixed["capacity"].sum()
    for sector in SECTORS:
        of_sector = mixed["sector"] == sector
        slug = sector_slug(sector)
        assert metrics[f"sites_{slug}"].sum() == of_sector.sum()
        assert metrics[f"capacity_{slug}"].sum() == mixed["capacity"][of_sector].sum()
    iv = mixed["sector"].isin(IV_SECTORS)
    for status in PLANNING_STATUSES:
        chosen = iv & (mixed["planning_status"] == status)
        slug = status.replace(" ", "_")
        assert metrics[f"iv_sites_{slug}"].sum() == chosen.sum()
        assert metrics[f"iv_capacity_{slug}"].sum() == mixed["capacity"][chosen].sum()
    assert metrics["iv_sites_capacity_missing"].sum() == (iv & mixed["capacity"].isna()).sum()


def test_reconcile_is_empty_when_everything_adds_up(icbs, mixed):
    assert reconcile(gap_metrics(mixed, icbs), mixed) == []


def test_reconcile_names_what_a_lost_outside_row_leaves_out(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)
    problems = reconcile(metrics[metrics["icb_code"] != OUTSIDE_CODE], mixed)
    assert "sites_total: metrics rows sum to 8, the sites add up to 10" in problems
    assert any(p.startswith("iv_capacity_not_engaged:") for p in problems)


def test_reconcile_names_a_row_whose_parts_do_not_add_up(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)
    metrics.loc[metrics["icb_code"] == B, "sites_total"] += 1
    metrics.loc[metrics["icb_code"] == C, "sites_total"] -= 1
    assert reconcile(metrics, mixed) == [f"sites_total: its parts do not add up in rows {B}, {C}"]


def test_unknown_capacity_is_left_out_of_sums_and_counted_as_missing(icbs, mixed):
    first = row(gap_metrics(mixed, icbs), A)
    assert first["capacity_independent"] == 40
    assert first["iv_sites_capacity_missing"] == 1
    assert first["sites_independent"] == 2


def test_share_is_of_capacity_when_iv_capacity_is_known(icbs, mixed):
    first = row(gap_metrics(mixed, icbs), A)
    assert first["share_basis"] == "capacity"
    assert first["iv_capacity"] == 50
    assert first["iv_outside_share"] == pytest.approx(40 / 50)
    assert first["iv_share_unknown"] == pytest.approx(0)


def test_share_falls_back_to_sites_when_iv_capacity_is_unknown(icbs):
    sites = assigned_sites(
        [
            (A, INDEPENDENT, None, NOT_ENGAGED, "inside"),
            (A, VOLUNTARY, None, UNKNOWN_STATUS, "inside"),
            (A, VOLUNTARY, 0.0, ENGAGED, "inside"),
            (A, NHS, 500.0, UNKNOWN_STATUS, "inside"),
        ]
    )
    first = row(gap_metrics(sites, icbs), A)
    assert first["share_basis"] == "sites"
    assert first["iv_outside_share"] == pytest.approx(1 / 2)  # of the 2 sites with a status
    assert first["iv_share_unknown"] == pytest.approx(1 / 3)
    assert first["iv_sites_capacity_missing"] == 2


def test_without_an_engagement_list_share_and_rank_are_not_known_and_say_why(icbs, mixed):
    unlisted = mixed.assign(planning_status=UNKNOWN_STATUS)
    metrics = gap_metrics(unlisted, icbs)
    assert list(metrics["iv_outside_share"].isna()) == [True, True, True, True]
    assert list(metrics["rank"].isna()) == [True, True, True, True]
    assert list(metrics["share_not_known_reason"]) == [
        NO_STATUS_KNOWN,
        NO_STATUS_KNOWN,
        NO_IV_SITES,
        NO_STATUS_KNOWN,
    ]
    assert list(metrics["iv_share_unknown"].iloc[:2]) == [1, 1]


def test_a_list_covering_most_capacity_gives_a_share_and_a_rank(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)  # A: 0 of 50 I+V beds unknown; B: 35 of 60
    first = row(metrics, A)
    assert first["iv_outside_share"] == pytest.approx(40 / 50)
    assert first["rank"] == 1
    assert pd.isna(first["share_not_known_reason"])


def test_a_share_resting_on_a_minority_of_capacity_is_not_known(icbs, mixed):
    second = row(gap_metrics(mixed, icbs), B)  # 35 of its 60 I+V beds have no known status
    assert second["iv_share_unknown"] == pytest.approx(35 / 60)
    assert pd.isna(second["iv_outside_share"])
    assert pd.isna(second["rank"])
    assert second["share_not_known_reason"] == MOSTLY_UNKNOWN


def test_exactly_the_threshold_unknown_still_gives_a_share(icbs):
    sites = assigned_sites(
        [
            (A, INDEPENDENT, 30.0, NOT_ENGAGED, "inside"),
            (A, VOLUNTARY, 30.0, UNKNOWN_STATUS, "inside"),
        ]
    )
    first = row(gap_metrics(sites, icbs), A)
    assert first["iv_share_unknown"] == MAX_UNKNOWN_SHARE
    assert first["iv_outside_share"] == pytest.approx(1.0)  # of the capacity with a status


def test_ranks_count_only_the_icbs_whose_share_is_known():
    codes = ["E54000001", "E54000002", "E54000003"]
    icbs = pd.DataFrame({"code": codes, "name": codes, "vintage": "2024"})
    sites = assigned_sites(
        [
            ("E54000001", INDEPENDENT, 10.0, ENGAGED, "inside"),  # share 0
            ("E54000002", INDEPENDENT, 10.0, UNKNOWN_STATUS, "inside"),  # not known
            ("E54000003", INDEPENDENT, 10.0, NOT_ENGAGED, "inside"),  # share 1
        ]
    )
    metrics = gap_metrics(sites, icbs)
    assert list(metrics["rank"].astype("float").fillna(-1)) == [2, -1, 1, -1]


def test_rollups_follow_the_same_rule_as_the_icbs(icbs, mixed):
    unlisted = gap_metrics(mixed.assign(planning_status=UNKNOWN_STATUS), icbs)
    england = national_rollup(unlisted).iloc[0]
    assert pd.isna(england["iv_outside_share"])
    assert england["share_not_known_reason"] == NO_STATUS_KNOWN
    known = national_rollup(gap_metrics(mixed, icbs)).iloc[0]  # 35 of 110 beds unknown
    assert known["iv_outside_share"] == pytest.approx(65 / 75)
    assert pd.isna(known["share_not_known_reason"])


def test_rank_puts_the_highest_share_first_and_ties_share_the_lower_rank():
    codes = ["E54000001", "E54000002", "E54000003", "E54000004"]
    icbs = pd.DataFrame({"code": codes, "name": codes, "vintage": "2024"})
    sites = assigned_sites(
        [
            ("E54000001", INDEPENDENT, 10.0, NOT_ENGAGED, "inside"),  # share 1
            ("E54000002", INDEPENDENT, 10.0, NOT_ENGAGED, "inside"),  # share 1
            ("E54000003", INDEPENDENT, 10.0, ENGAGED, "inside"),  # share 0
            (None, INDEPENDENT, 99.0, NOT_ENGAGED, "outside"),  # share 1, not ranked
        ]
    )
    metrics = gap_metrics(sites, icbs)
    assert list(metrics["rank"].astype("float").fillna(-1)) == [1, 1, 3, -1, -1]


def test_national_rollup_sums_the_icb_rows_and_recomputes_the_share(icbs, mixed):
    metrics = gap_metrics(mixed, icbs)
    england = national_rollup(metrics)
    assert list(england.columns) == list(METRIC_COLUMNS)
    assert list(england["icb_code"]) == [ENGLAND_CODE]
    icb_rows = metrics[metrics["icb_code"] != OUTSIDE_CODE]
    assert england["sites_total"].iloc[0] == icb_rows["sites_total"].sum()
    known = icb_rows["iv_capacity"].sum() - icb_rows["iv_capacity_unknown"].sum()
    expected = icb_rows["iv_capacity_not_engaged"].sum() / known
    assert england["iv_outside_share"].iloc[0] == pytest.approx(expected)
    assert england["iv_outside_share"].iloc[0] != pytest.approx(icb_rows["iv_outside_share"].mean())


def test_region_rollup_gives_one_row_per_region_from_summed_icbs(icbs, mixed):
    lookup = pd.DataFrame(
        {
            "icb_code": [A, B, C],
            "region_code": ["E40000002", "E40000002", "E40000001"],
            "region_name": ["North", "North", "South"],
        }
    )
    metrics = gap_metrics(mixed, icbs)
    regions = region_rollup(metrics, lookup)
    assert list(regions.columns) == list(METRIC_COLUMNS)
    assert list(regions["icb_code"]) == ["E40000001", "E40000002"]
    north = row(regions, "E40000002")
    assert north["sites_total"] == row(metrics, A)["sites_total"] + row(metrics, B)["sites_total"]
    assert north["iv_outside_share"] == pytest.approx((40 + 25) / (40 + 10 + 25))
    assert north["rank"] == 1
    assert pd.isna(row(regions, "E40000001")["rank"])


def test_region_rollup_rejects_an_icb_without_a_region(icbs, mixed):
    lookup = pd.DataFrame({"icb_code": [A], "region_code": ["E40000001"], "region_name": ["X"]})
    with pytest.raises(InputError, match=f"no region for 2 ICBs: {B}, {C}"):
        region_rollup(gap_metrics(mixed, icbs), lookup)


def test_sector_outside_the_vocabulary_is_rejected(icbs, mixed):
    bad = mixed.assign(sector=mixed["sector"].replace(INDEPENDENT, "Private"))
    with pytest.raises(InputError, match=r"column sector has values outside .*'Private'"):
        gap_metrics(bad, icbs)


def test_icb_code_from_another_vintage_is_rejected(icbs, mixed):
    bad = mixed.assign(icb_code=mixed["icb_code"].replace(A, "E54000052"))
    with pytest.raises(InputError, match="not in the ICB layer: E54000052"):
        gap_metrics(bad, icbs)


def test_negative_capacity_is_rejected(icbs, mixed):
    bad = mixed.assign(capacity=mixed["capacity"].replace(10.0, -10.0))
    with pytest.raises(InputError, match=r"capacity needs numbers of 0 or more .*rows \[2\]"):
        gap_metrics(bad, icbs)


def test_no_sites_give_zero_rows_for_every_icb(icbs):
    metrics = gap_metrics(assigned_sites([]), icbs)
    assert list(metrics["icb_code"]) == [A, B, C, OUTSIDE_CODE]
    assert (metrics["sites_total"] == 0).all()
    assert metrics["sites_total"].dtype == "Int64"
    assert metrics["capacity_total"].dtype == "Float64"
    assert reconcile(metrics, assigned_sites([])) == []


@pytest.mark.shared_data
def test_real_hospital_metrics_add_up_to_the_hospital_list(shared_data):
    file = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")
    layer = gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    icbs = layer.rename(columns={"ICB24CD": "code", "ICB24NM": "name"}).assign(vintage="2024")
    rng = np.random.default_rng(2024)
    capacity = rng.integers(5, 400, len(file)).astype(float)
    capacity[rng.random(len(file)) < 0.2] = np.nan
    hospitals = pd.DataFrame(
        {
            "site_id": file["hospitalId"],
            "sector": file["sector"].map({"NHS Sector": NHS, "Independent Sector": INDEPENDENT}),
            "capacity": pd.array(capacity, dtype="Float64"),
            "planning_status": rng.choice(PLANNING_STATUSES, len(file)),
            "lat": file["lat"],
            "lon": file["long"],
        }
    )
    assigned = assign_sites(hospitals, icbs)
    metrics = gap_metrics(assigned, icbs)
    assert reconcile(metrics, assigned) == []
    assert len(metrics) == len(icbs) + 1
    assert row(metrics, OUTSIDE_CODE)["sites_total"] == file["outside_england"].sum()
    assert metrics["sites_nhs"].sum() == (file["sector"] == "NHS Sector").sum()
    assert metrics["capacity_independent"].sum() == np.nansum(
        capacity[(file["sector"] == "Independent Sector").to_numpy()]
    )
    icb_rows = metrics.iloc[:-1]
    share_known = (icb_rows["iv_sites"] > 0) & (icb_rows["iv_share_unknown"] <= MAX_UNKNOWN_SHARE)
    assert 0 < share_known.sum() < len(icb_rows)  # a third unknown at random: some ICBs too many
    assert list(icb_rows["rank"].notna()) == list(share_known)
    assert list(icb_rows["iv_outside_share"].notna()) == list(share_known)
    england = national_rollup(metrics)
    assert england["sites_total"].iloc[0] == len(file) - file["outside_england"].sum()


def test_downloads_leave_a_share_not_known_empty_beside_its_reason(icbs, mixed):
    metrics = gap_metrics(mixed.assign(planning_status=UNKNOWN_STATUS), icbs)

    text = csv_bytes(metrics).decode("utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(metrics, sheet_name="ICB metrics"))).active

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["iv_outside_share"] for row in rows] == ["", "", "", ""]
    assert [row["rank"] for row in rows] == ["", "", "", ""]
    assert rows[0]["share_not_known_reason"] == NO_STATUS_KNOWN
    header = [cell.value for cell in sheet[1]]
    share = header.index("iv_outside_share") + 1
    reason = header.index("share_not_known_reason") + 1
    assert [sheet.cell(row=n, column=share).value for n in range(2, 6)] == [None] * 4
    assert sheet.cell(row=2, column=reason).value == NO_STATUS_KNOWN
