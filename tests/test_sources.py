"""Downloads from the publishers (against a local stand-in server) and `fetch --from DIR`."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator

import pytest

from geo.fetch import catalogue, sources
from geo.fetch import http as http_fetch
from geo.io import recognise
from geo.model.errors import InputError
from geo.testing import arcgis_server as fake
from geo.testing.publisher_files import make_cqc_hsca_rows, write_cqc_hsca_ods
from tests.factories import feature_table, hospitals_table

ICB23 = "Integrated_Care_Boards_April_2023_EN_BGC"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> None:
    """Retries without the back-off pauses, so the tests stay fast."""
    monkeypatch.setattr(http_fetch, "BACKOFF_S", 0.0)


@pytest.fixture
def online(arcgis_server, data_dir, monkeypatch) -> fake.FakePublishers:
    """Every source setting pointed at the local stand-in server, with an empty cache."""
    monkeypatch.setenv("ICS_ARCGIS_BASE", arcgis_server.arcgis_base)
    monkeypatch.setenv("ICS_CQC_INDEX_URL", arcgis_server.cqc_index_url)
    monkeypatch.setenv("ICS_ODS_BASE", arcgis_server.ods_base)
    monkeypatch.setenv("ICS_CHARITY_REGISTER_URL", arcgis_server.charity_register_url)
    monkeypatch.setenv("ICS_RSH_INDEX_URL", arcgis_server.rsh_index_url)
    monkeypatch.setenv("ICS_CODE_HISTORY_URL", arcgis_server.code_history_url)
    # NHS England's activity pages have their own stand-in (tests/test_fetch_activity.py).
    monkeypatch.setenv("ICS_RTT_INDEX_URL", f"{arcgis_server.root}/not-served/rtt/")
    monkeypatch.setenv("ICS_DM01_INDEX_URL", f"{arcgis_server.root}/not-served/dm01/")
    monkeypatch.delenv("ICS_DSPT_URL", raising=False)
    return arcgis_server


def _closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: what an offline machine sees."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def closed_port_url() -> str:
    return _closed_port_url()


def _cache_snapshot() -> dict[str, bytes]:
    cache = catalogue.settings.cache_dir()
    return {str(p.relative_to(cache)): p.read_bytes() for p in cache.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ ONS layers


def test_a_layer_whose_columns_are_not_what_the_registry_says_is_refused(shared_data, online):
    mislabelled = sources.Source("icb", "2024", "arcgis", ICB23)

    with pytest.raises(http_fetch.SourceError) as raised:
        sources.fetch_ons_layer(mislabelled)

    assert str(raised.value) == (
        f"ONS layer {ICB23}: expected ICB boundaries 2024, but its columns say ICB boundaries 2023"
    )
    assert catalogue.entries() == []
    assert _cache_snapshot() == {}


def test_the_download_names_are_still_importable_from_sources():
    from geo.fetch import arcgis

    assert arcgis.fetch_arcgis_layer is arcgis.fetch_arcgis_layer
    assert (http_fetch.OfflineError, http_fetch.SourceError) == (
        http_fetch.OfflineError,
        http_fetch.SourceError,
    )
    assert (http_fetch.ATTEMPTS, http_fetch.USER_AGENT) == (
        http_fetch.ATTEMPTS,
        http_fetch.USER_AGENT,
    )


# ------------------------------------------------------------------ offline


def test_offline_says_what_to_do_and_leaves_the_cache_unchanged(
    shared_data, online, closed_port_url, monkeypatch
):
    sources.fetch_nhs_ods_report("ets")
    before_entries, before_files = catalogue.entries(), _cache_snapshot()
    monkeypatch.setenv("ICS_ARCGIS_BASE", f"{closed_port_url}/arcgis/rest/services")

    with pytest.raises(http_fetch.OfflineError) as raised:
        sources.fetch_source(sources.REGISTRY[1])

    message = str(raised.value)
    assert isinstance(raised.value, InputError)
    assert ICB23 in message
    assert "offline" in message
    assert (
        f"download {closed_port_url}/arcgis/rest/services/{ICB23}/FeatureServer/0/query" in message
    )
    assert "`python -m geo fetch --from DIR`" in message
    assert "upload the file on the Upload page" in message
    assert catalogue.entries() == before_entries
    assert _cache_snapshot() == before_files


def test_fetch_all_offline_tries_each_host_once_and_keeps_the_cache(data_dir, monkeypatch):
    hosts = (
        "ICS_ARCGIS_BASE",
        "ICS_CQC_INDEX_URL",
        "ICS_ODS_BASE",
        "ICS_CHARITY_REGISTER_URL",
        "ICS_RSH_INDEX_URL",
        "ICS_CODE_HISTORY_URL",
        "ICS_RTT_INDEX_URL",
        "ICS_DM01_INDEX_URL",
        "ICS_POPULATION_PAGES",
    )
    for name in hosts:
        monkeypatch.setenv(name, f"{_closed_port_url()}/{name.lower()}")
    monkeypatch.delenv("ICS_DSPT_URL", raising=False)  # no URL: not tried, the manual step said

    report = sources.fetch_all()

    assert report.taken == []
    assert len(report.failed) == len(sources.REGISTRY)
    reasons = [reason for _, reason in report.failed]
    assert sum("seems to be offline" in reason for reason in reasons) == len(hosts)  # one each
    fetchable = [
        source for source in sources.REGISTRY if source.name is not None and source.kind != "dspt"
    ]
    skipped = len(fetchable) - len(hosts)  # all but the first source on each host
    assert sum(reason.startswith("skipped:") for reason in reasons) == skipped
    assert catalogue.entries() == []


def test_a_server_that_never_answers_is_retried_then_reported_offline(data_dir, monkeypatch):
    monkeypatch.setenv("ICS_HTTP_TIMEOUT_S", "0.2")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/getReport"

        with pytest.raises(http_fetch.OfflineError, match="timed out"):
            sources.fetch_nhs_ods_report("ets", base_url=url)

    assert catalogue.entries() == []


# ------------------------------------------------------------------ CQC and ODS


def test_cqc_index_link_is_found_and_the_file_recorded_with_its_published_date(online):
    entry = sources.fetch_cqc_locations()

    path = catalogue.entry_path(entry)
    assert entry.published == "2026-05-05"  # from 'Care directory with filters (05 May 2026)'
    assert entry.vintage == "2026-05-05"
    assert entry.source_url == f"{online.root}{fake.CQC_FILE_PATH}"  # newest link, made absolute
    assert entry.publisher == recognise.CQC
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert path.read_bytes() == online.cqc_file.read_bytes()
    assert catalogue.find("sites") == entry
    assert recognise.sniff(path).publisher == recognise.CQC
    assert all("Mozilla" in agent for _, agent in online.requests)  # CQC's firewall needs it
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no partial file


def test_cqc_page_without_the_link_says_the_page_may_have_changed(online):
    with pytest.raises(
        http_fetch.SourceError, match="no link labelled 'Care directory with filters"
    ):
        sources.fetch_cqc_locations(index_url=f"{online.ods_base}?report=ets")


def test_ods_report_is_downloaded_counted_and_recorded(online, fixtures_dir):
    entry = sources.fetch_nhs_ods_report("ets")

    served = fixtures_dir / "sources_ods_ets.csv"
    assert entry.rows == len(served.read_text(encoding="utf-8").splitlines())  # no header row
    assert entry.publisher == recognise.NHS_ODS
    assert entry.source_url == f"{online.ods_base}?report=ets"
    assert (
        catalogue.entry_path(entry).read_bytes()
        == (fixtures_dir / "sources_ods_ets.csv").read_bytes()
    )


def test_the_code_history_zip_is_downloaded_and_its_changes_csv_cached_with_provenance(
    online, fixtures_dir
):
    entry = sources.fetch_code_history()

    assert (entry.kind, entry.vintage, entry.publisher) == ("code_history", "", recognise.ONS)
    assert entry.source_url == online.code_history_url
    assert entry.rows == 14
    path = catalogue.entry_path(entry)
    assert path.read_bytes() == (fixtures_dir / fake.CODE_HISTORY_CHANGES).read_bytes()
    assert catalogue.find("code_history") == entry
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no partial file


def test_a_code_history_url_that_is_not_a_zip_is_refused_and_records_nothing(online):
    with pytest.raises(http_fetch.SourceError, match="did not return a zip file"):
        sources.fetch_code_history(f"{online.ods_base}?report=ets")
    assert catalogue.entries() == []


def test_fetch_from_dir_takes_the_code_history_changes_csv(data_dir, fixtures_dir, tmp_path):
    folder = tmp_path / "offline"
    folder.mkdir()
    (folder / "Changes.csv").write_bytes((fixtures_dir / fake.CODE_HISTORY_CHANGES).read_bytes())

    report = sources.fetch_from_dir(folder)

    [entry] = report.taken
    assert (entry.kind, entry.publisher, entry.rows) == ("code_history", recognise.ONS, 14)
    assert entry.source_url.startswith("local file: ")


def test_an_unknown_ods_report_is_an_error_naming_it_and_records_nothing(online):
    with pytest.raises(http_fetch.SourceError, match=r"NHS ODS report ephpsite: .* HTTP 404"):
        sources.fetch_nhs_ods_report("ephpsite")
    assert catalogue.entries() == []


# ------------------------------------------------------------------ fetch_all


def test_fetch_all_takes_every_source_the_server_has_and_reports_the_rest(shared_data, online):
    steps = []

    report = sources.fetch_all(progress=lambda *step: steps.append(step))

    taken = sorted((entry.kind, entry.vintage) for entry in report.taken)
    today = next(entry.vintage for entry in report.taken if entry.publisher == recognise.NHS_ODS)
    assert taken == [
        ("charity_register", "2026-05-01"),
        ("code_history", ""),
        ("icb", "2022"),
        ("icb", "2023"),
        ("icb", "2026"),
        ("nhser", "2024"),
        ("rsh_register", "2026-06-29"),
        ("sicbl", "2023"),
        ("sicbl_lookup", "2024"),
        ("sites", "2026-05-05"),
        ("sites", today),
    ]
    failed = dict(report.failed)
    assert "no April 2024 ICB boundary layer" in failed["ICB boundaries 2024"]
    assert "Invalid URL" in failed["Sub-ICB → ICB lookup 2026 (LSOA21_SICBL26_ICB26_NHSER26_LAD26)"]
    assert "HTTP 404" in failed["Provider sites (ephp)"]
    assert "HTTP 404" in failed["RTT waiting times (NHS England) (Full CSV data file)"]
    assert steps[-1] == (len(sources.REGISTRY), len(sources.REGISTRY))
    assert catalogue.vintages("icb") == ["2022", "2023", "2026"]
    sub_icbs = feature_table(shared_data / fake.LOOKUP_SOURCE)
    assert catalogue.find("sicbl_lookup", "2024").rows == len(sub_icbs)


# ------------------------------------------------------------------ fetch --from DIR


EXPECTED_FROM_SHARED_DATA = [
    ("icb", "2022", "icb_2022_07_buc.geojson"),
    ("icb", "2022", "icb_2022_07_from_lsoa11_bsc.geojson"),
    ("icb", "2023", "icb_2023_04_bgc.geojson"),
    ("icb", "2024", "icb_2024_04_from_lsoa21_bsc.geojson"),
    ("icb", "2026", "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"),
    ("nhser", "2024", "nhs_england_regions_2024_01_bgc.geojson"),
    ("sicbl", "2022", "sub_icb_locations_2022_07_from_lsoa11_bsc.geojson"),
    ("sicbl", "2023", "sub_icb_locations_2023_04_bsc.geojson"),
    ("sicbl", "2024", "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"),
    ("sicbl_lookup", "2022", "lookup_lsoa11_sicbl22_icb22_lad22.csv"),
    ("sicbl_lookup", "2024", "lookup_lsoa21_sicbl24_icb24_icb26.csv"),
    ("sicbl_lookup", "2026", "lookup_lsoa21_sicbl24_icb24_icb26.csv"),
    ("sites", "", "hospitals_england_2020_05_nhs_website.csv"),
]


@pytest.fixture(scope="module")
def taken_from_shared_data(shared_data, tmp_path_factory) -> Iterator[sources.FetchReport]:
    """../shared/data taken once into a cache of its own, shared by the tests below."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ICS_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        yield sources.fetch_from_dir(shared_data)


