"""The dataset store's SQL plumbing: SQLite and PostgreSQL connections, write locks, schema migrations.

`geo.store.versions` says what is stored; this module says how each database is asked for it,
so that the store's logic is written once. SQL is written with `?` placeholders and
identifiers of our own; values always travel as parameters.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pyarrow.parquet as pq
import shapely

from geo.model.errors import InputError
from geo.model.redaction import redact

# A writer waits this long for another writer to finish before giving up.
BUSY_TIMEOUT_S = 60


class Backend:
    """One open database connection, with the few operations where SQLite and PostgreSQL differ."""

    name = ""
    blob_type = "BLOB"
    time_type = "TEXT"
    for_update = ""

    def __init__(self, connection: Any, location: str) -> None:
        self.connection = connection
        self.location = location

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement and return its rows (none for statements that return nothing)."""
        cursor = self.connection.execute(self._placeholders(sql), tuple(params))
        return cursor.fetchall() if cursor.description else []

    def _placeholders(self, sql: str) -> str:
        return sql

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction: everything inside commits together or not at all."""
        raise NotImplementedError

    def lock_migrations(self) -> None:
        """Keep other processes from migrating the same store at the same time."""

    def write_geometry(self, dataset: str, version: int, geometry: geopandas.GeoSeries) -> None:
        """Keep a queryable copy of a version's geometry, where the database can index it."""

    def encode_time(self, value: Any) -> Any:
        """A UTC datetime as this database stores it."""
        return value

    def fault(self, error: Exception) -> InputError | None:
        """What a database error means for the person running the app, in one line; None for
        an error that is not a fault of the store or its deployment (a bug: let it show)."""
        return None

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


