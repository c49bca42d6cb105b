"""Evidence of NHS commissioning joined to provider sites and ICBs, and each site's status from it.

RTT and DM01 rows name a provider (an ODS site or organisation code) and a commissioner
(a sub-ICB location, its ICB as parent); contract awards name a supplier (Companies House,
charity or ODS number, or only a name) and a buyer; DSPT rows name an organisation by its
ODS code. Here commissioners become ICBs of the analysis's vintage, sources' providers
become sites, most certain identifier first (names are only ever offered as near misses,
applied above an explicit score), and each independent or voluntary site gets an
evidence status (`geo.model.evidence`) with a sentence for its popup.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo.analysis.matching import normalise_provider_names
from geo.io.lookups import sicbl_to_icb_map
from geo.model.errors import InputError
from geo.model.evidence import (
    ACTIVITY_COLUMNS,
    AWARD_COLUMNS,
    BASIS_EVIDENCE,
    BASIS_LIST,
    BASIS_NONE,
    COMMISSIONED,
    COMMISSIONED_ELSEWHERE,
    COMMISSIONER_SOURCES,
    CONTRACT_VALUE,
    CONTRACTS,
    DIAGNOSTIC_TESTS,
    DM01,
    DSPT,
    DSPT_COLUMNS,
    DSPT_STATUS,
    EVIDENCE_COLUMNS,
    EVIDENCE_STATUS,
    EVIDENCE_SUMMARY,
    NO_EVIDENCE,
    NOT_CHECKED,
    PATIENTS_WAITING,
    PLANNING_BASIS,
    RTT,
    SOURCE_LABELS,
    SOURCE_LIMITS,
    SOURCES,
)
from geo.model.providers import ENGAGED, NOT_ENGAGED, normalise_planning_statuses
from geo.model.registers import company_number_key, organisation_name_key
from geo.model.sectors import IV_SECTORS

# How a source row was matched to sites, most certain first (the evidence table's matched_by).
BY_SITE_CODE = "ODS site code"
BY_ORG_CODE = "ODS organisation code"
BY_COMPANY = "Companies House number"
BY_CHARITY = "charity number"
BY_NAME = "name"
UNMATCHED = "none"
# A provider name this similar (rapidfuzz ratio of sorted words, 0-100) is a near miss.
NEAR_MISS_SCORE = 85.0
# At most this many name comparisons per source, so no source can make an analysis slow.
NAME_COMPARISON_LIMIT = 20_000_000

# The CQC columns a site's identifiers are read from, when the provider list has them.
CQC_SITE_ODS = "Location ODS Code"
CQC_COMPANY = "Provider Companies House Number"
CQC_CHARITY = "Provider Charity Number"

# What became of each activity row's commissioner (the coverage table's outcome).
MAPPED = "mapped to an ICB"
NO_ICB = "no ICB (NHS England or non-English commissioner)"
NOT_MAPPED = "code not found in this vintage's lookups"

REPORT_COLUMNS: tuple[str, ...] = (
    "source",
    "source_code",
    "source_name",
    "scheme",
    "rows",
    "matched_by",
    "sites_matched",
    "near_miss_provider",
    "score",
    "applied",
)
COVERAGE_COLUMNS: tuple[str, ...] = ("source", "outcome", "rows", "patients_waiting")

_ODS_CODE = re.compile(r"^[A-Z0-9]{3}$|^[A-Z0-9]{5}$")
_REGION_CODE = re.compile(r"^Y\d\d$")
_NON_ENGLISH = "NONC"


@dataclass(frozen=True)
class EvidenceInputs:
    """The evidence frames one analysis uses, each optional, and where they came from.

    `activity` is RTT and DM01 rows (ACTIVITY_COLUMNS), `awards` contract awards
    (AWARD_COLUMNS), `dspt` DSPT rows (DSPT_COLUMNS); `sources` names every source that
    was loaded (one with no rows still counts: it was checked); `provenance` has a row
    per file (`geo.analysis.pipeline.PROVENANCE_COLUMNS`).
    """

    activity: pd.DataFrame | None = None
    awards: pd.DataFrame | None = None
    dspt: pd.DataFrame | None = None
    sources: tuple[str, ...] = ()
    provenance: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.sources) - set(SOURCES))
        if unknown:
            raise InputError(f"evidence: unknown source(s) {', '.join(unknown)}")
        for label, frame, columns in (
            ("activity", self.activity, ACTIVITY_COLUMNS),
            ("contract awards", self.awards, AWARD_COLUMNS),
            ("DSPT", self.dspt, DSPT_COLUMNS),
        ):
            missing = [] if frame is None else [c for c in columns if c not in frame.columns]
            if missing:
                raise InputError(f"evidence {label}: missing column(s) {', '.join(missing)}")


@dataclass(frozen=True)
class Evidence:
    """What joining the evidence found: the table, per site its status and summary, the
    match report, and what became of the commissioners' codes."""

    table: pd.DataFrame  # EVIDENCE_COLUMNS
    statuses: pd.Series  # EVIDENCE_STATUSES, indexed as the sites
    summaries: pd.Series  # text, NA where there is nothing to say
    report: pd.DataFrame  # REPORT_COLUMNS
    coverage: pd.DataFrame  # COVERAGE_COLUMNS
    sources: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Geography:
    """What turns commissioner codes into the vintage's ICBs: ICB and sub-ICB layers and the lookup."""

    icbs: pd.DataFrame
    sub_icbs: pd.DataFrame | None = None
    lookup: pd.DataFrame | None = None


