"""Tests for geo/model/providers.py and geo/model/sectors.py: CQC sector rules, label
normalising, the canonical table."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.io.sector_rules import load_sector_rules
from geo.model import problems
from geo.model.errors import InputError
from geo.model.postcodes import normalise_postcode, normalise_postcodes
from geo.model.providers import (
    CANONICAL_COLUMNS,
    CANONICAL_DTYPES,
    CANONICAL_EXTRAS,
    PLANNING_STATUSES,
    ProviderList,
    attach_official_icb,
    normalise_planning_statuses,
    parse_capacity,
    to_canonical,
    unmapped_sicbl_codes,
    unrecognised_planning_statuses,
)
from geo.model.sectors import (
    DEFAULT_CQC_RULES,
    NO_RULE,
    SECTORS,
    SectorRule,
    classify_sectors,
    normalise_sector_labels,
    rules_table,
    unrecognised_sector_labels,
)

# Real column names from the CQC HSCA_Active_Locations file (DATA-FORMATS.md §1.4).
_CQC_COLUMNS = [
    "Location ID",
    "Location Name",
    "Care homes beds",
    "Location Type/Sector",
    "Location ONSPD CCG Code",
    "Location Postal Code",
    "Location Latitude",
    "Location Longitude",
    "Provider Companies House Number",
    "Provider Charity Number",
    "Provider ID",
    "Provider Name",
    "Provider Ownership Type",
]

# (case, location type, ownership, provider name, charity number) -> (sector, rule)
_CQC_CASES = {
    "council": (
        ("Social Care Org", "Organisation", "Leeds City Council", "-"),
        ("Local authority", "council_name"),
    ),
    "london borough": (
        ("Social Care Org", "Organisation", "London Borough of Camden", ""),
        ("Local authority", "council_name"),
    ),
    "st monica trust": (
        ("Social Care Org", "Organisation", "The Council of St Monica Trust", "202151"),
        ("Voluntary", "charity_number"),
    ),
    "care home chain": (
        ("Social Care Org", "Organisation", "Barchester Healthcare Homes Limited", "-"),
        ("Independent", "independent_type"),
    ),
    "hospice charity": (
        ("Independent Healthcare Org", "Organisation", "Marie Curie", "207994"),
        ("Voluntary", "charity_number"),
    ),
    "nhs trust": (
        (
            "NHS Healthcare Organisation",
            "NHS Body",
            "Guy's and St Thomas' NHS Foundation Trust",
            "",
        ),
        ("NHS", "nhs_body"),
    ),
    "gp practice": (
        ("Primary Medical Services", "Partnership", "Dr A Patel & Partners", ""),
        ("NHS", "gp_practice"),
    ),
    "dentist": (
        ("Primary Dental Care", "Individual", "Mr John Smith", ""),
        ("Independent", "independent_type"),
    ),
    "independent ambulance": (
        ("Independent Ambulance", "Organisation", "Falck UK Ambulance Service Ltd", "-"),
        ("Independent", "independent_type"),
    ),
    "blank type": (("", "Organisation", "Mystery Care Ltd", ""), ("Unknown", NO_RULE)),
    "community interest company": (
        ("Social Care Org", "Organisation", "Helping Hands Community Interest Company", "-"),
        ("Voluntary", "cic_name"),
    ),
}
# Rules that need a Companies House number or a register, exercised in test_voluntary.py.
_TESTED_WITH_REGISTERS = {"charity_register_company", "society_or_cio_prefix", "rsh_non_profit"}


def _cqc_rows(rows: list[tuple[str, str, str, object]]) -> pd.DataFrame:
    """CQC-shaped rows: (Location Type/Sector, Provider Ownership Type, Provider Name,
    Provider Charity Number), the other columns filled with plausible values."""
    records = []
    for number, (kind, ownership, name, charity) in enumerate(rows, start=1):
        records.append(
            {
                "Location ID": f"1-10000{number}",
                "Location Name": f"{name} site {number}",
                "Care homes beds": "0",
                "Location Type/Sector": kind,
                "Location ONSPD CCG Code": "E38000130",
                "Location Postal Code": "LS1 1UR",
                "Location Latitude": "53.8",
                "Location Longitude": "-1.55",
                "Provider Companies House Number": "-",
                "Provider Charity Number": charity,
                "Provider ID": f"1-20000{number}",
                "Provider Name": name,
                "Provider Ownership Type": ownership,
            }
        )
    return pd.DataFrame.from_records(records, columns=_CQC_COLUMNS)


# --- sector rules ---------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(_CQC_CASES))
def test_each_default_rule_fires_for_a_real_looking_cqc_row(case):
    row, (sector, rule) = _CQC_CASES[case]
    result = classify_sectors(_cqc_rows([row]))
    assert result.loc[0, "sector"] == sector
    assert result.loc[0, "sector_rule"] == rule


def test_every_default_rule_is_exercised_by_the_examples():
    fired = {rule for _, (_, rule) in _CQC_CASES.values()}
    names = {rule.name for rule in DEFAULT_CQC_RULES}
    tested_elsewhere = {"nhs_healthcare_organisation", *_TESTED_WITH_REGISTERS}  # below; there
    assert names - fired <= tested_elsewhere


def test_nhs_location_without_ownership_column_is_nhs_by_its_type():
    raw = _cqc_rows([("NHS Healthcare Organisation", "", "Leeds Teaching Hospitals", "")])
    result = classify_sectors(raw.drop(columns=["Provider Ownership Type"]))
    assert result.loc[0, ["sector", "sector_rule"]].tolist() == [
        "NHS",
        "nhs_healthcare_organisation",
    ]


def test_nhs_body_with_a_charity_number_is_still_nhs_because_order_matters():
    raw = _cqc_rows([("NHS Healthcare Organisation", "NHS Body", "Some NHS Trust", "1048")])
    assert classify_sectors(raw).loc[0, "sector"] == "NHS"


def test_council_with_a_charity_number_is_a_local_authority():
    raw = _cqc_rows([("Social Care Org", "Organisation", "Kent County Council", "12345")])
    assert classify_sectors(raw).loc[0, "sector"] == "Local authority"


@pytest.mark.parametrize("blank", ["", "-", " - ", None])
def test_blank_or_dash_charity_number_does_not_make_a_charity(blank):
    raw = _cqc_rows([("Social Care Org", "Organisation", "Care UK Ltd", blank)])
    assert classify_sectors(raw).loc[0, "sector"] == "Independent"


def test_charity_number_read_by_excel_as_a_float_still_counts():
    raw = _cqc_rows([("Social Care Org", "Organisation", "Sue Ryder", "x")])
    raw["Provider Charity Number"] = [1052076.0]
    assert classify_sectors(raw).loc[0, "sector"] == "Voluntary"


def test_values_match_ignoring_case_and_surrounding_spaces():
    raw = _cqc_rows([("  social care org ", " nhs body", "A Trust", "")])
    result = classify_sectors(raw)
    assert result.loc[0, "sector_rule"] == "nhs_body"


def test_column_name_drift_is_tolerated():
    raw = _cqc_rows([("Primary Medical Services", "Partnership", "The Surgery", "")])
    raw = raw.rename(columns={"Location Type/Sector": "Location Type / Sector"})
    assert classify_sectors(raw).loc[0, "sector"] == "NHS"


def test_classification_is_aligned_to_the_input_index():
    rows = [_CQC_CASES["council"][0], _CQC_CASES["dentist"][0]]
    raw = _cqc_rows(rows).set_axis([17, 3])
    result = classify_sectors(raw)
    assert result.index.tolist() == [17, 3]
    assert result.loc[3, "sector"] == "Independent"
    assert result.loc[17, "sector"] == "Local authority"


def test_list_without_any_column_the_rules_read_is_rejected():
    raw = pd.DataFrame({"Name": ["A hospital"], "Postcode": ["LS1 1UR"]})
    with pytest.raises(InputError, match="Provider Charity Number"):
        classify_sectors(raw)


def test_sector_rule_with_a_sector_outside_the_list_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        SectorRule(name="x", sector="Charity", description="", column="A", values=frozenset("y"))


# --- override files -------------------------------------------------------------------


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_default_rules_round_trip_through_an_override_file(tmp_path):
    path = tmp_path / "rules.csv"
    rules_table(DEFAULT_CQC_RULES).to_csv(path, index=False)
    assert load_sector_rules(path) == DEFAULT_CQC_RULES


def test_rules_table_lists_the_rules_in_order():
    table = rules_table()
    assert table["name"].tolist() == [rule.name for rule in DEFAULT_CQC_RULES]
    assert table.index.tolist() == list(range(1, len(DEFAULT_CQC_RULES) + 1))
    assert set(table["sector"]) <= set(SECTORS)


def test_override_file_changes_the_outcome(tmp_path):
    path = _write(
        tmp_path / "rules.csv",
        "name,sector,column,match,values,exclude,description\n"
        "social_enterprise,Voluntary,Provider Name,regex,Social Enterprise,,"
        "Social enterprises count as voluntary here\n"
        "care_types,Independent,Location Type/Sector,equals,Social Care Org|Primary Dental Care,,\n",
    )
    raw = _cqc_rows(
        [
            ("Social Care Org", "Organisation", "Helping Hands Social Enterprise Ltd", ""),
            ("Social Care Org", "Organisation", "Barchester Healthcare Homes Limited", ""),
        ]
    )
    assert classify_sectors(raw)["sector"].tolist() == ["Independent", "Independent"]
    result = classify_sectors(raw, load_sector_rules(path))
    assert result["sector"].tolist() == ["Voluntary", "Independent"]
    assert result["sector_rule"].tolist() == ["social_enterprise", "care_types"]


def test_override_file_in_windows_1252_reads(tmp_path):
    path = _write(
        tmp_path / "rules.csv",
        "name,sector,column,match,values,exclude,description\n"
        "cafe,voluntary,Provider Name,equals,Café Care Ltd,,Café owned by a charity\n",
        encoding="cp1252",
    )
    (rule,) = load_sector_rules(path)
    assert rule.values == frozenset({"Café Care Ltd"})
    assert rule.sector == "Voluntary"


_HEADER = "name,sector,column,match,values,exclude,description\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "ok,NHS,A,present,,,\nbad,Charity,Provider Name,present,,,\n",
            "rules.csv: row 3, column sector: 'Charity' is not a sector; expected one of NHS, "
            "Local authority, Independent, Voluntary, Unknown",
        ),
        ("x,NHS,A,contains,y,,\n", "rules.csv: row 2, column match: 'contains' is not"),
        ("x,NHS,A,regex,(unclosed,,\n", "rules.csv: row 2, column values: '(unclosed' is not"),
        ("x,NHS,A,present,,[z-a],\n", "rules.csv: row 2, column exclude: '[z-a]' is not"),
        ("x,NHS,A,equals,,,\n", "rules.csv: row 2, column values: is empty"),
        ("x,NHS,,present,,,\n", "rules.csv: row 2, column column: is empty"),
        ("x,NHS,A,present,,,\nx,NHS,B,present,,,\n", "duplicate rule names: x"),
        ("", "rules.csv: has a header but no rules"),
    ],
)
def test_bad_override_file_names_the_file_row_and_column(tmp_path, body, expected):
    path = _write(tmp_path / "rules.csv", _HEADER + body)
    with pytest.raises(InputError) as raised:
        load_sector_rules(path)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("column", ["values", "exclude"])
def test_a_pattern_that_would_backtrack_forever_runs_in_linear_time(tmp_path, column):
    # With Python's backtracking engine each of these names takes 2**40 steps: hours.
    rules = "".join(
        f"rule_{n},Voluntary,Provider Name,regex,"
        + ("(a+)+$,," if column == "values" else "Care,(a+)+$,")
        + "\n"
        for n in range(12)
    )
    path = _write(tmp_path / "rules.csv", _HEADER + rules)
    names = ["a" * 40 + "!", "Aaaa Care " + "a" * 40 + "!", "Bright Care"]
    raw = _cqc_rows([("Social Care Org", "Organisation", name, "") for name in names])

    result = classify_sectors(raw, load_sector_rules(path))

    expected = ["Unknown", "Voluntary", "Voluntary"] if column == "exclude" else ["Unknown"] * 3
    assert result["sector"].tolist() == expected


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(Care)\s+\1", "invalid escape sequence: \\1"),
        ("Care(?= Ltd)", "invalid perl operator: (?="),
    ],
)
def test_a_pattern_needing_backtracking_is_refused_saying_what_to_do(tmp_path, pattern, construct):
    path = _write(tmp_path / "rules.csv", _HEADER + f"x,NHS,Provider Name,regex,{pattern},,\n")

    with pytest.raises(InputError) as raised:
        load_sector_rules(path)

    assert str(raised.value) == (
        f"sector rules file rules.csv: row 2, column values: {pattern!r} is not a regular "
        f"expression the app can run ({construct}); sector rules use RE2 syntax, which has no "
        "backreferences (\\1) or lookarounds ((?=…), (?!…), (?<=…), (?<!…)); write the pattern "
        "without them"
    )


def test_a_column_named_twice_in_a_rule_file_is_refused(tmp_path):
    path = _write(
        tmp_path / "rules.csv",
        "name,sector,column,match,values,values\nx,NHS,Provider Name,regex,Care,Trust\n",
    )

    with pytest.raises(InputError, match=r"names column\(s\) values more than once"):
        load_sector_rules(path)


def test_override_file_missing_columns_says_what_was_expected_and_found(tmp_path):
    path = _write(tmp_path / "rules.csv", "name,sector,values\nx,NHS,y\n")
    with pytest.raises(InputError, match=r"missing column\(s\) column, match; .* found name"):
        load_sector_rules(path)


# --- free-text labels -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "sector"),
    [
        ("NHS Sector", "NHS"),
        ("NHS", "NHS"),
        ("nhs trust", "NHS"),
        ("Independent Sector", "Independent"),
        ("Private", "Independent"),
        ("independent", "Independent"),
        ("Voluntary", "Voluntary"),
        ("Charity", "Voluntary"),
        ("VCSE", "Voluntary"),
        ("Third sector", "Voluntary"),
        ("not for profit", "Voluntary"),
        ("Not-for-profit", "Voluntary"),
        ("Local authority", "Local authority"),
        ("Council", "Local authority"),
        ("LA", "Local authority"),
        ("", "Unknown"),
        (None, "Unknown"),
        ("Martian", "Unknown"),
    ],
)
def test_free_text_sector_labels_map_onto_the_five_sectors(label, sector):
    result = normalise_sector_labels(pd.Series([label], index=[7]))
    assert result.tolist() == [sector]
    assert result.index.tolist() == [7]


def test_unrecognised_sector_labels_are_listed_once_for_a_warning():
    labels = pd.Series(["NHS", "Martian", " Martian ", "", None, "Mixed", "Unknown"])
    assert unrecognised_sector_labels(labels) == ["Martian", "Mixed"]


@pytest.mark.parametrize(
    ("label", "status"),
    [
        ("Yes", "engaged"),
        ("y", "engaged"),
        ("TRUE", "engaged"),
        ("member", "engaged"),
        ("No", "not engaged"),
        ("not-engaged", "not engaged"),
        ("False", "not engaged"),
        ("", "unknown"),
        ("maybe", "unknown"),
    ],
)
def test_planning_status_labels_are_normalised(label, status):
    assert normalise_planning_statuses(pd.Series([label])).tolist() == [status]
    assert status in PLANNING_STATUSES


def test_unrecognised_planning_statuses_are_listed():
    assert unrecognised_planning_statuses(pd.Series(["yes", "maybe", "", "unknown"])) == ["maybe"]


# --- postcodes and capacity -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("e10aa", "E1 0AA"),
        ("E1  0AA", "E1 0AA"),  # ONSPD pcd7 form
        (" sw1a1aa ", "SW1A 1AA"),
        ("LS1 1UR", "LS1 1UR"),
        ("gir 0aa", "GIR 0AA"),
        ("not a postcode", "not a postcode"),
        ("  ", None),
        (None, None),
    ],
)
def test_postcodes_are_put_in_pcds_form_and_odd_shapes_left_as_given(given, expected):
    assert normalise_postcode(given) == expected


def test_vectorised_postcodes_agree_with_the_single_value_form():
    given = ["e10aa", "E1  0AA", "nonsense", "", None, "B33 8TH"]
    expected = [normalise_postcode(value) for value in given]
    result = normalise_postcodes(pd.Series(given, dtype=object))
    assert result.dtype == "string"
    assert [None if pd.isna(v) else v for v in result] == expected


def test_capacity_blank_stays_missing_and_text_is_flagged():
    given = pd.Series(["12", "", None, "ten", "-3", "1,200", " 7 "], dtype=object)
    capacity, bad = parse_capacity(given)
    assert capacity.dtype == "Float64"
    assert capacity.isna().tolist() == [False, True, True, True, True, False, False]
    assert capacity.dropna().tolist() == [12.0, 1200.0, 7.0]
    assert bad.tolist() == [False, False, False, True, True, False, False]


def test_capacity_beyond_what_one_site_can_have_is_flagged_and_left_empty():
    given = pd.Series([5000.0, 5001.0, 1e20, 1e308], dtype=object)

    capacity, bad = parse_capacity(given)

    assert capacity.isna().tolist() == [False, True, True, True]
    assert bad.tolist() == [False, True, True, True]


def test_an_implausible_capacity_is_a_warning_in_the_problems_table():
    raw = pd.DataFrame({"site_name": ["Oak", "Ash"], "capacity": ["40", "1e308"]}, dtype="string")

    listed = to_canonical(raw, {}, source="test")

    assert listed.sites["capacity"].isna().tolist() == [False, True]
    assert listed.problems[["row", "kind", "value", "severity"]].values.tolist() == [
        [1, problems.TOO_LARGE, "1e308", problems.WARNING]
    ]


def test_numeric_capacity_column_passes_through():
    capacity, bad = parse_capacity(pd.Series([3.0, float("nan"), 0.0]))
    assert capacity.isna().tolist() == [False, True, False]
    assert not bad.any()


# --- the canonical table --------------------------------------------------------------

_CQC_MAPPING = {
    "site_id": "Location ID",
    "site_name": "Location Name",
    "provider_id": "Provider ID",
    "provider_name": "Provider Name",
    "capacity": "Care homes beds",
    "postcode": "Location Postal Code",
    "lat": "Location Latitude",
    "lon": "Location Longitude",
    "official_sicbl_code": "Location ONSPD CCG Code",
}


def _canonical_cqc(**changes) -> ProviderList:
    raw = _cqc_rows([_CQC_CASES["council"][0], _CQC_CASES["dentist"][0]])
    for column, values in changes.items():
        raw[column] = values
    return to_canonical(raw, _CQC_MAPPING, source="cqc")


def _problem_rows(listed: ProviderList) -> list[tuple]:
    """The problems as (row, column, kind, value, severity) tuples, in the table's order."""
    return list(listed.problems.itertuples(index=False, name=None))


