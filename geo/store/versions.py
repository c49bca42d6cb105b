"""Versioned datasets (sites, engagement, boundaries, lookups) with an audit log, in SQLite or PostgreSQL.

A dataset is a named series of versions; each version holds a whole table and is
never changed once written. Publishing adds version N+1 and makes it current in one
transaction, so a failure at any step leaves the store exactly as it was. Reverting
records a new version whose rows are an earlier version's: history is never deleted.

How rows are kept: each version's table is one Parquet blob (pyarrow, zstd) in
`version_data`. A version is always written and read whole, and Parquet keeps pandas'
dtypes (str, Float64, boolean, Int64, tz-aware times) and, as GeoParquet, geometry as
WKB with its CRS, so `load` returns exactly what was published, identically on both
databases; 57,000 rows × 130 columns encode in about half a second. A table per
version would need a type mapping per database and DDL on every publish. On
PostgreSQL, a GeoDataFrame's geometry is also written to the PostGIS table
`version_geometry` (EPSG:4326, GiST-indexed), and the view `current_geometry` shows the
current version of every dataset, so QGIS or SQL can query it; `load` reads the blob.

Two writers to one dataset queue: SQLite by `BEGIN IMMEDIATE` (WAL journal, busy
timeout), PostgreSQL by locking the dataset's row; each gets its own version number.
To keep a PostgreSQL store in its own schema, give the URL
`?options=-csearch_path%3D<schema>,public` (PostGIS stays in `public`).
"""

from __future__ import annotations

import io
import json
import numbers
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas
import pandas as pd
import pyarrow as pa

from geo.model import errors
from geo.model.errors import InputError
from geo.model.settings import data_dir, get_setting
from geo.model.vocabulary import GSS_PREFIXES
from geo.store import backends as sql
from geo.store.backends import Backend, PostgresBackend, SQLiteBackend

KINDS: tuple[str, ...] = ("sites", "engagement", "boundaries", "lookup")
COUNT_KEYS: tuple[str, ...] = ("accepted", "warned", "rejected")
PUBLISH = "publish"
REVERT = "revert"
WITHDRAW = "withdraw"
# A provider list is a named source ('cqc-directory', 'nhs-trust-sites'); what everyone sees
# is the union of every source's current version. A store's one list from before sources
# is this one (schema 3 names it so).
DEFAULT_SOURCE = "provider-list"
DEFAULT_DATASET = "sites"
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
STORE_EPSG = 4326
SQLITE_FILE_NAME = "store.sqlite"

# A version number is a PostgreSQL INTEGER on both databases: 1 up to this.
MAX_VERSION = 2**31 - 1
# The names each kind of dataset may take, in one place. A name starts with its kind, so
# a page that looks a dataset up by name ('sites', 'boundaries-icb-2024') only ever finds
# that kind; a boundary layer's name is exactly which layer and vintage it holds.
_LABEL = r"(-[a-z0-9][a-z0-9._-]{0,80})?"
DATASET_NAMES: dict[str, re.Pattern[str]] = {
    "sites": re.compile(rf"sites{_LABEL}"),
    "engagement": re.compile(rf"engagement{_LABEL}"),
    "boundaries": re.compile(rf"boundaries-({'|'.join(GSS_PREFIXES)})-20\d\d"),
    "lookup": re.compile(rf"lookup{_LABEL}"),
}
_NAME_EXAMPLES: dict[str, str] = {
    "sites": "'sites' (or 'sites-<label>')",
    "engagement": "'engagement' (or 'engagement-<label>')",
    "boundaries": f"'boundaries-<layer>-<year>', the layer one of {', '.join(GSS_PREFIXES)} "
    "(e.g. 'boundaries-icb-2024')",
    "lookup": "'lookup' (or 'lookup-<label>')",
}
# The audit log's columns and dtypes, in the order `Store.versions` returns them.
_VERSION_COLUMNS: dict[str, str] = {
    "dataset": "str",
    "version": "int64",
    "kind": "str",
    "author": "str",
    "published_at": "datetime64[us, UTC]",
    "file_name": "str",
    "checksum": "str",
    "rows": "int64",
    "accepted": "Int64",
    "warned": "Int64",
    "rejected": "Int64",
    "action": "str",
    "reverted_to": "Int64",
    "current": "bool",
}
_DATASET_COLUMNS: dict[str, str] = {
    "dataset": "str",
    "kind": "str",
    "current_version": "int64",
    "versions": "int64",
    "rows": "int64",
    "published_at": "datetime64[us, UTC]",
    "source": "str",
}
_SOURCE_COLUMNS: dict[str, str] = {
    "source": "str",
    "dataset": "str",
    "current_version": "int64",
    "rows": "int64",
    "published_at": "datetime64[us, UTC]",
}


