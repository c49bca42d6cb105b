"""Versioned datasets everyone sees: SQLite under `data/` by default, PostgreSQL+PostGIS by `DATABASE_URL`.

`versions` is the store (publish, pin, revert, the audit log; all or nothing),
`backends` the two SQL dialects behind it.
"""
