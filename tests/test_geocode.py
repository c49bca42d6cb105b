"""Geocoding: ONSPD/NSPL files of every header edition, terminated and grid-less postcodes,
grid references, and sites' coordinates from a file and postcodes.io (tests/test_postcodes_io.py
covers the online client itself)."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from geo.geocode import offline as geocode
from geo.model import postcodes, providers
from geo.model.errors import InputError
from geo.testing.postcodes_server import (
    BY_POSTCODE,
    EDITIONS,
    SAMPLES,
    SamplePostcode,
    pcd7,
    write_onspd_csv,
)

LIVE = [s for s in SAMPLES if not s.doterm and s.lat is not None]


@pytest.fixture
def onspd(tmp_path):
    """The samples as an ONSPD Feb 2023+ CSV, named as ONS names it."""
    return write_onspd_csv(tmp_path / "ONSPD_MAY_2026_UK.csv")


@pytest.fixture
def index(onspd):
    return geocode.load_postcode_index(onspd)


class Sleeps(list):
    """Records the back-off waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- ONSPD / NSPL files -----------------------------------------------------------------


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_every_header_edition_gives_each_postcode_its_coordinates(tmp_path, edition):
    path = write_onspd_csv(tmp_path / f"{edition}.csv", edition=edition)

    index = geocode.load_postcode_index(path).set_index("postcode")

    assert list(index.reset_index().columns) == list(geocode.INDEX_COLUMNS)
    assert set(index.index) == {s.pcds for s in SAMPLES}
    for sample in LIVE:
        assert index.loc[sample.pcds, "lat"] == pytest.approx(sample.lat, abs=1e-6)
        assert index.loc[sample.pcds, "lon"] == pytest.approx(sample.lon, abs=1e-6)
        assert index.loc[sample.pcds, "country_code"] == sample.country


@pytest.mark.parametrize("edition", ["onspd_2023", "nspl_2025"])
def test_icb_and_sub_icb_codes_are_read_whatever_their_year_suffix(tmp_path, edition):
    path = write_onspd_csv(tmp_path / "pd.csv", edition=edition)

    index = geocode.load_postcode_index(path).set_index("postcode")

    leeds = BY_POSTCODE["LS1 3EX"]
    assert index.loc["LS1 3EX", "icb_code"] == leeds.icb
    assert index.loc["LS1 3EX", "sicbl_code"] == leeds.sicbl
    assert pd.isna(index.loc["LL13 7YP", "icb_code"])  # W99999999: not applicable


def test_the_newest_icb_column_wins_when_a_file_has_two_vintages(tmp_path):
    path = tmp_path / "pd.csv"
    path.write_text(
        'pcds,lat,long,icb23cd,icb26cd\n"LS1 3EX",53.80146,-1.552119,"E54000054","E54000064"\n'
    )

    index = geocode.load_postcode_index(path)

    assert index.loc[0, "icb_code"] == "E54000064"


def test_seven_character_pcd_postcodes_come_out_in_pcds_form(tmp_path):
    samples = [
        SamplePostcode("E1 1FR", 51.518, -0.059),
        SamplePostcode("EC1A 7BE", 51.517, -0.100),
        SamplePostcode("LS1 3EX", 53.801, -1.552),
    ]
    path = write_onspd_csv(tmp_path / "old.csv", samples, edition="pcd_only")
    assert pcd7("E1 1FR") == "E1  1FR"  # the file really holds the padded form

    index = geocode.load_postcode_index(path)

    assert sorted(index["postcode"]) == sorted(s.pcds for s in samples)


def test_only_the_wanted_postcodes_are_kept_however_they_are_written(onspd):
    index = geocode.load_postcode_index(onspd, postcodes=["ls13ex", " M13  9WL ", "ZZ9 9ZZ"])

    assert sorted(index["postcode"]) == ["LS1 3EX", "M13 9WL"]


def test_a_terminated_postcode_keeps_its_last_location_and_date(index):
    row = index.set_index("postcode").loc["AB1 0AA"]

    assert bool(row["terminated"])
    assert row["terminated_date"] == "199606"
    assert row["lat"] == pytest.approx(BY_POSTCODE["AB1 0AA"].lat)


def test_a_postcode_without_a_grid_reference_has_no_coordinates(onspd, index):
    assert '"BX1 1LT"' in onspd.read_text()
    assert "99.999999" in onspd.read_text()

    row = index.set_index("postcode").loc["BX1 1LT"]

    assert pd.isna(row["lat"])
    assert pd.isna(row["lon"])