def test_canonical_table_has_canonical_columns_first_then_extras_then_the_rest():
    table = _canonical_cqc().sites
    canonical = [*CANONICAL_COLUMNS, *CANONICAL_EXTRAS]
    assert table.columns[: len(canonical)].tolist() == canonical
    rest = table.columns[len(canonical) :].tolist()
    assert rest == [
        "Location Type/Sector",
        "Provider Companies House Number",
        "Provider Charity Number",
        "Provider Ownership Type",
    ]
    assert {name: str(table[name].dtype) for name in canonical} == {
        name: str(pd.Series(dtype=dtype).dtype) for name, dtype in CANONICAL_DTYPES.items()
    }


def test_unmapped_canonical_columns_are_missing_with_the_right_dtype():
    table = _canonical_cqc().sites
    assert table["service_type"].isna().all()
    assert table["official_icb_code"].isna().all()
    assert table["sector"].tolist() == ["Unknown", "Unknown"]
    assert table["planning_status"].tolist() == ["unknown", "unknown"]
    assert table["source"].tolist() == ["cqc", "cqc"]
    assert table["lat"].tolist() == [53.8, 53.8]


def test_rows_with_bad_values_are_kept_and_the_problem_recorded():
    listed = _canonical_cqc(
        **{"Care homes beds": ["ten", ""], "Location Postal Code": ["ls11ur", "XYZ 123"]}
    )
    table = listed.sites
    assert len(table) == 2
    assert table["capacity"].isna().all()
    assert table["postcode"].tolist() == ["LS1 1UR", "XYZ 123"]
    assert _problem_rows(listed) == [
        (0, "capacity", "not_a_number", "ten", "warning"),
        (1, "postcode", "invalid_postcode", "XYZ 123", "warning"),
    ]