def test_fetch_from_dir_takes_every_vintage_of_boundaries_lookups_and_the_site_list(
    taken_from_shared_data, shared_data
):
    report = taken_from_shared_data

    taken = sorted((entry.kind, entry.vintage, entry.title) for entry in report.taken)
    assert taken == EXPECTED_FROM_SHARED_DATA
    for entry in report.taken:
        original = shared_data / entry.title
        assert entry.source_url == f"local file: {original.resolve()}"
        assert catalogue.entry_path(entry).read_bytes() == original.read_bytes()
    assert catalogue.find("sites").rows == len(hospitals_table(shared_data))


# Who each file of ../shared/data is credited to: ONS for its own layers, a reconstruction
# (naming the LSOA → ICB lookup) for the layers rebuilt from LSOAs (SOURCES.md says which).
CREDITS_FROM_SHARED_DATA = {
    ("icb", "2022", "icb_2022_07_buc.geojson"): recognise.ONS,
    ("icb", "2022", "icb_2022_07_from_lsoa11_bsc.geojson"): (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA 2011 → sub-ICB → ICB 2022)"
    ),
    ("icb", "2023", "icb_2023_04_bgc.geojson"): recognise.ONS,
    ("icb", "2024", "icb_2024_04_from_lsoa21_bsc.geojson"): (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA 2021 → sub-ICB → ICB 2024)"
    ),
    ("icb", "2026", "icb_2026_04_reconstructed_from_lsoa21_bsc.geojson"): (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA 2021 → sub-ICB → ICB 2024, with the"
        " 2026 ICB changes applied by the file's maker)"
    ),
    ("nhser", "2024", "nhs_england_regions_2024_01_bgc.geojson"): recognise.ONS,
    ("sicbl", "2022", "sub_icb_locations_2022_07_from_lsoa11_bsc.geojson"): (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA 2011 → sub-ICB → ICB 2022)"
    ),
    ("sicbl", "2023", "sub_icb_locations_2023_04_bsc.geojson"): recognise.ONS,
    ("sicbl", "2024", "sub_icb_locations_2024_04_from_lsoa21_bsc.geojson"): (
        "reconstructed from the ONS LSOA→ICB lookup (LSOA 2021 → sub-ICB → ICB 2024)"
    ),
    ("sicbl_lookup", "2022", "lookup_lsoa11_sicbl22_icb22_lad22.csv"): recognise.ONS,
    ("sicbl_lookup", "2024", "lookup_lsoa21_sicbl24_icb24_icb26.csv"): recognise.ONS,
    ("sicbl_lookup", "2026", "lookup_lsoa21_sicbl24_icb24_icb26.csv"): (
        "reconstructed from the ONS LSOA→ICB lookup (2024 sub-ICB codes mapped to 2026 ICBs by"
        " the file's maker; not an ONS lookup)"
    ),
}


