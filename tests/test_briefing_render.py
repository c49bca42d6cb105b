"""Tests for the briefing renderers: static map and chart, HTML, PDF and PowerPoint.

Covers geo/briefing/images.py, geo/briefing/pdf.py and geo/briefing/slides.py: the three
render one `Briefing`, so the tests check that each carries the same figures.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from matplotlib.colors import to_rgb
from pptx import Presentation
from pypdf import PdfReader
from shapely.geometry import box

from geo.analysis.metrics import national_rollup, region_rollup
from geo.analysis.pipeline import Frames, analyse, provenance_table
from geo.briefing import fonts
from geo.briefing.documents import national_deck
from geo.briefing.facts import briefing_facts
from geo.briefing.images import (
    IllustratedBriefing,
    briefing_html,
    illustrate,
    map_layers,
    map_png,
    sector_chart_png,
)
from geo.briefing.pdf import briefing_pdf
from geo.briefing.slides import briefing_pptx
from geo.briefing.text import NAME_LIMIT, format_number, format_ordinal, format_percent
from geo.io.boundaries import load_boundaries
from geo.model.errors import InputError
from geo.model.palette import NOT_KNOWN_COLOUR, class_colour
from geo.model.sectors import SECTOR_COLOURS
from tests.factories import (
    XSS,
    feature_table,
    hospitals_table,
    iv_row,
    metrics_frame,
    metrics_row,
    require,
    site,
    sites_frame,
)

EAST, WEST = "E54000024", "E54000025"


# --- tiny synthetic inputs --------------------------------------------------------------------


@pytest.fixture
def icbs() -> gpd.GeoDataFrame:
    """Two neighbouring square ICBs west of Greenwich, in EPSG:4326."""
    return gpd.GeoDataFrame(
        {"code": [WEST, EAST], "name": ["West ICB", "East ICB"]},
        geometry=[box(-0.6, 51.3, -0.3, 51.6), box(-0.3, 51.3, 0.0, 51.6)],
        crs="EPSG:4326",
    )


@pytest.fixture
def sites() -> pd.DataFrame:
    return sites_frame(
        site(XSS, -0.45, 51.45, icb=WEST, beds=40),
        site("Oak Hospice", -0.5, 51.4, icb=WEST, sector="Voluntary", status="engaged", beds=12),
        site("Trust", -0.35, 51.5, icb=WEST, sector="NHS", status="unknown"),
        site("Trust", -0.15, 51.45, icb=EAST, sector="NHS", status="unknown"),
    )


@pytest.fixture
def metrics() -> pd.DataFrame:
    west = iv_row(WEST, f"West {XSS} ICB", share=0.77, rank=1, iv_sites=2, not_engaged=1, beds=52)
    east = metrics_row(EAST, "East ICB", sites_total=1, sites_nhs=1)
    england = iv_row("E92000001", "England", share=0.77, rank=pd.NA, iv_sites=2, beds=52)
    return metrics_frame(west, east, england)


@pytest.fixture
def briefing(metrics, sites):
    provenance = ["Care directory – CQC’s ‘HSCA active locations’, £0 licence fee"]
    return briefing_facts(metrics, sites, WEST, provenance=provenance, dataset_version="3")


def pixels(png: bytes) -> np.ndarray:
    """An image's pixels as an (n, 3) array of 0..255 RGB."""
    image = plt.imread(io.BytesIO(png), format="png")
    return (image[..., :3].reshape(-1, 3) * 255).round().astype(int)


def has_colour(png: bytes, colour: str, tolerance: int = 3) -> bool:
    target = np.array([round(c * 255) for c in to_rgb(colour)])
    return bool((np.abs(pixels(png) - target).max(axis=1) <= tolerance).any())


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def slide_texts(slide) -> list[str]:
    texts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            texts.append(shape.text_frame.text)
        if shape.has_table:
            texts += [cell.text for row in shape.table.rows for cell in row.cells]
    return texts


