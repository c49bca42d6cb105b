"""What the local download cache holds and where each file came from (its provenance)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

try:  # POSIX file locks; elsewhere updates are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

from geo.io.recognise import (
    BOUNDARY_KINDS,
    CABINET_OFFICE,
    CHARITY_COMMISSION,
    CQC,
    DSPT_PUBLISHER,
    NHS_ENGLAND,
    NHS_ODS,
    ONS,
    RSH,
    UNKNOWN_PUBLISHER,
)
from geo.model import settings
from geo.model.errors import InputError

MANIFEST = "manifest.json"
KINDS: tuple[str, ...] = (
    "icb",
    "sicbl",
    "nhser",
    "sicbl_lookup",
    "sites",
    "engagement",
    "charity_register",
    "rsh_register",
    "code_history",
    "rtt",
    "dm01",
    "dspt",
    "contracts",
    "population",
)

KIND_LABELS: dict[str, str] = {
    "icb": "ICB boundaries",
    "sicbl": "Sub-ICB boundaries",
    "nhser": "NHS England region boundaries",
    "sicbl_lookup": "Sub-ICB → ICB lookup",
    "sites": "Provider sites",
    "engagement": "Planning engagement",
    "charity_register": "Charity Commission register of charities",
    "rsh_register": "RSH registered providers of social housing",
    "code_history": "Sub-ICB code history (ONS)",
    "rtt": "RTT waiting times (NHS England)",
    "dm01": "Diagnostic waiting times and activity, DM01 (NHS England)",
    "dspt": "Data Security and Protection Toolkit status",
    "contracts": "Contract awards (Find a Tender, Contracts Finder)",
    "population": "Population estimates (ONS mid-year)",
}

# Who a file is credited to when it is not a publisher's own but was rebuilt from ONS's
# LSOA boundaries and LSOA → sub-ICB → ICB lookup (../shared/data/SOURCES.md): every such
# credit starts with this, then names the lookup (`reconstruction_credit`).
RECONSTRUCTED = "reconstructed from the ONS LSOA→ICB lookup"
_ONS_LICENCE = (
    "Source: Office for National Statistics licensed under the Open Government Licence "
    "v.3.0. Contains OS data © Crown copyright and database right 2022–2025."
)

# The licence and attribution each publisher requires, in one place, so that the
# app, the briefings and the provenance table all credit them the same way.
ATTRIBUTIONS: dict[str, str] = {
    ONS: _ONS_LICENCE,
    RECONSTRUCTED: (
        f"{_ONS_LICENCE} Some boundaries or lookups were reconstructed from ONS's LSOA "
        "boundaries and LSOA → ICB lookup: they are not ONS products."
    ),
    CQC: "Contains CQC data © Care Quality Commission, OGL v3",
    NHS_ODS: "Contains NHS ODS data © NHS England, OGL v3",
    # find-that-charity records OGL v2.0 for the register extract; whether it is now v3 is
    # not confirmed (DATA-FORMATS-2.md §4).
    CHARITY_COMMISSION: (
        "Contains Charity Commission for England and Wales data, Open Government Licence"
    ),
    RSH: "Contains Regulator of Social Housing data, OGL v3",
    NHS_ENGLAND: "Contains NHS England statistics © NHS England, OGL v3",
    # The DSPT search page states no licence (DATA-FORMATS-2.md §7).
    DSPT_PUBLISHER: (
        "Contains Data Security and Protection Toolkit data © NHS England; no licence is "
        "stated: check its terms before publishing"
    ),
    # Find a Tender states OGL v3 in every package; Contracts Finder's licence is presumed
    # the same (DATA-FORMATS-2.md §3b [U]).
    CABINET_OFFICE: (
        "Contains public sector information from Find a Tender and Contracts Finder "
        "(Cabinet Office), licensed under the Open Government Licence v3.0"
    ),
    UNKNOWN_PUBLISHER: "Licence unknown: check the original source's terms before publishing",
}

_WHAT_TO_DO = (
    "run `python -m geo fetch` (online) or `python -m geo fetch --from DIR` (offline) "
    "or upload them on the Upload page"
)


@dataclass(frozen=True)
class CacheEntry:
    """One cached file and its provenance: what it is, where and when it came from."""

    kind: str
    vintage: str
    file: str  # relative to the cache folder (absolute only if kept elsewhere)
    source_url: str  # or "local file: <original path>"
    publisher: str
    licence: str
    retrieved_at: str  # ISO 8601 UTC
    published: str | None  # the publisher's own date for the data, when known
    sha256: str
    bytes: int
    rows: int | None
    title: str


def attribution(publisher: str) -> str:
    """The licence line a publisher's data must carry, or a warning when it is unknown."""
    if publisher.startswith(RECONSTRUCTED):
        return ATTRIBUTIONS[RECONSTRUCTED]
    return ATTRIBUTIONS.get(publisher, ATTRIBUTIONS[UNKNOWN_PUBLISHER])


