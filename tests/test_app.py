"""The app's pages with streamlit's AppTest: what a user sees with no data and with real data."""

from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from geo.analysis import readable
from geo.analysis.metrics import NO_STATUS_KNOWN
from geo.fetch import sources
from tests.factories import PROJECT_DIR, feature_table

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
DASHBOARD = str(PROJECT_DIR / "dashboard.py")


@pytest.fixture
def loaded(data_dir, shared_data):
    """A data folder loaded the way an offline user would (`python -m geo fetch --from`)."""
    sources.fetch_from_dir(shared_data)
    return data_dir


def _home_metrics(app: AppTest):
    """The home page's metrics table under the machine names (it shows human labels)."""
    machine = {label: name for name, label in readable.COLUMN_LABELS.items()}
    return app.dataframe[0].value.rename(columns=machine)


def _app() -> AppTest:
    app = AppTest.from_file(DASHBOARD, default_timeout=120)
    app.query_params["vintage"] = "2024"
    return app


def test_with_no_data_the_home_page_says_what_is_missing_and_how_to_get_it(data_dir):
    app = AppTest.from_file(DASHBOARD, default_timeout=60).run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "python -m geo fetch" in warnings
    assert [b.label for b in app.button] == ["Download official data", "Load from folder"]


def test_loading_from_a_folder_in_the_app_fills_the_cache_and_shows_the_gaps(data_dir, shared_data):
    app = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    app.text_input(key="fetch-folder").input(str(shared_data)).run()
    app.button(key="fetch-offline").click().run()
    assert not app.exception
    # Look as the next visitor does: a fresh session sees the data now in the cache.
    after = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    assert after.selectbox(key="vintage").options == ["2022", "2023", "2024", "2026"]
    assert after.dataframe, "the metrics table is shown once data is loaded"


def test_home_page_shows_every_icb_of_the_chosen_vintage_and_the_provenance(loaded, shared_data):
    icbs = feature_table(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    app = _app().run()
    assert not app.exception
    metrics = _home_metrics(app)
    assert sorted(metrics["icb_code"]) == sorted([*icbs["ICB24CD"], "OUTSIDE"])
    provenance = app.dataframe[1].value
    assert provenance["data"].str.contains("ICB boundaries 2024").any()
    assert any("No planning-engagement list" in info.value for info in app.info)


def test_home_metrics_without_an_engagement_list_leave_shares_empty_and_say_why(loaded):
    app = _app().run()

    metrics = _home_metrics(app)
    icbs = metrics[metrics["icb_code"] != "OUTSIDE"]
    assert icbs["iv_outside_share"].isna().all()
    assert icbs["rank"].isna().all()
    assert set(icbs.loc[icbs["iv_sites"] > 0, "share_not_known_reason"]) == {NO_STATUS_KNOWN}
    assert any("is not known, never 0" in caption.value for caption in app.caption)


def test_home_page_boxes_warnings_and_captions_notes_whatever_their_words(loaded, monkeypatch):
    from geo import workspace
    from geo.analysis.pipeline import Note
    from geo.model import problems

    analyse = workspace.analyse
    aside = "The unknown sector rule was not applied to 3 sites."
    warning = "Half of the sites could not be placed."

    def with_notes(*args, **kwargs):
        analysis = analyse(*args, **kwargs)
        notes = (Note(aside, problems.NOTE), Note(warning, problems.WARNING))
        analysis = dataclasses.replace(analysis, notes=notes)
        return analysis

    monkeypatch.setattr(workspace, "analyse", with_notes)
    app = _app().run()
    assert not app.exception
    infos = [info.value for info in app.info]
    assert warning in infos
    assert aside not in infos
    assert aside in [caption.value for caption in app.caption]


def test_choosing_another_vintage_recomputes_for_its_icbs(loaded, shared_data):
    icbs = feature_table(shared_data / "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson")
    app = _app().run()
    app.selectbox(key="vintage").select("2026").run()
    assert not app.exception
    assert sorted(_home_metrics(app)["icb_code"]) == sorted([*icbs["ICB26CD"], "OUTSIDE"])
    assert app.query_params["vintage"] == "2026"


def test_briefing_page_shows_the_chosen_icb_and_offers_pdf_and_powerpoint(loaded):
    app = _app()
    app.switch_page("pages/briefing.py")
    app.query_params["area"] = "E54000008"
    app.run()
    assert not app.exception
    assert app.selectbox(key="briefing-area").value == "E54000008"
    html = " ".join(str(element.proto) for element in app.get("html"))
    assert "Cheshire and Merseyside" in html
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download PDF (A4)", "Download PowerPoint"]


def _counted(monkeypatch, module, name: str) -> list:
    """Replace module.name by a wrapper that records each call; the list of calls."""
    calls, real = [], getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_briefing_is_built_once_for_the_screen_and_both_downloads(loaded, monkeypatch):
    from geo.briefing import documents, images, pdf, slides

    projected = _counted(monkeypatch, images, "map_layers")
    facts = _counted(monkeypatch, documents, "area_briefing")
    drawn = _counted(monkeypatch, images, "illustrate")
    pdfs = _counted(monkeypatch, pdf, "briefing_pdf")
    decks = _counted(monkeypatch, slides, "briefing_pptx")
    app = _app()
    app.switch_page("pages/briefing.py")
    app.query_params["area"] = "E54000008"

    app.run().run()  # shown, then a rerun (as after a download click)

    assert not app.exception
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download PDF (A4)", "Download PowerPoint"]
    assert (len(facts), len(drawn), len(pdfs), len(decks)) == (1, 1, 1, 1)
    app.selectbox(key="briefing-area").select("E54000054").run()
    assert not app.exception
    assert (len(facts), len(drawn)) == (2, 2)  # the other ICB's own figures and images
    assert len(projected) == 1  # but the sites are projected once for the analysis


def test_briefing_page_for_england_offers_the_national_deck(loaded):
    app = _app()
    app.switch_page("pages/briefing.py")
    app.run()
    assert not app.exception
    assert app.selectbox(key="briefing-area").value == "england"
    assert "Prepare the national deck (one slide per ICS)" in [b.label for b in app.button]


def test_pages_use_the_newest_published_list_unless_an_earlier_version_is_picked(
    loaded, shared_data
):
    from geo.io import readers
    from geo.store.versions import open_store

    hospitals = readers.read_sites(shared_data / "hospitals_england_2020_05_nhs_website.csv").sites
    with open_store() as store:
        for count in (50, 80):
            store.publish(
                "sites", "sites", hospitals.head(count).reset_index(drop=True),
                author="analyst", file_name=f"first{count}.csv", checksum=str(count),
                counts={"accepted": count},
            )  # fmt: skip
    app = _app().run()
    assert not app.exception
    assert _home_metrics(app)["sites_total"].sum() == 80
    picker = app.selectbox(key="pin-sites")
    assert picker.label == "Provider list version (newest v2)"
    assert picker.options[0] == "Newest"
    picker.select(1).run()
    assert not app.exception
    assert _home_metrics(app)["sites_total"].sum() == 50
    assert "sites v1" in app.dataframe[1].value["version"].tolist()


def test_an_unexpected_failure_is_a_message_not_a_traceback(loaded, monkeypatch):
    from geo import workspace

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workspace, "analyse", broken)
    app = _app().run()
    assert not app.exception
    assert [error.value for error in app.error] == ["The data could not be analysed."]
    assert "RuntimeError: disk on fire" in str(app.get("code")[0].proto)


