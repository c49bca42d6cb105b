"""Board briefings: the figures, plain-English sentences and caveats for one ICS, region or England.

A `Briefing` is plain data. The on-screen page, the PDF and the PowerPoint all
render the same object, so a number reads the same everywhere it appears.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from geo.analysis.metrics import MAX_UNKNOWN_SHARE, MOSTLY_UNKNOWN, NO_STATUS_KNOWN
from geo.analysis.national_flows import NationalFlows
from geo.analysis.peers import icb_population, icb_standings
from geo.analysis.population import peer_ranks, region_per_head
from geo.briefing.text import (
    format_capacity,
    format_count,
    format_number,
    format_ordinal,
    format_per_head,
    format_percent,
    shorten,
)
from geo.fetch.catalogue import RECONSTRUCTED
from geo.io.recognise import UNKNOWN_PUBLISHER
from geo.model.errors import InputError
from geo.model.providers import NOT_ENGAGED
from geo.model.sectors import IV_SECTORS, SECTORS, sector_slug
from geo.model.text import counted
from geo.model.vocabulary import ENGLAND_CODE, ICB_CODE, OUTSIDE_CODE, REGION_CODE, is_icb_code

TOP_PROVIDERS = 10
_PROVENANCE_LIMIT = 300  # characters of one provenance field (a title, a file name, a URL)
CAPACITY_NOUN = "beds"  # CQC's capacity figure is care-home beds
_BED = "bed"

_METRIC_COLUMNS = (
    "icb_code",
    "icb_name",
    "vintage",
    "sites_total",
    "capacity_total",
    "iv_sites",
    "iv_sites_not_engaged",
    "iv_sites_unknown",
    "iv_capacity_not_engaged",
    "iv_sites_capacity_missing",
    "iv_outside_share",
    "share_basis",
    "rank",
    "iv_share_unknown",
    "share_not_known_reason",
    *(f"sites_{sector_slug(sector)}" for sector in SECTORS),
    *(f"capacity_{sector_slug(sector)}" for sector in SECTORS),
)
_SITE_COLUMNS = ("provider_name", "sector", "capacity", "planning_status", "icb_code")

ENGLAND_AREA = "england"  # the area key of England's briefing, beside ICB and region codes


@dataclass(frozen=True, eq=False)
class Briefing:
    """Everything a briefing says about one area, as text and small tables ready to render."""

    area_code: str  # an ICB code, an NHS region code (E40...) or E92000001 for England
    area_name: str
    area_kind: str  # "icb", "region" or "england"
    vintage: str
    title: str
    subtitle: str
    headlines: tuple[tuple[str, str], ...]  # (label, value) in reading order
    sentences: tuple[str, ...]
    caveats: tuple[str, ...]
    provenance: tuple[str, ...]
    top_providers: pd.DataFrame  # provider_name, sector, sites, capacity
    top_providers_title: str
    sector_table: pd.DataFrame  # sector, sites, capacity: one row per sector
    icb_table: pd.DataFrame  # the area's ICBs: icb_code, icb_name, iv_sites, ..., share, rank
    chart_alt: str
    map_alt: str
    icb_codes: tuple[str, ...]  # the ICBs this area covers, for maps and site filters
    figures: dict[str, object]  # the metrics row the briefing was made from
    dataset_version: str | None
    status_known: bool  # some I+V site in the area has a known planning status
    flows_title: str = ""  # England: patients crossing ICB borders, with the RTT month
    flows_table: pd.DataFrame | None = None  # England: FLOWS_HEADER rows as text, totals last
    flows_note: str = ""  # what the flows table does not count


def briefing_facts(
    metrics: pd.DataFrame,
    sites: pd.DataFrame,
    area: str,
    *,
    icb_regions: pd.DataFrame | None = None,
    provenance: list[str] | pd.DataFrame | None = None,
    dataset_version: str | None = None,
    basis_note: str | None = None,
    per_head: pd.DataFrame | None = None,
    flows: NationalFlows | None = None,
) -> Briefing:
    """The briefing for an ICB code, 'england' or an NHS region code, from the gap metrics and sites.

    `metrics` is `geo.analysis.metrics.gap_metrics` output; the England and region rows are
    taken from it when present, else made with `geo.analysis.metrics`' roll-ups, so the
    briefing's figures are the map's figures. Whether the share not engaged is known, and
    why not, is the metrics row's own `share_not_known_reason`: the map's rule too.
    `basis_note` (geo.analysis.evidence_view.limits_sentence) names what planning status
    rests on and the limits of each source; it leads the caveats.
    `per_head` (`geo.analysis.population.per_head`) adds, for an ICB, a sentence per head.
    `flows` (`geo.analysis.national_flows.national_flows`) adds England's flows table.
    """
    _check_columns(metrics, _METRIC_COLUMNS, "metrics table")
    _check_columns(sites, _SITE_COLUMNS, "sites table")
    kind, code = _parse_area(area)
    icb_rows = metrics[is_icb_code(metrics["icb_code"])]
    icb_codes = _area_icb_codes(kind, code, icb_rows, icb_regions)
    peers = _area_peers(kind, code, metrics, icb_regions)
    row = _area_row(code, peers)
    figures = {key: (None if _missing(value) else value) for key, value in row.items()}
    name = "England" if kind == ENGLAND_AREA else shorten(figures["icb_name"] or code)
    facts = _Facts(kind, code, name, figures)
    context = _Context(
        metrics, icb_rows, peers, _area_sites(sites, icb_codes), icb_codes, per_head, icb_regions
    )
    briefing = _assemble(facts, context, provenance, dataset_version)
    if flows is not None and kind == ENGLAND_AREA:
        briefing = replace(
            briefing,
            flows_title=_flows_title(flows),
            flows_table=_flows_table(flows),
            flows_note=_flows_note(flows),
        )
    if basis_note:
        return replace(briefing, caveats=(basis_note, *briefing.caveats))
    return briefing


@dataclass(frozen=True)
class _Facts:
    kind: str
    code: str
    name: str
    row: dict[str, object]

    @property
    def status_known(self) -> bool:
        """Whether any I+V site here has a known planning status (else nothing is engaged or not)."""
        return self.row.get("share_not_known_reason") != NO_STATUS_KNOWN

    @property
    def share_known(self) -> bool:
        """Whether the share not engaged is known here, by the metrics' one rule."""
        return (
            self.row.get("share_not_known_reason") is None
            and self.amount("iv_outside_share") is not None
        )

    def count(self, column: str) -> int:
        value = self.row.get(column)
        return 0 if value is None else int(value)

    def amount(self, column: str) -> float | None:
        value = self.row.get(column)
        return None if value is None else float(value)

    @property
    def place(self) -> str:
        return {"icb": "this ICS", "region": "this region", ENGLAND_AREA: "England"}[self.kind]

    @property
    def basis_noun(self) -> str:
        return CAPACITY_NOUN if self.row.get("share_basis") == "capacity" else "sites"