def reconstruction_credit(
    file_name: str, columns: tuple[str, ...], kind: str, vintage: str
) -> str | None:
    """'reconstructed from the ONS LSOA→ICB lookup (…the lookup…)' when the file itself says it is
    one, else None (credit its publisher).

    Decided from the file, not a list of names: a boundary layer is a reconstruction when it
    counts the LSOAs dissolved into each area (an `n_lsoa` column) or its name says so
    ('reconstructed', 'from_lsoa21'); a sub-ICB → ICB lookup is one for a vintage it has ICB
    codes but no sub-ICB codes of (ONS's own lookups carry both of one year).
    """
    if kind in BOUNDARY_KINDS and _is_lsoa_dissolve(file_name, columns):
        return f"{RECONSTRUCTED} ({_lookup_used(file_name, columns, vintage)})"
    if kind == "sicbl_lookup" and vintage and vintage[2:] not in _years(columns, _SUB_ICB_YEAR):
        sub_icb = ", ".join(f"20{yy}" for yy in sorted(_years(columns, _SUB_ICB_YEAR)))
        return (
            f"{RECONSTRUCTED} ({sub_icb} sub-ICB codes mapped to {vintage} ICBs by the file's "
            "maker; not an ONS lookup)"
        )
    return None


_RECONSTRUCTED_NAME = re.compile(r"reconstruct|from_lsoa", re.IGNORECASE)
_LSOA_YEAR = re.compile(r"lsoa_?(\d{2})", re.IGNORECASE)
_PREDECESSOR_YEAR = re.compile(r"^predecessor_icb(\d{2})", re.IGNORECASE)
_SUB_ICB_YEAR = re.compile(r"^sicbl_?(\d{2})", re.IGNORECASE)


def _is_lsoa_dissolve(file_name: str, columns: tuple[str, ...]) -> bool:
    counts_lsoas = any(column.lower() == "n_lsoa" for column in columns)
    return counts_lsoas or bool(_RECONSTRUCTED_NAME.search(file_name))


def _lookup_used(file_name: str, columns: tuple[str, ...], vintage: str) -> str:
    """The ONS lookup a reconstruction was dissolved by, as far as the file says."""
    lsoa = _LSOA_YEAR.search(file_name)
    earlier = sorted(_years(columns, _PREDECESSOR_YEAR))
    icbs = f"20{earlier[-1]}" if earlier else vintage
    named = " ".join(
        part
        for part in ("LSOA", f"20{lsoa.group(1)}" if lsoa else "", "→ sub-ICB → ICB", icbs)
        if part
    )
    if earlier and vintage:
        return f"{named}, with the {vintage} ICB changes applied by the file's maker"
    return named


def _years(columns: tuple[str, ...], pattern: re.Pattern) -> set[str]:
    return {match.group(1) for column in columns if (match := pattern.match(column))}


def attribution_text() -> str:
    """The attribution lines owed for everything in the cache, once per publisher, for a caption."""
    publishers = dict.fromkeys(entry.publisher for entry in entries())
    return " ".join(dict.fromkeys(attribution(publisher) for publisher in publishers))


def manifest_path() -> Path:
    """Where the manifest of the cache lives."""
    return settings.cache_dir() / MANIFEST


def load_manifest() -> list[CacheEntry]:
    """Every entry recorded in the cache manifest, oldest first; empty when there is no cache."""
    path = manifest_path()
    if not path.is_file():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            f"cache manifest {path}: is not valid JSON ({error}); "
            "delete it and run `python -m geo fetch` again"
        ) from None
    return [_entry_from_dict(path, number, item) for number, item in enumerate(raw, start=1)]


def record(entry: CacheEntry) -> CacheEntry:
    """Add an entry to the manifest, replacing an older one for the same kind, vintage and title.

    An entry for the same kind and vintage with the same content (sha256) is also
    replaced, so taking the same file twice never duplicates it. The manifest is
    written to a temporary file and renamed, so a crash never leaves half of it.
    """
    _validate(entry)
    with _manifest_lock():
        current = load_manifest()
        kept = [old for old in current if not _supersedes(entry, old)]
        _write_manifest([*kept, entry])
        _remove_unreferenced(current, [*kept, entry])
    return entry


def entries(kind: str | None = None) -> list[CacheEntry]:
    """The recorded entries, optionally of one kind, oldest first."""
    return [entry for entry in load_manifest() if kind is None or entry.kind == kind]


def find(kind: str, vintage: str | None = None) -> CacheEntry | None:
    """The entry the app should use for `kind` (and `vintage`), or None.

    Newest vintage first; within a vintage the most detailed file (most bytes) wins,
    so an ultra-generalised copy never hides a finer one; then the latest retrieved.
    """
    candidates = [
        entry for entry in entries(kind) if vintage is None or entry.vintage == str(vintage)
    ]
    return max(candidates, key=_preference, default=None)


