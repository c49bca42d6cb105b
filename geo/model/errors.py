"""One exception type for bad input, so every caller can show a single clear line."""

from __future__ import annotations

from geo.model.redaction import redact

# What a person changes to fix an InputError (its `control`), when geo knows: each edge
# names it its own way (the upload page points at a box on the page, the CLI at a flag).
FILE = "file"
COLUMNS = "columns"
POSTCODE_FILE = "postcode_file"
VINTAGE = "vintage"
DATASET = "dataset"
AUTHOR = "author"
CONTROLS: tuple[str, ...] = (FILE, COLUMNS, POSTCODE_FILE, VINTAGE, DATASET, AUTHOR)


class InputError(ValueError):
    """Bad user input: the message names the file, the column or row and what was expected.

    The CLI prints `str(error)` and exits non-zero; pages show it with `st.error`.
    Nothing that raises this should have changed stored data. The message never holds a
    password: any URL or connection string in it is passed through `redact`. `control`
    (one of CONTROLS, or None) says which input fixes it.
    """

    def __init__(self, message: object = "", *args: object, control: str | None = None) -> None:
        super().__init__(redact(message), *args)
        if control is not None and control not in CONTROLS:
            raise ValueError(f"control {control!r} is not one of {', '.join(CONTROLS)}")
        self.control = control
