"""Several provider sources at once: the union every page sees, the change preview, the CLI
and the upload and versions pages (AppTest)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo import workspace
from geo.fetch import sources
from geo.io import readers
from geo.publish import changes
from geo.store.versions import DEFAULT_SOURCE, open_store
from tests.factories import PROJECT_DIR, run_cli

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
DASHBOARD = str(PROJECT_DIR / "dashboard.py")
HOSPITALS = "hospitals_england_2020_05_nhs_website.csv"


@pytest.fixture
def cached(data_dir, shared_data):
    """A data folder loaded the way an offline user would: `python -m geo fetch --from`."""
    sources.fetch_from_dir(shared_data)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield data_dir
    st.cache_resource.clear()


@pytest.fixture
def hospitals(shared_data) -> pd.DataFrame:
    return readers.read_sites(shared_data / HOSPITALS).sites


def _publish(store, sites: pd.DataFrame, source: str, file_name: str = "list.csv"):
    return store.publish(
        workspace.source_dataset(store, source), "sites", sites.reset_index(drop=True),
        author="analyst", file_name=file_name, checksum=file_name,
        counts={"accepted": len(sites)}, source=source,
    )  # fmt: skip


def test_everyone_sees_the_union_of_the_sources_with_shared_sites_once(cached, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:60], DEFAULT_SOURCE)
        _publish(store, hospitals.iloc[40:100], "nhs-trust-sites")  # 20 sites in both

        analysis = workspace.analyse("2023", store)
        label = workspace.current_sites(store)[1]

    assert analysis.metrics["sites_total"].sum() == 100
    both = analysis.assigned["sources"] == f"{DEFAULT_SOURCE}, nhs-trust-sites"
    assert int(both.sum()) == 20
    versions = analysis.provenance.query("dataset == 'sites'")["version"].tolist()
    assert versions == ["sites v1", "sites-nhs-trust-sites v1"]
    assert label == "Provider sites, sites v1 + sites-nhs-trust-sites v1"
    assert any("from 2 sources" in note.text for note in analysis.notes)


def test_a_withdrawn_source_drops_out_and_a_revert_brings_it_back(cached, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:30], DEFAULT_SOURCE)
        _publish(store, hospitals.iloc[30:50], "team")
        before = workspace.fingerprint(store)
        store.withdraw("sites-team", author="Lead")
        assert workspace.fingerprint(store) != before
        assert workspace.analyse("2023", store).metrics["sites_total"].sum() == 30
        store.revert("sites-team", 1, author="Lead")
        assert workspace.analyse("2023", store).metrics["sites_total"].sum() == 50


def test_an_earlier_version_of_one_source_can_be_pinned(cached, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:30], DEFAULT_SOURCE)
        _publish(store, hospitals.iloc[30:40], "team")
        _publish(store, hospitals.iloc[30:60], "team")
        pins = workspace.Pins(sources=(("sites-team", 1),))

        assert workspace.analyse("2023", store).metrics["sites_total"].sum() == 60
        assert workspace.analyse("2023", store, pins).metrics["sites_total"].sum() == 40


def test_the_preview_counts_sites_added_removed_and_changed_per_icb(cached, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:50], DEFAULT_SOURCE)
        new = hospitals.iloc[10:60].copy()  # 10 gone, 10 new
        new.loc[new.index[:3], "capacity"] = 999.0  # 3 changed
        expected_icbs = workspace.analyse("2023", store).assigned.set_index("site_id")["icb_code"]

        preview = changes.source_changes(store, DEFAULT_SOURCE, new, "2023")

    assert (preview.added, preview.removed, preview.changed) == (10, 10, 3)
    assert (preview.sites_before, preview.sites_after) == (50, 50)
    assert preview.by_icb[["added", "removed", "changed"]].sum().tolist() == [10, 10, 3]
    removed_ids = hospitals.iloc[:10]["site_id"]
    removed_icbs = expected_icbs.loc[removed_ids].value_counts()
    by_icb = preview.by_icb.set_index("icb_code")["removed"]
    assert by_icb[by_icb > 0].sort_index().to_dict() == removed_icbs.sort_index().to_dict()


def test_adding_a_source_whose_name_is_taken_or_replacing_one_that_is_not_is_refused(
    cached, hospitals
):
    from geo.model.errors import InputError

    with open_store() as store:
        _publish(store, hospitals.iloc[:5], "cqc-directory")
        with pytest.raises(InputError, match="already exists: choose 'replace'"):
            changes.check_source_choice(store, "cqc-directory", changes.ADD)
        with pytest.raises(InputError, match="sources are: cqc-directory"):
            changes.check_source_choice(store, "team", changes.REPLACE)
        assert changes.check_source_choice(store, "team", changes.ADD) == "team"


def test_the_cli_publishes_reverts_and_withdraws_a_named_source(cached, shared_data):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ICS_DATA_DIR"] = str(cached)
    listed = str(shared_data / HOSPITALS)

    first = run_cli("publish", listed, "--kind", "sites", env=env)
    second = run_cli("publish", listed, "--kind", "sites", "--source", "nhs-trust-sites", env=env)
    withdrawn = run_cli("withdraw", "--source", "nhs-trust-sites", env=env)
    reverted = run_cli("revert", "--source", "nhs-trust-sites", "--version", "1", env=env)
    bad = run_cli("publish", listed, "--kind", "sites", "--source", "Bad Name", env=env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "published sites-nhs-trust-sites v1" in second.stdout
    assert f"provider sources every page merges: {DEFAULT_SOURCE}, nhs-trust-sites" in second.stdout
    assert "sites-nhs-trust-sites v2: withdrawn (no rows)" in withdrawn.stdout
    assert "sites-nhs-trust-sites v3: back to the rows of v1" in reverted.stdout
    assert bad.returncode == 2
    assert "expected lower-case letters" in bad.stderr


# The pages, with AppTest.


def _page(name: str) -> AppTest:
    app = AppTest.from_file(DASHBOARD, default_timeout=180)
    app.query_params["vintage"] = "2023"
    app.run()
    app.switch_page(f"pages/{name}.py")
    return app.run()


def _check(app: AppTest, name: str, content: bytes) -> AppTest:
    app.file_uploader(key="upload-file-sites").set_value((name, content, "text/csv"))
    app.run()
    app.button(key="upload-check").click().run()
    return app


def test_the_upload_page_adds_a_second_source_then_replaces_it(cached, shared_data, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:40], DEFAULT_SOURCE)
    text = (shared_data / HOSPITALS).read_text(encoding="utf-8-sig").splitlines()
    extra = ("\n".join(text[:1] + text[31:61]) + "\n").encode()  # 10 shared, 20 new

    app = _check(_page("upload"), "Community Team.csv", extra)
    assert app.text_input(key="upload-source-name").value == "community-team"
    shown = " ".join(m.value for m in app.markdown)
    assert "shows 40 sites now and would show 60: 20 added, 0 removed" in shown
    assert app.dataframe[-1].value["added"].sum() == 20
    app.button(key="upload-publish").click().run()
    assert not app.exception
    assert "added provider source community-team" in app.success[0].value
    assert "Every page now shows 60 sites from 2 sources" in app.success[0].value

    app = _check(_page("upload"), "Community Team.csv", ("\n".join(text[:11]) + "\n").encode())
    app.radio(key="upload-source-action").set_value("Replace a source").run()
    app.selectbox(key="upload-source-replace").set_value("community-team").run()
    assert "would show 40: 0 added, 20 removed" in " ".join(m.value for m in app.markdown)
    app.button(key="upload-publish").click().run()
    assert "replaced provider source community-team" in app.success[0].value
    with open_store() as store:
        assert store.sources()["current_version"].tolist() == [1, 2]


def test_after_a_revert_the_sidebar_names_the_new_current_version(cached, hospitals):
    with open_store() as store:
        _publish(store, hospitals.iloc[:30], DEFAULT_SOURCE, "first.csv")
        _publish(store, hospitals.iloc[:50], DEFAULT_SOURCE, "second.csv")
    app = _page("versions")
    assert app.selectbox(key="pin-sites").label == "Provider list version (newest v2)"

    app.button(key="versions-revert").click().run()  # back to v1's rows, as v3

    assert "version 3 now holds the rows of version 1" in app.success[0].value
    picker = _page("versions").selectbox(key="pin-sites")  # the sidebar on the next run
    assert picker.label == "Provider list version (newest v3)"
    assert [option.split(" · ")[0] for option in picker.options] == ["Newest", "v3", "v2", "v1"]
    assert picker.options[picker.index] == "Newest"  # shown chosen, never an empty box