@dataclass(frozen=True)
class _Context:
    metrics: pd.DataFrame  # everything the caller passed, OUTSIDE row included
    icb_rows: pd.DataFrame  # real ICBs only
    peers: pd.DataFrame  # the rows this area is ranked among
    sites: pd.DataFrame  # the sites in this area
    icb_codes: tuple[str, ...]
    per_head: pd.DataFrame | None = None  # every ICB's figures per head, when populations loaded
    icb_regions: pd.DataFrame | None = None


def _assemble(facts: _Facts, context: _Context, provenance, dataset_version) -> Briefing:
    top, top_title = _top_providers(context.sites, facts)
    sector_table = _sector_table(facts)
    vintage = shorten(facts.row.get("vintage") or "")
    return Briefing(
        area_code=facts.code,
        area_name=facts.name,
        area_kind=facts.kind,
        vintage=vintage,
        title=f"{facts.name}: independent and voluntary care outside ICS planning",
        subtitle=_subtitle(vintage, dataset_version),
        headlines=tuple(_headlines(facts, context)),
        sentences=tuple(_sentences(facts, context, top)),
        caveats=tuple(_caveats(facts, context)),
        provenance=tuple(_provenance(provenance, vintage, dataset_version)),
        top_providers=top,
        top_providers_title=top_title,
        sector_table=sector_table,
        icb_table=_icb_table(context),
        chart_alt=_chart_alt(facts.name, sector_table),
        map_alt=_map_alt(facts, len(context.icb_codes)),
        icb_codes=context.icb_codes,
        figures=facts.row,
        dataset_version=dataset_version,
        status_known=facts.status_known,
    )


