"""The engagement match report as reviewed on the upload page: kinds, counts, accepting."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.engagement import apply_engagement
from geo.model.errors import InputError
from geo.publish.engagement_review import (
    APPROXIMATE,
    EXACT,
    NOT_IV,
    UNMATCHED,
    accept_matches,
    kind_counts,
    match_report,
)

_LEEDS = "E54000054"


@pytest.fixture
def sites() -> pd.DataFrame:
    rows = [
        ("s1", "1-101", "Helping Hands Home Care Ltd", "Independent"),
        ("s2", "1-202", "Sunrise Senior Living", "Independent"),
        ("s3", "1-303", "Rose Court Care Home", "Voluntary"),
        ("s4", "RR8", "Leeds Teaching Hospitals NHS Trust", "NHS"),
    ]
    table = pd.DataFrame.from_records(
        rows, columns=["site_id", "provider_id", "provider_name", "sector"]
    )
    return table.assign(icb_code=_LEEDS, planning_status="unknown").astype("string")


@pytest.fixture
def listed() -> pd.DataFrame:
    rows = [
        ("1-303", "Rose Court", "engaged"),
        (None, "Helping Hand Home Care", "engaged"),
        (None, "Sunrise Senior Livng", "engaged"),
        (None, "Nobody We Know", "engaged"),
        ("RR8", None, "engaged"),
    ]
    frame = pd.DataFrame.from_records(
        rows, columns=["provider_id", "provider_name", "planning_status"]
    )
    frame = frame.assign(icb_code=pd.NA, row=range(2, 2 + len(rows)))
    return frame.astype(
        {c: "string" for c in ("provider_id", "provider_name", "planning_status", "icb_code")}
    )


def _status(sites: pd.DataFrame, listed: pd.DataFrame) -> dict[str, str]:
    result, _ = apply_engagement(sites, listed)
    return dict(zip(result["site_id"], result["planning_status"], strict=True))


def test_each_row_is_one_kind_and_the_counts_add_up(sites, listed):
    report = match_report(sites, listed)
    assert report["kind"].tolist() == [EXACT, APPROXIMATE, APPROXIMATE, UNMATCHED, NOT_IV]
    assert kind_counts(report) == {EXACT: 1, APPROXIMATE: 2, UNMATCHED: 1, NOT_IV: 1}


def test_accepted_near_misses_are_applied_and_the_others_are_not(sites, listed):
    report = match_report(sites, listed)
    before = _status(sites, listed)

    accepted = accept_matches(listed, report, [3])

    assert accepted["accepted_match"].tolist()[:3] == [pd.NA, "Helping Hands Home Care Ltd", pd.NA]
    after = _status(sites, accepted)
    assert (before["s1"], after["s1"]) == ("not engaged", "engaged")
    assert after["s2"] == "not engaged"


def test_only_approximate_rows_can_be_accepted(sites, listed):
    with pytest.raises(InputError, match="row\\(s\\) 2, 5 have no approximate match"):
        accept_matches(listed, match_report(sites, listed), [2, 3, 5])
