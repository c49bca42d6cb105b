"""Engagement kept up to date in the app: the editor's table and the version it saves."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo.analysis.engagement import apply_engagement
from geo.model import access
from geo.publish.engagement_edits import (
    changed_providers,
    edited_list,
    providers_of_icb,
    publish_edits,
)
from geo.store.versions import open_store

_LEEDS = "E54000054"
_BRISTOL = "E54000039"
_TODAY = date(2025, 3, 14)


@pytest.fixture
def sites() -> pd.DataFrame:
    """Assigned sites: two ICBs, one provider with sites in both, an NHS trust."""
    rows = [
        ("s1", "1-101", "Barchester Healthcare", "Independent", _LEEDS, "engaged"),
        ("s2", "1-101", "Barchester Healthcare", "Independent", _LEEDS, "engaged"),
        ("s3", "1-101", "Barchester Healthcare", "Independent", _BRISTOL, "engaged"),
        ("s4", "1-202", "Café Care", "Voluntary", _LEEDS, "not engaged"),
        ("s5", None, "Ivy Lodge", "Independent", _LEEDS, "not engaged"),
        ("s6", "RR8", "Leeds Teaching Hospitals", "NHS", _LEEDS, "unknown"),
    ]
    columns = ["site_id", "provider_id", "provider_name", "sector", "icb_code", "planning_status"]
    return pd.DataFrame.from_records(rows, columns=columns).astype("string")


def _list(*rows: tuple) -> pd.DataFrame:
    """An engagement list as published: (id, name, icb, status), rows numbered from 2."""
    frame = pd.DataFrame.from_records(
        [(*row, n) for n, row in enumerate(rows, start=2)],
        columns=["provider_id", "provider_name", "icb_code", "planning_status", "row"],
    )
    return frame.astype(
        {
            "provider_id": "string",
            "provider_name": "string",
            "icb_code": "string",
            "planning_status": "string",
            "row": "int64",
        }
    )


def _statuses(sites: pd.DataFrame, listed: pd.DataFrame) -> dict[str, str]:
    result, _ = apply_engagement(sites, listed)
    return dict(zip(result["site_id"], result["planning_status"], strict=True))


def test_the_editor_lists_each_iv_provider_of_the_icb_once_with_its_sites_there(sites):
    table = providers_of_icb(sites, _LEEDS, None)
    assert table["provider_name"].tolist() == ["Barchester Healthcare", "Café Care", "Ivy Lodge"]
    assert table["sites"].tolist() == [2, 1, 1]
    assert table["planning_status"].tolist() == ["engaged", "not engaged", "not engaged"]
    assert table["edited_on"].isna().all()


def test_only_the_rows_the_analyst_changed_are_changes(sites):
    before = providers_of_icb(sites, _LEEDS, None)
    after = before.copy()
    after.loc[2, "planning_status"] = "engaged"
    after.loc[1, "edit_note"] = "met them in March"
    assert changed_providers(before, after)["provider_name"].tolist() == ["Café Care", "Ivy Lodge"]


def test_a_change_becomes_a_dated_row_that_wins_over_the_lists_row(sites):
    current = _list(("1-202", None, None, "not engaged"), ("1-101", None, None, "engaged"))
    before = providers_of_icb(sites, _LEEDS, current)
    after = before.copy()
    after.loc[1, ["planning_status", "edit_note"]] = ["engaged", "signed the compact"]

    listed = edited_list(
        current, changed_providers(before, after), _LEEDS, author="ada", today=_TODAY
    )

    assert len(listed) == 3
    added = listed.iloc[-1]
    assert added[["provider_id", "icb_code", "planning_status", "row"]].tolist() == [
        "1-202",
        _LEEDS,
        "engaged",
        4,
    ]
    assert added[["edit_note", "edited_on", "edited_by"]].tolist() == [
        "signed the compact",
        "2025-03-14",
        "ada",
    ]
    assert _statuses(sites, listed)["s4"] == "engaged"


def test_a_provider_without_an_id_is_named_and_a_later_change_replaces_the_earlier(sites):
    before = providers_of_icb(sites, _LEEDS, None)
    first = before.copy()
    first.loc[2, "planning_status"] = "engaged"
    once = edited_list(None, changed_providers(before, first), _LEEDS, author="ada", today=_TODAY)
    shown = providers_of_icb(sites, _LEEDS, once)
    assert shown.loc[2, "edited_on"] == _TODAY
    second = shown.copy()
    second.loc[2, ["planning_status", "edited_on"]] = ["not engaged", date(2025, 4, 1)]

    twice = edited_list(once, changed_providers(shown, second), _LEEDS, author="bo", today=_TODAY)

    assert twice[
        ["provider_name", "planning_status", "edited_on", "edited_by"]
    ].values.tolist() == [["Ivy Lodge", "not engaged", "2025-04-01", "bo"]]
    assert _statuses(sites, twice)["s5"] == "not engaged"


def test_a_change_in_one_icb_leaves_the_providers_sites_elsewhere_as_the_list_says(sites):
    current = _list(("1-101", None, None, "engaged"))
    before = providers_of_icb(sites, _LEEDS, current)
    after = before.copy()
    after.loc[0, "planning_status"] = "not engaged"
    listed = edited_list(
        current, changed_providers(before, after), _LEEDS, author="ada", today=_TODAY
    )
    statuses = _statuses(sites, listed)
    assert [statuses[s] for s in ("s1", "s2", "s3")] == ["not engaged", "not engaged", "engaged"]


def test_saving_publishes_the_next_engagement_version_with_its_author(sites, data_dir):
    before = providers_of_icb(sites, _LEEDS, None)
    after = before.copy()
    after.loc[1, "planning_status"] = "engaged"
    with open_store() as store:
        version = publish_edits(
            store,
            changed_providers(before, after),
            _LEEDS,
            by=access.local_user("ada"),
            today=_TODAY,
        )
        stored = store.load("engagement")
    assert (version.dataset, version.version, version.author) == ("engagement", 1, "ada")
    assert version.file_name == f"1 change in {_LEEDS}, made in the app"
    assert stored["provider_id"].tolist() == ["1-202"]
    assert stored["edited_by"].tolist() == ["ada"]