def test_eastings_and_northings_place_postcodes_when_a_file_has_no_lat_long(tmp_path):
    full = geocode.load_postcode_index(write_onspd_csv(tmp_path / "full.csv"))
    frame = pd.read_csv(tmp_path / "full.csv", dtype=str)
    frame[["pcds", "oseast1m", "osnrth1m"]].to_csv(tmp_path / "grid.csv", index=False)

    gridded = geocode.load_postcode_index(tmp_path / "grid.csv")

    both = full.merge(gridded, on="postcode", suffixes=("", "_grid")).dropna(subset=["lat"])
    assert len(both) == len(LIVE) + 2  # and the two terminated ones
    assert np.allclose(both["lat"], both["lat_grid"], atol=2e-5)  # 1 m grid rounding
    assert np.allclose(both["lon"], both["lon_grid"], atol=2e-5)


def test_a_zipped_onspd_is_read_from_its_biggest_csv(tmp_path, onspd):
    archive = tmp_path / "ONSPD_MAY_2026_UK.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(
            "Documents/Country names and codes UK as at 08_12.csv", "CTRY12CD\nE92000001\n"
        )
        zipped.write(onspd, "Data/ONSPD_MAY_2026_UK.csv")

    index = geocode.load_postcode_index(archive, postcodes=["LS1 3EX", "AB1 0AA"])

    assert sorted(index["postcode"]) == ["AB1 0AA", "LS1 3EX"]
    assert index.attrs["source"] == "ONSPD ONSPD_MAY_2026_UK.zip"
    assert geocode.source_label(index.attrs["source"]) == "ONSPD May 2026"


def test_a_zip_without_a_csv_is_refused_naming_it(tmp_path):
    archive = tmp_path / "ONSPD.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no data here")

    with pytest.raises(InputError, match=r"postcode file ONSPD\.zip: the zip holds no \.csv"):
        geocode.load_postcode_index(archive)


def test_a_file_without_postcode_or_coordinates_names_the_columns_it_found(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,postcode\nLeeds General Infirmary,LS1 3EX\n")

    with pytest.raises(InputError) as raised:
        geocode.load_postcode_index(path)

    message = str(raised.value)
    assert "postcode file sites.csv" in message
    assert "found name, postcode" in message
    assert "\n" not in message


def test_a_ragged_file_is_refused_in_one_line_naming_it(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('pcds,lat,long\n"LS1 3EX",53.8,-1.55\n"M13 9WL",53.4\n')

    with pytest.raises(InputError, match=r"^postcode file broken\.csv: not a readable CSV"):
        geocode.load_postcode_index(path)


def test_reading_reports_progress_in_bytes_up_to_the_file_size(onspd):
    seen = []

    geocode.load_postcode_index(onspd, progress=lambda done, total: seen.append((done, total)))

    assert seen
    assert seen[-1] == (onspd.stat().st_size, onspd.stat().st_size)


def test_postcodes_are_normalised_exactly_as_the_provider_table_does():
    values = ["e10aa", " EC1A 1BB ", "ls1  3ex", "gir0aa", "AB1 2CD", "not a postcode", "", None]

    normalised = postcodes.normalise_postcodes(pd.Series(values))

    expected = [postcodes.normalise_postcode(value) for value in values]
    assert normalised.tolist() == [pd.NA if e is None else e for e in expected]
    assert postcodes.is_postcode(pd.Series(values)).tolist() == [
        True, True, True, True, False, False, False, False,
    ]  # fmt: skip


# --- geocode_offline ----------------------------------------------------------------------


def test_offline_lookup_gives_a_status_for_every_kind_of_postcode(index):
    postcodes = pd.Series(
        ["ls1 3ex", "NOT A POSTCODE", None, "AB1 0AA", "BX1 1LT", "ZZ9 9ZZ"],
        index=[10, 11, 12, 13, 14, 15],
    )

    found = geocode.geocode_offline(postcodes, index)

    assert list(found.index) == [10, 11, 12, 13, 14, 15]
    assert list(found["geocode_status"]) == [
        "found",
        "invalid postcode",
        "no postcode",
        "found (terminated 199606)",
        "no grid reference",
        "not found",
    ]
    assert found.loc[10, "lat"] == pytest.approx(BY_POSTCODE["LS1 3EX"].lat)
    assert found.loc[13, "lon"] == pytest.approx(BY_POSTCODE["AB1 0AA"].lon)
    assert found.loc[[11, 12, 14, 15], "lat"].isna().all()
    assert found.loc[10, "geocode_source"] == "ONSPD ONSPD_MAY_2026_UK.csv"


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("ONSPD ONSPD_MAY_2026_UK.zip", "ONSPD May 2026"),
        ("ONSPD NSPL_AUG_2026_UK.csv", "NSPL August 2026"),
        ("ONSPD ONSPD_FEB_2023_UK.csv", "ONSPD February 2023"),
        ("ONSPD postcodes.csv", "ONSPD postcodes.csv"),
        ("postcodes.io", "postcodes.io"),
    ],
)
def test_a_source_is_named_by_its_edition_when_the_file_name_gives_it(source, label):
    assert geocode.source_label(source) == label


