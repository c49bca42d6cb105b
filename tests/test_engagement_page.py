"""The engagement part of the upload page with AppTest: the match report with near misses
to accept, the editor of one ICB's providers, and problems shown in the open."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.analysis.engagement import apply_engagement
from geo.fetch import sources
from geo.model import access
from geo.publish import publishing
from geo.store.versions import open_store
from tests.factories import CQC_FIXTURE, PROJECT_DIR

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
DASHBOARD = str(PROJECT_DIR / "dashboard.py")
BLACKBURN = "E54000048"  # Lancashire and South Cumbria, where the fixture's Blackburn sites are
# Two exact names, two near misses, a name nobody has and an NHS trust.
ENGAGEMENT_CSV = (
    b"Provider,Provider ID,Status\n"
    b"East Lancashire Hospice,,engaged\n"
    b"Meadowbank Care,,engaged\n"
    b"Oakwood Home,,engaged\n"
    b"Penine Living,,engaged\n"
    b"Sunshine Lodge,,engaged\n"
    b"East Lancashire Hospitals NHS Trust,RXR,engaged\n"
)


@pytest.fixture(autouse=True)
def _fresh_app(monkeypatch):
    """No author setting, and no store or analysis cached by an earlier test's data folder."""
    monkeypatch.delenv("ICS_AUTHOR", raising=False)
    monkeypatch.delenv("ICS_ONSPD_PATH", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def published(data_dir, fixtures_dir, shared_data):
    """The cached boundaries, and the CQC fixture published as the provider list."""
    sources.fetch_from_dir(shared_data)
    with open_store() as store:
        prepared = publishing.prepare(fixtures_dir / CQC_FIXTURE, "sites")
        publishing.publish(prepared, store, by=access.local_user("setup"))


def _page(name: str) -> AppTest:
    app = AppTest.from_file(DASHBOARD, default_timeout=180).run()
    app.switch_page(f"pages/{name}.py")
    return app.run()


def _engagement_page() -> AppTest:
    app = _page("upload")
    app.radio(key="upload-kind").set_value("Engagement list").run()
    return app


def _checked_list() -> AppTest:
    app = _engagement_page()
    upload = ("engaged.csv", ENGAGEMENT_CSV, "text/csv")
    app.file_uploader(key="upload-file-engagement").set_value(upload).run()
    app.button(key="upload-check").click().run()
    return app


def _statuses() -> dict[str, str]:
    """The planning status of each I+V provider as every page now sees it."""
    with open_store() as store:
        sites = store.load("sites")
        listed = store.load("engagement")
    result, _ = apply_engagement(sites, listed)
    iv = result[result["sector"].isin(["Independent", "Voluntary"])]
    return dict(zip(iv["provider_name"], iv["planning_status"], strict=True))


def test_the_match_report_shows_each_kind_of_match_with_its_count(published):
    app = _checked_list()
    assert not app.exception
    counts = {metric.label: metric.value for metric in app.metric}
    assert {k: counts[k] for k in ("Exact", "Approximate", "Unmatched")} == {
        "Exact": "2",
        "Approximate": "2",
        "Unmatched": "1",
    }
    assert counts["Not independent or voluntary"] == "1"
    near = app.data_editor[0].value
    assert near["matched_provider_name"].tolist() == ["Oakwood Homes Limited", "Pennine Living Ltd"]
    assert near["score"].between(85, 100).all()
    assert not near["accept"].any()
    shown = [table.value for table in app.dataframe if "matched_by" not in table.value]
    reports = [t for t in shown if "sites_not_iv" in t and "accept" not in t]
    assert [t["provider_name"].tolist() for t in reports][:2] == [
        ["Sunshine Lodge"],
        ["East Lancashire Hospitals NHS Trust"],
    ]


def test_two_near_misses_ticked_in_the_report_are_applied_once_published(published):
    app = _checked_list()
    editor = app.data_editor[0].key
    app.session_state[editor] = {
        "edited_rows": {0: {"accept": True}, 1: {"accept": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.text_input(key="author").input("Ada").run()
    app.button(key="upload-publish").click().run()
    assert not app.exception
    assert "Published engagement version 1 (6 rows) by Ada" in app.success[0].value
    statuses = _statuses()
    assert statuses["Oakwood Homes Limited"] == statuses["Pennine Living Ltd"] == "engaged"
    assert statuses["Mr Ben Jones"] == "not engaged"


def test_a_provider_marked_in_the_editor_is_saved_as_a_new_version_with_its_author(published):
    app = _engagement_page()
    app.radio(key="engagement-how").set_value("Mark providers in the app").run()
    app.selectbox(key="engagement-icb").set_value(BLACKBURN).run()
    table = app.data_editor[0].value
    row = table["provider_name"].tolist().index("Mr Ben Jones")
    assert table.loc[row, "planning_status"] == "unknown"
    app.session_state[app.data_editor[0].key] = {
        "edited_rows": {row: {"planning_status": "engaged", "edit_note": "called in March"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.text_input(key="author").input("Bo").run()
    app.button(key="engagement-save").click().run()
    assert not app.exception
    assert "Saved engagement version 1" in app.success[0].value
    with open_store() as store:
        version = store.version_info("engagement")
        listed = store.load("engagement")
    assert version.author == "Bo"
    assert listed[
        ["provider_name", "planning_status", "edit_note", "edited_by"]
    ].values.tolist() == [["Mr Ben Jones", "engaged", "called in March", "Bo"]]
    assert _statuses()["Mr Ben Jones"] == "engaged"


def test_a_missing_postcode_file_is_shown_open_naming_the_box_and_the_choices_stay(data_dir):
    app = _page("upload")
    upload = ("homes.csv", b"name,postcode\nRose House,BB2 6AA\n", "text/csv")
    app.file_uploader(key="upload-file-sites").set_value(upload).run()
    app.radio(key="upload-geocode").set_value("Offline (ONSPD file)").run()
    sector = next(box for box in app.selectbox if box.key.startswith("upload-sector-"))
    sector.set_value("Voluntary").run()
    app.button(key="upload-check").click().run()

    assert not app.exception
    assert not app.expander  # nothing folded away
    message = " ".join(error.value for error in app.error)
    assert "needs an ONSPD or NSPL file" in message
    assert "'ONSPD/NSPL file' box above" in message
    assert "--postcodes" not in message
    assert app.radio(key="upload-geocode").value == "Offline (ONSPD file)"
    assert next(b for b in app.selectbox if b.key.startswith("upload-sector-")).value == "Voluntary"


def test_a_file_that_cannot_be_read_names_the_file_box_and_stays_on_screen(data_dir):
    app = _page("upload")
    app.file_uploader(key="upload-file-sites").set_value(
        ("colours.csv", b"colour\nred\n", "text/csv")
    )
    app.run()
    app.button(key="upload-check").click().run()
    assert "colours.csv" in app.error[0].value
    assert "'File' box above" in app.error[0].value
    app.radio(key="upload-geocode").set_value("Online (postcodes.io)").run()  # another choice
    assert "colours.csv" in app.error[0].value
