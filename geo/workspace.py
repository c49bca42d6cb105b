"""The data everyone sees: the newest published version of each dataset, else the cached files.

Analysts publish provider lists, engagement lists and new boundary vintages into the
store; every page then uses those. Until something is published, the official files
in the download cache are used as they are. A user may pin an earlier version.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis import merging, pipeline, population, stored
from geo.analysis.evidence import EvidenceInputs, load_cached_evidence
from geo.fetch import catalogue
from geo.fetch.registers import cached_registers
from geo.io import boundaries, code_history, lookups, readers
from geo.model import problems
from geo.model.errors import InputError
from geo.model.settings import get_setting
from geo.store.versions import DEFAULT_DATASET, DEFAULT_SOURCE, Store, check_source_name

SITES = DEFAULT_DATASET  # the dataset of the default provider source
ENGAGEMENT = "engagement"
# Bump to drop every stored analysis when what one holds changes in a way the code digest
# below would not see (it already changes with any edit to the code that computes one).
STORED_ANALYSIS_VERSION = 1
DISPLAY_SUFFIX = "/display"  # the display layers are kept under their analysis' key + this

_log = logging.getLogger(__name__)


def boundary_dataset(kind: str, vintage: str) -> str:
    """The store's name for a published boundary layer, e.g. 'boundaries-icb-2026'."""
    return f"boundaries-{kind}-{vintage}"


def source_dataset(store: Store, source: str) -> str:
    """The dataset that holds (or will hold) provider source `source`: the one the store
    keeps it in, else 'sites' for the default source and 'sites-<source>' for others."""
    check_source_name(source)
    new = SITES if source == DEFAULT_SOURCE else f"{SITES}-{source}"
    return store.source_dataset(source) or new


@dataclass(frozen=True)
class Pins:
    """Which published versions to use; None means the current one. Hashable, so a cache key.

    `sites` pins the default provider source (dataset 'sites'); `sources` pins others as
    (dataset, version) pairs.
    """

    sites: int | None = None
    engagement: int | None = None
    sources: tuple[tuple[str, int], ...] = ()

    def version_of(self, dataset: str) -> int | None:
        """The version pinned for a provider source's dataset, or None for its current one."""
        if dataset == SITES:
            return self.sites
        return dict(self.sources).get(dataset)


def vintages(store: Store | None) -> list[str]:
    """ICB vintages available from the cache or published in the store, oldest first."""
    published = set()
    if store is not None:
        datasets = store.datasets()
        layers = datasets.loc[datasets["kind"] == "boundaries", "dataset"]
        published = {
            name.rsplit("-", 1)[1] for name in layers if name.startswith("boundaries-icb-")
        }
    return sorted(set(catalogue.vintages("icb")) | published)


def fingerprint(store: Store | None) -> str:
    """Changes whenever the cache or any published dataset changes: a key for cached analyses."""
    cached = "|".join(f"{e.kind}:{e.vintage}:{e.sha256}" for e in catalogue.entries())
    if store is None:
        return cached
    current = store.datasets()
    published = "|".join(
        f"{d}:{v}" for d, v in zip(current["dataset"], current["current_version"], strict=True)
    )
    return cached + "#" + published


def load_frames(vintage: str | None, store: Store | None, pins: Pins = Pins()) -> pipeline.Frames:
    """Every frame one analysis needs, published versions first, cached files otherwise.

    No `vintage` means the one shown first (`newest_vintage`).
    """
    vintage = vintage or newest_vintage(store)
    provenance: list[dict] = []
    icbs = _layer(store, "icb", vintage, provenance)
    if icbs is None:
        raise InputError(f"no {vintage} ICB boundaries: " + " ".join(catalogue.missing_for_app()))
    sites, notes = _sites(store, pins, provenance)
    populations, population_notes = _populations(icbs, provenance)
    return pipeline.Frames(
        icbs=icbs,
        sites=sites,
        sub_icbs=_layer(store, "sicbl", vintage, provenance),
        regions=_layer(store, "nhser", None, provenance),
        lookup=_lookup(vintage, provenance),
        engagement=_engagement(store, pins.engagement, provenance),
        code_history=_code_history(provenance),
        populations=populations,
        evidence=_evidence(provenance),
        provenance=pipeline.provenance_table(provenance),  # last: every row above appended
        notes=(*notes, *population_notes),
    )