def test_negative_capacity_is_left_empty_and_recorded_as_negative():
    listed = _canonical_cqc(**{"Care homes beds": ["-3", "1,200"]})
    assert listed.sites["capacity"].isna().tolist() == [True, False]
    assert _problem_rows(listed) == [(0, "capacity", "negative", "-3", "warning")]


def test_capacity_that_is_not_finite_or_implausibly_large_is_left_empty_with_a_problem():
    given = ["12", "1e20", "1e308", "1e999", "inf", "NaN", "5,000", "5001"]
    listed = to_canonical(
        pd.DataFrame({"Name": list("ABCDEFGH"), "Beds": given}),
        {"site_name": "Name", "capacity": "Beds"},
        source="upload.csv",
    )

    assert listed.sites["capacity"].tolist()[::6] == [12.0, 5_000.0]
    assert listed.sites["capacity"].isna().sum() == 6
    assert sorted(_problem_rows(listed)) == [
        (1, "capacity", "too_large", "1e20", "warning"),
        (2, "capacity", "too_large", "1e308", "warning"),
        (3, "capacity", "not_a_number", "1e999", "warning"),
        (4, "capacity", "not_a_number", "inf", "warning"),
        (5, "capacity", "not_a_number", "NaN", "warning"),
        (7, "capacity", "too_large", "5001", "warning"),
    ]