# --- validate and select -------------------------------------------------------------------


def _check_columns(frame: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)} needed for a briefing")


def _parse_area(area: str) -> tuple[str, str]:
    text = str(area).strip()
    if text.lower() == ENGLAND_AREA or text == ENGLAND_CODE:
        return ENGLAND_AREA, ENGLAND_CODE
    if ICB_CODE.fullmatch(text):
        return "icb", text
    if REGION_CODE.fullmatch(text):
        return "region", text
    raise InputError(
        f"briefing area {text!r}: expected an ICB code (E54...), 'england' or an NHS region code"
        " (E40...)"
    )


def _area_icb_codes(kind, code, icb_rows, icb_regions) -> tuple[str, ...]:
    if kind == "icb":
        return (code,)
    if kind == ENGLAND_AREA:
        return tuple(sorted(icb_rows["icb_code"].astype(str)))
    if icb_regions is None or not {"icb_code", "region_code"} <= set(icb_regions.columns):
        raise InputError(
            f"briefing area {code}: a region briefing needs icb_regions with columns icb_code"
            " and region_code"
        )
    members = icb_regions.loc[icb_regions["region_code"].astype(str) == code, "icb_code"]
    if members.empty:
        raise InputError(f"icb_regions: column region_code has no ICB in region {code}")
    return tuple(sorted(members.astype(str)))


def _area_peers(kind, code, metrics, icb_regions) -> pd.DataFrame:
    """The rows `code` is ranked among: all ICBs, all NHS regions, or England alone."""
    codes = metrics["icb_code"].astype("string")
    if kind == "icb":
        return metrics[is_icb_code(codes)]
    if kind == "region":
        regions = metrics[codes.str.fullmatch(REGION_CODE.pattern).fillna(False)]
        if code in set(regions["icb_code"].astype(str)):
            return regions
        from geo.analysis.metrics import region_rollup  # the one place shares are defined

        return region_rollup(metrics, icb_regions)
    england = metrics[(codes == ENGLAND_CODE).fillna(False)]
    if not england.empty:
        return england
    from geo.analysis.metrics import national_rollup

    return national_rollup(metrics)


def _area_row(code: str, peers: pd.DataFrame) -> pd.Series:
    found = peers[peers["icb_code"].astype(str) == code]
    if found.empty:
        raise InputError(f"metrics table: column icb_code has no row for {code}")
    if len(found) > 1:
        raise InputError(
            f"metrics table: column icb_code has {counted(len(found), 'row')} for {code}"
        )
    return found.iloc[0]


def _area_sites(sites: pd.DataFrame, icb_codes: tuple[str, ...]) -> pd.DataFrame:
    codes = sites["icb_code"].astype("string")
    return pd.DataFrame(sites[codes.isin(icb_codes).fillna(False)])


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


# --- tables ---------------------------------------------------------------------------------


