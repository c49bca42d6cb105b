"""A briefing as an A4 PDF (fpdf2): real, searchable text beside the map and chart images.

Text is set in DejaVu Sans, the Unicode font matplotlib ships, so en dashes, curly
quotes and pound signs print as themselves, and screen readers and search find
every figure. A character DejaVu Sans lacks comes from an installed fallback font,
or prints as a replacement character that the last section lists (`geo.briefing.fonts`);
invisible control and format characters are left out.
"""

from __future__ import annotations

import io
import unicodedata

import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from geo.briefing import fonts
from geo.briefing.facts import CAPACITY_NOUN, Briefing
from geo.briefing.images import CHART_FIGSIZE, MAP_FIGSIZE, IllustratedBriefing
from geo.briefing.text import format_capacity, format_number, format_percent, shorten

FONT = "DejaVu"
_FOOTER_NAME_LIMIT = 60  # characters of the area's name in the one-line footer
_MARGIN = 15  # mm
_MAP_ASPECT = MAP_FIGSIZE[0] / MAP_FIGSIZE[1]
_GREY = (90, 90, 90)
_INK = (20, 20, 20)
_RULE = (200, 200, 200)


class _BriefingPDF(FPDF):
    """A4 portrait with a running footer naming the briefing and the page; every text is
    printable (fallback fonts, or replaced and recorded in `replaced`)."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer_text
        self.add_font(FONT, "", fonts.REGULAR)
        self.add_font(FONT, "B", fonts.BOLD)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 5)
        self.replaced: dict[str, None] = {}  # characters no font has, in the order met
        self._fallbacks = [FONT]  # bold text takes a glyph only the regular face has
        self.set_fallback_fonts(self._fallbacks, exact_match=False)

    def normalize_text(self, text: str) -> str:
        """fpdf2 passes every text through here before setting it: make it printable."""
        cmap = self.current_font.cmap if self.current_font else None
        if cmap is not None and not all(ord(char) in cmap or char == "\n" for char in text):
            text = "".join(self._printable(char, cmap) for char in text)
        return super().normalize_text(text)

    def _printable(self, char: str, cmap) -> str:
        """The character, or a fallback font's, or nothing (invisible), or REPLACEMENT."""
        if ord(char) in cmap or char == "\n":
            return char
        if unicodedata.category(char) in ("Cc", "Cf"):
            return " " if char.isspace() else ""
        if char in self.replaced:
            return fonts.REPLACEMENT
        if any(ord(char) in self.fonts[family.lower()].cmap for family in self._fallbacks):
            return char
        path = fonts.fallback_font_for(char)
        if path is None:
            self.replaced.setdefault(char)
            return fonts.REPLACEMENT
        family = f"fallback{len(self._fallbacks)}"
        self.add_font(family, "", path)
        self._fallbacks.append(family)
        self.set_fallback_fonts(self._fallbacks, exact_match=False)
        return char

    def footer(self) -> None:
        self.set_y(-_MARGIN)
        self.set_font(FONT, "", 7)
        self.set_text_color(*_GREY)
        text = f"{self._footer_text} · page {self.page_no()} of {{nb}}"
        self.cell(0, 5, text, align="L")


def briefing_pdf(illustrated: IllustratedBriefing) -> bytes:
    """The briefing on one or two A4 pages: figures, sentences, map, chart, tables, sources."""
    briefing = illustrated.facts
    pdf = _BriefingPDF(
        f"ICS Provider Map briefing: {shorten(briefing.area_name, _FOOTER_NAME_LIMIT)}"
    )
    _set_metadata(pdf, briefing)
    pdf.add_page()
    _write_heading(pdf, briefing)
    _write_headlines(pdf, briefing.headlines)
    _write_paragraphs(pdf, briefing.sentences, size=10.5)
    _write_figures(pdf, briefing, illustrated.map_png, illustrated.chart_png)
    _write_providers(pdf, briefing)
    _write_icb_ranking(pdf, briefing)
    _write_flows(pdf, briefing)
    _write_section(pdf, "Caveats", briefing.caveats, size=8.5)
    _write_section(pdf, "Sources and provenance", briefing.provenance, size=7.5)
    _write_replaced(pdf)
    return bytes(pdf.output())