def icb_boundaries(store: Store | None, vintage: str | None = None):
    """The ICB layer of `vintage` (None: the one shown first), published else cached; None
    when no ICB boundaries are loaded."""
    try:
        vintage = vintage or newest_vintage(store)
    except InputError:
        return None
    return _layer(store, "icb", vintage, [])


def current_sites(store: Store | None) -> tuple[pd.DataFrame, str] | None:
    """The provider list every page uses now (newest published, else cached) and how to
    name it ('Provider sites, sites v3'); None when none is loaded."""
    provenance: list[dict] = []
    try:
        sites, _ = _sites(store, Pins(), provenance)
    except InputError:
        return None
    versions = " + ".join(row["version"] for row in provenance)
    return sites, f"{provenance[0]['data'].split(':')[0]}, {versions}"


def published_sources(store: Store | None, pins: Pins = Pins()) -> list[tuple[str, pd.DataFrame]]:
    """Each provider source with rows, first published first, at its pinned or current
    version: (source name, sites). Withdrawn sources (no rows) are left out."""
    return [
        (source, store.load(dataset, version))
        for source, dataset, version in _source_versions(store, pins)
    ]


def _source_versions(store: Store | None, pins: Pins) -> list[tuple[str, str, int | None]]:
    """(source, dataset, pinned version or None) of each provider source with rows, in order."""
    if store is None:
        return []
    return [
        (row.source, row.dataset, pins.version_of(row.dataset))
        for row in store.sources().itertuples()
        if _has_rows(store, row.dataset, pins.version_of(row.dataset))
    ]


def _has_rows(store: Store, dataset: str, version: int | None) -> bool:
    return store.version_info(dataset, version).rows > 0


def newest_vintage(store: Store | None) -> str:
    """The vintage shown when none is chosen: the ICS_VINTAGE setting, else the newest loaded."""
    available = vintages(store)
    wanted = get_setting("vintage")
    if wanted and wanted in available:
        return wanted
    if not available:
        raise InputError(" ".join(catalogue.missing_for_app()) or "no ICB boundaries loaded")
    return available[-1]


def analyse(vintage: str | None, store: Store | None, pins: Pins = Pins()) -> pipeline.Analysis:
    """The analysis every page shows for one vintage: the store's frames through `pipeline.analyse`.

    With a store, the result is kept in it under `analysis_key` and read from there while
    nothing it rests on changes, by this process or any other on the same store; a stored
    result that is missing or cannot be read is computed afresh (and kept).
    """
    vintage = vintage or newest_vintage(store)
    if store is None:
        return pipeline.analyse(load_frames(vintage, store, pins))
    data = fingerprint(store)
    key = analysis_key(vintage, data, pins)
    found = _stored_analysis(store, key)
    if found is not None:
        return found
    result = pipeline.analyse(load_frames(vintage, store, pins))
    _keep_analysis(store, key, data, result)
    return result