def _sector_table(facts: _Facts) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sector": pd.array(SECTORS, dtype="string"),
            "sites": pd.array(
                [facts.count(f"sites_{sector_slug(s)}") for s in SECTORS], dtype="Int64"
            ),
            "capacity": pd.array(
                [facts.amount(f"capacity_{sector_slug(s)}") for s in SECTORS], dtype="Float64"
            ),
        }
    )


def _icb_table(context: _Context) -> pd.DataFrame:
    """The area's ICBs and their shares, highest first: England's map is shaded from this."""
    rows = context.icb_rows[context.icb_rows["icb_code"].astype(str).isin(context.icb_codes)]
    columns = ["icb_code", "icb_name", "iv_sites", "iv_sites_not_engaged"]
    table = pd.DataFrame(rows[[*columns, "share_basis"]]).assign(
        icb_name=rows["icb_name"].map(shorten, na_action="ignore"),
        share=pd.to_numeric(rows["iv_outside_share"], errors="coerce").astype("Float64"),
        rank=pd.to_numeric(rows["rank"], errors="coerce").astype("Int64"),
    )
    return table.sort_values(["rank", "icb_name"], na_position="last", ignore_index=True)


FLOWS_HEADER: tuple[str, ...] = (
    "Commissioning ICB",
    "Patients waiting at independent providers",
    "Within its borders",
    "Top destination ICB",
    "Patients there",
)


def _flows_title(flows: NationalFlows) -> str:
    return f"Patients crossing ICB borders to independent providers (RTT, {flows.period})"


def _flows_table(flows: NationalFlows) -> pd.DataFrame:
    """The ICBs with most patients waiting elsewhere, as text cells, and the totals line last."""
    rows = [
        (
            shorten(row.icb_name if isinstance(row.icb_name, str) else row.icb_code),
            format_number(row.commissioned),
            format_percent(None if pd.isna(row.within_share) else row.within_share),
            "none" if pd.isna(row.top_destination_code) else shorten(row.top_destination_name),
            ""
            if pd.isna(row.top_destination_patients)
            else format_number(row.top_destination_patients),
        )
        for row in flows.table.itertuples()
    ]
    totals = flows.totals
    rows.append(
        (
            f"All {format_count(flows.icbs, 'ICB')}",
            format_number(totals["commissioned"]),
            format_percent(totals["within_share"]),
            f"{format_number(totals['elsewhere'])} elsewhere",
            "",
        )
    )
    return pd.DataFrame(rows, columns=list(FLOWS_HEADER))


def _flows_note(flows: NationalFlows) -> str:
    return (
        f"Patients waiting (RTT, {flows.period}) by commissioning ICB, most waiting outside its"
        f" own borders first. Not counted: {format_number(flows.not_on_map)} patients of these"
        " ICBs at providers not on the map (in each ICB's total but in no destination) and"
        f" {format_number(flows.no_icb)} patients of commissioners with no ICB (NHS England"
        " hubs and commissioners outside England)."
    )


def _top_providers(area_sites: pd.DataFrame, facts: _Facts) -> tuple[pd.DataFrame, str]:
    """The largest I+V providers not engaged; with no engagement list, the largest I+V providers."""
    iv = area_sites[area_sites["sector"].astype("string").isin(IV_SECTORS).fillna(False)]
    if facts.status_known:
        status = iv["planning_status"].astype("string")
        iv = iv[(status == NOT_ENGAGED).fillna(False)]
        title = "Largest independent and voluntary providers not engaged in planning"
    else:
        title = "Largest independent and voluntary providers (planning status not known)"
    key = "provider_id" if "provider_id" in iv.columns else "provider_name"
    keys = iv[key].astype("string").fillna(iv["provider_name"].astype("string"))
    groups = (
        pd.DataFrame(iv).assign(capacity=pd.to_numeric(iv["capacity"])).groupby(keys.to_numpy())
    )
    grouped = pd.DataFrame(
        {
            "provider_name": groups["provider_name"].first().map(shorten, na_action="ignore"),
            "sector": groups["sector"].agg(_sector_label),
            "sites": groups.size(),
            "capacity": groups["capacity"].sum(min_count=1),
        }
    )
    order = ["capacity", "sites"] if facts.row.get("share_basis") == "capacity" else ["sites"]
    ranked = grouped.sort_values([*order, "provider_name"], ascending=[False] * len(order) + [True])
    top = ranked.head(TOP_PROVIDERS).reset_index(drop=True)
    return top.astype({"sites": "Int64", "capacity": "Float64"}), title


