"""Voluntary by evidence: the registers (geo/model/registers.py, geo/io/registers.py,
geo/fetch/registers.py), the sector rules that use them, and where they reach the reports."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geo.analysis import pipeline
from geo.fetch import catalogue, sources
from geo.fetch import http as http_fetch
from geo.fetch.registers import cached_registers
from geo.io import readers, recognise
from geo.io.registers import read_charity_register, read_rsh_register
from geo.io.sector_rules import load_sector_rules
from geo.model import problems, registers, sectors
from geo.model.errors import InputError
from geo.publish import publishing
from geo.testing import arcgis_server as fake
from geo.testing import register_files
from geo.testing.publisher_files import cqc_hsca_row, write_cqc_hsca_csv, write_cqc_hsca_ods
from geo.testing.register_files import (
    VOLUNTARY_PATTERNS,
    charity_row,
    voluntary_care_homes,
    write_charity_extract,
    write_rsh_list,
)

CHARITY_ZIP = "publicextract.charity.zip"
RSH_2026 = "List_of_registered_providers_29_June_2026.xlsx"
RSH_2025 = "List_of_registered_providers_17_February_2025.xlsx"
# The rules this work added; without them the table is the one that halved voluntary capacity.
NEW_RULES = {"charity_register_company", "society_or_cio_prefix", "rsh_non_profit", "cic_name"}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> None:
    """Retries without the back-off pauses, so the tests stay fast."""
    monkeypatch.setattr(http_fetch, "BACKOFF_S", 0.0)


@pytest.fixture
def downloads(tmp_path) -> Path:
    """A folder with the registers as their publishers ship them, and nothing else."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    write_charity_extract(folder / CHARITY_ZIP)
    write_rsh_list(folder / RSH_2026)
    write_rsh_list(folder / RSH_2025, older_headers=True)
    return folder


@pytest.fixture
def loaded(downloads) -> dict[str, registers.Register]:
    """Both registers read from their files, by name."""
    charities = read_charity_register(downloads / CHARITY_ZIP)
    housing = read_rsh_register(downloads / RSH_2026)
    return {charities.name: charities, housing.name: housing}


@pytest.fixture
def care_homes(tmp_path) -> Path:
    """A CQC HSCA file of the patterns issue 9 found in Birmingham (one row per care home)."""
    return write_cqc_hsca_csv(tmp_path / "HSCA_Active_Locations.csv", voluntary_care_homes())


def _by_provider(sites: pd.DataFrame) -> pd.DataFrame:
    return sites.drop_duplicates("provider_name").set_index("provider_name")


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("1234567", "01234567"),
        ("01234567", "01234567"),
        (1234567.0, "01234567"),  # read by Excel as a number
        (" rs007843 ", "RS007843"),
        ("IP21410R", "IP21410R"),
        ("SC 416208", "SC416208"),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_company_numbers_are_compared_as_companies_house_writes_them(written, key):
    assert registers.company_number_key(written) == key


def test_names_meet_whatever_their_case_punctuation_and_limited():
    same = ["The Riverside Group Ltd.", "RIVERSIDE GROUP LIMITED", "Riverside  Group"]
    assert {registers.organisation_name_key(name) for name in same} == {"riverside group"}
    assert registers.organisation_name_key("Home & Care") == "home and care"
    assert registers.organisation_name_key("Riverside Housing") != "riverside group"


# --- the Charity Commission's register extract -------------------------------------------


def test_charity_register_holds_registered_main_charities_company_numbers(downloads):
    register = read_charity_register(downloads / CHARITY_ZIP)

    assert register.name == registers.CHARITY_COMPANIES
    assert set(register.entries) == {"01234567", "04444444"}  # '1234567' lost its leading 0
    assert "02222222" not in register  # removed from the register in 2019
    assert "03333333" not in register  # a linked charity, part of its main charity
    assert register.entries["04444444"] == "ST HILDA'S HOSPICE (charity 1012345)"
    assert "extract of 2026-05-01" in register.source


