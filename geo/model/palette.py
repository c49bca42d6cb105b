"""The sequential scale every share is drawn in: the app's map, the briefing's map, PDF and PPTX.

Five viridis classes, light (low) to dark (high): colour-blind safe and readable in
greyscale. The map (geo.maps) and the briefing (geo.briefing) may not import each
other, so the scale lives here, once; sector colours live beside the sectors
(geo.model.sectors.SECTOR_COLOURS) and their order is geo.model.sectors.SECTORS.
"""

from __future__ import annotations

import bisect

import pandas as pd

# viridis at 1, 0.75, 0.5, 0.25 and 0: the lowest class is the lightest
SEQUENTIAL_COLOURS: tuple[str, ...] = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
SHARE_BREAKS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # a share's classes: 0–20%, …
NOT_KNOWN_COLOUR = "#e0e0e0"  # a share that is not known: never a colour of the scale


def class_colour(
    value: float | None, breaks: tuple[float, ...] | list[float] = SHARE_BREAKS
) -> str:
    """The scale's colour for `value` in classes cut at `breaks` (a value on a break goes up,
    the top one stays in the last class); NOT_KNOWN_COLOUR when the value is missing."""
    if value is None or pd.isna(value):
        return NOT_KNOWN_COLOUR
    position = bisect.bisect_right(list(breaks[1:-1]), float(value))
    return SEQUENTIAL_COLOURS[min(position, len(SEQUENTIAL_COLOURS) - 1)]