def load_cached_evidence(row_of: Callable[[object], dict]) -> EvidenceInputs | None:
    """The evidence the download cache holds (catalogue kinds rtt, dm01, contracts, dspt),
    read with the `geo.io` readers; `row_of(entry)` is its provenance row. None when none."""
    from geo.fetch import catalogue

    found = {source: catalogue.find(source) for source in SOURCES}
    if all(entry is None for entry in found.values()):
        return None
    from geo.fetch.contracts import read_cached_awards  # imported only when needed
    from geo.io.activity import read_dm01, read_rtt
    from geo.io.dspt import read_dspt

    readers = {RTT: read_rtt, DM01: read_dm01, DSPT: read_dspt}
    read = {
        source: readers[source](catalogue.entry_path(entry))
        for source, entry in found.items()
        if entry is not None and source != CONTRACTS
    }
    if found[CONTRACTS] is not None:  # every harvest window and file taken, each release once
        read[CONTRACTS] = read_cached_awards()
    if not read:
        return None
    activity = [read[s] for s in (RTT, DM01) if s in read]
    return EvidenceInputs(
        activity=pd.concat(activity, ignore_index=True) if activity else None,
        awards=read.get(CONTRACTS),
        dspt=read.get(DSPT),
        sources=tuple(read),
        provenance=pd.DataFrame([row_of(entry) for entry in found.values() if entry is not None]),
    )


# --- commissioners to ICBs --------------------------------------------------------------


def commissioner_icbs(activity: pd.DataFrame, geography: Geography, vintage: str) -> pd.DataFrame:
    """Per activity row, the commissioning ICB of `vintage` and the outcome (MAPPED, NO_ICB
    or NOT_MAPPED): the sub-ICB location's ODS code through the sub-ICB layer or lookup,
    else the parent ICB's ODS code through the ICB layer. Hubs, regions and NONC have none."""
    code = _codes(activity["commissioner_code"])
    parent = _codes(activity["commissioner_parent_code"])
    by_sub_icb = code.map(_sub_icb_icbs(geography, vintage)).astype("str")
    by_parent = parent.map(_icb_ods_codes(geography.icbs)).astype("str")
    icb = by_sub_icb.fillna(by_parent)
    no_icb = parent.isna() | code.eq(_NON_ENGLISH).fillna(False) | code.str.match(_REGION_CODE)
    outcome = np.select(
        [icb.notna().to_numpy(), no_icb.fillna(True).to_numpy(bool)], [MAPPED, NO_ICB], NOT_MAPPED
    )
    return pd.DataFrame({"icb_code": icb.astype("str"), "outcome": outcome}, index=activity.index)


def _codes(values: pd.Series) -> pd.Series:
    text = pd.Series(values, dtype="str").str.strip().str.upper()
    return text.mask(text == "")


def _sub_icb_icbs(geography: Geography, vintage: str) -> dict[str, str]:
    """Sub-ICB ODS code -> ICB code of `vintage`, leaving out sub-ICBs split between ICBs."""
    ods_to_gss: dict[str, str] = {}
    to_icb: dict[str, str] = {}
    layer, lookup = geography.sub_icbs, geography.lookup
    icb_codes = set(geography.icbs["code"].astype(str))
    if layer is not None and "ods_code" in layer:
        named = layer[layer["ods_code"].notna()]
        ods_to_gss.update(zip(named["ods_code"].str.upper(), named["code"], strict=True))
        if "parent_icb_code" in layer:
            parents = layer[layer["parent_icb_code"].isin(icb_codes)]
            to_icb.update(zip(parents["code"], parents["parent_icb_code"], strict=True))
    if lookup is not None:
        if "sicbl_ods_code" in lookup:
            named = lookup[lookup["sicbl_ods_code"].notna()].drop_duplicates("sicbl_code")
            pairs = zip(named["sicbl_ods_code"].str.upper(), named["sicbl_code"], strict=True)
            ods_to_gss.update(pairs)
        with contextlib.suppress(InputError):  # other vintages only: the layer's parents stand
            to_icb.update(sicbl_to_icb_map(lookup, vintage))
    mapped = {ods: to_icb.get(gss) for ods, gss in ods_to_gss.items()}
    return {ods: icb for ods, icb in mapped.items() if icb in icb_codes}