# --- British National Grid ----------------------------------------------------------------


def test_grid_references_become_wgs84_coordinates():
    # postcodes.io publishes SW1A 2AA at eastings 530047, northings 179951, 51.50354, -0.127695
    lat, lon = geocode.bng_to_latlon(pd.Series([530047, None]), pd.Series([179951, 179951]))

    assert lat[0] == pytest.approx(51.50354, abs=2e-5)
    assert lon[0] == pytest.approx(-0.127695, abs=2e-5)
    assert np.isnan(lat[1])
    assert np.isnan(lon[1])


def test_grid_references_must_come_in_pairs():
    with pytest.raises(InputError, match="3 eastings but 2 northings"):
        geocode.bng_to_latlon([1, 2, 3], [1, 2])


# --- sites --------------------------------------------------------------------------------


def _sites(rows: list[dict]) -> pd.DataFrame:
    return providers.to_canonical(pd.DataFrame(rows, dtype="string"), {}, source="test list").sites


def test_given_coordinates_are_kept_and_missing_ones_come_from_postcodes(index):
    sites = _sites(
        [
            {"site_name": "Given", "postcode": "M13 9WL", "lat": "53.5", "lon": "-2.2"},
            {"site_name": "Geocoded", "postcode": "ls1 3ex"},
            {"site_name": "Half given", "postcode": "SE1 7EH", "lat": "51.4"},
            {"site_name": "Nowhere"},
            {"site_name": "Unknown postcode", "postcode": "ZZ9 9ZZ"},
        ]
    )

    before = sites.copy()

    placed = geocode.geocode_sites(sites, index=index)

    assert list(placed["geocode_status"]) == [
        "coordinates given",
        "found",
        "found",
        "no postcode",
        "not found",
    ]
    assert (placed.loc[0, "lat"], placed.loc[0, "lon"]) == (53.5, -2.2)
    assert placed.loc[1, "lat"] == pytest.approx(BY_POSTCODE["LS1 3EX"].lat)
    assert placed.loc[2, "lat"] == pytest.approx(BY_POSTCODE["SE1 7EH"].lat)
    assert placed[["lat", "lon"]].iloc[3:].isna().all().all()
    assert list(placed.columns[: len(sites.columns)]) == list(sites.columns)
    pd.testing.assert_frame_equal(sites, before)  # the input is not changed


def test_an_onspd_file_can_be_given_instead_of_an_index(onspd):
    sites = _sites([{"site_name": "St Thomas'", "postcode": "SE1 7EH"}])

    placed = geocode.geocode_sites(sites, index=onspd)

    assert placed.loc[0, "geocode_source"] == "ONSPD ONSPD_MAY_2026_UK.csv"
    assert placed.loc[0, "lon"] == pytest.approx(BY_POSTCODE["SE1 7EH"].lon)


def test_postcodes_the_file_lacks_are_asked_online(index, postcodes_server):
    postcodes_server.add([SamplePostcode("CA2 7HY", 54.896503, -2.957777, icb="E54000050")])
    sites = _sites(
        [
            {"site_name": "Leeds General Infirmary", "postcode": "LS1 3EX"},
            {"site_name": "Cumberland Infirmary", "postcode": "CA2 7HY"},
        ]
    )

    placed = geocode.geocode_sites(
        sites, index=index, online=True, base_url=postcodes_server.root, sleep=Sleeps()
    )

    assert list(placed["geocode_source"]) == ["ONSPD ONSPD_MAY_2026_UK.csv", "postcodes.io"]
    assert placed.loc[1, "lat"] == pytest.approx(54.896503)
    assert postcodes_server.bulk_requests == [["CA2 7HY"]]