class SQLiteBackend(Backend):
    """The embedded store: one file, WAL journal, writers queued by BEGIN IMMEDIATE."""

    name = "sqlite"

    @classmethod
    def open(cls, path: Path) -> SQLiteBackend:
        """Open (creating the folder and file if need be) the SQLite store at `path`."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(
                f"store {path}: cannot create its folder ({error.strerror}); "
                + _WRITABLE.format(folder=path.parent)
            ) from None
        backend = cls(None, str(path))
        try:
            backend.connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            backend.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
            backend.connection.execute("PRAGMA journal_mode = WAL")
            backend.connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            if backend.connection is not None:
                backend.connection.close()
            raise backend.fault(error) or error from None
        return backend

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once, so two writers queue instead of
        # both reading the same "latest version" and colliding later.
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def encode_time(self, value: Any) -> Any:
        """ISO 8601 text: SQLite has no time type."""
        return value.isoformat()

    def fault(self, error: Exception) -> InputError | None:
        """A damaged file, a read-only folder, a full disk or a writer that never let go."""
        if not isinstance(error, sqlite3.Error):
            return None
        code = getattr(error, "sqlite_errorname", "") or ""
        for prefix, advice in _SQLITE_FAULTS:
            if code.startswith(prefix):
                folder = Path(self.location).parent
                return InputError(
                    f"store {self.location}: {error} ({code}); " + advice.format(folder=folder)
                )
        return None


# What each SQLite error family means, and what to do. Nothing was changed in any case:
# every write is one transaction.
_WRITABLE = (
    "nothing was changed; the folder {folder} must be writable by the app's user: make it "
    "so, or set ICS_DATA_DIR (or DATABASE_URL) to a writable place"
)
_RESTORE = "restore it from a backup, or move it aside and the app starts an empty one"
_SQLITE_FAULTS: tuple[tuple[str, str], ...] = (
    ("SQLITE_NOTADB", "this file is not an SQLite store and nothing was changed: " + _RESTORE),
    ("SQLITE_CORRUPT", "the store is damaged and nothing was changed: " + _RESTORE),
    ("SQLITE_READONLY", _WRITABLE),
    ("SQLITE_CANTOPEN", _WRITABLE),
    ("SQLITE_PERM", _WRITABLE),
    ("SQLITE_FULL", "the disk is full: nothing was changed; free some space and try again"),
    ("SQLITE_IOERR", "the disk could not be read or written: nothing was changed"),
    (
        "SQLITE_BUSY",
        f"another writer held the store for over {BUSY_TIMEOUT_S} s: nothing was changed; try again",
    ),
    ("SQLITE_LOCKED", "another writer holds the store: nothing was changed; try again"),
)


class PostgresBackend(Backend):
    """The shared multi-user store: PostgreSQL with PostGIS, writers queued by row locks.

    The server may restart under a running app: a statement that finds the connection
    gone reconnects once and runs again, outside a transaction; a transaction cut short
    is undone by the server and reported, and the next statement reconnects.
    """

    name = "postgres"
    blob_type = "BYTEA"
    time_type = "TIMESTAMPTZ"
    for_update = " FOR UPDATE"

    def __init__(self, connection: Any, location: str, url: str) -> None:
        super().__init__(connection, location)
        self._url = url  # never shown: `location` is the URL without its password
        self._in_transaction = False

    @classmethod
    def open(cls, url: str) -> PostgresBackend:
        """Connect to the PostgreSQL store at `url`, or say in one line why not."""
        location = _redacted(url)
        return cls(_connect_postgres(url, location), location, url)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement; outside a transaction, reconnect once if the server dropped us."""
        import psycopg

        try:
            return super().execute(sql, params)
        except psycopg.OperationalError:
            if self._in_transaction or not self.connection.closed:
                raise
        self.reconnect()
        return super().execute(sql, params)

    def reconnect(self) -> None:
        """A fresh connection in place of one the server closed (a restart, a killed backend)."""
        self.connection.close()
        self.connection = _connect_postgres(self._url, self.location)

    def _placeholders(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("SELECT 1")  # reconnects first if the server dropped an idle connection
        with self.connection.transaction():
            self._in_transaction = True
            try:
                yield
            finally:
                self._in_transaction = False

    def lock_migrations(self) -> None:
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtext('geo.store.versions:' || current_schema()))"
        )

    def write_geometry(self, dataset: str, version: int, geometry: geopandas.GeoSeries) -> None:
        ewkb = shapely.to_wkb(
            shapely.set_srid(np.asarray(geometry.array), 4326), hex=True, include_srid=True
        )
        copy_sql = "COPY version_geometry (dataset, version, row_number, geom) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row_number, value in enumerate(ewkb):
                copy.write_row((dataset, version, row_number, value))

    def fault(self, error: Exception) -> InputError | None:
        """A connection lost for good or cut mid-write, or a server that refuses the change."""
        import psycopg

        if not isinstance(error, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege):
            return None
        reason = first_line(error)
        if self.connection.closed:
            return InputError(
                f"store {self.location}: the connection to PostgreSQL was lost ({reason}); "
                "a change it cut short is undone by the server, so nothing half-written is "
                "kept: look at the published versions and try again"
            )
        return InputError(f"store {self.location}: PostgreSQL refused: {reason}")


def _connect_postgres(url: str, location: str) -> Any:
    """An autocommit connection to `url`, or an InputError naming `location` (no password)."""
    import psycopg  # imported here so the SQLite store works without it

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as error:
        raise InputError(
            f"store {location}: cannot connect to PostgreSQL: {first_line(error)}"
        ) from None


def first_line(error: Exception) -> str:
    """The first line of an error's message (drivers add hints and context below it)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _redacted(url: str) -> str:
    """The URL without its password (nor its query), for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # a malformed URL: show it as given, less any password
        return redact(url)
    return (
        f"postgresql://{parts.get('host', '')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
    )


# Schema migrations: MIGRATIONS[n] brings a store from schema version n to n + 1.
# Never edit one that has shipped; append a new one.


def _create_tables(db: Backend) -> None:
    """Schema 1: datasets, their published versions, and each version's rows."""
    db.execute(
        "CREATE TABLE datasets (name TEXT PRIMARY KEY, kind TEXT NOT NULL, current_version INTEGER)"
    )
    db.execute(
        "CREATE TABLE versions ("
        " dataset TEXT NOT NULL REFERENCES datasets (name),"
        " version INTEGER NOT NULL,"
        " author TEXT NOT NULL,"
        f" published_at {db.time_type} NOT NULL,"
        " file_name TEXT NOT NULL,"
        " checksum TEXT NOT NULL,"
        " row_count INTEGER NOT NULL,"
        " counts TEXT NOT NULL,"
        " PRIMARY KEY (dataset, version))"
    )
    db.execute(
        "CREATE TABLE version_data ("
        " dataset TEXT NOT NULL,"
        " version INTEGER NOT NULL,"
        f" payload {db.blob_type} NOT NULL,"
        " PRIMARY KEY (dataset, version),"
        " FOREIGN KEY (dataset, version) REFERENCES versions (dataset, version))"
    )


