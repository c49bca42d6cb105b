"""Evidence of NHS commissioning from open data: what each source says, and what a site's status is.

The NHS publishes which providers deliver NHS-funded care for which commissioner (RTT
waiting times, DM01 diagnostics), every contract award (Find a Tender, Contracts Finder)
and which organisations meet the Data Security and Protection Toolkit (DSPT). Readers in
`geo.io` turn each into one of the tables named here; `geo.analysis.evidence` joins them to
provider sites and ICBs. Here is the vocabulary they agree on: the sources and their
limits, the columns of each table, the measures, and the planning statuses a site can
have with the basis each rests on.
"""

from __future__ import annotations

from geo.model.providers import ENGAGED, NOT_ENGAGED, UNKNOWN_STATUS

# --- sources ------------------------------------------------------------------------------------

RTT = "rtt"
DM01 = "dm01"
CONTRACTS = "contracts"
DSPT = "dspt"
SOURCES: tuple[str, ...] = (RTT, DM01, CONTRACTS, DSPT)
SOURCE_LABELS: dict[str, str] = {
    RTT: "RTT waiting times",
    DM01: "Diagnostic waiting times and activity (DM01)",
    CONTRACTS: "Contract awards (Find a Tender, Contracts Finder)",
    DSPT: "Data Security and Protection Toolkit",
}
# What each source can and cannot show, said wherever figures resting on it are shown.
SOURCE_LIMITS: dict[str, str] = {
    RTT: "covers consultant-led elective care only, not care homes, home care or mental health beds",
    DM01: "covers diagnostic tests only",
    CONTRACTS: "covers contracts that were tendered or awarded under the Provider Selection "
    "Regime and published, not older or unpublished arrangements",
    DSPT: "is a provider-level signal with no commissioner: it is shown beside the evidence "
    "and never decides a site's status on its own",
}
# The sources whose rows name a commissioner, and so can say which ICB commissions a site.
COMMISSIONER_SOURCES: tuple[str, ...] = (RTT, DM01, CONTRACTS)

# --- measures -----------------------------------------------------------------------------------

PATIENTS_WAITING = "patients waiting"  # RTT Part_2 (incomplete pathways), Total All
COMPLETED_PATHWAYS = "completed pathways"  # RTT Part_1A + Part_1B, Total All
DIAGNOSTIC_TESTS = "diagnostic tests"  # DM01 Total Activity, tests 1-15 (TOTAL rows left out)
WAITING_FOR_TEST = "patients waiting for a test"  # DM01 Total WL
CONTRACT_VALUE = "contract value"  # GBP, the award's value (contract value where awarded)
DSPT_STATUS = "DSPT status"  # the status text as published, value NA
MEASURES: tuple[str, ...] = (
    PATIENTS_WAITING,
    COMPLETED_PATHWAYS,
    DIAGNOSTIC_TESTS,
    WAITING_FOR_TEST,
    CONTRACT_VALUE,
    DSPT_STATUS,
)

# --- what the readers produce -------------------------------------------------------------------

# RTT and DM01 (geo.io.activity): one row per provider x commissioner x measure, summed over
# treatment functions or tests. Codes are upper-case ODS codes as text; a blank commissioner
# parent (NHS England hubs, `NONC`) is NA, never dropped. `period` is the month the data
# describe as 'YYYY-MM'; `file` the file's name; `published` the publisher's date for it
# ('YYYY-MM-DD', NA when not known).
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "source",
    "period",
    "provider_code",
    "provider_name",
    "provider_parent_code",
    "commissioner_code",
    "commissioner_name",
    "commissioner_parent_code",
    "measure",
    "value",
    "file",
    "published",
)

# Contract awards (geo.io.contracts): one row per award x supplier. `supplier_scheme` is the
# identifier scheme (GB-COH, GB-CHC, GB-NHS, GB-PPON, ... NA for a name only) and
# `supplier_number` the identifier normalised (company numbers padded to 8 characters);
# `buyer_ods_code` the buyer's GB-NHS identifier where given. `psr` says whether the notice
# reads as a Provider Selection Regime one (from its text: there is no structured flag);
# `health` whether its CPV codes are health or social work (85, not 852 veterinary).
AWARD_COLUMNS: tuple[str, ...] = (
    "source",
    "ocid",
    "release_id",
    "notice_type",
    "title",
    "buyer_id",
    "buyer_name",
    "buyer_ods_code",
    "supplier_id",
    "supplier_name",
    "supplier_scheme",
    "supplier_number",
    "value",
    "currency",
    "award_date",
    "start_date",
    "end_date",
    "psr",
    "health",
    "file",
    "published",
)