def test_a_failed_online_retry_leaves_the_files_answer(index, postcodes_server):
    postcodes_server.fail_batches_with = {"LS99 9ZZ": 500}
    sites = _sites([{"site_name": "Ashfield House", "postcode": "LS99 9ZZ"}])

    placed = geocode.geocode_sites(
        sites, index=index, online=True, base_url=postcodes_server.root, sleep=Sleeps()
    )

    assert len(postcodes_server.bulk_requests) == 4  # asked, and retried three times
    assert placed.loc[0, "geocode_status"] == "not found"
    assert placed.loc[0, "geocode_source"] == "ONSPD ONSPD_MAY_2026_UK.csv"


def test_online_only_geocoding_places_sites_through_postcodes_io(postcodes_server):
    sites = _sites([{"site_name": "Freeman Hospital", "postcode": "ne77dn"}])

    placed = geocode.geocode_sites(
        sites, online=True, base_url=postcodes_server.root, sleep=Sleeps()
    )

    assert placed.loc[0, "geocode_status"] == "found"
    assert placed.loc[0, "lat"] == pytest.approx(BY_POSTCODE["NE7 7DN"].lat)
    assert postcodes_server.bulk_requests == [["NE7 7DN"]]


def test_the_postcode_file_setting_names_the_file_or_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv("ICS_ONSPD_PATH", raising=False)
    assert geocode.postcode_file_from_settings() is None

    monkeypatch.setenv("ICS_ONSPD_PATH", str(tmp_path / "ONSPD_MAY_2026_UK.zip"))
    assert geocode.postcode_file_from_settings() == tmp_path / "ONSPD_MAY_2026_UK.zip"


def test_without_a_postcode_file_or_online_lookup_the_rows_say_so():
    sites = _sites([{"site_name": "Leeds General Infirmary", "postcode": "LS1 3EX"}])

    placed = geocode.geocode_sites(sites)

    assert placed.loc[0, "geocode_status"] == postcodes.NOT_GEOCODED
    assert pd.isna(placed.loc[0, "lat"])


def test_real_hospital_postcodes_are_placed_where_the_nhs_list_puts_them(shared_data, tmp_path):
    hospitals = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv", dtype=str)
    first = hospitals.drop_duplicates("pcds")
    samples = [
        SamplePostcode(row.pcds, float(row.lat), float(row.long)) for row in first.itertuples()
    ]
    path = write_onspd_csv(tmp_path / "hospitals_onspd.csv", samples, edition="pcd_only")
    sites = _sites(
        [{"site_name": row.name, "postcode": row.pcds} for row in hospitals.itertuples()]
    )

    placed = geocode.geocode_sites(sites, index=path)

    assert (placed["geocode_status"] == "found").all()
    expected = hospitals[["pcds"]].merge(first[["pcds", "lat"]], on="pcds", how="left")
    assert np.allclose(placed["lat"].to_numpy(dtype=float), expected["lat"].astype(float))


def test_a_postcode_file_whose_first_line_is_over_1_mb_is_refused_as_no_header(tmp_path):
    path = tmp_path / "ONSPD_MAY_2026_UK.csv"
    columns = ",".join(f"field{n}" for n in range(150_000))  # about 1.3 MB
    path.write_text(f"{columns},pcds,lat,long\n" + "x," * 150_000 + "LS1 3EX,53.8,-1.5\n")

    with pytest.raises(InputError) as raised:
        geocode.load_postcode_index(path)

    assert str(raised.value).startswith(
        "postcode file ONSPD_MAY_2026_UK.csv: the first line is longer than 1 MB, so it is not "
        "the header of an ONSPD or NSPL file"
    )


def test_a_postcode_file_line_longer_than_a_read_block_is_refused_in_words(tmp_path):
    path = tmp_path / "ONSPD_MAY_2026_UK.csv"
    path.write_text(
        "pcds,lat,long\nLS1 3EX,53.8,-1.5\nLS2 9JT,53.8,"
        + "9" * (5 << 20)
        + "\nM13 9WL,53.4,-2.2\n"
    )

    with pytest.raises(InputError) as raised:
        geocode.load_postcode_index(path)

    assert str(raised.value) == (
        "postcode file ONSPD_MAY_2026_UK.csv: has a line longer than the 2 MB read at a time, "
        "which no ONSPD or NSPL line is (they are about 1 KB); check that this is the ONSPD or "
        "NSPL CSV and that it is not damaged"
    )
    assert "straddl" not in str(raised.value)