def test_fetch_from_dir_credits_reconstructed_layers_to_the_lookup_not_to_ons(
    taken_from_shared_data,
):
    credited = {
        (entry.kind, entry.vintage, entry.title): entry.publisher
        for entry in taken_from_shared_data.taken
        if entry.kind != "sites"
    }

    assert credited == CREDITS_FROM_SHARED_DATA
    reconstructed = catalogue.find("icb", "2026")
    assert reconstructed.licence == catalogue.ATTRIBUTIONS[catalogue.RECONSTRUCTED]
    assert "not ONS products" in reconstructed.licence


def test_fetch_from_dir_ignores_every_other_file_with_a_reason(taken_from_shared_data, shared_data):
    ignored = dict(taken_from_shared_data.ignored)

    taken_names = {entry.title for entry in taken_from_shared_data.taken}
    every_file = {path.name for path in shared_data.iterdir() if path.is_file()}
    assert set(ignored) | taken_names == every_file  # nothing left out silently
    assert not set(ignored) & taken_names
    assert ignored["SOURCES.md"] == "not a data file"
    assert ignored["lsoa_2021_england_bsc.gpkg"] == "LSOA boundaries are not used by the app"
    assert "no sector column" in ignored["nhs_trusts_2022_hq_points.geojson"]
    assert "local authority district" in ignored["local_authority_districts_2024_05_uk_buc.geojson"]
    assert "no sub-ICB codes" in ignored["lookup_nhs_trusts22_icb22_patient_share.csv"]
    assert ignored["hospitals_england_2020_05_nhs_website.geojson"] == (
        "same data as hospitals_england_2020_05_nhs_website.csv, which was taken"
    )