def _sector_label(values: pd.Series) -> str:
    sectors = sorted(set(values.dropna().astype(str)))
    return " and ".join(sectors) if sectors else "Unknown"


# --- text -----------------------------------------------------------------------------------


def _subtitle(vintage: str, dataset_version: str | None) -> str:
    version = f" · dataset version {dataset_version}" if dataset_version else ""
    return f"ICB boundaries {vintage}{version}"


def _headlines(facts: _Facts, context: _Context) -> list[tuple[str, str]]:
    sites_not_engaged = facts.count("iv_sites_not_engaged")
    lines = [
        ("Provider sites", format_number(facts.count("sites_total"))),
        (
            f"Capacity ({CAPACITY_NOUN})",
            format_capacity(facts.amount("capacity_total"), facts.count("sites_total")),
        ),
        ("Independent and voluntary sites", format_number(facts.count("iv_sites"))),
        (
            "I+V sites not engaged in planning",
            _if_engagement(facts, format_number(sites_not_engaged)),
        ),
        (
            f"I+V {CAPACITY_NOUN} not engaged in planning",
            _if_engagement(
                facts, format_capacity(facts.amount("iv_capacity_not_engaged"), sites_not_engaged)
            ),
        ),
        ("Share of I+V capacity outside NHS planning", _share_headline(facts)),
    ]
    rank = _rank_phrase(facts, context)
    if rank:
        lines.append(("Rank", rank.removeprefix("the ")))
    lines.append(("Boundary vintage", shorten(facts.row.get("vintage") or "not known")))
    return lines


def _if_engagement(facts: _Facts, text: str) -> str:
    return text if facts.status_known else "not known (no engagement list)"


def _share_headline(facts: _Facts) -> str:
    if not facts.status_known:
        return "not known (no engagement list)"
    if not facts.share_known:
        return _not_known(facts)
    share = facts.amount("iv_outside_share")
    return f"{format_percent(share)} of I+V {facts.basis_noun}"


def _not_known(facts: _Facts) -> str:
    """'not known (why)', from the metrics row's reason."""
    reason = facts.row.get("share_not_known_reason")
    if reason == MOSTLY_UNKNOWN:
        unknown = format_percent(facts.amount("iv_share_unknown"))
        return f"not known (planning status unknown for {unknown} of I+V {facts.basis_noun})"
    return f"not known ({reason})" if reason else "not known"


def _rank_phrase(facts: _Facts, context: _Context) -> str:
    """'the 4th highest of 42 ICSs', or '' where there is no rank to give."""
    rank = facts.row.get("rank")
    if facts.kind == ENGLAND_AREA or rank is None or not facts.share_known:
        return ""
    ranks = pd.to_numeric(context.peers["rank"], errors="coerce").dropna()
    if len(ranks) < 2:
        return ""  # first of one is no comparison
    noun = "ICSs" if facts.kind == "icb" else "NHS regions"
    joint = "joint " if int((ranks == rank).sum()) > 1 else ""
    position = "highest" if int(rank) == 1 else f"{format_ordinal(int(rank))} highest"
    return f"the {joint}{position} of {len(ranks)} {noun}"


