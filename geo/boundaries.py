"""ICB, sub-ICB and NHS region boundaries: read any ONS vintage, validate, simplify for display."""

from __future__ import annotations

import re
from dataclasses import dataclass

# ONS names its columns <PREFIX><yy><CD|NM|CDH>, e.g. ICB23CD, SICBL24NM, NHSER24CD.
# The prefix says what the layer is; the two digits say which vintage.
_LAYER_PREFIXES: dict[str, str] = {"ICB": "icb", "SICBL": "sicbl", "NHSER": "nhser"}
_COLUMN_PATTERN = re.compile(r"^(ICB|SICBL|NHSER)(\d\d)(CDH|CD|NM)$", re.IGNORECASE)


@dataclass(frozen=True)
class LayerColumns:
    """Which columns of a boundary file hold the code, name and ODS code, and what it is."""

    kind: str  # "icb", "sicbl" or "nhser"
    vintage: str  # "2022", "2023", "2024", "2026"
    code: str
    name: str | None
    ods_code: str | None


def detect_layer(columns: list[str]) -> LayerColumns | None:
    """Recognise an ONS boundary or lookup layer by its column names, or None.

    Where a file has several (a sub-ICB layer also carrying ICB24CD), the most
    specific layer wins: sub-ICB over ICB over region.
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    for column in columns:
        match = _COLUMN_PATTERN.match(str(column))
        if match:
            prefix, yy, part = match.group(1).upper(), match.group(2), match.group(3).upper()
            found.setdefault((prefix, yy), {})[part] = str(column)
    for prefix in ("SICBL", "ICB", "NHSER"):
        for (candidate, yy), parts in sorted(found.items(), key=lambda item: item[0][1]):
            if candidate == prefix and "CD" in parts:
                return LayerColumns(
                    kind=_LAYER_PREFIXES[prefix],
                    vintage=f"20{yy}",
                    code=parts["CD"],
                    name=parts.get("NM"),
                    ods_code=parts.get("CDH"),
                )
    return None