def _add_reverts_and_geometry(db: Backend) -> None:
    """Schema 2: reverts and metadata in the audit log; on PostgreSQL, geometry in PostGIS."""
    db.execute("ALTER TABLE versions ADD COLUMN action TEXT NOT NULL DEFAULT 'publish'")
    db.execute("ALTER TABLE versions ADD COLUMN reverted_to INTEGER")
    db.execute("ALTER TABLE versions ADD COLUMN data_version INTEGER")
    db.execute("ALTER TABLE versions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'")
    db.execute("UPDATE versions SET data_version = version")
    if isinstance(db, PostgresBackend):
        _require_postgis(db)
        _create_geometry_table(db)
        _backfill_geometry(db)


def _require_postgis(db: Backend) -> None:
    if db.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"):
        return
    try:
        db.execute("CREATE EXTENSION postgis")
    except Exception as error:
        raise InputError(
            f"store {db.location}: the PostGIS extension is missing and could not be created "
            f"({first_line(error)}); "
            "install it (Debian: postgresql-15-postgis-3) and run CREATE EXTENSION postgis"
        ) from error


def _create_geometry_table(db: Backend) -> None:
    db.execute(
        "CREATE TABLE version_geometry ("
        " dataset TEXT NOT NULL,"
        " version INTEGER NOT NULL,"
        " row_number INTEGER NOT NULL,"
        " geom geometry(Geometry, 4326),"
        " PRIMARY KEY (dataset, version, row_number),"
        " FOREIGN KEY (dataset, version) REFERENCES version_data (dataset, version))"
    )
    db.execute("CREATE INDEX version_geometry_geom ON version_geometry USING GIST (geom)")
    db.execute(
        "CREATE VIEW current_geometry AS"
        " SELECT g.dataset, v.version, g.row_number, g.geom FROM datasets d"
        " JOIN versions v ON v.dataset = d.name AND v.version = d.current_version"
        " JOIN version_geometry g ON g.dataset = v.dataset AND g.version = v.data_version"
    )


def _backfill_geometry(db: Backend) -> None:
    """Copy the geometry of versions stored before schema 2 into PostGIS."""
    for dataset, version in db.execute("SELECT dataset, version FROM version_data"):
        payload = read_payload(db, dataset, version)
        if is_geoparquet(payload):
            db.write_geometry(
                dataset, version, geopandas.read_parquet(io.BytesIO(payload)).geometry
            )


def is_geoparquet(payload: bytes) -> bool:
    """Whether a stored blob is GeoParquet (a GeoDataFrame) rather than plain Parquet."""
    metadata = pq.read_schema(io.BytesIO(payload)).metadata or {}
    return b"geo" in metadata


def _add_sources(db: Backend) -> None:
    """Schema 3: a provider list may be a named source; the one list a store held before
    becomes the source 'provider-list' (versions.DEFAULT_SOURCE when this shipped)."""
    db.execute("ALTER TABLE datasets ADD COLUMN source TEXT")
    db.execute("UPDATE datasets SET source = 'provider-list' WHERE name = 'sites'")


def _create_derived_results(db: Backend) -> None:
    """Schema 4: results derived from published versions (analyses), kept for every process.

    A result is a few named parts (Parquet or JSON bytes) under a key that names what it
    was computed from; `fingerprint` is the state of the data it belongs to, so results
    of data no longer current can be dropped.
    """
    db.execute(
        "CREATE TABLE derived_results ("
        " key TEXT NOT NULL,"
        " part TEXT NOT NULL,"
        " fingerprint TEXT NOT NULL,"
        f" created_at {db.time_type} NOT NULL,"
        f" payload {db.blob_type} NOT NULL,"
        " PRIMARY KEY (key, part))"
    )