@dataclass(frozen=True)
class Version:
    """One row of the audit log: a version of a dataset, who made it, when, and from what."""

    dataset: str
    version: int
    kind: str
    action: str  # PUBLISH, REVERT or WITHDRAW
    author: str
    published_at: datetime  # UTC
    file_name: str
    checksum: str
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    reverted_to: int | None = None


def open_store(url: str | None = None) -> Store:
    """Open the store at `url`, else DATABASE_URL, else the SQLite file in the data folder; migrate it."""
    if url is None:
        url = get_setting("database_url")
    return Store(_connect(url.strip()))


def _connect(url: str) -> Backend:
    if not url:
        return SQLiteBackend.open(data_dir() / SQLITE_FILE_NAME)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresBackend.open(url)
    if scheme == "sqlite" and url.startswith("sqlite:///"):
        return SQLiteBackend.open(Path(url.removeprefix("sqlite:///")))
    raise InputError(
        f"database URL with scheme {scheme or '(none)'!r}: expected "
        "postgresql://user:password@host:port/database or sqlite:///path/to/store.sqlite "
        "(or leave DATABASE_URL empty for the SQLite file in the data folder)"
    )


class Store:
    """Named datasets, each a series of immutable versions, one of them current."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend
        self._lock = threading.RLock()  # one connection, shared by Streamlit's threads
        try:
            with self._session():
                sql.migrate(backend)
        except BaseException:
            backend.close()
            raise

    @property
    def location(self) -> str:
        """Where the store is (a file path, or a PostgreSQL URL without its password)."""
        return self._db.location

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgres'."""
        return self._db.name

    @property
    def schema_version(self) -> int:
        """The store's schema version, after any migrations run on opening."""
        with self._session():
            return sql.schema_version(self._db)

    def publish(
        self,
        dataset: str,
        kind: str,
        frame: pd.DataFrame,
        *,
        author: str,
        file_name: str,
        checksum: str,
        counts: dict[str, int],
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> Version:
        """Store `frame` as the next version of `dataset` and make it current, all or nothing.

        `source` names the provider source the dataset holds (sites only): given on its
        first publish, the dataset joins the union every page sees; it must match after.
        """
        _check_publish(dataset, kind, frame, author, counts)
        if source is None and (dataset, kind) == (DEFAULT_DATASET, "sites"):
            source = DEFAULT_SOURCE
        if source is not None:
            _check_source(dataset, kind, source)
        meta = json.loads(_to_json(dataset, "meta", meta or {}))
        payload = _encode(dataset, frame)
        with self._session(), self._db.transaction():
            existing_kind, _ = sql.lock_dataset(self._db, dataset, kind)
            if existing_kind != kind:
                raise InputError(
                    f"dataset {dataset}: the store holds it as {existing_kind}, not {kind}"
                )
            if source is not None:
                self._claim_source(dataset, source)
            version = Version(
                dataset=dataset,
                version=sql.next_version(self._db, dataset),
                kind=kind,
                action=PUBLISH,
                author=author.strip(),
                published_at=datetime.now(UTC),
                file_name=file_name,
                checksum=checksum,
                rows=len(frame),
                counts=dict(counts),
                meta=meta,
            )
            sql.insert_version(self._db, _version_values(version, data_version=version.version))
            sql.write_payload(self._db, dataset, version.version, payload)
            if isinstance(frame, geopandas.GeoDataFrame):
                sql.write_geometry(self._db, dataset, version.version, frame.geometry)
            sql.make_current(self._db, dataset, version.version)
        return version

    def revert(self, dataset: str, version: int, *, author: str) -> Version:
        """Make an earlier `version` current again as a new version with its rows; history is kept."""
        _check_author(dataset, author)
        version = version_number(version)
        with self._session(), self._db.transaction():
            locked = sql.lock_dataset(self._db, dataset, None)
            if locked is None:
                raise self._unknown_dataset(dataset)
            target, data_version = self._find(dataset, version)
            if version == locked[1]:
                raise InputError(
                    f"store {self.location}: {dataset} version {version} is already current"
                )
            reverted = replace(
                target,
                version=sql.next_version(self._db, dataset),
                action=REVERT,
                author=author.strip(),
                published_at=datetime.now(UTC),
                reverted_to=version,
            )
            sql.insert_version(self._db, _version_values(reverted, data_version=data_version))
            sql.make_current(self._db, dataset, reverted.version)
        return reverted

    def withdraw(self, dataset: str, *, author: str) -> Version:
        """Take a dataset out of use as a new version with no rows (same columns); history is
        kept, and reverting brings any earlier version back."""
        _check_author(dataset, author)
        with self._session(), self._db.transaction():
            if sql.lock_dataset(self._db, dataset, None) is None:
                raise self._unknown_dataset(dataset)
            current, data_version = self._find(dataset, None)
            if current.rows == 0:
                raise InputError(
                    f"store {self.location}: {dataset} version {current.version} has no rows "
                    "already: nothing to withdraw"
                )
            table = _decode(sql.read_payload(self._db, dataset, data_version), dataset)
            empty = table.iloc[:0]
            withdrawn = replace(
                current,
                version=sql.next_version(self._db, dataset),
                action=WITHDRAW,
                author=author.strip(),
                published_at=datetime.now(UTC),
                file_name="",
                checksum="",
                rows=0,
                counts={},
                reverted_to=None,
            )
            sql.insert_version(self._db, _version_values(withdrawn, withdrawn.version))
            sql.write_payload(self._db, dataset, withdrawn.version, _encode(dataset, empty))
            sql.make_current(self._db, dataset, withdrawn.version)
        return withdrawn

    def sources(self) -> pd.DataFrame:
        """One row per provider source, the first published first (its values win where
        two sources describe one site): source, dataset, current version, rows, when."""
        with self._session():
            rows = sql.select_sources(self._db)
        return _typed_frame([(*row[:4], _utc(row[4])) for row in rows], _SOURCE_COLUMNS)

    def source_dataset(self, source: str) -> str | None:
        """The dataset holding provider source `source`, or None if it was never published."""
        with self._session():
            return sql.source_dataset(self._db, source)

    def load(self, dataset: str, version: int | None = None) -> pd.DataFrame:
        """The table of `dataset` as published: the current version, or `version` when given."""
        with self._session():
            _, data_version = self._find(dataset, version)
            payload = sql.read_payload(self._db, dataset, data_version)
        return _decode(payload, f"store {self.location}: {dataset} version {data_version}")

    def version_info(self, dataset: str, version: int | None = None) -> Version:
        """The audit record of `dataset`'s current version, or of `version` when given."""
        with self._session():
            return self._find(dataset, version)[0]

    def current_version(self, dataset: str) -> int | None:
        """The number of `dataset`'s current version, or None if nothing was published under that name."""
        with self._session():
            return sql.current_version(self._db, dataset)

    def versions(self, dataset: str | None = None) -> pd.DataFrame:
        """The audit log, oldest first: every publish and revert of `dataset`, or of all datasets."""
        with self._session():
            if dataset is not None and sql.current_version(self._db, dataset) is None:
                raise self._unknown_dataset(dataset)
            rows = sql.select_versions(self._db, dataset)
        return _typed_frame([_audit_record(row) for row in rows], _VERSION_COLUMNS)

    def datasets(self) -> pd.DataFrame:
        """One row per dataset: its kind, current version, how many versions, rows and when published."""
        with self._session():
            rows = sql.select_datasets(self._db)
        return _typed_frame(
            [(*row[:5], _utc(row[5]), row[6] or "") for row in rows], _DATASET_COLUMNS
        )

    def derived(self, key: str) -> dict[str, bytes]:
        """The parts of a result derived from published data (an analysis) kept under `key`;
        empty when none is kept. Every process on this store sees the same results."""
        with self._session():
            return sql.read_derived(self._db, key)

    def keep_derived(self, key: str, fingerprint: str, parts: dict[str, bytes]) -> None:
        """Keep a derived result's parts under `key`, all or nothing, and drop the results
        kept for any other `fingerprint` (data that is no longer current)."""
        with self._session(), self._db.transaction():
            sql.write_derived(self._db, key, fingerprint, parts, datetime.now(UTC))

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[None]:
        """The connection, to one caller at a time; a fault of the database (damaged, read-only,
        unreachable) becomes one InputError saying what to do, never the driver's traceback."""
        with self._lock:
            try:
                yield
            except InputError:
                raise
            except Exception as error:
                fault = self._db.fault(error)
                if fault is None:
                    raise
                raise fault from None

    def _find(self, dataset: str, version: int | None) -> tuple[Version, int]:
        """The audit record of a version and the version whose rows it holds, or a clear error."""
        version = None if version is None else version_number(version)
        row = sql.select_version(self._db, dataset, version)
        if row is not None:
            return _to_version(row), row["data_version"]
        if sql.current_version(self._db, dataset) is None:
            raise self._unknown_dataset(dataset)
        numbers = ", ".join(map(str, sql.version_numbers(self._db, dataset)))
        raise InputError(
            f"store {self.location}: dataset {dataset} has no version {version}; "
            f"it has versions {numbers}"
        )

    def _claim_source(self, dataset: str, source: str) -> None:
        """Name the locked dataset as provider source `source`, or refuse a name taken."""
        holder = sql.source_dataset(self._db, source)
        named = sql.dataset_source(self._db, dataset)
        if holder not in (None, dataset):
            raise InputError(
                f"provider source {source}: the store keeps it as {holder}, not {dataset}"
            )
        if named not in (None, source):
            raise InputError(f"dataset {dataset}: it holds provider source {named}, not {source}")
        sql.set_source(self._db, dataset, source)

    def _unknown_dataset(self, dataset: str) -> InputError:
        names = sql.dataset_names(self._db)
        known = f"it has {', '.join(names)}" if names else "it has no datasets yet"
        return InputError(f"store {self.location}: no dataset named {dataset!r}; {known}")


def version_number(value: object) -> int:
    """A version number as a person or a caller gave it (an int or its digits), checked:
    a whole number from 1 to MAX_VERSION, or an InputError saying so."""
    number = None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip().lstrip("0") or "0"
        number = int(digits) if len(digits) <= len(str(MAX_VERSION)) else MAX_VERSION + 1
    if number is not None and 1 <= number <= MAX_VERSION:
        return number
    raise InputError(f"version {_shown(value)}: expected a whole number from 1 to {MAX_VERSION:,}")


def _shown(value: object) -> str:
    """A given value for a message: at most 40 characters (an int may have thousands of digits)."""
    if isinstance(value, numbers.Integral) and abs(int(value)) >= 10**40:
        return "of more than 40 digits"
    text = str(value).strip() if isinstance(value, str | numbers.Integral) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


# Validation: every problem named in one line before anything is written.


def _check_publish(
    dataset: str, kind: str, frame: Any, author: str, counts: dict[str, int]
) -> None:
    if kind not in KINDS:
        raise InputError(f"dataset {dataset}: kind {kind!r} is not one of {', '.join(KINDS)}")
    check_dataset_name(dataset, kind)
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"dataset {dataset}: expected a DataFrame or GeoDataFrame, got {type(frame).__name__}"
        )
    _check_author(dataset, author)
    _check_counts(dataset, counts)
    _check_columns(dataset, frame)
    if isinstance(frame, geopandas.GeoDataFrame):
        _check_geometry(dataset, frame)


