"""Contract awards from OCDS releases (Find a Tender, Contracts Finder): one row per award x supplier.

Formats: DATA-FORMATS-2.md §3a-3b. `read_awards` takes a release package (JSON), a file of
JSON lines (one release, or one package, a line) or a folder of such files (the harvest
cache of geo.fetch.contracts), and returns AWARD_COLUMNS (geo.model.evidence):

- suppliers are `awards[].suppliers[]` references resolved against `parties[]`; their
  register identifier is the first of SCHEME_PREFERENCE found in `identifier` or
  `additionalIdentifiers`, else parsed from a party id `{scheme}-{id}`; internal ids
  (GB-FTS, GB-CFS) and name-only parties give no scheme. Company numbers are padded to 8
  characters (Contracts Finder drops leading zeros); charity numbers are kept as text.
- `psr` is read from the text (PSR_TEXT over the release's, tender's and awards'
  descriptions and titles) or a `tender.legalBasis` of SI 2023/1348: there is no flag.
- `health` is CPV division 85 (health and social work) except group 852 (veterinary), from
  the tender's classification and the items of the tender and of the awards.
- Awards that are `cancelled` or `unsuccessful` give no row. Releases are de-duplicated on
  (ocid, release id), keeping the newest by release date: a release updated later appears
  again in a later harvest window.
- Invalid numeric literals seen in Find a Tender bodies are tolerated: `1e9999` (an
  infinite amount) is read as unknown, and numbers with leading zeros (`" 000,"`) are
  read as numbers. Bodies that are not UTF-8 are read as ISO-8859-1 (Contracts Finder).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from geo.model.errors import InputError
from geo.model.evidence import AWARD_COLUMNS
from geo.model.registers import company_number_key

FIND_A_TENDER = "Find a Tender"
CONTRACTS_FINDER = "Contracts Finder"
# ocid prefix -> the service that published it (Public Contracts Scotland's releases come
# through Find a Tender with their own prefix).
OCID_PREFIXES: dict[str, str] = {
    "ocds-h6vhtk-": FIND_A_TENDER,
    "ocds-r6ebe6-": FIND_A_TENDER,
    "ocds-b5fd17-": CONTRACTS_FINDER,
}

COMPANIES_HOUSE = "GB-COH"
CHARITY_COMMISSION = "GB-CHC"
NHS_ODS = "GB-NHS"
# Register schemes in the order a supplier's identifier is chosen: the ones that join to
# CQC's provider columns first (DATA-FORMATS-2.md §3b "Joins to CQC").
SCHEME_PREFERENCE: tuple[str, ...] = (
    COMPANIES_HOUSE,
    CHARITY_COMMISSION,
    NHS_ODS,
    "GB-SC",
    "GB-NIC",
    "GB-MPR",
    "GB-PPON",
    "GB-UKPRN",
    "GG-RCE",
    "JE-FSC",
    "IM-CR",
    "GB-SRS",
)
# Party-id prefixes that are a service's own numbering, not a register: name only.
INTERNAL_SCHEMES: tuple[str, ...] = ("GB-FTS", "GB-CFS")

# The recommended detector (DATA-FORMATS-2.md §3a): the regime's name or SI, or its processes.
PSR_TEXT = re.compile(
    r"provider selection regime|\bPSR\b|2023/1348"
    r"|direct award (?:process )?[ABC]\b|most suitable provider|competitive process",
    re.IGNORECASE,
)
PSR_LEGAL_BASIS = "2023/1348"
HEALTH_CPV = "85"  # health and social work services
VETERINARY_CPV = "852"  # veterinary services, within 85: not health care
_NO_AWARD = frozenset({"cancelled", "unsuccessful"})
_ICB_NAME = re.compile(r"integrated care board|\bICB\b", re.IGNORECASE)
_ICB_ODS = re.compile(r"Q[A-Z0-9]{2}")
_LEADING_ZEROS = re.compile(rb"([:,\[]\s*)(-?)0+(?=\d)")
_RELEASE_SUFFIXES = (".json", ".jsonl")


def read_awards(path: str | Path) -> pd.DataFrame:
    """Every award x supplier in a release package, a JSON-lines file or a folder of them."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"contract awards: {path} not found")
    rows: dict[tuple[str, str], tuple[str, list[tuple]]] = {}
    for file, release in _releases_in(path):
        key = (str(release.get("ocid") or ""), str(release.get("id") or ""))
        date = str(release.get("date") or "")
        if key in rows and rows[key][0] > date:
            continue  # an older copy of a release already read
        rows[key] = (date, award_rows(release, file))
    table = pd.DataFrame(
        [row for _, release_rows in rows.values() for row in release_rows],
        columns=list(AWARD_COLUMNS),
    )
    return _typed(table)