def test_the_more_detailed_of_two_files_for_one_vintage_is_preferred_and_said_so(
    taken_from_shared_data,
):
    preferred = catalogue.find("icb", "2022")

    assert preferred.title == "icb_2022_07_from_lsoa11_bsc.geojson"
    icb_files = [name for kind, _, name in EXPECTED_FROM_SHARED_DATA if kind == "icb"]
    assert len(catalogue.entries("icb")) == len(icb_files)  # both 2022 files are kept
    note = next(n for n in taken_from_shared_data.notes if n.startswith("ICB boundaries 2022"))
    assert "uses icb_2022_07_from_lsoa11_bsc.geojson" in note
    assert "also kept: icb_2022_07_buc.geojson" in note


def test_fetch_from_dir_twice_changes_nothing(taken_from_shared_data, shared_data):
    first_manifest = [(e.kind, e.vintage, e.file, e.sha256) for e in catalogue.entries()]
    first_files = sorted(p.name for p in catalogue.settings.cache_dir().rglob("*") if p.is_file())

    again = sources.fetch_from_dir(shared_data)

    assert [(e.kind, e.vintage, e.file, e.sha256) for e in catalogue.entries()] == first_manifest
    assert sorted(p.name for p in catalogue.settings.cache_dir().rglob("*") if p.is_file()) == (
        first_files
    )
    assert len(again.taken) == len(taken_from_shared_data.taken)