def check_source_name(source: object) -> str:
    """A provider source's name as given, checked: a slug such as 'cqc-directory'."""
    name = source if isinstance(source, str) else ""
    if SOURCE_NAME.fullmatch(name):
        return name
    raise InputError(
        f"provider source name {_shown(source)!r}: expected lower-case letters, digits and "
        "'-', starting with a letter or digit, at most 40 characters (e.g. 'cqc-directory')"
    )


def _check_source(dataset: str, kind: str, source: str) -> None:
    if kind != "sites":
        raise InputError(f"dataset {dataset}: only a provider list is a source, not {_a(kind)}")
    check_source_name(source)


def check_dataset_name(dataset: object, kind: str) -> None:
    """Refuse a name that is not one `kind` may take (DATASET_NAMES), saying what would be."""
    name = dataset if isinstance(dataset, str) else ""
    if DATASET_NAMES[kind].fullmatch(name):
        return
    owner = next(
        (other for other, pattern in DATASET_NAMES.items() if pattern.fullmatch(name)), None
    )
    which = f"{_a(owner)} name, not {_a(kind)} one" if owner else f"not {_a(kind)} name"
    raise InputError(
        f"dataset name {_shown(dataset)!r} is {which}: expected {_NAME_EXAMPLES[kind]}, "
        "in lower-case letters, digits, '.', '_' or '-'",
        control=errors.DATASET,
    )