def award_rows(release: dict, file: str) -> list[tuple]:
    """One tuple (AWARD_COLUMNS) per award x supplier of one release; none without awards."""
    awards = [award for award in _list(release.get("awards")) if isinstance(award, dict)]
    awards = [award for award in awards if award.get("status") not in _NO_AWARD]
    if not awards:
        return []
    ocid = _text(release.get("ocid"))
    parties = {
        party.get("id"): party for party in _list(release.get("parties")) if isinstance(party, dict)
    }
    buyer_id, buyer_name, buyer_ods = buyer_of(release, parties)
    tender = _dict(release.get("tender"))
    psr, health = is_psr(release), is_health(release)
    notice = _notice_type(release)
    published = _day(release.get("date"))
    service = service_of(ocid)
    rows = []
    for award in awards:
        contract = _contract_for(release, award)
        amount, currency = (
            _value(award.get("value")) or _value(contract.get("value")) or (None, None)
        )
        period = _dict(contract.get("period")) or _dict(award.get("contractPeriod"))
        title = _text(award.get("title")) or _text(tender.get("title"))
        award_date = _day(award.get("date")) or _day(award.get("datePublished"))
        common = (service, ocid, _text(release.get("id")), notice, title, buyer_id, buyer_name)
        tail = (
            amount,
            currency,
            award_date,
            _day(period.get("startDate")),
            _day(period.get("endDate")),
            psr,
            health,
            file,
            published,
        )
        suppliers = [ref for ref in _list(award.get("suppliers")) if isinstance(ref, dict)]
        for supplier in suppliers or [{}]:
            rows.append((*common, buyer_ods, *supplier_of(supplier, parties), *tail))
    return rows


def buyer_of(release: dict, parties: dict[Any, dict]) -> tuple[str | None, str | None, str | None]:
    """(id, name, GB-NHS ODS code) of the release's buyer, from `buyer` or the buyer party."""
    buyer = _dict(release.get("buyer"))
    party = parties.get(buyer.get("id")) if buyer.get("id") is not None else None
    if party is None:
        party = next((p for p in parties.values() if "buyer" in _list(p.get("roles"))), {})
    name = _text(buyer.get("name")) or _text(party.get("name"))
    party_id = _text(buyer.get("id")) or _text(party.get("id"))
    ods = dict(_identifiers(party)).get(NHS_ODS)
    return party_id, name, ods.upper() if ods else None


def supplier_of(reference: dict, parties: dict[Any, dict]) -> tuple:
    """(id, name, scheme, number) of an award's supplier reference, resolved against parties."""
    party = parties.get(reference.get("id"), {}) if reference.get("id") is not None else {}
    identifier = _dict(party.get("identifier"))
    name = (
        _text(party.get("name"))
        or _text(identifier.get("legalName"))
        or _text(reference.get("name"))
    )
    found = dict(_identifiers(party or {"id": reference.get("id")}))
    scheme = next((scheme for scheme in SCHEME_PREFERENCE if found.get(scheme)), None)
    if scheme is None:
        scheme = next(iter(found), None)
    number = normalise_identifier(scheme, found[scheme]) if scheme else None
    return _text(reference.get("id")) or _text(party.get("id")), name, scheme, number


def normalise_identifier(scheme: str, value: object) -> str | None:
    """A register identifier as its register writes it: company numbers padded to 8
    characters and upper-case, ODS codes upper-case, charity and other numbers as text."""
    text = _text(value)
    if text is None:
        return None
    if scheme == COMPANIES_HOUSE:
        return company_number_key(text)
    if scheme == NHS_ODS:
        return text.upper()
    return text


