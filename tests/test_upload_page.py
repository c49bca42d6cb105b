"""The analysts' pages with streamlit's AppTest: upload, check, publish, and the audit log.

AppTest reruns only the page script after a widget event, not dashboard.py, so what
other pages show after a publish is looked at with a fresh AppTest, as the next visitor.
"""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.analysis import readable
from geo.fetch import sources
from geo.io import recognise
from geo.model import access
from geo.publish import publishing
from geo.store.versions import open_store
from tests.factories import (
    CQC_FIXTURE,
    CQC_FIXTURE_UNUSABLE,
    PROJECT_DIR,
    cqc_fixture_ids,
    feature_table,
)

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
DASHBOARD = str(PROJECT_DIR / "dashboard.py")


@pytest.fixture(autouse=True)
def _fresh_app(monkeypatch):
    """No author setting, and no store or analysis cached by an earlier test's data folder."""
    monkeypatch.delenv("ICS_AUTHOR", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def _page(name: str) -> AppTest:
    """A visitor opening the app, then one of the analysts' pages from its navigation."""
    app = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    app.switch_page(f"pages/{name}.py")
    return app.run()


def _upload(app: AppTest, name: str, content: bytes, kind: str = "sites") -> AppTest:
    app.file_uploader(key=f"upload-file-{kind}").set_value((name, content, "text/csv"))
    return app.run()


def _errors(app: AppTest) -> str:
    return " ".join(error.value for error in app.error)


def _publish_cqc(fixtures_dir, author: str) -> None:
    with open_store() as store:
        prepared = publishing.prepare(fixtures_dir / CQC_FIXTURE, "sites")
        publishing.publish(prepared, store, by=access.operating_system_user(author))


def test_the_analyst_pages_are_in_the_navigation_unless_uploads_are_switched_off(
    data_dir, monkeypatch
):
    app = _page("upload")
    assert not app.exception
    assert app.title[0].value == "Upload data"
    monkeypatch.setenv("ICS_ALLOW_UPLOADS", "false")
    hidden = AppTest.from_file(DASHBOARD, default_timeout=60).run()
    for page in ("upload", "versions"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            hidden.switch_page(f"pages/{page}.py")


def test_a_cqc_file_shows_counts_that_add_up_the_rows_and_a_publish_button(data_dir, fixtures_dir):
    rows, unusable = len(cqc_fixture_ids(fixtures_dir)), len(CQC_FIXTURE_UNUSABLE)
    app = _upload(_page("upload"), CQC_FIXTURE, (fixtures_dir / CQC_FIXTURE).read_bytes())
    assert "CQC HSCA Active Locations" in " ".join(m.value for m in app.markdown)
    app.button(key="upload-check").click().run()
    assert not app.exception
    counts = {metric.label: int(metric.value) for metric in app.metric}
    assert counts == {"Accepted": rows - unusable, "With warnings": 0, "Rejected": unusable}
    rows = app.dataframe[0].value
    assert len(rows) == sum(counts.values())
    assert set(rows["status"]) == {"accepted", "rejected"}
    assert "upload-publish" in [button.key for button in app.button]
    downloads = [button.proto.label for button in app.get("download_button")]
    assert downloads == ["Download the rejected rows (CSV)", "Download the full report (CSV)"]


def test_an_upload_is_sniffed_once_from_recognition_to_the_check(
    data_dir, fixtures_dir, monkeypatch
):
    sniffed, sniff = [], recognise.sniff
    monkeypatch.setattr(
        recognise, "sniff", lambda *a, **kw: sniffed.append(a[0]) or sniff(*a, **kw)
    )
    app = _upload(_page("upload"), CQC_FIXTURE, (fixtures_dir / CQC_FIXTURE).read_bytes())
    app.button(key="upload-check").click().run()
    assert not app.exception
    assert sum(int(metric.value) for metric in app.metric) == 11
    assert len(sniffed) == 1


def test_the_rows_can_be_filtered_by_status(data_dir, fixtures_dir):
    app = _upload(_page("upload"), CQC_FIXTURE, (fixtures_dir / CQC_FIXTURE).read_bytes())
    app.button(key="upload-check").click().run()
    app.multiselect(key="upload-show").set_value(["rejected"]).run()
    rows = app.dataframe[0].value
    ids = cqc_fixture_ids(fixtures_dir)
    assert list(rows["row"]) == [ids.index(site_id) + 1 for site_id in CQC_FIXTURE_UNUSABLE]
    assert rows["reason"].str.len().gt(0).all()


def test_a_file_that_cannot_be_read_shows_one_error_and_no_traceback(data_dir):
    app = _upload(_page("upload"), "colours.csv", b"colour,weight\nred,3\n")
    app.button(key="upload-check").click().run()
    assert not app.exception
    assert "colours.csv" in _errors(app)
    assert "upload-publish" not in [button.key for button in app.button]


def test_an_ods_report_without_coordinates_is_checked_but_cannot_be_published(
    data_dir, fixtures_dir
):
    content = (fixtures_dir / "ets.csv").read_bytes()
    rows = len(content.splitlines())  # an NHS ODS report has no header row
    app = _upload(_page("upload"), "ets.csv", content)
    assert "NHS ODS report" in " ".join(m.value for m in app.markdown)
    app.button(key="upload-check").click().run()
    assert not app.exception
    counts = {metric.label: int(metric.value) for metric in app.metric}
    assert counts == {"Accepted": 0, "With warnings": 0, "Rejected": rows}
    assert f"nothing to publish: all {rows} rows of ets.csv were rejected" in app.warning[0].value
    assert "upload-publish" not in [button.key for button in app.button]


def test_a_boundary_file_of_a_new_vintage_is_published_under_its_own_name(data_dir, shared_data):
    app = _page("upload")
    app.radio(key="upload-kind").set_value("Boundary file").run()
    content = (shared_data / "icb_2022_07_buc.geojson").read_bytes()
    icbs = len(feature_table(shared_data / "icb_2022_07_buc.geojson"))
    _upload(app, "icb_2027.geojson", content, kind="boundaries")
    assert "ONS ICB boundaries" in " ".join(m.value for m in app.markdown)
    app.text_input(key="upload-vintage").input("2027").run()
    app.button(key="upload-check").click().run()
    assert sum(int(metric.value) for metric in app.metric) == icbs
    app.button(key="upload-publish").click().run()
    assert not app.exception
    assert f"Published boundaries-icb-2027 version 1 ({icbs} rows)" in app.success[0].value


def test_a_damaged_spreadsheet_is_named_as_soon_as_it_is_uploaded(data_dir):
    app = _upload(_page("upload"), "sites.xlsx", b"this is not a workbook")
    assert not app.exception
    assert "sites.xlsx" in _errors(app)
    assert "upload-check" not in [button.key for button in app.button]


def test_a_file_over_the_upload_limit_is_refused_naming_the_limit(data_dir, monkeypatch):
    monkeypatch.setenv("ICS_UPLOAD_LIMIT_MB", "0.0001")
    app = _upload(_page("upload"), "big.csv", b"name,lat,lon\n" + b"A,53.8,-1.55\n" * 20)
    assert not app.exception
    assert "upload limit is 0.0001 MB" in _errors(app)


def test_a_generic_list_gets_column_suggestions_and_a_preview(data_dir, fixtures_dir):
    content = (fixtures_dir / "validation_provider_list.csv").read_bytes()
    app = _upload(_page("upload"), "my_list.csv", content)
    assert not app.exception
    chosen = {box.label: box.value for box in app.selectbox if box.key.startswith("map-")}
    assert chosen["postcode"] == "Postcode"
    assert chosen["lat"] == "Latitude"
    assert chosen["easting"] == "(none)"
    preview = app.dataframe[0].value
    assert list(preview.columns) == list(pd.read_csv(fixtures_dir / "validation_provider_list.csv"))
    app.button(key="upload-check").click().run()
    counts = [int(metric.value) for metric in app.metric]
    assert sum(counts) == len(pd.read_csv(fixtures_dir / "validation_provider_list.csv"))


def test_publishing_on_the_page_is_what_the_home_page_then_shows(
    data_dir, fixtures_dir, shared_data
):
    sources.fetch_from_dir(shared_data)
    app = _upload(_page("upload"), CQC_FIXTURE, (fixtures_dir / CQC_FIXTURE).read_bytes())
    app.button(key="upload-check").click().run()
    app.text_input(key="author").input("Ada").run()
    app.button(key="upload-publish").click().run()
    assert not app.exception
    usable = len(cqc_fixture_ids(fixtures_dir)) - len(CQC_FIXTURE_UNUSABLE)
    assert f"Published sites version 1 ({usable} rows) by Ada" in app.success[0].value
    home = AppTest.from_file(DASHBOARD, default_timeout=120)
    home.query_params["vintage"] = "2024"
    home.run()
    metrics, provenance = home.dataframe[0].value, home.dataframe[1].value
    assert metrics[readable.label("sites_total")].sum() == usable
    assert "sites v1" in provenance["version"].tolist()


def test_the_versions_page_lists_the_audit_log_and_reverts(data_dir, fixtures_dir):
    for author in ("alice", "bob"):
        _publish_cqc(fixtures_dir, author)
    app = _page("versions")
    assert not app.exception
    log = app.dataframe[1].value
    assert list(log["version"]) == [2, 1]
    assert list(log["author"]) == ["bob", "alice"]
    assert set(log["file_name"]) == {CQC_FIXTURE}
    app.text_input(key="author").input("carol").run()
    app.button(key="versions-revert").click().run()
    assert not app.exception
    assert "version 3 now holds the rows of version 1" in app.success[0].value
    again = _page("versions").dataframe[1].value
    assert list(again["action"]) == ["revert", "publish", "publish"]
    assert again.loc[again["current"], "author"].tolist() == ["carol"]


def test_with_nothing_published_the_versions_page_says_so(data_dir):
    app = _page("versions")
    assert not app.exception
    assert "Nothing has been published yet" in app.info[0].value


# Reading a list as another format, and one sector for the whole file


def _selectbox(app: AppTest, prefix: str):
    return next(box for box in app.selectbox if box.key.startswith(prefix))


def test_cqc_api_records_are_recognised_and_undecided_sectors_are_said(data_dir, fixtures_dir):
    content = (fixtures_dir / "cqc_api_locations.json").read_bytes()
    app = _page("upload")
    app.file_uploader(key="upload-file-sites").set_value(
        ("devon.json", content, "application/json")
    )
    app.run()
    assert "CQC API location records" in " ".join(m.value for m in app.markdown)
    assert _selectbox(app, "upload-format-").value == "cqc_api"
    app.button(key="upload-check").click().run()
    assert not app.exception
    assert sum(int(metric.value) for metric in app.metric) == 6
    notes = " ".join(info.value for info in app.info)
    assert "4 of 6 rows have no sector (Unknown)" in notes
    assert "council_name needs column Provider Name (4 rows)" in notes


def test_the_recognised_format_can_be_overridden(data_dir, fixtures_dir):
    app = _upload(_page("upload"), CQC_FIXTURE, (fixtures_dir / CQC_FIXTURE).read_bytes())
    read_as = _selectbox(app, "upload-format-")
    assert read_as.value == "cqc"
    assert not [box for box in app.selectbox if box.key.startswith("map-")]

    read_as.set_value("generic").run()

    assert not app.exception
    mapped = {box.label: box.value for box in app.selectbox if box.key.startswith("map-")}
    assert mapped["site_name"] == "Location Name"  # the column-mapping step of a generic list
    app.button(key="upload-check").click().run()
    assert "no sector column" in " ".join(info.value for info in app.info)


def test_one_sector_can_be_set_for_a_list_without_one_and_is_published(data_dir):
    content = b"name,lat,lon\nRose House,50.7,-3.5\nIvy House,50.8,-3.6\n"
    app = _upload(_page("upload"), "homes.csv", content)
    sector = _selectbox(app, "upload-sector-")
    assert sector.value == "from the file"
    app.button(key="upload-check").click().run()
    notes = " ".join(info.value for info in app.info)
    assert "no sector column, so 2 rows are counted as Unknown" in notes

    sector.set_value("Voluntary").run()
    app.button(key="upload-check").click().run()
    assert "Sector set to Voluntary for every row" in " ".join(i.value for i in app.info)
    app.button(key="upload-publish").click().run()

    assert not app.exception
    with open_store() as store:
        published = store.load("sites")
    assert set(published["sector"]) == {"Voluntary"}
    assert set(published["sector_rule"]) == {"set_for_file"}