def test_coordinates_that_are_not_finite_are_missing_and_an_error():
    listed = _canonical_cqc(**{"Location Latitude": ["inf", "1e999"]})
    assert listed.sites["lat"].isna().all()
    assert _problem_rows(listed) == [
        (0, "lat", "not_a_number", "inf", "error"),
        (1, "lat", "not_a_number", "1e999", "error"),
    ]


def test_coordinates_that_are_not_numbers_are_missing_and_an_error():
    listed = _canonical_cqc(**{"Location Latitude": ["53.8", "north"]})
    assert listed.sites["lat"].isna().tolist() == [False, True]
    assert _problem_rows(listed) == [(1, "lat", "not_a_number", "north", "error")]


def test_planning_status_and_sector_columns_are_normalised_and_odd_ones_noted():
    raw = pd.DataFrame(
        {
            "Name": ["A", "B", "C"],
            "Sector": ["Independent Sector", "VCSE", "Martian"],
            "In ICS planning?": ["Yes", "no", "perhaps"],
        }
    )
    mapping = {"site_name": "Name", "sector": "Sector", "planning_status": "In ICS planning?"}
    listed = to_canonical(raw, mapping, source="upload.csv")
    assert listed.sites["sector"].tolist() == ["Independent", "Voluntary", "Unknown"]
    assert listed.sites["planning_status"].tolist() == ["engaged", "not engaged", "unknown"]
    assert _problem_rows(listed) == [
        (2, "sector", "unknown_sector", "Martian", "warning"),
        (2, "planning_status", "unknown_planning_status", "perhaps", "warning"),
    ]