MIGRATIONS: tuple[Callable[[Backend], None], ...] = (
    _create_tables,
    _add_reverts_and_geometry,
    _add_sources,
    _create_derived_results,
)
LATEST_SCHEMA = len(MIGRATIONS)


def migrate(db: Backend) -> int:
    """Bring the store's schema up to date in one transaction; return its schema version."""
    with db.transaction():
        db.lock_migrations()
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = db.execute("SELECT MAX(version) FROM schema_version")[0][0] or 0
        if found > LATEST_SCHEMA:
            raise InputError(
                f"store {db.location}: schema version {found} is newer than this app understands "
                f"({LATEST_SCHEMA}); upgrade the app"
            )
        for number in range(found, LATEST_SCHEMA):
            MIGRATIONS[number](db)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (number + 1,))
    return max(found, LATEST_SCHEMA)


def schema_version(db: Backend) -> int:
    """The schema version the store is at now."""
    return db.execute("SELECT MAX(version) FROM schema_version")[0][0] or 0


# The statements geo.store.versions runs. Writers call them inside one `Backend.transaction()`.

# The columns of a version as `select_versions` returns them, in this order.
VERSION_FIELDS: tuple[str, ...] = (
    "dataset",
    "version",
    "kind",
    "action",
    "author",
    "published_at",
    "file_name",
    "checksum",
    "row_count",
    "counts",
    "meta",
    "reverted_to",
    "data_version",
    "current_version",
)
_SELECT_VERSIONS = (
    "SELECT v.dataset, v.version, d.kind, v.action, v.author, v.published_at, v.file_name,"
    " v.checksum, v.row_count, v.counts, v.meta, v.reverted_to, v.data_version, d.current_version"
    " FROM versions v JOIN datasets d ON d.name = v.dataset"
)