def _icb_ods_codes(icbs: pd.DataFrame) -> dict[str, str]:
    """ICB ODS code ('QWO') -> ICB code, from the layer's ods_code (NA for 2026's new ICBs)."""
    if "ods_code" not in icbs:
        return {}
    named = icbs[icbs["ods_code"].notna()]
    return dict(zip(named["ods_code"].astype(str).str.upper(), named["code"], strict=True))


def _buyer_icbs(awards: pd.DataFrame, geography: Geography, vintage: str) -> pd.Series:
    """Per award, the buying ICB: its ODS code (ICB, else sub-ICB), else its name."""
    code = _codes(awards["buyer_ods_code"])
    names = dict(
        zip(
            geography.icbs["name"].map(_icb_name_key),
            geography.icbs["code"],
            strict=True,
        )
    )
    icb = code.map(_icb_ods_codes(geography.icbs))
    icb = icb.fillna(code.map(_sub_icb_icbs(geography, vintage)))
    icb = icb.fillna(_map_distinct(awards["buyer_name"], _icb_name_key).map(names))
    return icb.astype("str")


def _icb_name_key(name: object) -> str | None:
    """'NHS West Yorkshire ICB' and 'NHS WEST YORKSHIRE INTEGRATED CARE BOARD' meet."""
    key = organisation_name_key(name)
    return None if key is None else key.replace("integrated care board", "icb")


# --- sites' identifiers ------------------------------------------------------------------


def _site_keys(sites: pd.DataFrame) -> dict[str, pd.Series]:
    """Per kind of identifier, each site's key (NA where it has none), positions as index."""
    sites = sites.reset_index(drop=True)
    site_id = _codes(sites["site_id"])
    site_ods = _codes(sites[CQC_SITE_ODS]) if CQC_SITE_ODS in sites else _blank(sites)
    site_ods = site_ods.fillna(site_id.where(site_id.str.len().eq(5).fillna(False)))
    provider = _codes(sites["provider_id"])
    org = provider.where(provider.str.len().eq(3).fillna(False))
    org = org.fillna(site_ods.where(site_ods.str.match(r"^N[A-Z0-9]{4}$").fillna(False)).str[:3])
    company = (
        _map_distinct(sites[CQC_COMPANY], company_number_key) if CQC_COMPANY in sites else None
    )
    charity = _map_distinct(sites[CQC_CHARITY], _charity_key) if CQC_CHARITY in sites else None
    return {
        BY_SITE_CODE: site_ods.where(site_ods.str.match(_ODS_CODE).fillna(False)),
        BY_ORG_CODE: org,
        BY_COMPANY: _blank(sites) if company is None else company.astype("str"),
        BY_CHARITY: _blank(sites) if charity is None else charity.astype("str"),
    }


def _map_distinct(values: pd.Series, function: Callable[[object], str | None]) -> pd.Series:
    """`function` of each value, called once per distinct value (ids repeat across sites)."""
    distinct = values.dropna().unique()
    keys = dict(zip(distinct, map(function, distinct), strict=True))
    return values.map(keys).astype(object)


def _blank(sites: pd.DataFrame) -> pd.Series:
    return pd.Series(pd.NA, index=sites.index, dtype="str")