# --- map and chart ---------------------------------------------------------------------------


def test_sector_chart_uses_the_sector_colours_of_the_sectors_present(briefing):
    png = sector_chart_png(briefing)

    assert png.startswith(b"\x89PNG")
    assert has_colour(png, SECTOR_COLOURS["NHS"])
    assert has_colour(png, SECTOR_COLOURS["Independent"])
    assert not has_colour(png, SECTOR_COLOURS["Local authority"])  # no local-authority sites
    assert plt.get_fignums() == []  # nothing left open in pyplot's global state


def test_area_map_draws_its_sites_by_sector_and_squares_for_not_engaged(briefing, icbs, sites):
    png = map_png(briefing, map_layers(icbs, sites))

    assert has_colour(png, SECTOR_COLOURS["Independent"])  # the not-engaged square
    assert has_colour(png, SECTOR_COLOURS["Voluntary"])
    assert has_colour(png, "#111111", tolerance=12)  # the area's outline
    assert has_colour(png, "#f0f0f0")  # the faded neighbour


def test_england_map_shades_each_icb_by_its_share(metrics, sites, icbs):
    england = briefing_facts(metrics, sites, "england")
    west_share = england.icb_table.set_index("icb_code").loc[WEST, "share"]

    png = map_png(england, map_layers(icbs, sites))

    assert has_colour(png, class_colour(west_share))  # the class colour the app's map gives it
    assert has_colour(png, NOT_KNOWN_COLOUR)  # East ICB has no share: grey, not a colour


def test_map_of_boundaries_without_a_crs_is_bad_input(icbs, sites):
    with pytest.raises(InputError, match="no CRS"):
        map_layers(icbs.set_crs(None, allow_override=True), sites)


def test_map_of_an_area_missing_from_the_boundaries_is_bad_input(briefing, icbs, sites):
    with pytest.raises(InputError, match=f"no polygon for {WEST}"):
        map_png(briefing, map_layers(icbs[icbs["code"] == EAST], sites))


# --- HTML, PDF, PowerPoint --------------------------------------------------------------------


def test_html_escapes_provider_and_icb_names(briefing):
    page = briefing_html(IllustratedBriefing(briefing, map_png=b"\x89PNG", chart_png=b""))

    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<img ") == 1  # only the map picture we put there
    assert 'alt="Map of West &lt;img src=x' in page


def test_pdf_prints_markup_and_unicode_as_literal_searchable_text(briefing, icbs, sites):
    data = briefing_pdf(illustrate(briefing, map_layers(icbs, sites)))
    reader = PdfReader(io.BytesIO(data))
    text = pdf_text(data)

    assert XSS in text
    assert "Care directory – CQC’s ‘HSCA active locations’, £0 licence fee" in text
    assert reader.metadata.title == briefing.title
    assert len(reader.pages) == 1  # a small ICS fits on one sheet
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]  # A4 in points


def test_slide_is_16_9_with_text_boxes_alt_text_and_notes(briefing, icbs, sites):
    deck = Presentation(io.BytesIO(briefing_pptx([illustrate(briefing, map_layers(icbs, sites))])))
    slide = deck.slides[0]
    pictures = [shape for shape in slide.shapes if shape.shape_type == 13]

    assert round(deck.slide_width / deck.slide_height, 2) == round(16 / 9, 2)
    assert briefing.sentences[1] in "\n".join(slide_texts(slide))
    assert {p._element.nvPicPr.cNvPr.get("descr") for p in pictures} == {
        briefing.map_alt,
        briefing.chart_alt,
    }
    assert briefing.provenance[0] in slide.notes_slide.notes_text_frame.text


# --- any text a file can hold lays out -------------------------------------------------------