# DSPT (geo.io.dspt): one row per organisation. `status` without the edition prefix
# ('Standards Met'); `edition` the prefix ('22/23' or '2024-25'), NA when absent.
DSPT_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "status",
    "edition",
    "published",
    "sector",
    "icb_name",
    "file",
)
DSPT_MET = ("Standards Met", "Standards Exceeded")

# --- the evidence table -------------------------------------------------------------------------

# One row per (site, ICB, source, period, measure) (geo.analysis.evidence): the ICB is the
# commissioning ICB in the analysis's vintage (NA for DSPT, and for activity whose
# commissioner has no ICB); `detail` says the rest in words (a contract's title and dates);
# `matched_by` how the source's row was matched to the site ('ODS site code', 'ODS
# organisation code', 'Companies House number', 'charity number', 'name').
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "site_name",
    "provider_id",
    "provider_name",
    "site_icb_code",
    "icb_code",
    "icb_name",
    "source",
    "period",
    "measure",
    "value",
    "detail",
    "matched_by",
    "source_code",
    "source_name",
    "file",
    "published",
)

# --- planning status and its basis --------------------------------------------------------------

# A site's status from the evidence alone (column EVIDENCE_STATUS):
COMMISSIONED = "NHS-commissioned"  # evidence of NHS commissioning by the site's own ICB
COMMISSIONED_ELSEWHERE = "NHS-commissioned elsewhere"  # by another ICB only
NO_EVIDENCE = "no evidence"  # every loaded source was checked and none shows it
NOT_CHECKED = UNKNOWN_STATUS  # no source could be checked (none was fetched or loaded)
EVIDENCE_STATUSES: tuple[str, ...] = (
    COMMISSIONED,
    COMMISSIONED_ELSEWHERE,
    NO_EVIDENCE,
    NOT_CHECKED,
)

EVIDENCE_STATUS = "evidence_status"
EVIDENCE_SUMMARY = "evidence_summary"  # the evidence in words, for a site's popup
PLANNING_BASIS = "planning_basis"
# What a site's planning_status rests on: an analyst's engagement list is authoritative where
# it covers the site; otherwise the open-data evidence decides; 'none' where neither could.
BASIS_LIST = "engagement list"
BASIS_EVIDENCE = "open data"
BASIS_NONE = "none"
BASES: tuple[str, ...] = (BASIS_LIST, BASIS_EVIDENCE, BASIS_NONE)

# Every planning status a site can have, and which side of NHS planning each puts it: an
# engagement list says 'engaged' or 'not engaged'; evidence says the statuses above. The
# headline share is the I+V capacity OUTSIDE: not engaged by the list, or (no list) with no
# evidence of NHS commissioning by the site's own ICB. UNKNOWN_STATUS counts on neither side.
PLANNING_STATUSES: tuple[str, ...] = (
    ENGAGED,
    NOT_ENGAGED,
    COMMISSIONED,
    COMMISSIONED_ELSEWHERE,
    NO_EVIDENCE,
    UNKNOWN_STATUS,
)
INSIDE_STATUSES: tuple[str, ...] = (ENGAGED, COMMISSIONED)
OUTSIDE_STATUSES: tuple[str, ...] = (NOT_ENGAGED, COMMISSIONED_ELSEWHERE, NO_EVIDENCE)

# Each planning status in plain words, with what it rests on, for legends and filters.
PLANNING_STATUS_WORDS: dict[str, str] = {
    ENGAGED: "engaged (engagement list)",
    NOT_ENGAGED: "not engaged (engagement list)",
    COMMISSIONED: "NHS-commissioned by its own ICB (open data)",
    COMMISSIONED_ELSEWHERE: "NHS-commissioned by another ICB only (open data)",
    NO_EVIDENCE: "no evidence of NHS commissioning (open data)",
    UNKNOWN_STATUS: "unknown (no list and no evidence loaded)",
}
STATUS_LEGEND = "Planning status (in each site's popup): " + "; ".join(
    PLANNING_STATUS_WORDS[status] for status in PLANNING_STATUSES
)