def vintages(kind: str = "icb") -> list[str]:
    """The vintages held for `kind`, oldest first (undated entries are left out)."""
    return sorted({entry.vintage for entry in entries(kind) if entry.vintage})


def entry_path(entry: CacheEntry) -> Path:
    """The file an entry describes, on this machine."""
    return settings.cache_dir() / entry.file


def provenance_table() -> pd.DataFrame:
    """One row per cached file with its source, licence and dates, for the app to show."""
    rows = []
    for entry in sorted(entries(), key=lambda item: (KINDS.index(item.kind), item.vintage)):
        preferred = find(entry.kind, entry.vintage)
        rows.append(
            {
                "What": KIND_LABELS[entry.kind],
                "Vintage": entry.vintage,
                "Title": entry.title,
                "In use": preferred is not None and preferred.file == entry.file,
                "Publisher": entry.publisher,
                "Source": entry.source_url,
                "Published": entry.published or "",
                "Retrieved": entry.retrieved_at,
                "Rows": entry.rows,
                "Size (MB)": round(entry.bytes / 1_000_000, 2),
                "SHA-256": entry.sha256[:12],
                "Licence": entry.licence,
            }
        )
    return pd.DataFrame(rows, columns=_PROVENANCE_COLUMNS)


def missing_for_app() -> list[str]:
    """Plain-English lines saying what the app still needs before it can show a map."""
    lines = []
    if find("icb") is None:
        lines.append(f"No ICB boundaries yet: {_WHAT_TO_DO}.")
    if find("sites") is None:
        lines.append(
            "No provider sites yet: run `python -m geo fetch` (CQC and NHS ODS lists, online) "
            "or `python -m geo fetch --from DIR` (offline) or upload a list on the Upload page."
        )
    for entry in entries():
        if not entry_path(entry).is_file():
            lines.append(
                f"{KIND_LABELS[entry.kind]} {entry.vintage} ({entry.title}): the manifest lists "
                f"{entry.file} but the file is missing from {settings.cache_dir()}; "
                "fetch it again."
            )
    return lines


_PROVENANCE_COLUMNS = [
    "What",
    "Vintage",
    "Title",
    "In use",
    "Publisher",
    "Source",
    "Published",
    "Retrieved",
    "Rows",
    "Size (MB)",
    "SHA-256",
    "Licence",
]


def _preference(entry: CacheEntry) -> tuple[str, int, str]:
    return (entry.vintage, entry.bytes, entry.retrieved_at)


def _supersedes(new: CacheEntry, old: CacheEntry) -> bool:
    same_slot = new.kind == old.kind and new.vintage == old.vintage
    return same_slot and (new.title == old.title or new.sha256 == old.sha256)


def _remove_unreferenced(before: list[CacheEntry], after: list[CacheEntry]) -> None:
    """Delete cached files that no entry points at any more (never files outside the cache)."""
    cache = settings.cache_dir().resolve()
    still_used = {entry.file for entry in after}
    for entry in before:
        path = entry_path(entry).resolve()
        if entry.file not in still_used and path.is_relative_to(cache) and path != cache:
            path.unlink(missing_ok=True)


def _validate(entry: CacheEntry) -> None:
    if entry.kind not in KINDS:
        raise InputError(
            f"cache entry {entry.title}: kind {entry.kind!r} is not one of {', '.join(KINDS)}"
        )
    if not entry.sha256 or not entry.file:
        raise InputError(f"cache entry {entry.title}: needs a file and its sha256")


def _entry_from_dict(path: Path, number: int, item: object) -> CacheEntry:
    names = [field.name for field in dataclasses.fields(CacheEntry)]
    if not isinstance(item, dict) or not set(names) <= set(item):
        missing = sorted(set(names) - set(item)) if isinstance(item, dict) else names
        raise InputError(
            f"cache manifest {path}: entry {number} lacks {', '.join(missing)}; "
            "delete the manifest and run `python -m geo fetch` again"
        )
    entry = CacheEntry(**{name: item[name] for name in names})
    if entry.kind not in KINDS:
        raise InputError(
            f"cache manifest {path}: entry {number} has kind {entry.kind!r}, "
            f"not one of {', '.join(KINDS)}"
        )
    return entry


@contextlib.contextmanager
def _manifest_lock() -> Iterator[None]:
    """Serialise manifest updates between processes (two app sessions fetching at once)."""
    lock = manifest_path().with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write_manifest(items: list[CacheEntry]) -> None:
    path = manifest_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps([dataclasses.asdict(item) for item in items], indent=2, ensure_ascii=False)
    handle, temporary = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