def test_embedded_line_breaks_keep_every_field_in_its_column(tmp_path):
    rows = [
        charity_row(
            registered_charity_number="1000001",
            charity_name="BROKEN ADDRESS CARE",
            charity_contact_address1="Unit 1\r\n",  # the break the publisher leaves before a tab
            charity_contact_address2="Mill Lane\r\n",
            charity_activities="Day care\r\nand respite",  # a break inside a field
            charity_company_registration_number="05000001",
        ),
        charity_row(
            registered_charity_number="1000002",
            charity_name="NEXT ROW CARE",
            charity_company_registration_number="05000002",
        ),
    ]
    register = read_charity_register(write_charity_extract(tmp_path / CHARITY_ZIP, rows))

    assert register.entries == {
        "05000001": "BROKEN ADDRESS CARE (charity 1000001)",
        "05000002": "NEXT ROW CARE (charity 1000002)",
    }


def test_the_text_taken_out_of_the_zip_reads_the_same(downloads, tmp_path):
    with zipfile.ZipFile(downloads / CHARITY_ZIP) as archive:
        text = tmp_path / "publicextract.charity.txt"
        text.write_bytes(archive.read("publicextract.charity.txt"))

    assert (
        read_charity_register(text).entries
        == read_charity_register(downloads / CHARITY_ZIP).entries
    )


def test_an_extract_without_the_company_number_column_is_refused_naming_it(tmp_path):
    path = tmp_path / CHARITY_ZIP
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "publicextract.charity.txt",
            "date_of_extract\tregistered_charity_number\tlinked_charity_number\tcharity_name\t"
            "charity_registration_status\r\n2026-05-01\t1\t0\tA\tRegistered\r\n",
        )

    with pytest.raises(
        InputError, match=r"missing column\(s\) charity_company_registration_number"
    ):
        read_charity_register(path)


# --- the Regulator of Social Housing's list ----------------------------------------------


def test_rsh_list_holds_the_non_profit_providers_names_only(downloads):
    register = read_rsh_register(downloads / RSH_2026)

    assert register.name == registers.RSH_NON_PROFIT
    assert sorted(register.entries.values()) == [
        "Anchor Hanover Group",
        "Ashdene Housing Association Limited",
        "GreenSquareAccord Limited",
        "Midshire Homes Limited",
        "New Outlook Housing Association Limited",
    ]  # not Sterling Living (Profit) nor Birmingham City Council (Local authority)
    assert "of 2026-06-29" in register.source


def test_the_older_header_spelling_reads_the_same(downloads):
    older = read_rsh_register(downloads / RSH_2025)
    newer = read_rsh_register(downloads / RSH_2026)

    assert older.entries == newer.entries


def test_a_csv_copy_of_the_list_reads_the_same(downloads, tmp_path):
    rows = [",".join(register_files.RSH_OLDER_COLUMNS)] + [
        ",".join(f'"{cell}"' for cell in provider) if provider else ""
        for provider in register_files.EXAMPLE_RSH_PROVIDERS
    ]
    path = tmp_path / "List_of_registered_providers_29_June_2026.csv"
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")

    assert recognise.sniff(path).kind == "rsh_register"
    assert read_rsh_register(path).entries == read_rsh_register(downloads / RSH_2026).entries