def _charity_key(value: object) -> str | None:
    """A charity number as the register writes it: digits without leading zeros ('0212345'
    and '212345.0' -> '212345'), other text upper-case; None when blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = re.sub(r"\s+", "", str(value)).upper().removesuffix(".0")
    if text in ("", "-", "N/A", "NONE", "0"):
        return None
    return str(int(text)) if text.isdigit() else text


# --- sources' identifiers ----------------------------------------------------------------


def _source_entities(inputs: EvidenceInputs) -> pd.DataFrame:
    """Every source row as (source, row, kind, key, code, name, scheme): the identifier it is
    matched by, most certain kind first."""
    frames = []
    if inputs.activity is not None:
        frames.append(_ods_entities(inputs.activity, "provider_code", "provider_name", None))
    if inputs.awards is not None:
        frames.append(_award_entities(inputs.awards))
    if inputs.dspt is not None:
        frames.append(_ods_entities(inputs.dspt, "code", "name", DSPT))
    if not frames:
        return pd.DataFrame(columns=["source", "row", "kind", "key", "code", "name", "scheme"])
    return pd.concat(frames, ignore_index=True)


def _ods_entities(frame: pd.DataFrame, code: str, name: str, source: str | None) -> pd.DataFrame:
    codes = _codes(frame[code])
    kind = np.where(codes.str.len().eq(3).fillna(False), BY_ORG_CODE, BY_SITE_CODE)
    return pd.DataFrame(
        {
            "source": frame["source"].to_numpy() if source is None else source,
            "row": np.arange(len(frame)),
            "kind": kind,
            "key": codes.to_numpy(dtype=object),
            "code": codes.to_numpy(dtype=object),
            "name": frame[name].to_numpy(dtype=object),
            "scheme": "ODS",
        }
    )


def _award_entities(awards: pd.DataFrame) -> pd.DataFrame:
    scheme = awards["supplier_scheme"].astype("str").str.upper()
    number = awards["supplier_number"]
    ods = _codes(number)
    key = np.select(
        [scheme.eq("GB-COH"), scheme.eq("GB-CHC"), scheme.eq("GB-NHS")],
        [_map_distinct(number, company_number_key), _map_distinct(number, _charity_key), ods],
        None,
    )
    kind = np.select(
        [scheme.eq("GB-COH"), scheme.eq("GB-CHC"), scheme.eq("GB-NHS") & ods.str.len().eq(3)],
        [BY_COMPANY, BY_CHARITY, BY_ORG_CODE],
        BY_SITE_CODE,
    )
    return pd.DataFrame(
        {
            "source": CONTRACTS,
            "row": np.arange(len(awards)),
            "kind": np.where(pd.isna(key), UNMATCHED, kind),
            "key": key,
            "code": number.to_numpy(dtype=object),
            "name": awards["supplier_name"].to_numpy(dtype=object),
            "scheme": scheme.to_numpy(dtype=object),
        }
    )


# --- matching ------------------------------------------------------------------------------


def _links(entities: pd.DataFrame, keys: dict[str, pd.Series]) -> pd.DataFrame:
    """(entity, position, matched_by) for every site each source row's identifier names."""
    frames = [pd.DataFrame({"entity": [], "position": [], "matched_by": []})]
    for kind, site_key in keys.items():
        wanted = entities[(entities["kind"] == kind) & entities["key"].notna()]
        named = pd.DataFrame({"key": site_key.to_numpy(dtype=object), "position": site_key.index})
        named = named[named["key"].notna()]
        joined = wanted[["key"]].reset_index(names="entity").merge(named, on="key")
        frames.append(joined.assign(matched_by=kind)[["entity", "position", "matched_by"]])
    return pd.concat(frames, ignore_index=True).astype({"entity": "int64", "position": "int64"})


def _near_misses(
    names: pd.Series, site_keys: pd.Series, accept_above: float | None
) -> pd.DataFrame:
    """Per distinct unmatched source name: the closest provider name key among the sites (at
    NEAR_MISS_SCORE or more), its score, and whether it is applied (score >= accept_above).
    Compared all at once (rapidfuzz cdist), within NAME_COMPARISON_LIMIT."""
    choices = pd.Series(site_keys[site_keys.ne("")].unique(), dtype=object)
    asked = pd.Series(names.dropna().unique(), dtype=object)
    asked_keys = normalise_provider_names(asked.astype("str"))
    asked = asked[asked_keys.ne("").to_numpy()]
    asked_keys = asked_keys[asked_keys.ne("")]
    budget = NAME_COMPARISON_LIMIT // max(len(choices), 1)
    asked, asked_keys = asked.iloc[:budget], asked_keys.iloc[:budget]
    misses = pd.DataFrame(
        {"name": pd.Series(dtype=object), "site_key": pd.Series(dtype=object), "score": []}
    )
    if len(asked) and len(choices):
        sorted_choices = [" ".join(sorted(key.split())) for key in choices]
        queries = [" ".join(sorted(key.split())) for key in asked_keys]
        matrix = process.cdist(
            queries, sorted_choices, scorer=fuzz.ratio, processor=None,
            score_cutoff=NEAR_MISS_SCORE, workers=-1, dtype=np.float32,
        )  # fmt: skip
        best = matrix.argmax(axis=1)
        score = matrix[np.arange(len(best)), best].astype(float)
        close = score >= NEAR_MISS_SCORE
        misses = pd.DataFrame(
            {
                "name": asked.to_numpy()[close],
                "site_key": choices.to_numpy()[best[close]],
                "score": score[close],
            }
        )
    misses["applied"] = misses["score"] >= accept_above if accept_above is not None else False
    return misses


def _name_links(misses: pd.DataFrame, entities: pd.DataFrame, site_keys: pd.Series) -> pd.DataFrame:
    """(entity, position, matched_by) for the near misses that are applied."""
    applied = misses[misses["applied"].astype(bool)]
    sites = pd.DataFrame({"site_key": site_keys.to_numpy(dtype=object)}).reset_index(
        names="position"
    )
    pairs = (
        entities[["name"]]
        .reset_index(names="entity")
        .astype({"name": object})
        .merge(applied[["name", "site_key"]].astype(object), on="name")
        .merge(sites, on="site_key")
    )
    return pairs.assign(matched_by=BY_NAME)[["entity", "position", "matched_by"]]


