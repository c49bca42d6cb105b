"""Credentials taken out of any text a person or a log may see: one function, used everywhere.

A DATABASE_URL (or any other URL or connection string) can carry a password, and the
error a driver raises about a malformed one often quotes it whole. Every message that
may hold one passes through `redact`: `InputError` does so for its own text, and the
pages and the command line for anything else they show or log.
"""

from __future__ import annotations

import re

REDACTED = "***"

# scheme://user:password@host: the password runs to the last '@' on its line (quotes end
# it), so a raw '@' or space in it (a malformed URL) is hidden too.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:@/\"'<>]*):[^\n\"'<>]*@")
# password=secret in a key=value connection string or a URL's query (password, sslpassword,
# passwd, pwd), quoted or not.
_KEY_PASSWORD = re.compile(
    r"(?i)\b(\w*(?:password|passwd|pwd))(\s*=\s*)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,)]+)"
)


def redact(text: object) -> str:
    """`text` with every password in a URL or connection string replaced by ***."""
    hidden = _URL_PASSWORD.sub(lambda match: f"{match.group(1)}:{REDACTED}@", str(text))
    return _KEY_PASSWORD.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", hidden)