def test_raw_column_already_named_canonically_is_used_and_clashes_are_renamed():
    raw = pd.DataFrame({"postcode": ["e10aa"], "sector": ["NHS Sector"], "Kind": ["Private"]})
    table = to_canonical(raw, {"sector": "Kind"}, source="x").sites
    assert table.loc[0, "postcode"] == "E1 0AA"
    assert table.loc[0, "sector"] == "Independent"
    assert table.loc[0, "raw_sector"] == "NHS Sector"
    assert "Kind" not in table.columns


def test_a_publishers_own_problems_column_is_passed_through_as_theirs():
    raw = pd.DataFrame({"pc": ["nope"], "problems": ["roof leaks"]})
    listed = to_canonical(raw, {"postcode": "pc"}, source="x")
    assert listed.sites.loc[0, "problems"] == "roof leaks"
    assert _problem_rows(listed) == [(0, "postcode", "invalid_postcode", "nope", "warning")]


def test_a_clean_list_has_an_empty_typed_problems_table():
    listed = to_canonical(pd.DataFrame({"name": ["Ash House"]}), {"site_name": "name"}, source="x")
    assert listed.problems.empty
    assert listed.problems.dtypes.astype(str).to_dict() == problems.DTYPES


def test_mapping_to_a_column_the_file_lacks_names_the_source_and_suggests():
    raw = _cqc_rows([_CQC_CASES["council"][0]])
    with pytest.raises(InputError) as raised:
        to_canonical(raw, {"postcode": "Location Postcode"}, source="HSCA_Active_Locations.ods")
    message = str(raised.value)
    assert message.startswith("HSCA_Active_Locations.ods: column 'Location Postcode'")
    assert "did you mean 'Location Postal Code'?" in message


