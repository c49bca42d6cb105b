"""Contract awards read from OCDS releases (geo/io/contracts.py): suppliers, identifiers, PSR, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from geo.io import recognise
from geo.io.contracts import (
    CONTRACTS_FINDER,
    FIND_A_TENDER,
    concat_awards,
    is_icb_buyer,
    loads_package,
    read_awards,
)
from geo.model.errors import InputError
from geo.model.evidence import AWARD_COLUMNS
from geo.testing import contracts_server as releases

START = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(shared_data) -> releases.ContractsWorld:
    return releases.load_world(shared_data)


@pytest.fixture(scope="module")
def fixtures(world) -> list[releases.Fixture]:
    return releases.fixture_releases(world, START)


@pytest.fixture
def awards(fixtures, tmp_path):
    path = releases.write_release_package(tmp_path / "package.json", [f.release for f in fixtures])
    return read_awards(path)


def _rows(awards, fixtures, case):
    ocid = next(f.release["ocid"] for f in fixtures if f.case == case)
    return awards[awards["ocid"] == ocid]


def _row(awards, fixtures, case):
    rows = _rows(awards, fixtures, case)
    assert len(rows) == 1
    return rows.iloc[0]


def test_awards_have_the_shared_columns_one_row_per_award_and_supplier(awards, fixtures):
    assert tuple(awards.columns) == AWARD_COLUMNS
    suppliers = sum(len(f.release["awards"][0]["suppliers"]) for f in fixtures)
    assert len(awards) == suppliers
    assert len(_rows(awards, fixtures, "two suppliers")) == 2
    assert set(awards["source"]) == {FIND_A_TENDER}


def test_a_supplier_is_resolved_against_parties_with_its_company_number_padded(awards, fixtures):
    release = next(f.release for f in fixtures if f.case == "company")
    party = release["parties"][-1]
    row = _row(awards, fixtures, "company")
    assert row["supplier_id"] == party["id"]
    assert row["supplier_name"] == party["name"]  # the party's name, not the legal name in capitals
    assert (row["supplier_scheme"], row["supplier_number"]) == ("GB-COH", party["identifier"]["id"])
    assert len(row["supplier_number"]) == 8


def test_charity_and_nhs_identifiers_are_kept_as_text_and_ods_codes_upper_cased(awards, fixtures):
    charity = _row(awards, fixtures, "charity")
    charity_party = next(f.release for f in fixtures if f.case == "charity")["parties"][-1]
    assert (charity["supplier_scheme"], charity["supplier_number"]) == (
        "GB-CHC",
        charity_party["identifier"]["id"],
    )
    nhs = _row(awards, fixtures, "nhs")
    nhs_party = next(f.release for f in fixtures if f.case == "nhs")["parties"][-1]
    assert nhs["supplier_scheme"] == "GB-NHS"
    assert nhs["supplier_number"] == nhs_party["identifier"]["id"].upper()
    assert nhs["supplier_number"] != nhs_party["identifier"]["id"]  # it was written lower-case


def test_a_name_only_party_has_no_scheme_and_a_bare_party_id_is_parsed(awards, fixtures):
    name_only = _row(awards, fixtures, "name only")
    assert name_only["supplier_id"].startswith("GB-FTS-")
    assert name_only["supplier_name"]
    assert name_only[["supplier_scheme", "supplier_number"]].isna().all()
    bare = _row(awards, fixtures, "party id only")
    assert bare["supplier_scheme"] == "GB-COH"
    assert bare["supplier_id"] == f"GB-COH-{bare['supplier_number']}"


def test_the_buyer_and_its_ods_code_come_from_the_buyer_party(awards, fixtures, world):
    with_code = _row(awards, fixtures, "company")  # an even-numbered ICB names its ODS code
    code, name = world.icbs[10 % len(world.icbs)]
    assert (with_code["buyer_name"], with_code["buyer_ods_code"]) == (name, code)
    without = _row(awards, fixtures, "charity")
    assert with_code["buyer_id"].startswith("GB-PPON-")
    assert is_icb_buyer(without["buyer_name"], None)
    assert pd.isna(without["buyer_ods_code"])


def test_psr_is_read_from_the_text_only(awards, fixtures):
    psr = _row(awards, fixtures, "psr")
    release = next(f.release for f in fixtures if f.case == "psr")
    assert release["tender"]["legalBasis"]["id"] == "32014L0024"  # no structured flag
    assert psr["psr"]
    assert awards["psr"].sum() == 1


def test_legal_basis_of_si_2023_1348_marks_psr_without_any_text(world, tmp_path):
    release = releases.fts_release(world, 40, START)
    release["tender"]["legalBasis"] = {"scheme": "UKSI", "id": "2023/1348"}
    path = releases.write_release_package(tmp_path / "p.json", [release])
    assert read_awards(path)["psr"].tolist() == [True]


def test_health_is_cpv_85_but_not_852_veterinary(awards, fixtures):
    assert _row(awards, fixtures, "company")["health"]
    assert not _row(awards, fixtures, "veterinary")["health"]
    assert not _row(awards, fixtures, "not health")["health"]


def test_values_dates_and_notice_type_are_read(awards, fixtures):
    row = _row(awards, fixtures, "company")
    release = next(f.release for f in fixtures if f.case == "company")
    assert row["value"] == release["awards"][0]["value"]["amount"]
    assert row["currency"] == "GBP"
    assert row["award_date"] == release["awards"][0]["date"][:10]
    assert (row["start_date"], row["end_date"]) == ("2025-04-01", "2028-03-31")
    assert row["notice_type"] == "UK6"
    assert row["published"] == release["date"][:10]
    assert row["file"] == "package.json"


def test_invalid_numeric_literals_are_tolerated(awards, fixtures, tmp_path):
    text = (tmp_path / "package.json").read_text(encoding="utf-8")
    assert '"amount": 1e9999' in text
    assert '"amount": 000,' in text
    assert pd.isna(_row(awards, fixtures, "infinite amount")["value"])
    assert _row(awards, fixtures, "leading zeros")["value"] == 0


def test_a_body_that_is_not_json_names_where_it_breaks():
    with pytest.raises(InputError, match=r"page 3: not valid JSON at line 1"):
        loads_package(b'{"releases": [', "page 3")


def test_a_release_in_two_files_is_read_once_its_newest_copy(world, tmp_path):
    release = releases.fts_release(world, 50, START)
    newer = json.loads(json.dumps(release))
    newer["date"] = (START + timedelta(days=2)).isoformat()
    newer["awards"][0]["value"]["amount"] = 99_000
    folder = tmp_path / "harvest"
    folder.mkdir()
    releases.write_release_package(folder / "a.json", [release, newer])
    releases.write_release_package(folder / "b.json", [release])

    awards = read_awards(folder)

    assert awards["value"].tolist() == [99_000]
    assert concat_awards([read_awards(folder / "b.json"), awards])["value"].tolist() == [99_000]


def test_json_lines_of_releases_are_read_and_recognised(world, tmp_path):
    path = tmp_path / "releases.jsonl"
    lines = [releases.fts_release(world, n, START) for n in (60, 61, 62)]
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")

    assert recognise.sniff(path).holds == "contracts"
    assert read_awards(path)["ocid"].tolist() == [r["ocid"] for r in lines]


def test_contracts_finder_parties_with_a_legal_name_only_and_a_short_company_number(
    world, tmp_path
):
    named = releases.cf_release(world, 3, START)
    numbered = releases.cf_release(world, 4, START, coh="4142000")
    path = tmp_path / "cf.json"
    path.write_bytes(releases.package_bytes([named, numbered], encoding="iso-8859-1"))

    awards = read_awards(path).set_index("ocid")

    assert set(awards["source"]) == {CONTRACTS_FINDER}
    assert pd.isna(awards.loc[named["ocid"], "supplier_scheme"])
    assert awards.loc[named["ocid"], "supplier_name"] == named["parties"][1]["name"]
    assert awards.loc[numbered["ocid"], "supplier_number"] == "04142000"
    assert awards.loc[named["ocid"], "title"] == releases.CF_TITLE  # read as ISO-8859-1


def test_cancelled_awards_and_releases_without_awards_give_no_rows(world, tmp_path):
    cancelled = releases.fts_release(world, 70, START)
    cancelled["awards"][0]["status"] = "cancelled"
    tender_only = releases.fts_release(world, 71, START)
    del tender_only["awards"]
    path = releases.write_release_package(tmp_path / "p.json", [cancelled, tender_only])

    awards = read_awards(path)

    assert awards.empty
    assert tuple(awards.columns) == AWARD_COLUMNS


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("NHS Cheshire and Merseyside Integrated Care Board", None, True),
        ("NHS Kent and Medway ICB", None, True),
        ("Some Buyer", "QWO", True),
        ("Hull University Teaching Hospitals NHS Trust", "RWA", False),
        ("Kent County Council", None, False),
        ("Sub-ICB location 15N", "15N", True),  # its name says ICB
        ("ICBC Insurance", None, False),
    ],
)
def test_icb_buyers_are_told_by_name_or_ods_code(name, code, expected):
    assert is_icb_buyer(name, code) is expected
