"""Which font prints each character of a PDF briefing, and which characters none can print.

Text is set in DejaVu Sans, the Unicode font matplotlib ships (Latin, Greek, Cyrillic,
Arabic, Hebrew, many symbols and some emoji). A character it lacks (Chinese, Japanese,
Korean, Indic scripts, most emoji) is taken from the first installed font of
`FALLBACK_FONTS` that has it: fonts of Debian packages, found at run time, so a server
with `fonts-noto-core`, `fonts-droid-fallback` or `fonts-symbola` installed prints them.
A character no installed font has is printed as `REPLACEMENT`, and the document says
which ones were replaced (`replaced_note`): never silently dropped.
"""

from __future__ import annotations

import functools
import glob
from pathlib import Path

import matplotlib
from matplotlib.ft2font import FT2Font

DEJAVU_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR = DEJAVU_DIR / "DejaVuSans.ttf"
BOLD = DEJAVU_DIR / "DejaVuSans-Bold.ttf"
REPLACEMENT = "\ufffd"  # the Unicode replacement character, which DejaVu Sans has

# Tried in this order for a character DejaVu Sans lacks; a pattern may match several files.
FALLBACK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/noto/NotoSans*-Regular.ttf",  # fonts-noto-core: most scripts
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback: CJK
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",  # fonts-symbola: emoji
    "/usr/share/fonts/truetype/unifont/unifont.ttf",  # fonts-unifont: the rest of the BMP
)
FALLBACK_PACKAGES = "fonts-noto-core, fonts-droid-fallback or fonts-symbola"


def fallback_font_for(char: str) -> Path | None:
    """The first installed fallback font that has `char`, or None when none has it."""
    return next((path for path in installed_fallbacks() if ord(char) in _codepoints(path)), None)


def installed_fallbacks() -> list[Path]:
    """The fallback font files present on this machine, in the order they are tried."""
    return [Path(name) for pattern in FALLBACK_FONTS for name in sorted(glob.glob(pattern))]


@functools.lru_cache(maxsize=512)
def _codepoints(path: Path) -> frozenset[int]:
    """The characters a font file has glyphs for (read once per file and process)."""
    try:
        return frozenset(FT2Font(str(path)).get_charmap())
    except (OSError, RuntimeError):  # a broken system font is one we cannot use
        return frozenset()


def replaced_note(replaced: list[str]) -> str:
    """A sentence saying which characters printed as REPLACEMENT, and how to print them."""
    codes = ", ".join(f"U+{ord(char):04X}" for char in replaced)
    noun = "character is" if len(replaced) == 1 else "characters are"
    return (
        f"{len(replaced)} {noun} not in any font installed where this document was made and "
        f"printed as {REPLACEMENT}: {codes}. Installing {FALLBACK_PACKAGES} (Debian packages) "
        "prints them."
    )