def test_mapping_to_a_name_that_is_not_canonical_is_refused():
    raw = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError, match="'beds', which is not a canonical column"):
        to_canonical(raw, {"beds": "a"}, source="x")


def test_empty_list_gives_an_empty_typed_table():
    raw = _cqc_rows([]).astype(object)
    table = to_canonical(raw, _CQC_MAPPING, source="cqc").sites
    assert table.empty
    assert str(table["capacity"].dtype) == "Float64"
    assert str(table["site_id"].dtype) == "string"


def test_whole_number_ids_read_as_floats_lose_their_decimal_point():
    raw = pd.DataFrame({"id": [101.0, None]})
    table = to_canonical(raw, {"site_id": "id"}, source="x").sites
    assert table["site_id"].tolist()[0] == "101"
    assert pd.isna(table["site_id"].tolist()[1])


# --- official ICB ---------------------------------------------------------------------


def test_official_icb_is_filled_from_the_sub_icb_code_and_existing_codes_kept():
    sites = pd.DataFrame(
        {
            "official_icb_code": [None, "E54000054", None, None],
            "official_sicbl_code": ["e38000130 ", "E38000130", "E38000999", None],
        }
    )
    result = attach_official_icb(sites, {"E38000130": "E54000054", "E38000001": "E54000048"})
    assert result["official_icb_code"].tolist()[:2] == ["E54000054", "E54000054"]
    assert result["official_icb_code"].isna().tolist() == [False, False, True, True]
    assert sites["official_icb_code"].isna().sum() == 3  # input left alone