def is_psr(release: dict) -> bool:
    """Whether a release reads as a Provider Selection Regime notice (its text, or SI 2023/1348)."""
    tender = _dict(release.get("tender"))
    legal = _dict(tender.get("legalBasis"))
    if _text(legal.get("id")) == PSR_LEGAL_BASIS or "provider-selection-regime" in str(
        legal.get("uri") or ""
    ):
        return True
    texts = [release.get("description"), tender.get("title"), tender.get("description")]
    for award in _list(release.get("awards")):
        if isinstance(award, dict):
            texts += [award.get("description"), award.get("title")]
    return any(PSR_TEXT.search(text) for text in texts if isinstance(text, str))


def is_health(release: dict) -> bool:
    """Whether any CPV code of the tender, its items or the awards' items is health or
    social work (division 85), veterinary services (852) left out."""
    return any(
        code.startswith(HEALTH_CPV) and not code.startswith(VETERINARY_CPV)
        for code in cpv_codes(release)
    )


def cpv_codes(release: dict) -> list[str]:
    """The CPV codes a release is classified by: tender, tender items, award items."""
    tender = _dict(release.get("tender"))
    items = list(_list(tender.get("items")))
    for award in _list(release.get("awards")):
        if isinstance(award, dict):
            items += _list(award.get("items"))
    found = [tender.get("classification")]
    for item in items:
        if isinstance(item, dict):
            found += [item.get("classification"), *_list(item.get("additionalClassifications"))]
    return [
        re.sub(r"\D", "", str(item.get("id") or ""))
        for item in found
        if isinstance(item, dict) and str(item.get("scheme") or "CPV").upper() == "CPV"
    ]


def is_icb_buyer(name: object, ods_code: object = None) -> bool:
    """Whether a buyer is an Integrated Care Board: its name says so ('Integrated Care
    Board', 'ICB'), or its ODS code has an ICB's shape (Q and two characters, e.g. QWO)."""
    if isinstance(name, str) and _ICB_NAME.search(name):
        return True
    return isinstance(ods_code, str) and bool(_ICB_ODS.fullmatch(ods_code.strip().upper()))


def release_buyer_is_icb(release: dict) -> bool:
    """Whether a release's buyer is an ICB (the harvester keeps only these)."""
    parties = {p.get("id"): p for p in _list(release.get("parties")) if isinstance(p, dict)}
    _, name, ods = buyer_of(release, parties)
    return is_icb_buyer(name, ods)


def service_of(ocid: str | None) -> str | None:
    """Which service published a release, from its ocid's prefix; None when not known."""
    return next(
        (service for prefix, service in OCID_PREFIXES.items() if (ocid or "").startswith(prefix)),
        None,
    )


# --- reading the files ----------------------------------------------------------------------


def loads_package(body: bytes | str, what: str) -> Any:
    """JSON from a publisher, tolerating its invalid numeric literals; InputError naming
    `what` when it still is not JSON."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    try:
        return json.loads(raw, parse_float=_finite_float)
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    text = raw.decode("utf-8") if _is_utf8(raw) else raw.decode("iso-8859-1")
    patched = _LEADING_ZEROS.sub(rb"\1\2", text.encode("utf-8"))
    try:
        return json.loads(patched, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{what}: not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
        ) from None


def iter_releases(path: str | Path) -> Iterator[tuple[str, dict]]:
    """(file name, release) for every release in a package, JSON-lines file or folder."""
    return _releases_in(Path(path))


def _releases_in(path: Path) -> Iterator[tuple[str, dict]]:
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.suffix.lower() in _RELEASE_SUFFIXES):
            if file.is_file() and not file.name.startswith("."):
                yield from _releases_in_file(file)
    else:
        yield from _releases_in_file(path)


def _releases_in_file(path: Path) -> Iterator[tuple[str, dict]]:
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    stripped = raw.lstrip()
    if not stripped:
        return
    if path.suffix.lower() == ".jsonl" or _is_json_lines(stripped):
        for number, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                yield from _releases_of(
                    loads_package(line, f"{path.name} line {number}"), path.name
                )
    else:
        yield from _releases_of(loads_package(raw, path.name), path.name)


def _releases_of(document: Any, file: str) -> Iterator[tuple[str, dict]]:
    """A package's releases, or a release itself; other JSON (a harvest's state) gives none."""
    if isinstance(document, list):
        for item in document:
            yield from _releases_of(item, file)
    elif isinstance(document, dict) and isinstance(document.get("releases"), list):
        yield from ((file, r) for r in document["releases"] if isinstance(r, dict))
    elif isinstance(document, dict) and "ocid" in document:
        yield file, document


def _is_json_lines(stripped: bytes) -> bool:
    first, _, rest = stripped.partition(b"\n")
    if not rest.strip() or not first.rstrip().endswith(b"}"):
        return False
    try:
        json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


# --- small readers of OCDS fields -----------------------------------------------------------


def _identifiers(party: dict) -> list[tuple[str, str]]:
    """(scheme, id) of a party's identifier and additional identifiers, else its id parsed."""
    found = []
    for item in [party.get("identifier"), *_list(party.get("additionalIdentifiers"))]:
        item = _dict(item)
        scheme, value = _text(item.get("scheme")), _text(item.get("id"))
        if scheme and value and scheme not in INTERNAL_SCHEMES:
            found.append((scheme.upper(), value))
    if not found:
        parsed = _parse_party_id(_text(party.get("id")))
        if parsed:
            found.append(parsed)
    return found