def awkward(icbs, *, provider: str = "Oak Care", icb_name: str = "West ICB", area: str = WEST):
    """A briefing whose one not-engaged provider and West ICB are named as given."""
    sites = sites_frame(site(provider, icb=WEST, beds=40), site("Trust", icb=EAST, sector="NHS"))
    sites = sites.assign(lat=[51.45, 51.45], lon=[-0.45, -0.15])
    west = iv_row(WEST, icb_name, share=0.77, rank=1, iv_sites=1, not_engaged=1, beds=40)
    east = metrics_row(EAST, "East ICB", sites_total=1, sites_nhs=1)
    england = iv_row("E92000001", "England", share=0.77, rank=pd.NA, iv_sites=1, beds=40)
    facts = briefing_facts(metrics_frame(west, east, england), sites, area, provenance=[])
    return illustrate(facts, map_layers(icbs, sites))


LONG_NAME = "Oak " + "Care " * 2000  # 10,004 characters
UNBROKEN = "x" * 10_000
HYPHENATED = "-".join(["Llanfair"] * 7)  # one 62-character word
SCRIPT = "</script><script>alert(1)</script>" * 3  # no space to break at


@pytest.mark.parametrize("provider", [LONG_NAME, UNBROKEN, HYPHENATED, SCRIPT])
def test_any_provider_name_lays_out_in_the_pdf_and_the_slide(icbs, provider):
    illustrated = awkward(icbs, provider=provider)

    text = pdf_text(briefing_pdf(illustrated))
    slide = Presentation(io.BytesIO(briefing_pptx([illustrated]))).slides[0]

    shown = illustrated.facts.top_providers["provider_name"].iloc[0]
    assert len(shown) <= NAME_LIMIT
    assert shown.replace(" ", "")[:60] in text.replace(" ", "")  # wrapped lines add spaces
    assert any(shown in box for box in slide_texts(slide))


def test_a_long_name_is_cut_with_an_ellipsis_in_documents(icbs):
    illustrated = awkward(icbs, provider=LONG_NAME)

    shown = illustrated.facts.top_providers["provider_name"].iloc[0]

    assert shown == LONG_NAME[: NAME_LIMIT - 1].rstrip() + "…"
    assert LONG_NAME not in pdf_text(briefing_pdf(illustrated))


@pytest.mark.parametrize("area", [WEST, "england"])
def test_a_ten_thousand_character_icb_name_lays_out_in_every_document(icbs, area):
    illustrated = awkward(icbs, icb_name="N" * 10_000, area=area)

    deck = Presentation(io.BytesIO(briefing_pptx([illustrated])))
    text = pdf_text(briefing_pdf(illustrated))

    assert "N" * (NAME_LIMIT - 1) + "…" in text.replace(" ", "")
    assert len(deck.core_properties.title) <= 255


def test_the_page_breaks_a_word_too_long_for_its_width(icbs):
    page = briefing_html(awkward(icbs, provider=UNBROKEN))

    assert ".ics-briefing{overflow-wrap:anywhere}" in page
    assert f"<td>{'x' * (NAME_LIMIT - 1)}…</td>" in page


def test_control_and_format_characters_print_as_nothing_not_as_replacements(icbs):
    illustrated = awkward(icbs, provider="Oak\x0bCare\x07 Homes\u202e\u200b Ltd")

    text = pdf_text(briefing_pdf(illustrated))

    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    assert "Oak Care Homes Ltd" in visible
    assert "\ufffd" not in text
    assert "Characters not printed" not in text


def test_characters_no_installed_font_has_are_replaced_and_listed(icbs, monkeypatch):
    monkeypatch.setattr(fonts, "FALLBACK_FONTS", ())
    illustrated = awkward(icbs, provider="Watch \u231a \u533b\u9662 Care")

    text = pdf_text(briefing_pdf(illustrated))

    assert "Watch \ufffd \ufffd\ufffd Care" in text
    assert "Characters not printed" in text
    assert "3 characters are not in any font installed" in text
    assert "U+231A, U+533B, U+9662" in text