def _sentences(facts: _Facts, context: _Context, top: pd.DataFrame) -> list[str]:
    sentences = [
        _mix_sentence(facts),
        _share_sentence(facts, context),
        _count_sentence(facts),
        _top_sentence(facts, top),
    ]
    if facts.kind == "region":
        sentences.append(_region_per_head_sentence(facts, context))
    if facts.kind != "icb":
        sentences.append(_highest_sentence(facts, context))
    else:
        sentences.append(_per_head_sentence(facts, context))
    return [sentence for sentence in sentences if sentence]


def _per_head_sentence(facts: _Facts, context: _Context) -> str:
    """The ICB's provider sites per head and where that ranks, with the population's year."""
    if context.per_head is None or facts.code not in set(context.per_head["icb_code"]):
        return ""
    population = icb_population(context.per_head, facts.code)
    if population.population is None:
        return f"Figures per head are not known for {facts.place}: {population.not_known_reason}."
    standing = icb_standings(context.per_head, facts.code, context.icb_regions)[0]
    people = f"{format_number(population.population)} people (ONS mid-{population.year} estimate)"
    if standing.value is None or standing.rank is None:
        return f"{_capitalise(facts.place)} has {people}; its {standing.label} are not known."
    region = (
        ""
        if standing.rank_in_region is None
        else f", {format_ordinal(standing.rank_in_region)} of {standing.of_in_region} in its region"
    )
    return (
        f"With {people}, {facts.place} has {format_per_head(standing.value)} {standing.label}: "
        f"{format_ordinal(standing.rank)} highest of {standing.of} ICBs{region} "
        f"(national median {format_per_head(standing.national_median)})."
    )


def _region_per_head_sentence(facts: _Facts, context: _Context) -> str:
    """The region's population (its ICBs' sum), sites per 100,000 and rank among regions."""
    if context.per_head is None or context.icb_regions is None:
        return ""
    table = region_per_head(context.per_head, context.icb_regions)
    ranks = peer_ranks(table, "sites_per_100k").set_index("icb_code")
    row = table.set_index("icb_code").loc[facts.code]
    if pd.isna(row["population"]):
        return "Figures per head are not known for this region: an ICB in it has no population."
    people = (
        f"{format_number(row['population'])} people (ONS mid-{row['population_year']} estimate)"
    )
    rank = ranks.loc[facts.code, "rank"]
    if pd.isna(rank):
        return f"This region has {people}; its provider sites per 100,000 people are not known."
    return (
        f"With {people}, this region has {format_per_head(row['sites_per_100k'])} provider"
        f" sites per 100,000 people: {format_ordinal(int(rank))} highest of"
        f" {int(ranks.loc[facts.code, 'of'])} NHS regions."
    )


def _mix_sentence(facts: _Facts) -> str:
    total = facts.count("sites_total")
    if total == 0:
        return f"{facts.name} has no provider sites in this data."
    counts = {sector: facts.count(f"sites_{sector_slug(sector)}") for sector in SECTORS}
    parts = [f"{format_number(n)} {_SECTOR_WORDS[s]}" for s, n in counts.items() if n > 0]
    return f"{facts.name} has {format_count(total, 'provider site')}: {_join(parts)}."


_SECTOR_WORDS = {
    "NHS": "NHS",
    "Local authority": "local authority",
    "Independent": "independent",
    "Voluntary": "voluntary",
    "Unknown": "of unknown sector",
}


def _share_sentence(facts: _Facts, context: _Context) -> str:
    share = facts.amount("iv_outside_share")
    iv_sites = facts.count("iv_sites")
    planning = "its planning" if facts.kind == "icb" else "ICS planning"
    if iv_sites == 0:
        return f"There are no independent or voluntary sites in {facts.place} in this data."
    if not facts.status_known:
        return (
            f"No engagement list covers {facts.place}, so it is not known which of the"
            f" {format_count(iv_sites, 'independent and voluntary site')} there take part"
            f" in {planning}."
        )
    if not facts.share_known:
        return (
            f"The share of independent and voluntary care outside {planning} is"
            f" {_not_known(facts)}."
        )
    rank = _rank_phrase(facts, context)
    return _capitalise(
        f"{format_percent(share)} of independent and voluntary {facts.basis_noun} in"
        f" {facts.place} are run by providers that take no part in {planning}"
        f"{', ' + rank if rank else ''}."
    )