# Faults of the store: one message on every page, never a traceback, never a password.

SECRET = "s3cr3t-Pa55"
PAGES = [
    "pages/home.py",
    "pages/explorer.py",
    "pages/briefing.py",
    "pages/upload.py",
    "pages/versions.py",
]


def _everything_shown(app: AppTest) -> str:
    """The text of every element on the page and in the sidebar."""
    shown: list[str] = []

    def walk(node) -> None:
        if getattr(node, "proto", None) is not None:
            shown.append(str(node.proto))
        children = getattr(node, "children", None) or {}
        for child in children.values() if isinstance(children, dict) else children:
            walk(child)

    walk(app._tree)
    return "\n".join(shown)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql://ics:{SECRET}@[::1:5432/ics", "end of string reached"),
        (f"postgresql://ics:{SECRET}@127.0.0.1:1/ics?connect_timeout=2", "Connection refused"),
    ],
    ids=["malformed host", "unreachable"],
)
@pytest.mark.parametrize("page", PAGES)
def test_a_store_that_cannot_be_opened_is_one_message_on_every_page(
    loaded, monkeypatch, caplog, page, url, reason
):
    monkeypatch.setenv("DATABASE_URL", url)
    app = _app()
    app.switch_page(page)
    app.run()

    assert not app.exception
    assert len(app.error) == 1
    assert app.error[0].value.startswith("The data store cannot be used")
    assert reason in app.error[0].value
    assert SECRET not in _everything_shown(app)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("page", ["pages/home.py", "pages/versions.py"])
def test_a_damaged_sqlite_store_is_one_message_naming_the_file(loaded, page):
    (loaded / "store.sqlite").write_bytes(b"not a database" * 1000)
    app = _app()
    app.switch_page(page)
    app.run()

    assert not app.exception
    assert [error.value for error in app.error] == [
        f"The data store cannot be used, so no page can show its data. store {loaded / 'store.sqlite'}: "
        "file is not a database (SQLITE_NOTADB); this file is not an SQLite store and nothing was "
        "changed: restore it from a backup, or move it aside and the app starts an empty one"
    ]