def _parse_party_id(party_id: str | None) -> tuple[str, str] | None:
    """('GB-COH', '09121572') from 'GB-COH-09121572'; None for GB-FTS/GB-CFS or unknown schemes."""
    if not party_id:
        return None
    for scheme in SCHEME_PREFERENCE:
        if party_id.upper().startswith(scheme + "-") and len(party_id) > len(scheme) + 1:
            return scheme, party_id[len(scheme) + 1 :]
    return None


def _contract_for(release: dict, award: dict) -> dict:
    for contract in _list(release.get("contracts")):
        if isinstance(contract, dict) and contract.get("awardID") == award.get("id"):
            return contract
    return {}


def _value(value: object) -> tuple[float, str | None] | None:
    """(amount, currency) of an OCDS Value, or None when it has no usable amount."""
    value = _dict(value)
    amount = value.get("amount")
    if isinstance(amount, str):
        try:
            amount = float(amount.replace(",", "").strip())
        except ValueError:
            return None
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return None
    if not math.isfinite(amount):
        return None
    return float(amount), _text(value.get("currency"))


def _notice_type(release: dict) -> str | None:
    """The UK notice type (UK6, F03, …) from the first document that carries one."""
    tender = _dict(release.get("tender"))
    groups = [tender.get("documents")]
    groups += [_dict(award).get("documents") for award in _list(release.get("awards"))]
    for documents in groups:
        for document in _list(documents):
            notice = _text(_dict(document).get("noticeType"))
            if notice:
                return notice
    return None


def _day(value: object) -> str | None:
    """The date part (YYYY-MM-DD) of an ISO 8601 date-time; None when it is not one."""
    text = _text(value)
    return text[:10] if text and re.match(r"\d{4}-\d{2}-\d{2}", text) else None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).strip() or None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    text_columns = [c for c in AWARD_COLUMNS if c not in {"value", "psr", "health"}]
    typed = table.astype({column: "string" for column in text_columns})
    typed["value"] = pd.to_numeric(typed["value"], errors="coerce").astype("Float64")
    typed["psr"] = typed["psr"].astype(bool)
    typed["health"] = typed["health"].astype(bool)
    return typed.reset_index(drop=True)


def concat_awards(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Award tables read from several files (or harvests) as one: where a release (ocid,
    release id) is in more than one, only the newest copy's rows are kept (the later table
    on a tie)."""
    tables = [table.assign(_table=number) for number, table in enumerate(tables) if len(table)]
    if not tables:
        return _typed(pd.DataFrame(columns=list(AWARD_COLUMNS)))
    joined = pd.concat(tables, ignore_index=True)
    order = joined.assign(_published=joined["published"].fillna(""))
    newest = order.sort_values(["_published", "_table"], kind="stable").drop_duplicates(
        ["ocid", "release_id"], keep="last"
    )[["ocid", "release_id", "_table"]]
    kept = joined.merge(newest, on=["ocid", "release_id", "_table"], how="inner")
    return kept.drop(columns="_table").reset_index(drop=True)