def _set_metadata(pdf: FPDF, briefing: Briefing) -> None:
    pdf.set_title(briefing.title)
    pdf.set_subject(f"Board briefing, ICB boundaries {briefing.vintage}")
    pdf.set_author("ICS Provider Map")
    pdf.set_creator("ICS Provider Map (geo.briefing.pdf)")
    pdf.set_keywords(f"ICS, ICB, {briefing.area_code}, independent, voluntary, planning")
    pdf.set_lang("en-GB")
    pdf.set_display_mode(zoom="fullwidth")


def _write_heading(pdf: FPDF, briefing: Briefing) -> None:
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7, briefing.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(0, 5, briefing.subtitle, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _write_headlines(pdf: FPDF, headlines: tuple[tuple[str, str], ...]) -> None:
    """Figures in a grid of four columns: a small grey label over a bold value."""
    columns, width, height = 4, (pdf.epw) / 4, 15
    top = pdf.get_y()
    for index, (label, value) in enumerate(headlines):
        x = pdf.l_margin + (index % columns) * width
        y = top + (index // columns) * height
        pdf.set_draw_color(*_RULE)
        pdf.rect(x + 0.5, y, width - 1, height - 1.5)
        pdf.set_xy(x + 2, y + 1)
        pdf.set_font(FONT, "", 6.5)
        pdf.set_text_color(*_GREY)
        pdf.cell(width - 4, 4, label)
        pdf.set_xy(x + 2, y + 5.5)
        pdf.set_font(FONT, "B", 10.5 if len(value) < 20 else 7.5)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(width - 4, 4, value, align="L")
    rows = -(-len(headlines) // columns)
    pdf.set_xy(pdf.l_margin, top + rows * height + 1)


def _write_paragraphs(pdf: FPDF, lines, *, size: float) -> None:
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(*_INK)
    for line in lines:
        pdf.multi_cell(0, size * 0.48, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.2)


def _write_figures(pdf: FPDF, briefing: Briefing, map_png: bytes, chart_png: bytes) -> None:
    """The map on the left; the chart, its text equivalent and the sector table on the right."""
    pdf.ln(1)
    top = pdf.get_y()
    map_width = min(100.0, (pdf.h - pdf.b_margin - top - 2) * _MAP_ASPECT)
    if map_width < 60:
        pdf.add_page()
        top, map_width = pdf.get_y(), 100.0
    pdf.image(
        io.BytesIO(map_png), x=pdf.l_margin, y=top, w=map_width, h=map_width / _MAP_ASPECT,
        alt_text=briefing.map_alt,
    )  # fmt: skip
    column_x, column_width = pdf.l_margin + map_width + 4, pdf.epw - map_width - 4
    chart_height = column_width * CHART_FIGSIZE[1] / CHART_FIGSIZE[0]
    pdf.image(
        io.BytesIO(chart_png), x=column_x, y=top, w=column_width, h=chart_height,
        alt_text=briefing.chart_alt,
    )  # fmt: skip
    pdf.set_left_margin(column_x)
    pdf.set_xy(column_x, top + chart_height + 1)
    pdf.set_font(FONT, "", 6.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(column_width, 3.2, briefing.chart_alt, align="L", new_x=XPos.LMARGIN)
    _write_sector_table(pdf, briefing, column_width)
    pdf.set_left_margin(_MARGIN)
    pdf.set_xy(_MARGIN, max(top + map_width / _MAP_ASPECT, pdf.get_y()) + 3)


def _write_sector_table(pdf: FPDF, briefing: Briefing, width: float) -> None:
    rows = [
        (row.sector, format_number(row.sites), format_capacity(row.capacity, row.sites))
        for row in briefing.sector_table.itertuples()
    ]
    header = ("Sector", "Sites", CAPACITY_NOUN.title())
    _write_table(pdf, "Sites by sector", header, rows, (width * 0.5, width * 0.2, width * 0.3))


def _write_providers(pdf: FPDF, briefing: Briefing) -> None:
    rows = [
        (
            str(row.provider_name),
            str(row.sector),
            format_number(row.sites),
            format_capacity(row.capacity, 0),
        )
        for row in briefing.top_providers.itertuples()
    ]
    header = ("Provider", "Sector", "Sites", CAPACITY_NOUN.title())
    _write_table(pdf, briefing.top_providers_title, header, rows, (100, 40, 20, 20))


def _write_icb_ranking(pdf: FPDF, briefing: Briefing) -> None:
    """For England or a region: every ICS in it with its share, highest first."""
    if briefing.area_kind == "icb" or briefing.icb_table["share"].isna().all():
        return
    rows = [
        (
            "" if pd.isna(row.rank) else str(row.rank), str(row.icb_name),
            format_number(row.iv_sites), format_number(row.iv_sites_not_engaged),
            format_percent(None if pd.isna(row.share) else row.share),
        )
        for row in briefing.icb_table.itertuples()
    ]  # fmt: skip
    header = ("Rank", "ICS", "I+V sites", "Not engaged", "Share")
    widths = (12, 108, 20, 20, 20)
    _write_table(pdf, "ICSs by share not engaged", header, rows, widths, numeric=3, size=6.5)


def _write_flows(pdf: FPDF, briefing: Briefing) -> None:
    """England: the ICBs with most patients waiting across their borders, and the totals."""
    if briefing.flows_table is None:
        return
    rows = [
        tuple(str(cell) for cell in cells) for cells in briefing.flows_table.itertuples(index=False)
    ]
    widths = (62, 30, 22, 46, 20)
    header = tuple(briefing.flows_table.columns)
    _write_table(pdf, briefing.flows_title, header, rows, widths, numeric=4, size=6.5)
    _write_paragraphs(pdf, [briefing.flows_note], size=7.5)


def _write_table(pdf, title: str, header, rows, widths, *, numeric=2, size=8.0) -> None:
    """A titled table whose last `numeric` columns are right-aligned numbers."""
    line_height = size * 0.5
    if pdf.get_y() + 12 + (line_height + 0.6) * (len(rows) + 1) > pdf.h - pdf.b_margin:
        pdf.add_page()  # a table reads best on one page
    _write_title(pdf, title)
    if not rows:
        _write_paragraphs(pdf, ["None recorded."], size=8.5)
        return
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_RULE)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=("LEFT",) * (len(header) - numeric) + ("RIGHT",) * numeric,
        headings_style=FontFace(family=FONT, emphasis="BOLD", fill_color=(235, 235, 235)),
        line_height=line_height,
        first_row_as_headings=True,
    ) as table:
        for cells in (header, *rows):
            table.row(cells)
    pdf.ln(2)


def _write_section(pdf: FPDF, title: str, lines, *, size: float) -> None:
    if not lines:
        return
    _write_title(pdf, title)
    _write_paragraphs(pdf, [f"• {line}" for line in lines], size=size)


def _write_replaced(pdf: _BriefingPDF) -> None:
    """Say which characters printed as the replacement character: last, after every text
    but the final footer, whose name the title has already printed."""
    if pdf.replaced:
        note = fonts.replaced_note(list(pdf.replaced))
        _write_section(pdf, "Characters not printed", [note], size=7.5)


def _write_title(pdf: FPDF, title: str) -> None:
    if pdf.get_y() > pdf.h - pdf.b_margin - 25:
        pdf.add_page()
    pdf.ln(1)
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(0, 5.5, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