def _a(word: str) -> str:
    """'a sites', 'an engagement'."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _check_author(dataset: str, author: str) -> None:
    if not isinstance(author, str) or not author.strip():
        raise InputError(
            f"dataset {dataset}: the author is missing; say who is publishing",
            control=errors.AUTHOR,
        )


def _check_counts(dataset: str, counts: dict[str, int]) -> None:
    unknown = sorted(set(counts) - set(COUNT_KEYS))
    if unknown:
        raise InputError(
            f"dataset {dataset}: counts has unknown keys {', '.join(map(str, unknown))}; "
            f"expected {', '.join(COUNT_KEYS)}"
        )
    bad = [key for key, value in counts.items() if type(value) is not int or value < 0]
    if bad:
        raise InputError(f"dataset {dataset}: counts {', '.join(bad)} must be whole numbers ≥ 0")


def _check_columns(dataset: str, frame: pd.DataFrame) -> None:
    not_text = [repr(name) for name in frame.columns if not isinstance(name, str)]
    if not_text:
        raise InputError(f"dataset {dataset}: column names must be text, not {', '.join(not_text)}")
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise InputError(
            f"dataset {dataset}: {len(duplicated)} duplicate column names: {', '.join(duplicated)}"
        )


def _check_geometry(dataset: str, frame: geopandas.GeoDataFrame) -> None:
    if frame.active_geometry_name is None:
        raise InputError(f"dataset {dataset}: the GeoDataFrame has no active geometry column")
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if epsg != STORE_EPSG:
        found = f"EPSG:{epsg}" if epsg else (frame.crs.to_string() if frame.crs else "not set")
        raise InputError(
            f"dataset {dataset}: geometry CRS is {found}; the store keeps EPSG:{STORE_EPSG} "
            "(reproject with .to_crs(4326) first)"
        )


def _to_json(dataset: str, what: str, value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InputError(f"dataset {dataset}: {what} cannot be stored as JSON: {error}") from error


# Encoding a table as one Parquet blob, and back.


def _encode(dataset: str, frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    try:
        # Page checksums (CRC-32) let `_decode` tell damaged bytes from data.
        frame.to_parquet(buffer, compression="zstd", write_page_checksum=True)
    except (pa.ArrowException, TypeError, ValueError) as error:
        reason = "; ".join(str(part) for part in error.args) or repr(error)
        raise InputError(f"dataset {dataset}: the table cannot be stored: {reason}") from error
    return buffer.getvalue()


def _decode(payload: bytes, what: str) -> pd.DataFrame:
    """The table a version stored; an InputError naming `what` if its bytes are damaged."""
    try:
        if sql.is_geoparquet(payload):
            return geopandas.read_parquet(io.BytesIO(payload), page_checksum_verification=True)
        return pd.read_parquet(io.BytesIO(payload), page_checksum_verification=True)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise InputError(
            f"{what}: its stored rows cannot be read ({sql.first_line(error)}); the store is "
            "damaged: revert to another version, or restore the store from a backup"
        ) from None


# Between Version records and database rows.


def _version_values(version: Version, data_version: int) -> dict[str, Any]:
    """The `versions` row for a record; `data_version` is the version whose rows it holds."""
    return {
        "dataset": version.dataset,
        "version": version.version,
        "action": version.action,
        "author": version.author,
        "published_at": version.published_at,
        "file_name": version.file_name,
        "checksum": version.checksum,
        "row_count": version.rows,
        "counts": json.dumps(version.counts, sort_keys=True),
        "meta": json.dumps(version.meta, sort_keys=True),
        "reverted_to": version.reverted_to,
        "data_version": data_version,
    }


def _to_version(row: dict[str, Any]) -> Version:
    return Version(
        dataset=row["dataset"],
        version=row["version"],
        kind=row["kind"],
        action=row["action"],
        author=row["author"],
        published_at=_utc(row["published_at"]),
        file_name=row["file_name"],
        checksum=row["checksum"],
        rows=row["row_count"],
        counts=json.loads(row["counts"]),
        meta=json.loads(row["meta"]),
        reverted_to=row["reverted_to"],
    )


def _audit_record(row: dict[str, Any]) -> tuple:
    """One line of `Store.versions`, in the order of `_VERSION_COLUMNS`."""
    version = _to_version(row)
    return (
        version.dataset,
        version.version,
        version.kind,
        version.author,
        version.published_at,
        version.file_name,
        version.checksum,
        version.rows,
        *(version.counts.get(key) for key in COUNT_KEYS),
        version.action,
        version.reverted_to,
        row["version"] == row["current_version"],
    )


def _utc(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite keeps ISO text, PostgreSQL timestamptz)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC)


def _typed_frame(records: list[tuple], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    return frame.astype(columns)