def test_ids_and_codes_are_kept_as_what_they_are_without_invisible_characters():
    raw = pd.DataFrame(
        {
            "site_id": ["S0001\u200b", "\u202eS0002"],
            "site_name": ["Oak House\u200b", "Ash House"],
            "official_sicbl_code": ["e38000130\u200b", "E38000130"],
        },
        dtype="string",
    )

    sites = to_canonical(raw, {}, source="test").sites
    placed = attach_official_icb(sites, {"E38000130": "E54000054"})

    assert sites["site_id"].tolist() == ["S0001", "S0002"]
    assert sites["site_name"].tolist() == ["Oak House\u200b", "Ash House"]  # shown as given
    assert placed["official_icb_code"].tolist() == ["E54000054", "E54000054"]


def test_sub_icb_codes_the_lookup_does_not_know_are_counted():
    sites = pd.DataFrame(
        {"official_sicbl_code": ["E38000999", "E38000999", "E38000130", "E38000777", None]}
    )
    report = unmapped_sicbl_codes(sites, {"E38000130": "E54000054"})
    assert report.to_dict("records") == [
        {"sicbl_code": "E38000999", "sites": 2},
        {"sicbl_code": "E38000777", "sites": 1},
    ]


def test_attaching_without_a_sub_icb_column_is_refused():
    with pytest.raises(InputError, match="official_sicbl_code"):
        attach_official_icb(pd.DataFrame({"x": [1]}), {})