def select_versions(db: Backend, dataset: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, oldest first, of every dataset or of one."""
    if dataset is None:
        rows = db.execute(f"{_SELECT_VERSIONS} ORDER BY v.dataset, v.version")
    else:
        rows = db.execute(f"{_SELECT_VERSIONS} WHERE v.dataset = ? ORDER BY v.version", (dataset,))
    return [dict(zip(VERSION_FIELDS, row, strict=True)) for row in rows]


def select_version(db: Backend, dataset: str, version: int | None) -> dict[str, Any] | None:
    """One audit row: `version` of `dataset`, or its current version when `version` is None."""
    if version is None:
        where, params = "v.version = d.current_version", (dataset,)
    else:
        where, params = "v.version = ?", (dataset, version)
    rows = db.execute(f"{_SELECT_VERSIONS} WHERE v.dataset = ? AND {where}", params)
    return dict(zip(VERSION_FIELDS, rows[0], strict=True)) if rows else None


def version_numbers(db: Backend, dataset: str) -> list[int]:
    """Every version number of `dataset`, in order."""
    rows = db.execute("SELECT version FROM versions WHERE dataset = ? ORDER BY version", (dataset,))
    return [row[0] for row in rows]


def dataset_names(db: Backend) -> list[str]:
    """Every dataset's name, in order."""
    return [row[0] for row in db.execute("SELECT name FROM datasets ORDER BY name")]


def current_version(db: Backend, dataset: str) -> int | None:
    """The dataset's current version number, or None for a dataset never published."""
    rows = db.execute("SELECT current_version FROM datasets WHERE name = ?", (dataset,))
    return rows[0][0] if rows else None


def select_datasets(db: Backend) -> list[tuple]:
    """Per dataset: name, kind, current version, number of versions, rows, time published,
    and the provider source it is (None for any other dataset)."""
    return db.execute(
        "SELECT d.name, d.kind, d.current_version,"
        " (SELECT COUNT(*) FROM versions c WHERE c.dataset = d.name),"
        " v.row_count, v.published_at, d.source FROM datasets d"
        " JOIN versions v ON v.dataset = d.name AND v.version = d.current_version"
        " ORDER BY d.name"
    )


def select_sources(db: Backend) -> list[tuple]:
    """Per provider source, the first published first: source, dataset, current version,
    rows, time published."""
    return db.execute(
        "SELECT d.source, d.name, d.current_version, v.row_count, v.published_at FROM datasets d"
        " JOIN versions v ON v.dataset = d.name AND v.version = d.current_version"
        " WHERE d.source IS NOT NULL"
        " ORDER BY (SELECT MIN(f.published_at) FROM versions f WHERE f.dataset = d.name), d.name"
    )


def dataset_source(db: Backend, dataset: str) -> str | None:
    """The provider source a dataset is, or None (not a source, or no such dataset)."""
    rows = db.execute("SELECT source FROM datasets WHERE name = ?", (dataset,))
    return rows[0][0] if rows else None


def source_dataset(db: Backend, source: str) -> str | None:
    """The dataset holding a provider source, or None for a source never published."""
    rows = db.execute("SELECT name FROM datasets WHERE source = ?", (source,))
    return rows[0][0] if rows else None


def set_source(db: Backend, dataset: str, source: str) -> None:
    """Name the (locked, just created) dataset as a provider source."""
    db.execute("UPDATE datasets SET source = ? WHERE name = ?", (source, dataset))


def read_payload(db: Backend, dataset: str, version: int) -> bytes:
    """The stored blob holding a version's rows."""
    rows = db.execute(
        "SELECT payload FROM version_data WHERE dataset = ? AND version = ?", (dataset, version)
    )
    return bytes(rows[0][0])


def lock_dataset(db: Backend, dataset: str, kind: str | None) -> tuple[str, int | None] | None:
    """Lock the dataset's row until commit, creating it when `kind` is given: (kind, current version)."""
    if kind is not None:
        db.execute(
            "INSERT INTO datasets (name, kind) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (dataset, kind),
        )
    rows = db.execute(
        f"SELECT kind, current_version FROM datasets WHERE name = ?{db.for_update}", (dataset,)
    )
    return (rows[0][0], rows[0][1]) if rows else None


def next_version(db: Backend, dataset: str) -> int:
    """The number the dataset's next version gets (call with the dataset locked)."""
    rows = db.execute(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE dataset = ?", (dataset,)
    )
    return rows[0][0]


def insert_version(db: Backend, values: dict[str, Any]) -> None:
    """Add one audit row; `values` holds every column of `versions` but the dataset's kind."""
    values = {**values, "published_at": db.encode_time(values["published_at"])}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO versions ({columns}) VALUES ({marks})", tuple(values.values()))


def write_payload(db: Backend, dataset: str, version: int, payload: bytes) -> None:
    """Store the blob holding a version's rows."""
    db.execute(
        "INSERT INTO version_data (dataset, version, payload) VALUES (?, ?, ?)",
        (dataset, version, payload),
    )


def write_geometry(db: Backend, dataset: str, version: int, geometry: geopandas.GeoSeries) -> None:
    """Keep a queryable copy of a version's geometry (PostGIS only; a no-op on SQLite)."""
    db.write_geometry(dataset, version, geometry)


def make_current(db: Backend, dataset: str, version: int) -> None:
    """Point the dataset at `version`: from commit on, everyone loads it."""
    db.execute("UPDATE datasets SET current_version = ? WHERE name = ?", (version, dataset))


def read_derived(db: Backend, key: str) -> dict[str, bytes]:
    """The parts of the derived result stored under `key` (empty when there is none)."""
    rows = db.execute("SELECT part, payload FROM derived_results WHERE key = ?", (key,))
    return {part: bytes(payload) for part, payload in rows}


def write_derived(
    db: Backend, key: str, fingerprint: str, parts: dict[str, bytes], created_at: Any
) -> None:
    """Keep a derived result's parts under `key` and drop results of data no longer current
    (another `fingerprint`); a result another process already wrote is left as it is."""
    db.execute("DELETE FROM derived_results WHERE fingerprint <> ?", (fingerprint,))
    if db.execute("SELECT 1 FROM derived_results WHERE key = ? LIMIT 1", (key,)):
        return
    for part, payload in parts.items():
        db.execute(
            "INSERT INTO derived_results (key, part, fingerprint, created_at, payload)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, part) DO NOTHING",
            (key, part, fingerprint, db.encode_time(created_at), payload),
        )