def test_a_character_dejavu_lacks_comes_from_an_installed_fallback_font(icbs, monkeypatch):
    stix = str(fonts.DEJAVU_DIR / "STIXGeneral.ttf")  # matplotlib ships it; it has U+231A
    monkeypatch.setattr(fonts, "FALLBACK_FONTS", (stix,))
    illustrated = awkward(icbs, provider="Watch \u231a \u533b Care")

    data = briefing_pdf(illustrated)
    text = pdf_text(data)

    assert "Watch \u231a \ufffd Care" in text
    assert "1 character is not in any font installed" in text
    assert "U+533B." in text
    fonts_used = {
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("STIX" in name for name in fonts_used)


# --- real data: hospitals over the 2024 ICBs ------------------------------------------------------


@pytest.fixture(scope="module")
def real_analysis(shared_data):
    """Real hospitals over the 2024 ICBs through the app's own analysis.

    A synthetic engagement list (every third independent hospital takes part in
    planning, the rest do not) makes the shares non-trivial.
    """
    icbs = load_boundaries(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    regions = load_boundaries(shared_data / "nhs_england_regions_2024_01_bgc.geojson")
    raw = pd.read_csv(shared_data / "hospitals_england_2020_05_nhs_website.csv")
    independent = raw["sector_normalised"].eq("Independent").to_numpy()
    engaged = np.arange(len(raw)) % 3 == 0
    sites = pd.DataFrame(
        {
            "site_id": raw["hospitalId"],
            "site_name": raw["name"],
            "provider_id": raw["trustId"],
            "provider_name": raw["trustName"],
            "sector": raw["sector_normalised"],
            "service_type": "Hospital",
            "capacity": pd.array([pd.NA] * len(raw), dtype="Float64"),
            "planning_status": np.where(
                independent, np.where(engaged, "engaged", "not engaged"), "unknown"
            ),
            "postcode": raw["pcds"],
            "lat": raw["lat"],
            "lon": raw["long"],
            "official_icb_code": pd.array([pd.NA] * len(raw), dtype="string"),
            "source": "NHS website",
        }
    )
    provenance = provenance_table([])
    return analyse(Frames(icbs, sites, provenance, regions=regions))


@pytest.fixture(scope="module")
def real(real_analysis):
    """The real analysis's ICBs, assigned sites, metrics and ICB-to-region lookup."""
    analysis = real_analysis
    return analysis.icbs, analysis.assigned, analysis.metrics, analysis.icb_regions


@pytest.fixture(scope="module")
def real_briefing(real):
    icbs, sites, metrics, _ = real
    busiest = metrics[metrics["icb_code"].str.startswith("E54")].sort_values("iv_sites").iloc[-1]
    briefing = briefing_facts(
        metrics, sites, busiest["icb_code"], dataset_version="test",
        provenance=["NHS website hospitals (May 2020), OGL v3"],
    )  # fmt: skip
    return briefing, busiest, illustrate(briefing, map_layers(icbs, sites))


def icbs_with_independent_hospitals(shared_data) -> set[str]:
    """The 2024 ICBs the publisher puts an independent hospital in: those a share ranks."""
    hospitals = hospitals_table(shared_data)
    independent = hospitals["sector_normalised"] == "Independent"
    return set(hospitals.loc[independent, "icb24_code"].dropna())


def test_real_icb_pdf_and_slide_carry_the_metrics_figures(real_briefing, shared_data):
    briefing, row, illustrated = real_briefing
    ranked = len(icbs_with_independent_hospitals(shared_data))
    rank = int(row["rank"])
    expected = {
        "Provider sites": format_number(row["sites_total"]),
        "Independent and voluntary sites": format_number(row["iv_sites"]),
        "I+V sites not engaged in planning": format_number(row["iv_sites_not_engaged"]),
        "Share of I+V capacity outside NHS planning": f"{format_percent(row['iv_outside_share'])} of I+V sites",
    }
    headlines = dict(briefing.headlines)
    assert {label: headlines[label] for label in expected} == expected
    assert ("highest" if rank == 1 else f"{format_ordinal(rank)} highest") in headlines["Rank"]
    assert headlines["Rank"].endswith(f"of {ranked} ICSs")
    pdf = pdf_text(briefing_pdf(illustrated))
    slide = "\n".join(slide_texts(Presentation(io.BytesIO(briefing_pptx([illustrated]))).slides[0]))

    for label, value in briefing.headlines:
        assert f"{label} {value}" in pdf
        assert label in slide
        assert value in slide
    for sentence in briefing.sentences:
        assert sentence in pdf
        assert sentence in slide


def test_real_pdf_renders_to_a_page_that_is_not_blank(real_briefing, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    require(pdftoppm is not None, "needs pdftoppm (Debian package poppler-utils)")
    _, _, illustrated = real_briefing
    data = briefing_pdf(illustrated)
    (tmp_path / "briefing.pdf").write_bytes(data)

    subprocess.run(
        [pdftoppm, "-r", "40", "-png", str(tmp_path / "briefing.pdf"), str(tmp_path / "page")],
        check=True,
    )

    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(data)).pages)
    first = pixels(pages[0].read_bytes())
    assert first.std() > 20  # text, map and chart, not an empty white sheet
    assert has_colour(pages[0].read_bytes(), SECTOR_COLOURS["NHS"], tolerance=25)


def test_national_deck_is_england_then_one_slide_per_icb(real_analysis, shared_data):
    icbs = real_analysis.icbs
    layers = map_layers(icbs, real_analysis.assigned)
    published = feature_table(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    calls = []

    deck = Presentation(
        io.BytesIO(
            national_deck(
                real_analysis, layers, progress=lambda done, total: calls.append((done, total))
            )
        )
    )

    titles = [slide_texts(slide)[0] for slide in deck.slides]
    assert len(deck.slides) == len(icbs) + 1 == len(published) + 1
    assert titles[0] == "England"
    assert sorted(titles[1:]) == sorted(icbs["name"]) == titles[1:]
    assert calls[-1] == (len(deck.slides), len(deck.slides))


def test_real_england_pdf_ranks_every_icb_within_two_pages(real):
    icbs, sites, metrics, _ = real
    england = briefing_facts(metrics, sites, "england")

    data = briefing_pdf(illustrate(england, map_layers(icbs, sites)))

    text = pdf_text(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 2
    assert "ICSs by share not engaged" in text
    assert all(name in text for name in icbs["name"])


def test_real_england_and_region_figures_are_the_metrics_rollups(real, shared_data):
    _, sites, metrics, lookup = real
    region = lookup["region_code"].iloc[0]

    england = briefing_facts(metrics, sites, "england")
    north = briefing_facts(metrics, sites, region, icb_regions=lookup)

    for briefing, row in (
        (england, national_rollup(metrics).iloc[0]),
        (north, region_rollup(metrics, lookup).set_index("icb_code").loc[region]),
    ):
        headlines = dict(briefing.headlines)
        assert headlines["Provider sites"] == format_number(row["sites_total"])
        assert headlines["I+V sites not engaged in planning"] == format_number(
            row["iv_sites_not_engaged"]
        )
        assert headlines["Share of I+V capacity outside NHS planning"].startswith(
            format_percent(row["iv_outside_share"])
        )
    assert north.icb_codes == tuple(sorted(lookup.loc[lookup["region_code"] == region, "icb_code"]))
    ranked_icbs = lookup["icb_code"].isin(icbs_with_independent_hospitals(shared_data))
    ranked = lookup.loc[ranked_icbs, "region_code"].nunique()
    assert dict(north.headlines)["Rank"].endswith(f"of {ranked} NHS regions")
