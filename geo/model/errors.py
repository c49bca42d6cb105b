"""One exception type for bad input, so every caller can show a single clear line."""

from __future__ import annotations

from geo.model.redaction import redact


class InputError(ValueError):
    """Bad user input: the message names the file, the column or row and what was expected.

    The CLI prints `str(error)` and exits non-zero; pages show it with `st.error`.
    Nothing that raises this should have changed stored data. The message never holds a
    password: any URL or connection string in it is passed through `redact`.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(redact(message), *args)
