"""An analyst's regular expressions, run by RE2 so that no pattern can hang the app.

Python's `re` backtracks: `(a+)+$` against a cell of forty a's and a b takes longer
than anyone waits. RE2 (Google's engine, the `google-re2` package) takes time linear in
the text whatever the pattern, and refuses what would need backtracking (backreferences
such as `\\1`, lookarounds such as `(?=…)`); such a pattern is refused with a message
saying what to use instead.
"""

from __future__ import annotations

from functools import cache

import re2

_SYNTAX = (
    "sector rules use RE2 syntax, which has no backreferences (\\1) or lookarounds "
    "((?=…), (?!…), (?<=…), (?<!…)); write the pattern without them"
)


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message says why and what to do."""


def search_pattern(pattern: str):
    """`pattern` compiled to search case-insensitively, or PatternError saying why not."""
    return _compiled(pattern)


def pattern_problem(pattern: str | None) -> str | None:
    """What is wrong with a pattern, in words, or None when RE2 can run it."""
    if not pattern:
        return None
    try:
        _compiled(pattern)
    except PatternError as error:
        return str(error)
    return None


@cache
def _compiled(pattern: str):
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the error is raised to the caller, not printed
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else "not valid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"{pattern!r} is not a regular expression the app can run ({reason}); {_SYNTAX}"
        ) from None
