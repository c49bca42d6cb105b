"""One exception type for bad input, so every caller can show a single clear line."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the file, the column or row and what was expected.

    The CLI prints `str(error)` and exits non-zero; pages show it with `st.error`.
    Nothing that raises this should have changed stored data.
    """
