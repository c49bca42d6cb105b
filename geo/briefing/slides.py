"""Briefings as PowerPoint (python-pptx): one 16:9 slide per area, as many as given.

Every figure and sentence is a real text box or table cell, so the deck can be
searched, edited and read aloud; pictures carry alt text; the full caveats and
sources go in the speaker notes. Text boxes shrink their text to fit, measured with
DejaVu Sans; a word too long for its box (a 60-letter name, a URL) is measured as if
broken every `_WORD_BREAK` characters, as PowerPoint breaks it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.text.layout import TextFitter
from pptx.util import Emu, Inches, Pt

from geo.briefing import fonts
from geo.briefing.facts import CAPACITY_NOUN, Briefing
from geo.briefing.images import CHART_FIGSIZE, MAP_FIGSIZE, IllustratedBriefing
from geo.briefing.text import format_capacity, format_count, shorten

SLIDE_WIDTH_IN, SLIDE_HEIGHT_IN = 13.333, 7.5  # 16:9
SLIDE_PROVIDERS = 5  # the slide lists this many; the PDF lists them all
_TITLE_LIMIT = 255  # characters PowerPoint's document properties hold
_WORD_BREAK = 20  # a longer word is measured in pieces this long
_MIN_POINTS = 6  # the size of text that does not fit even at the smallest measured size
_INK = RGBColor(0x14, 0x14, 0x14)
_GREY = RGBColor(0x5A, 0x5A, 0x5A)
_BLANK_LAYOUT = 6


def briefing_pptx(briefings: Sequence[IllustratedBriefing]) -> bytes:
    """One slide per briefing, in order, each with its own map and chart."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_WIDTH_IN), Inches(SLIDE_HEIGHT_IN)
    deck.core_properties.title = shorten(
        briefings[0].facts.title if len(briefings) == 1 else "ICS briefings", _TITLE_LIMIT
    )
    deck.core_properties.author = "ICS Provider Map"
    deck.core_properties.language = "en-GB"
    for illustrated in briefings:
        _add_slide(deck, illustrated.facts, illustrated.map_png, illustrated.chart_png)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


# --- one slide ------------------------------------------------------------------------------


def _add_slide(deck, briefing: Briefing, map_png: bytes, chart_png: bytes) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[_BLANK_LAYOUT])
    _text_box(slide, (0.4, 0.2, 12.5, 0.6), [briefing.area_name], size=24, bold=True, fit=True)
    subtitle = f"Independent and voluntary care outside ICS planning · {briefing.subtitle}"
    _text_box(slide, (0.4, 0.8, 12.5, 0.35), [subtitle], size=12, colour=_GREY)
    _headline_table(slide, briefing.headlines, (0.4, 1.3, 4.3, 2.9))
    _text_box(slide, (0.4, 4.35, 4.3, 2.55), briefing.sentences, size=12, fit=True)
    map_height = 5.6
    map_width = map_height * MAP_FIGSIZE[0] / MAP_FIGSIZE[1]
    _picture(slide, map_png, (4.9, 1.3, map_width, map_height), briefing.map_alt, "Map")
    column = 4.9 + map_width + 0.2
    width = SLIDE_WIDTH_IN - 0.4 - column
    chart_height = width * CHART_FIGSIZE[1] / CHART_FIGSIZE[0]
    _picture(slide, chart_png, (column, 1.3, width, chart_height), briefing.chart_alt, "Chart")
    top = 1.4 + chart_height
    providers = _text_box(
        slide, (column, top, width, 5.2 - top), _provider_lines(briefing), size=10, fit=True
    )
    for run in providers.text_frame.paragraphs[0].runs:
        run.font.bold = True
    _text_box(slide, (column, 5.3, width, 1.6), briefing.caveats, size=9, colour=_GREY, fit=True)
    footer = " · ".join(briefing.provenance)
    _text_box(slide, (0.4, 6.95, 12.5, 0.4), [footer], size=8, colour=_GREY, fit=True)
    _write_notes(slide, briefing)