def test_damaged_rows_of_the_published_list_are_one_message_not_a_traceback(loaded, shared_data):
    from geo.io import readers
    from geo.store import backends
    from geo.store.versions import open_store

    hospitals = readers.read_sites(shared_data / "hospitals_england_2020_05_nhs_website.csv").sites
    with open_store() as store:
        store.publish(
            "sites", "sites", hospitals, author="analyst", file_name="h.csv", checksum="h",
            counts={"accepted": len(hospitals)},
        )  # fmt: skip
        piece = backends.read_payload(store._db, "sites", 1)[20_000:20_064]
    path = loaded / "store.sqlite"
    data = path.read_bytes()
    assert data.count(piece) == 1
    start = data.index(piece)
    path.write_bytes(data[:start] + bytes(64) + data[start + 64 :])

    app = _app().run()

    assert not app.exception
    assert len(app.error) == 1
    assert app.error[0].value.startswith(
        f"store {path}: sites version 1: its stored rows cannot be read (could not verify page "
        "integrity, CRC checksum verification failed"
    )


def test_an_unexpected_failure_is_logged_and_shown_without_a_password(loaded, monkeypatch, caplog):
    from geo import workspace

    def broken(*args, **kwargs):
        raise RuntimeError(f"lost postgresql://ics:{SECRET}@db.internal/ics")

    monkeypatch.setattr(workspace, "analyse", broken)
    app = _app().run()

    assert [error.value for error in app.error] == ["The data could not be analysed."]
    assert "postgresql://ics:***@db.internal/ics" in _everything_shown(app)
    assert "The data could not be analysed." in caplog.text
    assert "RuntimeError" in caplog.text
    assert SECRET not in _everything_shown(app)
    assert SECRET not in caplog.text


@pytest.fixture
def postgres_store(loaded, monkeypatch):
    """The loaded data folder, its store in a fresh PostgreSQL schema; connections tagged."""
    from tests.conftest import postgres_schema_url

    for url in postgres_schema_url():
        tagged = f"{url}&application_name=ics-app-test"
        monkeypatch.setenv("DATABASE_URL", tagged)
        yield tagged


@pytest.mark.postgres
def test_pages_keep_working_after_the_database_drops_the_apps_connection(postgres_store):
    import psycopg

    app = _app().run()
    assert not app.exception
    with psycopg.connect(postgres_store, autocommit=True) as connection:
        dropped = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'ics-app-test' AND pid <> pg_backend_pid()"
        ).fetchall()
    assert dropped  # the app's cached connection is gone, as after a server restart

    app.run()

    assert not app.exception
    assert not app.error
    assert len(app.dataframe[0].value) == 43


@pytest.mark.parametrize("page", ["pages/home.py", "pages/versions.py"])
def test_a_store_fault_met_while_a_page_draws_is_a_message_not_a_traceback(
    loaded, monkeypatch, page
):
    from geo.model.errors import InputError
    from geo.store.versions import Store

    def lost(self, *args, **kwargs):
        raise InputError("store postgresql://db:5432/ics: the connection to PostgreSQL was lost")

    monkeypatch.setattr(Store, "current_version", lost)  # the sidebar's version pickers ask it
    app = _app()
    app.switch_page(page)
    app.run()

    assert not app.exception
    assert app.error
    assert all("the connection to PostgreSQL was lost" in error.value for error in app.error)


def test_home_table_reads_in_labels_highest_share_first_unknown_last(loaded, shared_data):
    from geo.io import readers
    from geo.model.providers import ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS
    from geo.store.versions import open_store

    hospitals = readers.read_sites(shared_data / "hospitals_england_2020_05_nhs_website.csv").sites
    independent = hospitals.index[hospitals["sector"] == "Independent"]
    hospitals.loc[independent[::3], "planning_status"] = NOT_ENGAGED
    hospitals.loc[independent.difference(independent[::3]), "planning_status"] = ENGAGED
    no_list = independent[hospitals.loc[independent, "icb24_code"] == "E54000054"]
    hospitals.loc[no_list, "planning_status"] = UNKNOWN_STATUS  # West Yorkshire: not known
    with open_store() as store:
        store.publish(
            "sites", "sites", hospitals, author="analyst", file_name="statuses.csv",
            checksum="s", counts={"accepted": len(hospitals)},
        )  # fmt: skip
    app = _app().run()

    table = app.dataframe[0].value
    share = "Share of I+V capacity outside NHS planning"
    assert list(table.columns[:3]) == ["ICB", share, "Rank (1 = highest share)"]
    assert "Local authority sites" in table.columns
    assert "sites_local_authority" not in table.columns
    known = table[share].notna()
    assert 1 < known.sum() < len(table)
    assert not known[known.sum() :].any(), "an unknown share sorts after every known one"
    assert table.loc[known, share].is_monotonic_decreasing
    assert table.loc[known, share].iloc[0] > table.loc[known, share].iloc[-1]
