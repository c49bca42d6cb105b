"""Passwords never shown: geo/model/redaction.py and every message built on it."""

from __future__ import annotations

import pytest

from geo.model.errors import InputError
from geo.model.redaction import redact
from geo.store.versions import open_store

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"postgresql://ics:{SECRET}@db:5432/ics", "postgresql://ics:***@db:5432/ics"),
        (f"postgres://ics:{SECRET}@[::1:5432/ics", "postgres://ics:***@[::1:5432/ics"),
        (f"postgresql://ics:p@{SECRET}@db/ics", "postgresql://ics:***@db/ics"),
        (f"postgresql://ics:pa ss{SECRET}@db/ics", "postgresql://ics:***@db/ics"),
        (f'in URI: "postgresql://ics:{SECRET}@db/ics"', 'in URI: "postgresql://ics:***@db/ics"'),
        (f"postgresql://db/ics?sslmode=require&password={SECRET}", "postgresql://db/ics?sslmode=require&password=***"),
        (f"host=db password='{SECRET} x' user=ics", "host=db password=*** user=ics"),
        (f"host=db sslpassword={SECRET}", "host=db sslpassword=***"),
        (f"PASSWORD = {SECRET}", "PASSWORD = ***"),
    ],
)  # fmt: skip
def test_a_password_in_a_url_or_connection_string_is_replaced(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://ics@db:5432/ics",
        "store /srv/ics/data/store.sqlite: file is not a database",
        "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services?f=json",
        "write to analyst@example.org",
    ],
)
def test_text_without_a_password_is_left_alone(text):
    assert redact(text) == text


def test_an_input_error_never_holds_a_password():
    error = InputError(f"cannot parse postgresql://ics:{SECRET}@db/ics")

    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert str(error) == "cannot parse postgresql://ics:***@db/ics"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ics:{SECRET}@[::1:5432/ics",  # unclosed IPv6 bracket: psycopg quotes the URI
        f"postgresql://ics:{SECRET}@bad host:5432/ics",
        f"postgresql://ics:{SECRET}@ho%zzst/ics",
        f"postgresql://ics:{SECRET}@127.0.0.1:99999/ics",
        f"postgresql://ics:{SECRET}@127.0.0.1:1/ics?connect_timeout=2",
        f"postgresql://ics@127.0.0.1:1/ics?connect_timeout=2&password={SECRET}",
        f"postgresql://ics:{SECRET}@127.0.0.1:1/ics?sslmode=nonsense",
    ],
)
def test_a_malformed_or_unreachable_database_url_is_named_without_its_password(url):
    with pytest.raises(InputError, match="cannot connect to PostgreSQL") as raised:
        open_store(url)

    assert SECRET not in str(raised.value)
    assert (
        raised.value.__cause__ is None
    )  # the driver's own message, which quotes the URL, is not chained
    assert raised.value.__suppress_context__