def _count_sentence(facts: _Facts) -> str:
    if not facts.status_known or facts.count("iv_sites") == 0:
        return ""
    sites = facts.count("iv_sites_not_engaged")
    if sites == 0:
        return f"No independent or voluntary site in {facts.place} is recorded as not engaged."
    beds = facts.amount("iv_capacity_not_engaged")
    with_beds = f" ({format_count(beds, _BED)})" if beds else ""
    verb = "is" if sites == 1 else "are"
    return (
        f"{_capitalise(format_count(sites, 'independent or voluntary site'))}{with_beds}"
        f" {verb} run by providers not engaged in planning."
    )


def _top_sentence(facts: _Facts, top: pd.DataFrame) -> str:
    if not facts.status_known or top.empty:
        return ""
    first = top.iloc[0]
    beds = "" if pd.isna(first["capacity"]) else f" and {format_count(first['capacity'], _BED)}"
    return (
        f"The largest provider not engaged is {first['provider_name']},"
        f" with {format_count(first['sites'], 'site')}{beds}."
    )


def _highest_sentence(facts: _Facts, context: _Context) -> str:
    """For England or a region: the ICSs with the highest shares, by name."""
    rows = context.icb_rows[context.icb_rows["icb_code"].astype(str).isin(context.icb_codes)]
    shares = rows.assign(share=pd.to_numeric(rows["iv_outside_share"], errors="coerce"))
    leaders = shares.dropna(subset=["share"]).sort_values("share", ascending=False).head(3)
    if leaders.empty:
        return ""
    named = [
        f"{shorten(row.icb_name)} ({format_percent(row.share)})" for row in leaders.itertuples()
    ]
    noun = "share is" if len(named) == 1 else "shares are"
    return f"The highest {noun} in {_join(named)}."


def _caveats(facts: _Facts, context: _Context) -> list[str]:
    return [
        *_engagement_caveats(facts),
        *_capacity_caveats(facts),
        *_placement_caveats(facts, context),
    ]


def _engagement_caveats(facts: _Facts) -> list[str]:
    unknown, iv_sites = facts.count("iv_sites_unknown"), facts.count("iv_sites")
    if not facts.status_known:
        return [
            f"No engagement list covers {facts.place}: every independent and voluntary site"
            " there has planning status 'unknown', so no share not engaged is given."
        ]
    if unknown == 0:
        return []
    covers = (
        "the share covers only what the engagement list records."
        if facts.share_known
        else (
            f"that is {format_percent(facts.amount('iv_share_unknown'))} of I+V"
            f" {facts.basis_noun}, more than {format_percent(MAX_UNKNOWN_SHARE)}, so no share"
            " is given."
        )
    )
    return [
        f"Planning status is unknown for {format_count(unknown, 'independent or voluntary site')}"
        f" ({format_percent(unknown / iv_sites)}); {covers}"
    ]


def _capacity_caveats(facts: _Facts) -> list[str]:
    missing = facts.count("iv_sites_capacity_missing")
    if not missing:
        return []
    which = format_count(missing, "independent or voluntary site")
    if facts.row.get("share_basis") == "sites":
        return [f"Capacity is missing for {which}, so the share counts sites, not {CAPACITY_NOUN}."]
    return [
        f"Capacity is missing for {which}; figures in {CAPACITY_NOUN} leave {_them(missing)} out."
    ]