def match_sources(
    sites: pd.DataFrame, inputs: EvidenceInputs, *, accept_names_above: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The source entities, their links to site positions, and the match report (one row
    per source, code and name): identifiers first, names only as reported near misses."""
    sites = sites.reset_index(drop=True)
    entities = _source_entities(inputs)
    links = _links(entities, _site_keys(sites))
    unmatched = entities[~entities.index.isin(links["entity"])]
    site_keys = normalise_provider_names(sites["provider_name"])
    misses = _near_misses(unmatched["name"], site_keys, accept_names_above)
    named = _name_links(misses, unmatched, site_keys)
    links = pd.concat([links, named], ignore_index=True)
    return entities, links, _report(entities, links, misses)


def _report(entities: pd.DataFrame, links: pd.DataFrame, misses: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, code, name): how it matched, how many sites, its near miss."""
    how = links.drop_duplicates("entity").set_index("entity")["matched_by"]
    sites = links.groupby("entity")["position"].nunique()
    table = entities.assign(
        matched_by=how.reindex(entities.index).fillna(UNMATCHED).to_numpy(),
        sites_matched=sites.reindex(entities.index).fillna(0).astype("int64").to_numpy(),
    )
    keys = ["source", "code", "name", "scheme"]
    grouped = table.fillna({"code": "", "name": ""}).groupby(keys, dropna=False, sort=True)
    report = grouped.agg(
        rows=("row", "size"), matched_by=("matched_by", "first"), sites=("sites_matched", "max")
    ).reset_index()
    miss = misses.set_index("name") if len(misses) else None
    report["near_miss_provider"] = (
        report["name"].map(miss["site_key"]) if miss is not None else pd.NA
    )
    report["score"] = report["name"].map(miss["score"]) if miss is not None else np.nan
    report["applied"] = report["matched_by"].ne(UNMATCHED)
    report = report.rename(
        columns={"code": "source_code", "name": "source_name", "sites": "sites_matched"}
    )
    return report[list(REPORT_COLUMNS)].astype(
        {"score": "Float64", "near_miss_provider": "str", "source_code": "str"}
    )


def match_counts(report: pd.DataFrame) -> pd.DataFrame:
    """Per source: how many of its providers matched (and by what), were near misses, or not."""
    near = report["matched_by"].eq(UNMATCHED) & report["score"].notna()
    outcome = report["matched_by"].where(~near, "near miss (not applied)")
    return (
        report.assign(outcome=outcome.replace(UNMATCHED, "unmatched"))
        .groupby(["source", "outcome"])
        .size()
        .rename("providers")
        .reset_index()
    )


# --- the evidence table ----------------------------------------------------------------------


def join_evidence(
    sites: pd.DataFrame,
    inputs: EvidenceInputs,
    geography: Geography,
    *,
    accept_names_above: float | None = None,
) -> Evidence:
    """Join the evidence to `sites` (assigned: with icb_code) and the vintage's ICBs."""
    vintage = str(geography.icbs["vintage"].iloc[0])
    positions = sites.reset_index(drop=True)
    entities, links, report = match_sources(
        positions, inputs, accept_names_above=accept_names_above
    )
    rows, coverage = _source_rows(inputs, geography, vintage)
    linked = links.merge(
        entities[["source", "row"]].reset_index(names="entity"), on="entity"
    ).merge(rows, on=["source", "row"])
    table = _evidence_table(linked, positions, geography.icbs)  # with each site's position
    statuses = _statuses(len(positions), table, inputs.sources)
    return Evidence(
        table=table[list(EVIDENCE_COLUMNS)],
        statuses=pd.Series(statuses, index=sites.index, dtype="str"),
        summaries=pd.Series(_summaries(len(positions), table).to_numpy(), index=sites.index),
        report=report,
        coverage=coverage,
        sources=inputs.sources,
    )


def _source_rows(
    inputs: EvidenceInputs, geography: Geography, vintage: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every source row in one shape (source, row, icb_code, period, measure, value,
    detail, source_code, source_name, file, published), and the commissioners' coverage."""
    frames, coverage = [], []
    if inputs.activity is not None:
        activity = inputs.activity.reset_index(drop=True)
        icbs = commissioner_icbs(activity, geography, vintage)
        frames.append(
            pd.DataFrame(
                {
                    "source": activity["source"],
                    "row": np.arange(len(activity)),
                    "icb_code": icbs["icb_code"],
                    "period": activity["period"],
                    "measure": activity["measure"],
                    "value": pd.to_numeric(activity["value"], errors="coerce"),
                    "detail": pd.NA,
                    "source_code": activity["provider_code"],
                    "source_name": activity["provider_name"],
                    "file": activity["file"],
                    "published": activity["published"],
                }
            )
        )
        coverage.append(_coverage(activity, icbs["outcome"]))
    if inputs.awards is not None:
        frames.append(_award_rows(inputs.awards.reset_index(drop=True), geography, vintage))
    if inputs.dspt is not None:
        frames.append(_dspt_rows(inputs.dspt.reset_index(drop=True)))
    empty = pd.DataFrame(columns=["source", "row", "icb_code"])
    rows = pd.concat(frames, ignore_index=True) if frames else empty
    covered = (
        pd.concat(coverage, ignore_index=True)
        if coverage
        else pd.DataFrame(columns=list(COVERAGE_COLUMNS))
    )
    return rows, covered


def _coverage(activity: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """Per source and commissioner outcome: rows, and patients waiting (RTT's measure)."""
    waiting = pd.to_numeric(activity["value"], errors="coerce").where(
        activity["measure"].eq(PATIENTS_WAITING), 0.0
    )
    frame = pd.DataFrame({"source": activity["source"], "outcome": outcome, "waiting": waiting})
    grouped = frame.groupby(["source", "outcome"], sort=True)
    table = grouped.agg(rows=("waiting", "size"), patients_waiting=("waiting", "sum"))
    return table.reset_index()[list(COVERAGE_COLUMNS)]


def _award_rows(awards: pd.DataFrame, geography: Geography, vintage: str) -> pd.DataFrame:
    detail = (
        awards["title"].fillna("contract").astype(str)
        + ", "
        + awards["start_date"].fillna("?").astype(str)
        + "–"
        + awards["end_date"].fillna("?").astype(str)
        + np.where(awards["psr"].fillna(False).astype(bool), ", PSR", "")
    )
    return pd.DataFrame(
        {
            "source": CONTRACTS,
            "row": np.arange(len(awards)),
            "icb_code": _buyer_icbs(awards, geography, vintage),
            "period": awards["award_date"].astype("str").str[:7],
            "measure": CONTRACT_VALUE,
            "value": pd.to_numeric(awards["value"], errors="coerce"),
            "detail": detail,
            "source_code": awards["supplier_number"],
            "source_name": awards["supplier_name"],
            "file": awards["file"],
            "published": awards["published"],
        }
    )


def _dspt_rows(dspt: pd.DataFrame) -> pd.DataFrame:
    edition = dspt["edition"].astype("str")
    return pd.DataFrame(
        {
            "source": DSPT,
            "row": np.arange(len(dspt)),
            "icb_code": pd.Series(pd.NA, index=dspt.index, dtype="str"),
            "period": edition,
            "measure": DSPT_STATUS,
            "value": np.nan,
            "detail": (edition.fillna("") + " " + dspt["status"].astype("str")).str.strip(),
            "source_code": dspt["code"],
            "source_name": dspt["name"],
            "file": dspt["file"],
            "published": dspt["published"],
        }
    )


def _evidence_table(linked: pd.DataFrame, sites: pd.DataFrame, icbs: pd.DataFrame) -> pd.DataFrame:
    """One row per site x ICB x source x period x measure (and contract detail), values summed."""
    if linked.empty:
        return empty_evidence()
    site_columns = ["site_id", "site_name", "provider_id", "provider_name", "icb_code"]
    site_info = sites[site_columns].rename(columns={"icb_code": "site_icb_code"})
    linked = linked.join(site_info, on="position")
    keys = ["position", "icb_code", "source", "period", "measure", "detail"]
    grouped = linked.fillna({"detail": "", "icb_code": ""}).groupby(keys, sort=True)
    firsts = [c for c in EVIDENCE_COLUMNS if c not in (*keys, "value", "icb_name")]
    table = grouped[firsts].first()
    table.insert(0, "value", grouped["value"].sum(min_count=1))
    table = table.reset_index()
    table = table.replace({"icb_code": {"": pd.NA}, "detail": {"": pd.NA}})
    names = dict(zip(icbs["code"], icbs["name"], strict=True))
    table["icb_name"] = table["icb_code"].map(names)
    columns = [*EVIDENCE_COLUMNS, "position"]
    return table[columns].astype({"value": "Float64"}).reset_index(drop=True)


def empty_evidence() -> pd.DataFrame:
    """The evidence table with no rows (and the internal position column)."""
    frame = pd.DataFrame({column: pd.Series(dtype="str") for column in EVIDENCE_COLUMNS})
    return frame.astype({"value": "Float64"}).assign(position=pd.Series(dtype="int64"))


# --- statuses and summaries --------------------------------------------------------------


def _statuses(count: int, table: pd.DataFrame, sources: tuple[str, ...]) -> np.ndarray:
    """Each site's evidence status: by its own ICB, elsewhere only, none, or not checked."""
    checked = any(source in COMMISSIONER_SOURCES for source in sources)
    status = np.full(count, NO_EVIDENCE if checked else NOT_CHECKED, dtype=object)
    rows = table[table["source"].isin(COMMISSIONER_SOURCES) & table["icb_code"].notna()]
    if rows.empty:
        return status
    own = rows["icb_code"].astype(str) == rows["site_icb_code"].astype(str)
    status[rows["position"].unique()] = COMMISSIONED_ELSEWHERE
    status[rows.loc[own, "position"].unique()] = COMMISSIONED
    return status


_MEASURE_WORDS = {
    PATIENTS_WAITING: ("NHS-funded elective care", "patients waiting", RTT),
    DIAGNOSTIC_TESTS: ("NHS-funded diagnostics", "tests", DM01),
}


def _summaries(count: int, table: pd.DataFrame) -> pd.Series:
    """Per site, the evidence in words for its popup ('NHS-funded elective care for this
    ICB: 1,240 patients waiting, RTT 2026-06; DSPT 2024-25 Standards Met'); NA for none.
    Aggregated per measure for every site at once, then written once per site."""
    phrases: dict[int, list[str]] = {}
    for measure, words in _MEASURE_WORDS.items():
        for position, text in _activity_phrases(table, measure, words):
            phrases.setdefault(position, []).append(text)
    awards = table[table["measure"].eq(CONTRACT_VALUE)].groupby("position")
    for position, n, icbs in zip(
        awards.size().index, awards.size(), awards["icb_code"].nunique(), strict=True
    ):
        phrases.setdefault(position, []).append(f"{n} contract award(s) by {icbs} ICB(s)")
    dspt = table[table["measure"].eq(DSPT_STATUS)].groupby("position")["detail"].first()
    for position, detail in dspt.items():
        phrases.setdefault(position, []).append(f"DSPT {detail}")
    summaries = np.full(count, None, dtype=object)
    for position, texts in phrases.items():
        summaries[position] = "; ".join(texts)
    return pd.Series(summaries)


def _activity_phrases(
    table: pd.DataFrame, measure: str, words: tuple[str, str, str]
) -> list[tuple[int, str]]:
    """Per site with rows of `measure`: its latest period's amount for its own ICB (else
    for the other ICBs), in words."""
    what, unit, source = words
    rows = table[table["measure"].eq(measure)]
    if rows.empty:
        return []
    rows = rows[rows["period"].eq(rows.groupby("position")["period"].transform("max"))]
    own = (rows["icb_code"].astype(str) == rows["site_icb_code"].astype(str)).to_numpy()
    value = rows["value"].astype(float).fillna(0.0).to_numpy()
    grouped = rows.assign(own=own, own_value=np.where(own, value, 0.0), all_value=value)
    agg = grouped.groupby("position").agg(
        period=("period", "first"),
        own=("own", "any"),
        own_value=("own_value", "sum"),
        all_value=("all_value", "sum"),
        icbs=("icb_code", "nunique"),
    )
    return [
        (
            position,
            f"{what} for {'this ICB' if mine else f'{icbs} other ICB(s)'}: "
            f"{(own_value if mine else all_value):,.0f} {unit}, {source.upper()} {period}",
        )
        for position, period, mine, own_value, all_value, icbs in agg.itertuples()
    ]


def apply_evidence(assigned: pd.DataFrame, evidence: Evidence | None) -> pd.DataFrame:
    """The sites with their evidence status and summary; independent and voluntary sites
    whose provider list gives no planning status take the evidence status as it."""
    result = assigned.copy()
    if evidence is None:
        result[EVIDENCE_STATUS] = pd.Series(NOT_CHECKED, index=result.index, dtype="str")
        result[EVIDENCE_SUMMARY] = pd.Series(pd.NA, index=result.index, dtype="str")
        return result
    result[EVIDENCE_STATUS] = evidence.statuses.astype("str")
    result[EVIDENCE_SUMMARY] = evidence.summaries.astype("str")
    iv = result["sector"].isin(IV_SECTORS).fillna(False).astype(bool)
    unset = normalise_planning_statuses(result["planning_status"]).eq(NOT_CHECKED)
    chosen = (iv & unset).to_numpy(bool)
    status = result["planning_status"].astype(object).to_numpy().copy()
    status[chosen] = result[EVIDENCE_STATUS].to_numpy(dtype=object)[chosen]
    result["planning_status"] = pd.array(status, dtype="str")
    return result


def planning_basis(statuses: pd.Series) -> pd.Series:
    """What each planning status rests on: 'engaged'/'not engaged' come only from a list
    (an engagement list, or the provider list's own column), the evidence statuses from
    open data, 'unknown' from nothing."""
    basis = np.select(
        [statuses.isin((ENGAGED, NOT_ENGAGED)).fillna(False).to_numpy(bool),
         statuses.isin((COMMISSIONED, COMMISSIONED_ELSEWHERE, NO_EVIDENCE)).fillna(False).to_numpy(bool)],
        [BASIS_LIST, BASIS_EVIDENCE],
        BASIS_NONE,
    )  # fmt: skip
    return pd.Series(basis, index=statuses.index, dtype="str")


def evidence_table(evidence: Evidence | None) -> pd.DataFrame:
    """The evidence table to download (EVIDENCE_COLUMNS), empty when no evidence was loaded."""
    return empty_evidence()[list(EVIDENCE_COLUMNS)] if evidence is None else evidence.table


def match_report(evidence: Evidence | None) -> pd.DataFrame:
    """The evidence match report to download (REPORT_COLUMNS), empty when none was loaded."""
    if evidence is None:
        return pd.DataFrame({column: pd.Series(dtype="str") for column in REPORT_COLUMNS})
    return evidence.report


DISAGREEMENT_COLUMNS: tuple[str, ...] = (
    "icb_code",
    "icb_name",
    "site_id",
    "site_name",
    "provider_id",
    "provider_name",
    "list_status",
    EVIDENCE_STATUS,
    "disagreement",
    EVIDENCE_SUMMARY,
)
LIST_NOT_ENGAGED_BUT_COMMISSIONED = (
    "the list says not engaged, but open data show NHS commissioning by this ICB"
)
LIST_ENGAGED_WITHOUT_EVIDENCE = (
    "the list says engaged, but open data show no NHS commissioning by this ICB"
)


def disagreements(analysis) -> pd.DataFrame:
    """Independent and voluntary sites where the engagement list and the evidence disagree,
    by ICB: 'not engaged' with NHS commissioning by the site's ICB, or 'engaged' with none
    (only where a commissioner source was checked). What an analyst fixes first."""
    sites = analysis.assigned
    needed = (PLANNING_BASIS, EVIDENCE_STATUS)
    if any(column not in sites for column in needed):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in DISAGREEMENT_COLUMNS})
    by_list = sites[PLANNING_BASIS].eq(BASIS_LIST) & sites["sector"].isin(IV_SECTORS)
    status, evidence = sites["planning_status"], sites[EVIDENCE_STATUS]
    commissioned = by_list & status.eq(NOT_ENGAGED) & evidence.eq(COMMISSIONED)
    uncommissioned = (
        by_list & status.eq(ENGAGED) & evidence.isin((NO_EVIDENCE, COMMISSIONED_ELSEWHERE))
    )
    chosen = sites[(commissioned | uncommissioned).fillna(False).astype(bool)]
    table = pd.DataFrame(
        {
            "icb_code": chosen["icb_code"],
            "icb_name": chosen["icb_name"],
            "site_id": chosen["site_id"],
            "site_name": chosen["site_name"],
            "provider_id": chosen["provider_id"],
            "provider_name": chosen["provider_name"],
            "list_status": chosen["planning_status"],
            EVIDENCE_STATUS: chosen[EVIDENCE_STATUS],
            "disagreement": np.where(
                commissioned[chosen.index],
                LIST_NOT_ENGAGED_BUT_COMMISSIONED,
                LIST_ENGAGED_WITHOUT_EVIDENCE,
            ),
            EVIDENCE_SUMMARY: chosen[EVIDENCE_SUMMARY],
        }
    )
    return table.sort_values(["icb_code", "site_name"], ignore_index=True).astype("str")


# --- notes ---------------------------------------------------------------------------------


def evidence_notes(evidence: Evidence) -> list[str]:
    """What the analysis must say about its evidence: sources and periods, their limits,
    how much activity had no ICB or a code that could not be mapped, and near misses."""
    notes = []
    for source in evidence.sources:
        periods = evidence.table.loc[evidence.table["source"].eq(source), "period"].dropna()
        when = f", {periods.min()} to {periods.max()}" if len(periods) else ""
        notes.append(f"{SOURCE_LABELS[source]} loaded{when}: it {SOURCE_LIMITS[source]}.")
    for outcome in (NO_ICB, NOT_MAPPED):
        part = evidence.coverage[evidence.coverage["outcome"].eq(outcome)]
        if len(part):
            rows, waiting = int(part["rows"].sum()), part["patients_waiting"].sum()
            notes.append(
                f"{rows:,} activity rows ({waiting:,.0f} patients waiting) had {outcome}; "
                "they are in no ICB's evidence."
            )
    near = int(
        (evidence.report["matched_by"].eq(UNMATCHED) & evidence.report["score"].notna()).sum()
    )
    if near:
        notes.append(
            f"{near} evidence providers only matched a provider name approximately; they were "
            "not applied (see the evidence match report)."
        )
    return notes