def test_a_workbook_with_no_visible_provider_sheet_is_refused(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Name", "Designation"])
    workbook.save(tmp_path / "List_of_registered_providers_1_May_2026.xlsx")

    with pytest.raises(InputError, match="no visible sheet has a header starting 'Organisation"):
        read_rsh_register(tmp_path / "List_of_registered_providers_1_May_2026.xlsx")


# --- recognised once ----------------------------------------------------------------------


def test_the_registers_are_recognised_with_their_publishers_and_dates(downloads):
    charity = recognise.sniff(downloads / CHARITY_ZIP)
    newer = recognise.sniff(downloads / RSH_2026)
    older = recognise.sniff(downloads / RSH_2025)

    assert (charity.kind, charity.vintages, charity.publisher) == (
        "charity_register",
        ("2026-05-01",),
        recognise.CHARITY_COMMISSION,
    )
    assert (newer.kind, newer.vintages, newer.publisher) == (
        "rsh_register",
        ("2026-06-29",),
        recognise.RSH,
    )
    assert (older.kind, older.vintages, older.sheet) == (
        "rsh_register",
        ("2025-02-17",),
        register_files.RSH_SHEET,  # the hidden lookup sheet before it is passed over
    )


def test_another_charity_commission_table_is_not_used_and_says_why(tmp_path):
    path = tmp_path / "publicextract.charity_trustee.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("publicextract.charity_trustee.txt", "date_of_extract\ttrustee_id\r\n")

    found = recognise.sniff(path)

    assert found.kind is None
    assert found.reason.startswith("Charity Commission table charity_trustee is not used")


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "sector", "rule"),
    [(provider, sector, rule) for provider, *_, sector, rule in VOLUNTARY_PATTERNS],
)
def test_each_pattern_gets_its_sector_from_its_evidence(care_homes, loaded, provider, sector, rule):
    sites = _by_provider(readers.read_sites(care_homes, registers=loaded).sites)

    assert sites.loc[provider, ["sector", "sector_rule"]].tolist() == [sector, rule]


def test_without_the_registers_their_rules_say_they_could_not_run_and_on_how_many_rows(
    care_homes,
):
    listed = readers.read_sites(care_homes)

    sites = _by_provider(listed.sites)
    assert sites.loc["Midshire Crossroads Care", "sector"] == sectors.INDEPENDENT
    assert sites.loc["Midshire Homes Limited", "sector"] == sectors.INDEPENDENT
    assert (
        sites.loc["Anchor Hanover Group", "sector_rule"] == "society_or_cio_prefix"
    )  # no register
    # The homes each rule would have looked up: not claimed by an earlier rule, with a value.
    earlier = {"council_name", "charity_number"}
    with_a_company_number = sum(
        len(homes)
        for _, company, _, homes, _, rule in VOLUNTARY_PATTERNS
        if rule not in earlier and company != "-"
    )
    with_a_name = sum(
        len(homes)
        for *_, homes, _, rule in VOLUNTARY_PATTERNS
        if rule not in earlier | {"society_or_cio_prefix"}
    )
    assert listed.rules_not_run == (
        sectors.RuleNotRun(
            "charity_register_company",
            "register",
            registers.CHARITY_COMPANIES,
            with_a_company_number,
        ),
        sectors.RuleNotRun("rsh_non_profit", "register", registers.RSH_NON_PROFIT, with_a_name),
    )


def test_a_file_without_a_column_a_rule_reads_says_so(tmp_path):
    columns = [c for c in cqc_hsca_row() if c != "Provider Companies House Number"]
    path = write_cqc_hsca_csv(tmp_path / "HSCA.csv", voluntary_care_homes(), columns)

    listed = readers.read_sites(path)

    not_run = {item.rule: item for item in listed.rules_not_run}
    assert not_run["society_or_cio_prefix"].lacks == "column"
    assert not_run["society_or_cio_prefix"].name == "Provider Companies House Number"
    assert not_run["charity_register_company"].lacks == "column"  # the column, before the register
    reached = sum(
        len(homes)
        for *_, homes, _, rule in VOLUNTARY_PATTERNS
        if rule not in {"council_name", "charity_number"}
    )
    assert not_run["society_or_cio_prefix"].rows == reached
    sentence = sectors.gap_sentences(listed.rules_not_run)[-1]
    assert sentence.startswith("Sector rules that could not run, the file having no such column:")
    assert f"society_or_cio_prefix ('Provider Companies House Number', {reached} rows)" in sentence


def test_a_close_name_is_reported_and_never_applied(care_homes, loaded):
    listed = readers.read_sites(care_homes, registers=loaded)

    (miss,) = listed.near_misses
    assert (miss.rule, miss.value, miss.entry, miss.rows) == (
        "rsh_non_profit",
        "Ashdene Housing Assocation Ltd",
        "Ashdene Housing Association Limited",
        1,
    )
    assert miss.score >= registers.NEAR_MISS_SCORE
    assert _by_provider(listed.sites).loc[miss.value, "sector"] == sectors.INDEPENDENT
    (sentence,) = sectors.gap_sentences((), listed.near_misses)
    assert "'Ashdene Housing Assocation Ltd' ~ 'Ashdene Housing Association Limited'" in sentence