def _text_box(slide, frame, lines, *, size, bold=False, colour=_INK, fit=False):
    left, top, width, height = (Inches(value) for value in frame)
    box = slide.shapes.add_textbox(left, top, width, height)
    text_frame = box.text_frame
    text_frame.word_wrap = True
    for index, line in enumerate(lines):
        paragraph = text_frame.paragraphs[0] if index == 0 else text_frame.add_paragraph()
        paragraph.text = str(line)
        paragraph.space_after = Pt(size * 0.4)
        for run in paragraph.runs:
            run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, colour
    if fit and lines:
        _shrink_to_fit(box, size, bold)
    return box


def _shrink_to_fit(box, size: float, bold: bool) -> None:
    """Measure with DejaVu Sans so long names never spill off the slide, then let viewers refit."""
    text_frame = box.text_frame
    points = _fitting_size(box, text_frame.text, size, bold)
    for paragraph in text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size, run.font.bold = Pt(points), bold  # the theme font is kept
    text_frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE


def _fitting_size(box, text: str, size: float, bold: bool) -> int:
    """The largest whole point size up to `size` at which `text` fits the box, long words
    measured in pieces (python-pptx alone fails on a word wider than the box)."""
    frame = box.text_frame
    extents = (
        box.width - frame.margin_left - frame.margin_right,
        box.height - frame.margin_top - frame.margin_bottom,
    )
    pieces = " ".join(
        " ".join(word[start : start + _WORD_BREAK] for start in range(0, len(word), _WORD_BREAK))
        for word in text.split()
    )
    font_file = str(fonts.BOLD if bold else fonts.REGULAR)
    fitted = TextFitter.best_fit_font_size(pieces, extents, int(size), font_file)
    return _MIN_POINTS if fitted is None else fitted


def _headline_table(slide, headlines, frame) -> None:
    left, top, width, height = (Inches(value) for value in frame)
    shape = slide.shapes.add_table(len(headlines), 2, left, top, width, height)
    shape.name = "Headline figures"
    table = shape.table
    table.columns[0].width = Emu(int(width * 0.58))
    table.columns[1].width = Emu(width - int(width * 0.58))
    table.first_row = False
    for row, (label, value) in enumerate(headlines):
        for column, (text, bold) in enumerate(((label, False), (value, True))):
            cell = table.cell(row, column)
            cell.text = text
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            for run in cell.text_frame.paragraphs[0].runs:
                run.font.size, run.font.bold = Pt(11 if bold else 10), bold


def _picture(slide, png: bytes, frame, alt_text: str, name: str) -> None:
    left, top, width, height = (Inches(value) for value in frame)
    picture = slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)
    picture.name = name
    picture._element.nvPicPr.cNvPr.set("descr", alt_text)  # python-pptx has no alt-text API


def _provider_lines(briefing: Briefing) -> list[str]:
    top = briefing.top_providers.head(SLIDE_PROVIDERS)
    lines = [f"{briefing.top_providers_title}:"]
    for row in top.itertuples():
        capacity = format_capacity(row.capacity, 0)
        beds = "" if capacity == "not known" else f", {capacity} {CAPACITY_NOUN}"
        lines.append(f"{row.provider_name} ({row.sector}): {format_count(row.sites, 'site')}{beds}")
    if top.empty:
        lines.append("None recorded.")
    return lines + _flow_lines(briefing, SLIDE_PROVIDERS)


def _flow_lines(briefing: Briefing, count: int | None = None) -> list[str]:
    """England's flows table as lines (the first `count` ICBs and the totals line)."""
    table = briefing.flows_table
    if table is None:
        return []
    rows = [list(cells) for cells in table.itertuples(index=False)]
    shown = rows[:-1] if count is None else rows[: min(count, len(rows) - 1)]
    lines = [f"{briefing.flows_title}:"]
    for name, patients, within, destination, there in [*shown, rows[-1]]:
        where = f"; most elsewhere in {destination} ({there})" if there else f"; {destination}"
        lines.append(f"{name}: {patients} waiting, {within} within its borders{where}")
    return lines


def _write_notes(slide, briefing: Briefing) -> None:
    notes = slide.notes_slide.notes_text_frame
    sections = [
        "Headline figures:",
        *(f"{label}: {value}" for label, value in briefing.headlines),
        "",
        *briefing.sentences,
        "",
        "Caveats:",
        *briefing.caveats,
        "",
        "Sources and provenance:",
        *briefing.provenance,
    ]
    if briefing.flows_table is not None:
        sections += ["", *_flow_lines(briefing), briefing.flows_note]
    notes.text = "\n".join(sections)