def display_layers(
    vintage: str | None, store: Store | None, pins: Pins = Pins()
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The simplified display copies (`boundaries.display_boundaries`) of the analysis' ICBs
    and NHS regions (None without regions), kept in the store beside the analysis: the
    simplification takes seconds, so a cold server reads them instead."""
    vintage = vintage or newest_vintage(store)
    if store is None:
        return _display_copies(analyse(vintage, store, pins))
    data = fingerprint(store)
    key = analysis_key(vintage, data, pins) + DISPLAY_SUFFIX
    try:
        found = store.derived(key)
        if found:
            return _display_from_parts(found)
    except (InputError, stored.UnreadableParts) as error:
        _log.warning("stored display layers %s not used (%s); computing them", key[:12], error)
    layers = _display_copies(analyse(vintage, store, pins))
    try:
        store.keep_derived(key, data, _display_parts(layers))
    except InputError as error:
        _log.warning("display layers %s not stored: %s", key[:12], error)
    return layers


def _display_copies(
    analysis: pipeline.Analysis,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    regions = analysis.regions
    return (
        boundaries.display_boundaries(analysis.icbs),
        None if regions is None else boundaries.display_boundaries(regions),
    )


def _display_parts(layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]) -> dict[str, bytes]:
    icbs, regions = layers
    parts = {"icbs": stored.frame_bytes(icbs)}
    if regions is not None:
        parts["regions"] = stored.frame_bytes(regions)
    return parts


def _display_from_parts(
    parts: dict[str, bytes],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    icbs = stored.read_frame(parts, "icbs", geometry=True)
    regions = stored.read_frame(parts, "regions", geometry=True) if "regions" in parts else None
    return icbs, regions


def analysis_key(vintage: str, data_fingerprint: str, pins: Pins = Pins()) -> str:
    """What a stored analysis is computed from, as one hash: the vintage, the pinned
    versions, the data's fingerprint (every dataset's current version and every cached
    file's hash) and the code (STORED_ANALYSIS_VERSION and a digest of its sources)."""
    described = "|".join(
        [
            f"analysis v{STORED_ANALYSIS_VERSION}",
            _code_digest(),
            vintage,
            f"sites={pins.sites}",
            f"engagement={pins.engagement}",
            f"sources={sorted(pins.sources)}",
            data_fingerprint,
        ]
    )
    return hashlib.sha256(described.encode()).hexdigest()


def store_analyses(store: Store) -> list[str]:
    """Compute and keep the analysis of every loaded vintage (after a publish or a fetch), so
    no page view has to; returns the vintages analysed. A vintage that cannot be analysed
    is logged and left for the page to explain when it is viewed."""
    done = []
    for vintage in vintages(store):
        try:
            analyse(vintage, store)
            display_layers(vintage, store)
        except Exception:  # the page says what went wrong when it is viewed
            _log.warning("the %s analysis was not stored", vintage, exc_info=True)
            continue
        done.append(vintage)
    return done


def _stored_analysis(store: Store, key: str) -> pipeline.Analysis | None:
    """The analysis kept under `key`, or None when there is none or it cannot be read."""
    try:
        parts = store.derived(key)
        return stored.analysis_from_parts(parts) if parts else None
    except (InputError, stored.UnreadableParts) as error:
        _log.warning("stored analysis %s not used (%s); computing it", key[:12], error)
        return None


def _keep_analysis(store: Store, key: str, data: str, analysis: pipeline.Analysis) -> None:
    """Keep an analysis for every process; one that cannot be kept is only logged."""
    try:
        store.keep_derived(key, data, stored.analysis_parts(analysis))
    except (InputError, TypeError) as error:
        _log.warning("analysis %s not stored: %s", key[:12], error)


# The code an analysis and its display layers are computed by: geo/'s lower tiers and this file.
_ANALYSIS_CODE = ("analysis", "fetch", "geocode", "io", "model", "store")


@functools.cache
def _code_digest() -> str:
    """A hash of the source of the code that computes an analysis: one kept by other code
    (another version of the app) is not reused."""
    here = Path(__file__)
    digest = hashlib.sha256(here.read_bytes())
    for folder in _ANALYSIS_CODE:
        for path in sorted((here.parent / folder).rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _layer(store, kind: str, vintage: str | None, provenance: list[dict]):
    if store is not None and vintage is not None:
        name = boundary_dataset(kind, vintage)
        if (
            store.current_version(name) is not None
            and store.version_info(name).kind == "boundaries"
            and store.version_info(name).rows > 0  # a withdrawn layer: the cached one
        ):
            label = catalogue.KIND_LABELS[kind] + f" {vintage}"
            provenance.append(_published(store, name, kind, label))
            return store.load(name)
    entry = catalogue.find(kind, vintage)
    if entry is None:
        return None
    provenance.append(_cached(entry))
    return boundaries.load_boundaries(catalogue.entry_path(entry), kind=kind)


def _sites(
    store, pins: Pins, provenance: list[dict]
) -> tuple[pd.DataFrame, tuple[pipeline.Note, ...]]:
    """The union of the published provider sources (sectors decided when published), else
    the cached list read now with the cached registers; and what its sector rules could not
    decide, or how the sources were merged."""
    chosen = _source_versions(store, pins)
    if chosen:
        several = len(chosen) > 1
        for source, dataset, version in chosen:
            label = "Provider sites" + (f": {source}" if several else "")
            provenance.append(_published(store, dataset, SITES, label, version))
        named = [(source, store.load(dataset, version)) for source, dataset, version in chosen]
        merged = merging.merge_sources(named)
        return merged.sites, _merge_notes(named, merged)
    entry = catalogue.find("sites")
    if entry is None:
        raise InputError(" ".join(catalogue.missing_for_app()) or "no provider sites loaded")
    provenance.append(_cached(entry))
    loaded = cached_registers()
    listed = readers.read_sites(catalogue.entry_path(entry), registers=loaded)
    return listed.sites, pipeline.sector_notes(listed, loaded)


def _merge_notes(
    named: list[tuple[str, pd.DataFrame]], merged: merging.MergedSites
) -> tuple[pipeline.Note, ...]:
    """How several provider sources became one list, in a note; none for one source."""
    if len(named) < 2:
        return ()
    listed = sum(len(sites) for _, sites in named)
    shared = listed - len(merged.sites)
    conflicts = len(merged.conflicts)
    text = (
        f"Provider sites from {len(named)} sources ({', '.join(name for name, _ in named)}): "
        f"{listed:,} rows, {shared:,} of them a site another source lists too, so "
        f"{len(merged.sites):,} sites"
    )
    if conflicts:
        text += f"; {conflicts:,} values differ between sources (the first source's are used)"
    return (pipeline.Note(text + ".", problems.NOTE),)


def _engagement(store, version: int | None, provenance: list[dict]) -> pd.DataFrame | None:
    if (
        store is not None
        and store.current_version(ENGAGEMENT) is not None
        and store.version_info(ENGAGEMENT, version).rows > 0
    ):
        provenance.append(
            _published(store, ENGAGEMENT, ENGAGEMENT, pipeline.ENGAGEMENT_LABEL, version)
        )
        return store.load(ENGAGEMENT, version)
    return None


def _lookup(vintage: str, provenance: list[dict]) -> pd.DataFrame | None:
    entry = catalogue.find("sicbl_lookup", vintage)
    if entry is None:
        return None
    provenance.append(_cached(entry))
    return lookups.load_sicbl_to_icb(catalogue.entry_path(entry))


def _populations(
    icbs: pd.DataFrame, provenance: list[dict]
) -> tuple[population.Populations | None, tuple[pipeline.Note, ...]]:
    """Each ICB's population from the cached ONS estimates, and a note when there are none."""
    workbooks = catalogue.entries("population")
    lookups_cached = [catalogue.entry_path(entry) for entry in catalogue.entries("sicbl_lookup")]
    tables = [path for path in lookups_cached if path.suffix.lower() == ".csv"]
    populations, note = population.populations_for(
        icbs, [catalogue.entry_path(entry) for entry in workbooks], tables
    )
    if populations is not None:
        used = [
            entry for entry in workbooks if catalogue.entry_path(entry).name == populations.file
        ]
        provenance.extend(_cached(entry) for entry in used)
    return populations, (pipeline.Note(note, problems.NOTE),) if note else ()


def _code_history(provenance: list[dict]) -> pd.DataFrame | None:
    """ONS's sub-ICB code changes from the cache, so older codes reach this vintage's ICBs."""
    entry = catalogue.find("code_history")
    if entry is None:
        return None
    provenance.append(_cached(entry))
    return code_history.load_code_history(catalogue.entry_path(entry))


def _evidence(provenance: list[dict]) -> EvidenceInputs | None:
    """The evidence of NHS commissioning the download cache holds (RTT, DM01, awards, DSPT)."""
    inputs = load_cached_evidence(_cached)
    if inputs is not None and inputs.provenance is not None:
        provenance.extend(inputs.provenance.to_dict("records"))
    return inputs


def _cached(entry: catalogue.CacheEntry) -> dict:
    return {
        "data": catalogue.KIND_LABELS.get(entry.kind, entry.kind)
        + (f" {entry.vintage}" if entry.vintage else ""),
        "from": f"{entry.title} ({entry.source_url})",
        "publisher": entry.publisher,
        "date": entry.published or entry.retrieved_at[:10],
        "version": "cached file",
        "dataset": entry.kind,
    }


def _published(store: Store, name: str, kind: str, label: str, version: int | None = None) -> dict:
    info = store.version_info(name, version)
    return {
        "data": label,
        "from": f"{info.file_name}, published by {info.author}",
        "publisher": str(info.meta.get("publisher", "")) if info.meta else "",
        "date": info.published_at.isoformat()[:16].replace("T", " "),
        "version": f"{name} v{info.version}",
        "dataset": kind,
    }