def test_voluntary_share_of_care_home_beds_before_and_after(care_homes, loaded):
    old_rules = tuple(rule for rule in sectors.DEFAULT_CQC_RULES if rule.name not in NEW_RULES)
    before = readers.read_sites(care_homes, sector_rules=old_rules).sites
    after = readers.read_sites(care_homes, registers=loaded).sites

    beds = {provider: sum(homes) for provider, _, _, homes, _, _ in VOLUNTARY_PATTERNS}
    by_charity_number = {p for p, _, charity, *_ in VOLUNTARY_PATTERNS if charity != "-"}
    voluntary = {p for p, *_, sector, _ in VOLUNTARY_PATTERNS if sector == sectors.VOLUNTARY}
    assert _voluntary_beds(before) == sum(beds[p] for p in by_charity_number)
    assert _voluntary_beds(after) == sum(beds[p] for p in voluntary)
    assert _voluntary_beds(after) > 2 * _voluntary_beds(before)
    assert before["capacity"].sum() == after["capacity"].sum() == sum(beds.values())


def _voluntary_beds(sites: pd.DataFrame) -> float:
    return float(sites.loc[sites["sector"] == sectors.VOLUNTARY, "capacity"].sum())


def test_an_override_file_can_name_a_register_and_must_name_a_known_one(tmp_path, care_homes):
    header = "name,sector,column,match,values,exclude,description\n"
    good = tmp_path / "rules.csv"
    good.write_text(
        header + "housing,Voluntary,Provider Name,register,rsh_non_profit,,Housing associations\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "housing,Voluntary,Provider Name,register,housing_list,,\n")

    (rule,) = load_sector_rules(good)

    assert (rule.match, rule.register) == ("register", registers.RSH_NON_PROFIT)
    with pytest.raises(InputError, match="row 2, column values: 'housing_list' is not a register"):
        load_sector_rules(bad)


# --- fetched, cached, loaded ----------------------------------------------------------------


@pytest.fixture
def online(arcgis_server, data_dir, monkeypatch) -> fake.FakePublishers:
    """The register settings pointed at the local stand-in server, with an empty cache."""
    monkeypatch.setenv("ICS_CHARITY_REGISTER_URL", arcgis_server.charity_register_url)
    monkeypatch.setenv("ICS_RSH_INDEX_URL", arcgis_server.rsh_index_url)
    return arcgis_server


def test_the_charity_register_is_downloaded_and_recorded_with_its_extract_date(online):
    entry = sources.fetch_charity_register()

    assert (entry.kind, entry.vintage, entry.published) == (
        "charity_register",
        "2026-05-01",
        "2026-05-01",
    )
    assert entry.source_url == online.charity_register_url
    assert entry.licence == catalogue.attribution(recognise.CHARITY_COMMISSION)
    assert catalogue.entry_path(entry).read_bytes() == (
        online.register_files[fake.CHARITY_PATH].read_bytes()
    )


def test_the_newest_rsh_list_linked_from_the_page_is_downloaded(online):
    entry = sources.fetch_rsh_register()

    assert (entry.kind, entry.vintage) == ("rsh_register", "2026-06-29")
    assert entry.source_url == f"{online.root}{fake.RSH_NEWEST_PATH}"
    assert entry.publisher == recognise.RSH


def test_the_next_rsh_page_is_tried_when_the_first_has_moved(online):
    pages = f"{online.root}/government/publications/moved {online.rsh_index_url}"

    entry = sources.fetch_rsh_register(index_urls=pages)

    assert entry.vintage == "2026-06-29"


def test_an_rsh_page_without_the_list_says_the_page_may_have_changed(online):
    with pytest.raises(http_fetch.SourceError, match="no link to a List_of_registered_providers"):
        sources.fetch_rsh_register(index_urls=online.cqc_index_url)


def test_fetch_from_a_folder_takes_the_registers_and_the_newest_list_is_used(data_dir, downloads):
    report = sources.fetch_from_dir(downloads)

    taken = sorted((entry.kind, entry.vintage, entry.title) for entry in report.taken)
    assert taken == [
        ("charity_register", "2026-05-01", CHARITY_ZIP),
        ("rsh_register", "2025-02-17", RSH_2025),
        ("rsh_register", "2026-06-29", RSH_2026),
    ]
    held = cached_registers()
    assert set(held) == {registers.CHARITY_COMPANIES, registers.RSH_NON_PROFIT}
    assert RSH_2026 in held[registers.RSH_NON_PROFIT].source


def test_nothing_cached_means_no_registers(data_dir):
    assert cached_registers() == {}


# --- the reports ---------------------------------------------------------------------------


def test_publishing_without_the_registers_says_which_rules_could_not_run(data_dir, care_homes):
    prepared = publishing.prepare(care_homes, "sites")

    lines = [note for note in prepared.notes if note.startswith("Sector rule ")]
    assert [line.split(" could not run")[0] for line in lines] == [
        "Sector rule charity_register_company",
        "Sector rule rsh_non_profit",
    ]
    assert "`python -m geo fetch`" in lines[0]


def test_publishing_uses_the_cached_registers_and_names_them(data_dir, downloads, tmp_path):
    sources.fetch_from_dir(downloads)
    path = write_cqc_hsca_ods(
        tmp_path / "05_May_2026_HSCA_Active_Locations.ods", voluntary_care_homes()
    )

    prepared = publishing.prepare(path, "sites")

    sites = _by_provider(prepared.table)
    assert sites.loc["Midshire Homes Limited", "sector_rule"] == "rsh_non_profit"
    assert sites.loc["Midshire Crossroads Care", "sector_rule"] == "charity_register_company"
    assert not any(note.startswith("Sector rule ") for note in prepared.notes)
    (used,) = [note for note in prepared.notes if note.startswith("Sector registers used")]
    assert used == (
        "Sector registers used: Charity Commission register of charities 2026-05-01 "
        f"({CHARITY_ZIP}); RSH registered providers of social housing 2026-06-29 ({RSH_2026})"
    )
    assert any("provider names are close to a register's" in note for note in prepared.notes)


def test_the_command_line_files_carry_the_rules_that_could_not_run_as_warnings(
    shared_data, data_dir, care_homes
):
    files = pipeline.InputFiles(
        boundaries=shared_data / "icb_2023_04_bgc.geojson", sites=care_homes
    )

    analysis = pipeline.analyse(pipeline.load_files(files))

    warned = [note.text for note in analysis.notes if note.level == problems.WARNING]
    assert any(text.startswith("Sector rule charity_register_company") for text in warned)
    assert any(text.startswith("Sector rule rsh_non_profit") for text in warned)


def test_assign_prints_which_sector_rules_could_not_run(shared_data, data_dir, care_homes, capsys):
    from geo import cli

    status = cli.main(
        [
            "assign",
            "--boundaries",
            str(shared_data / "icb_2023_04_bgc.geojson"),
            "--sites",
            str(care_homes),
            "--out",
            str(data_dir / "sites.csv"),
        ]
    )

    assert status == 0
    err = capsys.readouterr().err
    assert "note: Sector rule charity_register_company could not run on" in err
    assert "note: Sector rule rsh_non_profit could not run on" in err


def test_a_register_uploaded_as_a_provider_list_is_refused_saying_what_it_is(data_dir, downloads):
    recognised = publishing.recognise_upload(downloads / CHARITY_ZIP, "sites")

    assert recognised.label == f"a register ({recognise.CHARITY_COMMISSION}), not a provider list"
    with pytest.raises(InputError, match="not a provider list; take it into the cache with"):
        publishing.prepare(downloads / CHARITY_ZIP, "sites", sniffed=recognised.sniffed)