def _placement_caveats(facts: _Facts, context: _Context) -> list[str]:
    metrics, sites, caveats = context.metrics, context.sites, []
    outside = metrics.loc[metrics["icb_code"].astype(str) == OUTSIDE_CODE, "sites_total"]
    outside_count = int(pd.to_numeric(outside, errors="coerce").fillna(0).sum())
    if outside_count:
        across = "" if facts.kind == ENGLAND_AREA else "Across England, "
        caveats.append(
            f"{across}{_sites_verb(outside_count, 'lies', 'lie')} outside every ICB or {_have(outside_count)} no coordinates;"
            f" no ICS's figures count {_them(outside_count)}."
        )
    if unknown := facts.count("sites_unknown"):
        caveats.append(
            f"{_sites_verb(unknown, 'has', 'have')} an unknown sector, so {_is(unknown)} not"
            " counted as independent or voluntary."
        )
    if "official_icb_agrees" in sites.columns:
        disagree = int((~sites["official_icb_agrees"].astype("boolean")).fillna(False).sum())
        if disagree:
            caveats.append(
                f"{_sites_verb(disagree, 'is', 'are')} placed by location in a different ICB"
                " from the one named in the provider list; the location is used."
            )
    return caveats


def _sites_verb(count: int, singular: str, plural: str) -> str:
    return f"{format_count(count, 'site')} {singular if count == 1 else plural}"


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def _is(count: int) -> str:
    return "it is" if count == 1 else "they are"


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def _provenance(provenance, vintage: str, dataset_version: str | None) -> list[str]:
    if isinstance(provenance, pd.DataFrame):
        lines = [_provenance_line(row) for row in provenance.to_dict("records")]
    else:
        lines = [str(line) for line in provenance or []]
    lines.append(f"ICB boundary vintage: {vintage or 'not known'}.")
    lines.append(f"Dataset version: {dataset_version or 'not recorded'}.")
    return lines


def _provenance_line(record: dict) -> str:
    """One row of the analysis's provenance table (geo.analysis.pipeline.PROVENANCE_COLUMNS)
    as a sentence naming the dataset, who it is credited to, the file, date and version."""

    def field(name: str) -> str:
        value = record.get(name)
        return "" if _missing(value) else shorten(value, _PROVENANCE_LIMIT)

    credit = field("publisher")
    if credit in ("", UNKNOWN_PUBLISHER):
        credit = ""
    elif not credit.startswith(RECONSTRUCTED):
        credit = f"from {credit}"
    named = ", ".join(part for part in (field("data") or "Data", credit) if part)
    details = [field(name) for name in ("from", "date", "version") if field(name)]
    return f"{named}: {'; '.join(details)}." if details else f"{named}."


def _chart_alt(name: str, sector_table: pd.DataFrame) -> str:
    rows = list(sector_table.itertuples())
    text = f"Bar chart of provider sites by sector in {name}: " + ", ".join(
        f"{row.sector} {format_number(row.sites)}" for row in rows
    )
    if any(pd.notna(row.capacity) and row.capacity > 0 for row in rows):
        text += f"; {CAPACITY_NOUN}: " + ", ".join(
            f"{row.sector} {format_capacity(row.capacity, row.sites)}" for row in rows
        )
    return text + "."


def _map_alt(facts: _Facts, icb_count: int) -> str:
    if facts.kind == ENGLAND_AREA:
        return (
            f"Map of England's {icb_count} ICSs shaded by the share of independent and voluntary"
            " care not engaged in planning; darker is higher, grey is not known."
        )
    text = (
        f"Map of {facts.name} outlined, with neighbouring ICSs faded and"
        f" {format_count(facts.count('sites_total'), 'provider site')} coloured by sector"
    )
    if not facts.status_known:
        return text + "; no engagement list covers it."
    not_engaged = facts.count("iv_sites_not_engaged")
    verb = "is" if not_engaged == 1 else "are"
    return (
        f"{text}; {format_count(not_engaged, 'independent or voluntary site')} not engaged in"
        f" planning {verb} drawn as black-edged squares."
    )


def _join(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
