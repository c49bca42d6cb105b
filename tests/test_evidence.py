"""Evidence of NHS commissioning joined to sites and ICBs: matching, commissioners, statuses."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from geo.analysis.evidence import (
    BY_CHARITY,
    BY_COMPANY,
    BY_ORG_CODE,
    BY_SITE_CODE,
    LIST_ENGAGED_WITHOUT_EVIDENCE,
    LIST_NOT_ENGAGED_BUT_COMMISSIONED,
    NO_ICB,
    NOT_MAPPED,
    EvidenceInputs,
    Geography,
    apply_evidence,
    commissioner_icbs,
    disagreements,
    evidence_notes,
    join_evidence,
    match_counts,
)
from geo.analysis.metrics import national_rollup, reconcile
from geo.analysis.pipeline import Frames, analyse, provenance_table
from geo.io.boundaries import load_boundaries
from geo.io.lookups import load_sicbl_to_icb
from geo.io.readers import read_sites
from geo.model.errors import InputError
from geo.model.evidence import (
    COMMISSIONED,
    COMMISSIONED_ELSEWHERE,
    CONTRACTS,
    DSPT,
    EVIDENCE_COLUMNS,
    EVIDENCE_STATUS,
    NO_EVIDENCE,
    NOT_CHECKED,
    RTT,
)
from geo.testing.evidence_rows import (
    activity_frame,
    activity_row,
    award_frame,
    award_row,
    dspt_frame,
    dspt_row,
)
from tests.factories import site as site_row
from tests.factories import sites_frame

WEST_YORKSHIRE, CHESHIRE, CAMBRIDGESHIRE = "E54000054", "E54000008", "E54000056"
CENTRAL_EAST_2026 = "E54000065"
LOOKUP = "lookup_lsoa21_sicbl24_icb24_icb26.csv"


@pytest.fixture(scope="module")
def geography_2024(shared_data) -> Geography:
    return Geography(
        icbs=load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson", kind="icb"),
        sub_icbs=load_boundaries(
            shared_data / "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson", kind="sicbl"
        ),
        lookup=load_sicbl_to_icb(shared_data / LOOKUP),
    )


@pytest.fixture(scope="module")
def geography_2026(shared_data) -> Geography:
    path = shared_data / "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"
    return Geography(
        icbs=load_boundaries(path, kind="icb"), lookup=load_sicbl_to_icb(shared_data / LOOKUP)
    )


def _site(site_id: str, provider_id: str, name: str, icb: str, **columns) -> dict:
    return site_row(name, provider=name, icb=icb, status="unknown", beds=20, **columns) | {
        "site_id": site_id,
        "provider_id": provider_id,
    }


@pytest.fixture
def sites() -> pd.DataFrame:
    """Independent sites named as the NHS website and CQC name them, and one NHS site."""
    return sites_frame(
        _site("NT447", "NT4", "Duchy Hospital", WEST_YORKSHIRE),
        _site("NT448", "NT4", "Duchy Hospital North", CHESHIRE),
        _site("1-10001", "1-200", "Spire Leeds", CHESHIRE, **{"Location ODS Code": "NVC04"}),
        _site(
            "1-10002", "1-300", "Kirkstall Clinic", WEST_YORKSHIRE,
            **{"Provider Companies House Number": "1234567"},
        ),
        _site(
            "1-10003", "1-400", "Hope Hospice", WEST_YORKSHIRE,
            **{"Provider Charity Number": "0212345"},
        ),
        _site("1-10004", "1-500", "Oakwood Surgical Care Ltd", WEST_YORKSHIRE),
        _site("RR801", "RR8", "Leeds General Infirmary", WEST_YORKSHIRE, sector="NHS"),
    )  # fmt: skip


def _statuses(evidence, sites) -> dict[str, str]:
    return dict(zip(sites["site_id"], evidence.statuses, strict=True))


def test_is_site_code_matches_the_site_and_org_code_matches_every_site_of_the_provider(
    sites, geography_2024
):
    activity = activity_frame(
        activity_row("NT447", "15F", "QWO", 1240), activity_row("NT4", "01F", "QYG", 10)
    )
    evidence = join_evidence(
        sites, EvidenceInputs(activity=activity, sources=(RTT,)), geography_2024
    )

    matched = evidence.table.groupby("site_id")["matched_by"].agg(set).to_dict()
    assert matched == {"NT447": {BY_SITE_CODE, BY_ORG_CODE}, "NT448": {BY_ORG_CODE}}
    leeds = evidence.table[evidence.table["matched_by"].eq(BY_SITE_CODE)]
    assert leeds[["icb_code", "value"]].values.tolist() == [[WEST_YORKSHIRE, 1240]]
    assert list(evidence.table.columns) == list(EVIDENCE_COLUMNS)


def test_cqc_location_ods_code_matches_an_is_site_code(sites, geography_2024):
    activity = activity_frame(activity_row("NVC04", "15F", "QWO", 7))
    evidence = join_evidence(
        sites, EvidenceInputs(activity=activity, sources=(RTT,)), geography_2024
    )

    assert evidence.table["site_id"].tolist() == ["1-10001"]
    assert _statuses(evidence, sites)["1-10001"] == COMMISSIONED_ELSEWHERE  # a Cheshire site


def test_statuses_say_own_icb_elsewhere_no_evidence_and_keep_nhs_sites(sites, geography_2024):
    activity = activity_frame(
        activity_row("NT447", "15F", "QWO", 1240), activity_row("NVC04", "15F", "QWO", 7)
    )
    evidence = join_evidence(
        sites, EvidenceInputs(activity=activity, sources=(RTT,)), geography_2024
    )
    applied = apply_evidence(sites, evidence)

    status = dict(zip(applied["site_id"], applied["planning_status"], strict=True))
    assert status == {
        "NT447": COMMISSIONED,
        "NT448": NO_EVIDENCE,
        "1-10001": COMMISSIONED_ELSEWHERE,
        "1-10002": NO_EVIDENCE,
        "1-10003": NO_EVIDENCE,
        "1-10004": NO_EVIDENCE,
        "RR801": "unknown",  # NHS sites keep their status
    }
    summary = applied.set_index("site_id").loc["NT447", "evidence_summary"]
    assert summary == "NHS-funded elective care for this ICB: 1,240 patients waiting, RTT 2026-06"


def test_dspt_alone_leaves_every_status_not_checked(sites, geography_2024):
    dspt = dspt_frame(dspt_row("NT447", "DUCHY HOSPITAL"))
    evidence = join_evidence(sites, EvidenceInputs(dspt=dspt, sources=(DSPT,)), geography_2024)

    assert set(evidence.statuses) == {NOT_CHECKED}
    assert evidence.table["detail"].tolist() == ["2024-25 Standards Met"]
    assert evidence.table["icb_code"].isna().all()
    applied = apply_evidence(sites, evidence)
    assert applied.set_index("site_id").loc["NT447", "evidence_summary"] == (
        "DSPT 2024-25 Standards Met"
    )


def test_a_loaded_source_with_no_rows_still_counts_as_checked(sites, geography_2024):
    evidence = join_evidence(
        sites, EvidenceInputs(activity=activity_frame(), sources=(RTT,)), geography_2024
    )

    assert set(evidence.statuses) == {NO_EVIDENCE}


def test_company_and_charity_numbers_match_whatever_their_padding(sites, geography_2024):
    awards = award_frame(
        award_row("KIRKSTALL CLINIC LTD", scheme="GB-COH", number="01234567"),
        award_row("Hope Hospice", scheme="GB-CHC", number="212345", buyer_ods_code="QWO"),
    )
    evidence = join_evidence(
        sites, EvidenceInputs(awards=awards, sources=(CONTRACTS,)), geography_2024
    )

    by_site = evidence.table.set_index("site_id")
    assert by_site.loc["1-10002", "matched_by"] == BY_COMPANY
    assert by_site.loc["1-10003", "matched_by"] == BY_CHARITY
    assert set(by_site["icb_code"]) == {WEST_YORKSHIRE}
    assert by_site.loc["1-10002", "detail"] == (
        "Elective orthopaedic surgery, 2026-04-01–2029-03-31, PSR"
    )
    assert _statuses(evidence, sites)["1-10002"] == COMMISSIONED


def test_a_name_near_miss_is_reported_with_its_score_and_not_applied(sites, geography_2024):
    awards = award_frame(award_row("Oakwood Surgical Care Limited UK"))
    evidence = join_evidence(
        sites, EvidenceInputs(awards=awards, sources=(CONTRACTS,)), geography_2024
    )

    report = evidence.report.iloc[0]
    assert report["matched_by"] == "none"
    assert report["near_miss_provider"] == "oakwood surgical care"
    assert 85 <= report["score"] < 100
    assert not report["applied"]
    assert evidence.table.empty
    counts = match_counts(evidence.report)
    assert counts.values.tolist() == [[CONTRACTS, "near miss (not applied)", 1]]
    assert any("approximately" in note for note in evidence_notes(evidence))


def test_a_name_near_miss_is_applied_above_an_explicit_score(sites, geography_2024):
    awards = award_frame(award_row("Oakwood Surgical Care Limited UK"))
    inputs = EvidenceInputs(awards=awards, sources=(CONTRACTS,))
    evidence = join_evidence(sites, inputs, geography_2024, accept_names_above=85)

    assert evidence.table["site_id"].tolist() == ["1-10004"]
    assert evidence.table["matched_by"].tolist() == ["name"]


def test_hubs_and_non_english_commissioners_have_no_icb_and_are_counted(geography_2024):
    activity = activity_frame(
        activity_row("NT447", "15F", "QWO", 100),
        activity_row("NT447", "13Q", None, 30),
        activity_row("NT447", "NONC", None, 5),
        activity_row("NT447", "Y61", None, 2),
        activity_row("NT447", "ZZ9", "QZZ", 1),
    )
    icbs = commissioner_icbs(activity, geography_2024, "2024")

    assert icbs["icb_code"].tolist()[0] == WEST_YORKSHIRE
    assert icbs["outcome"].tolist()[1:] == [NO_ICB, NO_ICB, NO_ICB, NOT_MAPPED]
    evidence = join_evidence(
        sites_frame(_site("NT447", "NT4", "Duchy", WEST_YORKSHIRE)),
        EvidenceInputs(activity=activity, sources=(RTT,)),
        geography_2024,
    )
    coverage = evidence.coverage.set_index("outcome")
    assert coverage.loc[NO_ICB, "rows"] == 3
    assert coverage.loc[NO_ICB, "patients_waiting"] == 37
    assert coverage.loc[NOT_MAPPED, "rows"] == 1
    notes = evidence_notes(evidence)
    assert "3 activity rows (37 patients waiting) had no ICB" in " ".join(notes)


def test_parent_icb_code_is_used_when_the_sub_icb_code_is_not_known(geography_2024):
    activity = activity_frame(activity_row("NT447", "X1X1X", "QWO", 5))

    assert commissioner_icbs(activity, geography_2024, "2024")["icb_code"].tolist() == [
        WEST_YORKSHIRE
    ]


def test_2026_vintage_reaches_the_new_icbs_through_the_lookup(geography_2026):
    activity = activity_frame(
        activity_row("NT447", "06H", "QUE", 5),  # Cambridgeshire and Peterborough in 2024
        activity_row("NT447", "15F", "QWO", 5),
        activity_row("NT447", "D4U1Y", "QNQ", 5),  # Frimley: split between three 2026 ICBs
    )
    icbs = commissioner_icbs(activity, geography_2026, "2026")

    assert icbs["icb_code"].tolist()[:2] == [CENTRAL_EAST_2026, WEST_YORKSHIRE]
    assert icbs["outcome"].tolist()[2] == NOT_MAPPED


def test_2024_vintage_maps_the_same_sub_icb_to_its_2024_icb(geography_2024):
    activity = activity_frame(activity_row("NT447", "06H", "QUE", 5))

    assert commissioner_icbs(activity, geography_2024, "2024")["icb_code"].tolist() == [
        CAMBRIDGESHIRE
    ]


def test_no_evidence_leaves_statuses_as_they_were(sites):
    applied = apply_evidence(sites, None)

    assert set(applied[EVIDENCE_STATUS]) == {NOT_CHECKED}
    assert applied["planning_status"].tolist() == sites["planning_status"].tolist()


def test_inputs_with_missing_columns_or_unknown_sources_are_refused():
    with pytest.raises(InputError, match="evidence activity: missing column"):
        EvidenceInputs(activity=pd.DataFrame({"source": []}), sources=(RTT,))
    with pytest.raises(InputError, match="unknown source"):
        EvidenceInputs(sources=("gossip",))


# --- through the pipeline: planning status with its basis, metrics, disagreements -----------

MANCHESTER, HUMBER = "E54000057", "E54000051"


@pytest.fixture(scope="module")
def hospital_frames(shared_data, geography_2024) -> Frames:
    """The NHS website's hospitals (IS sites with their ODS codes) and RTT rows for two of them:
    Bridgewater (NMP01) for its own ICB, Stockton Hall (NMV02) for West Yorkshire only."""
    activity = activity_frame(
        activity_row("NMP01", "14L", "QOP", 500, provider_name="BRIDGEWATER HOSPITAL"),
        activity_row("NMV02", "15F", "QWO", 20, provider_name="STOCKTON HALL"),
    )
    return Frames(
        icbs=geography_2024.icbs,
        sites=read_sites(shared_data / "hospitals_england_2020_05_nhs_website.csv").sites,
        provenance=provenance_table([]),
        sub_icbs=geography_2024.sub_icbs,
        lookup=geography_2024.lookup,
        evidence=EvidenceInputs(activity=activity, sources=(RTT,)),
    )


@pytest.fixture(scope="module")
def on_open_data(hospital_frames):
    return analyse(hospital_frames)


def test_open_data_alone_decides_iv_statuses_and_names_its_basis(on_open_data):
    sites = on_open_data.assigned.set_index("site_id")
    iv = sites["sector"].isin(["Independent", "Voluntary"])

    assert sites.loc["NMP01", "planning_status"] == COMMISSIONED
    assert sites.loc["NMV02", "planning_status"] == COMMISSIONED_ELSEWHERE
    assert set(sites.loc[iv, "planning_status"]) == {
        COMMISSIONED,
        COMMISSIONED_ELSEWHERE,
        NO_EVIDENCE,
    }
    assert set(sites.loc[iv, "planning_basis"]) == {"open data"}
    assert set(sites.loc[~iv, "planning_basis"]) == {"none"}
    assert any("RTT waiting times loaded, 2026-06 to 2026-06" in n.text for n in on_open_data.notes)


def test_headline_share_is_the_outside_share_of_iv_sites_with_a_known_status(on_open_data):
    sites = on_open_data.assigned
    iv = sites[
        sites["sector"].isin(["Independent", "Voluntary"]) & sites["icb_code"].eq(MANCHESTER)
    ]
    outside = iv["planning_status"].isin([NO_EVIDENCE, COMMISSIONED_ELSEWHERE, "not engaged"]).sum()
    known = iv["planning_status"].ne("unknown").sum()
    row = on_open_data.metrics.set_index("icb_code").loc[MANCHESTER]

    assert row["share_basis"] == "sites"  # the NHS website's list has no beds
    assert row["iv_outside_share"] == pytest.approx(outside / known)
    assert row["iv_outside_share"] < 1  # Bridgewater is commissioned by Manchester
    assert row["iv_no_evidence_share"] == pytest.approx(outside / known)
    assert row["status_basis"] == "open data"
    assert reconcile(on_open_data.metrics, sites) == []
    england = national_rollup(on_open_data.metrics).iloc[0]
    assert england["iv_sites_commissioned"] == 1
    assert england["iv_sites_commissioned_elsewhere"] == 1


def test_an_engagement_list_overrides_the_evidence_and_its_disagreements_are_listed(
    hospital_frames,
):
    engagement = pd.DataFrame(
        {
            "provider_id": ["NMP", "NMV"],
            "provider_name": [pd.NA, pd.NA],
            "icb_code": [MANCHESTER, HUMBER],
            "planning_status": ["not engaged", "engaged"],
            "row": [2, 3],
        }
    )
    analysis = analyse(dataclasses.replace(hospital_frames, engagement=engagement))
    sites = analysis.assigned.set_index("site_id")

    assert sites.loc["NMP01", ["planning_status", "planning_basis"]].tolist() == [
        "not engaged", "engagement list",
    ]  # fmt: skip
    assert sites.loc["NMP01", EVIDENCE_STATUS] == COMMISSIONED  # the evidence stays beside it
    found = disagreements(analysis).set_index("site_id")
    assert found.loc["NMP01", "disagreement"] == LIST_NOT_ENGAGED_BUT_COMMISSIONED
    assert found.loc["NMV02", "disagreement"] == LIST_ENGAGED_WITHOUT_EVIDENCE
    assert found.loc["NMV02", "icb_code"] == HUMBER
    assert len(found) == 2
    rows = analysis.metrics.set_index("icb_code")
    assert rows.loc[MANCHESTER, "status_basis"] == "engagement list"
    assert rows.loc["E54000054", "status_basis"] == "open data"  # the list covers two ICBs


def test_without_evidence_or_a_list_statuses_stay_unknown_with_no_basis(hospital_frames):
    analysis = analyse(dataclasses.replace(hospital_frames, evidence=None))

    assert set(analysis.assigned["planning_basis"]) == {"none"}
    assert set(analysis.metrics["status_basis"]) == {"none"}
    assert analysis.evidence is None
    assert disagreements(analysis).empty