def test_fetch_from_a_folder_that_does_not_exist_names_it(data_dir, tmp_path):
    with pytest.raises(InputError, match="no-such-folder: not a folder"):
        sources.fetch_from_dir(tmp_path / "no-such-folder")


def test_fetch_from_dir_takes_cqc_and_ods_provider_lists_with_their_publishers(
    data_dir, tmp_path, fixtures_dir
):
    folder = tmp_path / "downloads"
    folder.mkdir()
    write_cqc_hsca_ods(folder / "05_May_2026_HSCA_Active_Locations.ods", make_cqc_hsca_rows(3))
    (folder / "ets.csv").write_bytes((fixtures_dir / "sources_ods_ets.csv").read_bytes())
    (folder / "notes.txt").write_text("downloaded by hand")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    report = sources.fetch_from_dir(folder)

    taken = {entry.title: entry for entry in report.taken}
    cqc, ods = taken["05_May_2026_HSCA_Active_Locations.ods"], taken["ets.csv"]
    assert (cqc.kind, cqc.publisher, cqc.published) == ("sites", recognise.CQC, "2026-11-01")
    assert (ods.kind, ods.publisher, ods.rows) == ("sites", recognise.NHS_ODS, 3)
    assert cqc.licence == catalogue.attribution(recognise.CQC)
    assert report.ignored == [("notes.txt", "not a data file")]
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_publisher_urls_with_credentials_never_show_them_in_the_report(data_dir, monkeypatch):
    secret = "s3cr3t-Pa55"
    for name in ("ICS_ARCGIS_BASE", "ICS_CQC_INDEX_URL", "ICS_ODS_BASE"):
        closed = _closed_port_url().replace("http://", f"http://ics:{secret}@")
        monkeypatch.setenv(name, f"{closed}/{name.lower()}")

    report = sources.fetch_all()

    shown = " ".join(f"{what}: {reason}" for what, reason in report.failed)
    assert "127.0.0.1" in shown
    assert secret not in shown
    assert "skipped: 127.0.0.1:" in shown  # the host is named without its user or password
