"""Tests for geo/model/trust_codes.py: a site run by an NHS trust is NHS, whatever the list says."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis import pipeline
from geo.briefing.facts import briefing_facts
from geo.io import ods_reports
from geo.io.readers import read_sites
from geo.model import problems, sectors, trust_codes
from geo.model.errors import InputError
from geo.publish import validation
from geo.testing.publisher_files import ods_report_row, write_ods_report_csv

HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"
HEADER = "site_id,site_name,provider_id,provider_name,sector,lat,lon\n"


def _listed(tmp_path, *lines: str, name: str = "hospitals.csv", **options):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return read_sites(path, **options)


@pytest.mark.parametrize(
    ("code", "trust"),
    [
        ("R1C", "R1C"),  # Solent NHS Trust
        ("R1CA7", "R1C"),  # one of its sites
        ("rdy", "RDY"),
        ("TAF", "TAF"),  # a care trust: Camden and Islington NHS Foundation Trust
        ("TP9FD", None),  # a five-character T code is an independent provider's site
        ("NDA", None),  # Virgin Care Services Ltd, an independent provider
        ("1-102643001", None),  # a CQC provider ID
        ("A81001", None),  # a GP practice
        ("R1C0", None),
        (None, None),
    ],
)
def test_trust_codes_have_their_own_shape(code, trust):
    found = trust_codes.trust_of(pd.Series([code], dtype="object")).iloc[0]

    assert (None if pd.isna(found) else found) == trust


def test_a_trust_site_a_list_calls_independent_is_nhs_with_a_warning_naming_both(tmp_path):
    listed = _listed(
        tmp_path,
        "R1C03,St Mary's Community Health Campus,R1C,Solent NHS Trust,Independent Sector,50.8,-1.07",
        "NDA07,Walton Community Hospital,NDA,Virgin Care Services Ltd,Independent Sector,51.38,-0.4",
    )

    sites = listed.sites.set_index("site_id")
    assert sites.loc["R1C03", ["sector", "sector_rule"]].tolist() == [sectors.NHS, "nhs_trust_code"]
    assert sites.loc["NDA07", "sector"] == sectors.INDEPENDENT
    assert pd.isna(sites.loc["NDA07", "sector_rule"])
    problem = listed.problems.iloc[0].to_dict()
    assert len(listed.problems) == 1
    assert (problem["row"], problem["kind"], problem["severity"], problem["value"]) == (
        0,
        problems.SECTOR_CONTRADICTS_CODE,
        problems.WARNING,
        sectors.INDEPENDENT,
    )
    assert problems.sentence(problem) == (
        'sector: "Independent" contradicts NHS trust code R1C; counted as NHS'
    )


def test_the_warning_is_on_the_row_in_the_validation_report(tmp_path):
    listed = _listed(tmp_path, "RDYFT,Forston Clinic,RDY,Dorset Healthcare,Voluntary,50.76,-2.47")

    row = validation.validate_sites(listed, file_name="hospitals.csv").rows.iloc[0]

    assert (row["status"], row["column"]) == ("warning", "sector")
    assert row["reason"] == 'sector: "Voluntary" contradicts NHS trust code RDY; counted as NHS'


def test_without_a_provider_code_the_site_code_decides(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "site_id,site_name,sector,lat,lon\n"
        "RF4CH,Barking Community Hospital,Local authority,51.53,0.08\n"
        "TP9FD,Community Eyecare Cataract Centre,Independent,53.4,-2.9\n",
        encoding="utf-8",
    )

    sites = read_sites(path).sites.set_index("site_id")

    assert sites["sector"].to_dict() == {"RF4CH": sectors.NHS, "TP9FD": sectors.INDEPENDENT}


def test_a_trust_with_no_sector_or_an_unknown_label_is_nhs_without_a_false_unknown(tmp_path):
    listed = _listed(
        tmp_path,
        "R1C03,St Mary's,R1C,Solent NHS Trust,,50.8,-1.07",
        "RDYFT,Forston Clinic,RDY,Dorset Healthcare,Martian,50.76,-2.47",
    )

    assert listed.sites["sector"].tolist() == [sectors.NHS, sectors.NHS]
    problem = listed.problems.iloc[0].to_dict()
    assert len(listed.problems) == 1  # nothing said for the blank sector
    assert problems.sentence(problem) == (
        'sector: "Martian" contradicts NHS trust code RDY; counted as NHS'
    )


def test_a_loaded_trust_list_confirms_which_codes_are_trusts(tmp_path):
    etr = write_ods_report_csv(
        tmp_path / "etr.csv",
        [
            ods_report_row("R1C", "SOLENT NHS TRUST", "SO19 8BR"),
            ods_report_row("RD3", "POOLE HOSPITAL NHS FOUNDATION TRUST", "BH15 2JB", close_date="20200331"),
        ],
    )  # fmt: skip
    trusts = ods_reports.read_trust_codes(etr)

    listed = _listed(
        tmp_path,
        "R1C03,St Mary's,R1C,Solent NHS Trust,Independent,50.8,-1.07",
        "RD301,Poole Hospital,RD3,Poole Hospital NHS FT,Independent,50.72,-1.97",
        "R99XX,Not A Trust Clinic,R99,Somebody Ltd,Independent,51.5,-0.1",
        nhs_trusts=trusts,
    )

    assert trusts == frozenset({"R1C", "RD3"})  # closed trusts are still NHS trusts
    assert listed.sites["sector"].tolist() == [sectors.NHS, sectors.NHS, sectors.INDEPENDENT]


def test_an_ets_report_names_its_sites_trusts(tmp_path, fixtures_dir):
    assert ods_reports.read_trust_codes(fixtures_dir / "ets.csv") == frozenset({"RXR", "RXN"})
    not_trusts = write_ods_report_csv(
        tmp_path / "epraccur.csv", [ods_report_row("A81001", "THE DENSHAM SURGERY", "TS18 1HU")]
    )
    with pytest.raises(InputError, match=r"epraccur\.csv: no NHS trust codes"):
        ods_reports.read_trust_codes(not_trusts)


# --- the real 2020 NHS hospital list ----------------------------------------------------


def test_real_hospital_list_counts_nhs_trusts_sites_as_nhs(shared_data):
    raw = pd.read_csv(shared_data / HOSPITALS, dtype=str)
    listed = read_sites(shared_data / HOSPITALS)
    said_independent = raw["sector"].eq("Independent Sector")
    r_coded = said_independent & raw["trustId"].str.fullmatch(r"R[A-Z0-9]{2}")
    t_coded = said_independent & raw["trustId"].str.fullmatch(r"T[A-Z0-9]{2}")

    # 244 R trusts' sites (the count issue 9 measured) and 8 of care trusts (TAD, TAF, …).
    assert (int(r_coded.sum()), int(t_coded.sum()), int(said_independent.sum())) == (244, 8, 458)
    moved = r_coded | t_coded
    assert listed.problems["row"].tolist() == raw.index[moved].tolist()
    assert set(listed.problems["kind"]) == {problems.SECTOR_CONTRADICTS_CODE}
    sites = listed.sites
    assert sites["sector"].value_counts().to_dict() == {
        sectors.NHS: 755 + 252,
        sectors.INDEPENDENT: 458 - 252,
    }
    solent = sites[sites["provider_id"] == "R1C"]
    assert set(solent["sector"]) == {sectors.NHS}
    assert set(solent["sector_rule"]) == {trust_codes.RULE}


def test_briefings_no_longer_name_nhs_trusts_among_the_largest_independent_providers(
    shared_data,
):
    analysis = pipeline.analyse(
        pipeline.load_files(
            pipeline.InputFiles(
                boundaries=shared_data / "icb_2023_04_bgc.geojson", sites=shared_data / HOSPITALS
            )
        )
    )

    top = briefing_facts(analysis.metrics, analysis.assigned, "england").top_providers

    assert len(top) > 0
    assert not top["provider_name"].str.contains("NHS").any()
    assert any("counted as NHS by their NHS trust's ODS code" in n.text for n in analysis.notes)
