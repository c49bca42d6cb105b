"""An Analysis as named parts of Parquet and JSON bytes, and back, so a store can keep it.

`analysis_parts` writes every field of `Analysis` as it finds it, whatever its columns:
a GeoDataFrame as GeoParquet (geometry as WKB with its CRS), a DataFrame as Parquet
(pandas' dtypes and index kept), the notes and which fields are empty as JSON in the
`manifest` part. Never pickle: the bytes are data any process or tool can read.
`analysis_from_parts` gives back an equal Analysis, or raises `UnreadableParts` when
anything is missing or damaged, so the caller computes the analysis afresh instead.
"""

from __future__ import annotations

import dataclasses
import io
import json

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from geo.analysis.evidence import Evidence
from geo.analysis.pipeline import Analysis, Note

FORMAT = 1
MANIFEST = "manifest"
_GEOPARQUET, _PARQUET, _NOTES, _NONE = "geoparquet", "parquet", "notes", "none"
_EVIDENCE = "evidence"  # its frames as parts '<field>.<name>', its series as one-column frames


class UnreadableParts(ValueError):
    """Stored parts that do not make an Analysis (missing, damaged, or of another format)."""


def analysis_parts(analysis: Analysis) -> dict[str, bytes]:
    """Every field of `analysis` as bytes, by field name, with the `manifest` saying how
    each was written; a TypeError for a field of a kind this module cannot write."""
    parts: dict[str, bytes] = {}
    kinds: dict[str, str] = {}
    notes: dict[str, list[dict]] = {}
    for field in dataclasses.fields(Analysis):
        value = getattr(analysis, field.name)
        kinds[field.name] = _kind(field.name, value)
        if kinds[field.name] in (_GEOPARQUET, _PARQUET):
            parts[field.name] = frame_bytes(value)
        elif kinds[field.name] == _NOTES:
            notes[field.name] = [dataclasses.asdict(note) for note in value]
        elif kinds[field.name] == _EVIDENCE:
            parts.update(_evidence_parts(field.name, value))
            notes[field.name] = [{"sources": list(value.sources)}]
    manifest = {"format": FORMAT, "fields": kinds, "notes": notes}
    parts[MANIFEST] = json.dumps(manifest, sort_keys=True).encode()
    return parts


def analysis_from_parts(parts: dict[str, bytes]) -> Analysis:
    """The Analysis `analysis_parts` wrote; UnreadableParts if the parts do not make one."""
    manifest = _manifest(parts)
    values = {}
    for name, kind in manifest["fields"].items():
        if kind == _NOTES:
            values[name] = _notes(manifest, name)
        elif kind == _NONE:
            values[name] = None
        elif kind == _EVIDENCE:
            values[name] = _evidence_from_parts(parts, manifest, name)
        else:
            values[name] = read_frame(parts, name, geometry=kind == _GEOPARQUET)
    return Analysis(**values)


def _notes(manifest: dict, name: str) -> tuple[Note, ...]:
    try:
        return tuple(Note(**note) for note in manifest["notes"][name])
    except (KeyError, TypeError) as error:
        raise UnreadableParts(f"notes {name} cannot be read: {error}") from None


def _kind(name: str, value: object) -> str:
    if value is None:
        return _NONE
    if isinstance(value, gpd.GeoDataFrame):
        return _GEOPARQUET
    if isinstance(value, pd.DataFrame):
        return _PARQUET
    if isinstance(value, tuple) and all(isinstance(item, Note) for item in value):
        return _NOTES
    if isinstance(value, Evidence):
        return _EVIDENCE
    raise TypeError(f"Analysis.{name}: a {type(value).__name__} cannot be stored as parts")


def _evidence_parts(name: str, evidence: Evidence) -> dict[str, bytes]:
    """The evidence's frames and series (as one-column frames), each a part of its own."""
    parts = {}
    for field in dataclasses.fields(Evidence):
        value = getattr(evidence, field.name)
        if isinstance(value, pd.Series):
            parts[f"{name}.{field.name}"] = frame_bytes(value.to_frame("value"))
        elif isinstance(value, pd.DataFrame):
            parts[f"{name}.{field.name}"] = frame_bytes(value)
    return parts


def _evidence_from_parts(parts: dict[str, bytes], manifest: dict, name: str) -> Evidence:
    values: dict[str, object] = {}
    for field in dataclasses.fields(Evidence):
        part = f"{name}.{field.name}"
        if part in parts:
            frame = read_frame(parts, part, geometry=False)
            values[field.name] = frame["value"] if field.type == "pd.Series" else frame
    try:
        values["sources"] = tuple(manifest["notes"][name][0]["sources"])
        return Evidence(**values)
    except (KeyError, IndexError, TypeError) as error:
        raise UnreadableParts(f"{name} cannot be read: {error}") from None


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as Parquet (a GeoDataFrame as GeoParquet), zstd-compressed, page-checksummed."""
    buffer = io.BytesIO()
    # Page checksums let a damaged part be told from data when it is read.
    frame.to_parquet(buffer, compression="zstd", write_page_checksum=True)
    return buffer.getvalue()


def _manifest(parts: dict[str, bytes]) -> dict:
    """The manifest, checked against the Analysis this code builds."""
    if MANIFEST not in parts:
        raise UnreadableParts("no manifest")
    try:
        manifest = json.loads(parts[MANIFEST])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableParts(f"manifest is not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnreadableParts(f"manifest is not format {FORMAT}")
    expected = {field.name for field in dataclasses.fields(Analysis)}
    fields = manifest.get("fields")
    if not isinstance(fields, dict) or set(fields) != expected:
        raise UnreadableParts("manifest names other fields than Analysis has")
    return manifest


def read_frame(parts: dict[str, bytes], name: str, *, geometry: bool) -> pd.DataFrame:
    """The frame `frame_bytes` wrote as part `name`; UnreadableParts if missing or damaged."""
    if name not in parts:
        raise UnreadableParts(f"part {name} is missing")
    source = io.BytesIO(parts[name])
    try:
        if geometry:
            return gpd.read_parquet(source, page_checksum_verification=True)
        return pd.read_parquet(source, page_checksum_verification=True)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise UnreadableParts(f"part {name} cannot be read: {error}") from None
