"""The voluntary-sector registers the cache holds, loaded for the sector rules that need them.

Readers of provider lists never open the cache (`geo.io` does not import `geo.fetch`):
publishing, the command line and the app load the registers here and pass them in. A
register never fetched is simply absent, and the rules that need it say they could not run.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from geo.fetch import catalogue
from geo.io import recognise
from geo.io.registers import read_charity_register, read_rsh_register
from geo.model import registers
from geo.model.registers import Register

# Cache kind -> (register name, reader).
_KINDS: dict[str, tuple[str, Callable[[Path], Register]]] = {
    "charity_register": (registers.CHARITY_COMPANIES, read_charity_register),
    "rsh_register": (registers.RSH_NON_PROFIT, read_rsh_register),
}


def registers_for(
    sniffed: recognise.Format, given: Mapping[str, Register] | None
) -> Mapping[str, Register] | None:
    """The registers a provider list is read with: those `given`, else, for a list the
    sector rules decide, the ones in the cache (other lists need none)."""
    if given is None and sniffed.site_format in recognise.RULE_FORMATS:
        return cached_registers()
    return given


def cached_registers() -> dict[str, Register]:
    """Every register the cache holds (its newest file), by register name."""
    loaded = {}
    for kind, (name, _reader) in _KINDS.items():
        entry = catalogue.find(kind)
        if entry is not None and catalogue.entry_path(entry).is_file():
            register = _load(kind, str(catalogue.entry_path(entry)), entry.sha256)
            shown = f"{catalogue.KIND_LABELS[kind]} {entry.vintage} ({entry.title})"
            loaded[name] = dataclasses.replace(register, source=shown.replace("  ", " "))
    return loaded


def registers_note(loaded: dict[str, Register]) -> str | None:
    """One sentence naming the registers the sector rules used, for the report; None if none."""
    if not loaded:
        return None
    return "Sector registers used: " + "; ".join(register.source for register in loaded.values())


@functools.lru_cache(maxsize=4)
def _load(kind: str, path: str, sha256: str) -> Register:
    """A register read once per file content (the charity extract takes seconds to read)."""
    del sha256  # part of the cache key: a re-fetched file is read again
    return _KINDS[kind][1](Path(path))