# --- real open data -------------------------------------------------------------------


def test_real_hospital_sector_labels_agree_with_the_publishers_normalised_column(shared_data):
    hospitals = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")
    assert unrecognised_sector_labels(hospitals["sector"]) == []
    sectors = normalise_sector_labels(hospitals["sector"])
    assert (sectors == hospitals["sector_normalised"]).all()


def test_real_hospitals_become_a_canonical_table_without_losing_rows(shared_data):
    hospitals = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")
    mapping = {
        "site_id": "hospitalId",
        "site_name": "name",
        "provider_id": "trustId",
        "provider_name": "trustName",
        "postcode": "pcds",
        "lon": "long",
        "official_icb_code": "icb24_code",
    }
    listed = to_canonical(hospitals, mapping, source="nhs website")
    table = listed.sites
    assert len(table) == len(hospitals)
    assert (table["sector"] == hospitals["sector_normalised"]).all()  # identity-mapped
    assert table["postcode"].equals(normalise_postcodes(hospitals["pcds"]))
    shapes = hospitals["pcds"].str.replace(" ", "").str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}")
    malformed = hospitals.index[~shapes.fillna(False).astype(bool)]
    assert (listed.problems["kind"] == "invalid_postcode").all()
    assert listed.problems["row"].tolist() == malformed.tolist()


def test_real_sub_icb_lookup_fills_every_official_icb(shared_data):
    lookup = pd.read_csv(shared_data / "lookup_lsoa21_sicbl24_icb24_icb26.csv")
    pairs = lookup[["sicbl24_code", "icb24_code"]].drop_duplicates()
    sicbl_to_icb = dict(zip(pairs["sicbl24_code"], pairs["icb24_code"], strict=True))
    sites = pd.DataFrame({"official_sicbl_code": [*pairs["sicbl24_code"], "E38000999"]})
    result = attach_official_icb(sites, sicbl_to_icb)
    assert result["official_icb_code"].iloc[:-1].tolist() == pairs["icb24_code"].tolist()
    assert unmapped_sicbl_codes(sites, sicbl_to_icb)["sicbl_code"].tolist() == ["E38000999"]
