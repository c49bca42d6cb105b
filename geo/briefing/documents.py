"""Board briefings made from an analysis: the one path from figures to PDF and PowerPoint.

The CLI and the briefing page both come through here, so a downloaded briefing
carries exactly the numbers the map and the metrics table show. An area's facts and
images are built once (`illustrated_briefing`) and rendered as page, PDF or slide;
the sites are projected for drawing once per analysis (`briefing_layers`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from geo.analysis.evidence_view import limits_sentence
from geo.analysis.national_flows import NationalFlows, national_flows
from geo.analysis.pipeline import Analysis
from geo.briefing import images as briefing_render
from geo.briefing import pdf as briefing_pdf
from geo.briefing import slides as briefing_pptx
from geo.briefing.facts import ENGLAND_AREA, Briefing, briefing_facts
from geo.briefing.images import IllustratedBriefing, MapLayers
from geo.model.errors import InputError
from geo.model.evidence import BASIS_LIST
from geo.model.vocabulary import is_icb_code

FORMATS = ("pdf", "pptx")


def area_choices(analysis: Analysis) -> dict[str, str]:
    """Every area a briefing can be made for, code → label: England, NHS regions, then ICBs."""
    choices = {ENGLAND_AREA: "England"}
    choices |= {code: f"{name} (NHS region)" for code, name in analysis.region_names().items()}
    icbs = analysis.icbs.sort_values("name")
    return choices | dict(zip(icbs["code"], icbs["name"], strict=True))


def area_briefing(analysis: Analysis, area: str) -> Briefing:
    """The facts, sentences and caveats of one area's briefing, from the analysis's own figures."""
    _check_area(analysis, area)
    return briefing_facts(
        analysis.metrics,
        analysis.assigned,
        area,
        icb_regions=analysis.icb_regions,
        provenance=analysis.provenance,
        dataset_version=dataset_version(analysis),
        basis_note=limits_sentence(
            analysis.evidence,
            analysis.metrics["status_basis"].astype("str").str.contains(BASIS_LIST).any(),
        ),
        per_head=analysis.per_head,
        flows=_national_flows(analysis) if area == ENGLAND_AREA else None,
    )


def _national_flows(analysis: Analysis) -> NationalFlows | None:
    """England's flows table of RTT patients waiting, when the analysis has flows."""
    if analysis.flows is None:
        return None
    names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    return national_flows(analysis.flows, names)


def briefing_layers(analysis: Analysis) -> MapLayers:
    """The analysis's ICBs and sites projected for drawing: once per analysis, for every area."""
    return briefing_render.map_layers(analysis.icbs, analysis.assigned)


def illustrated_briefing(analysis: Analysis, area: str, layers: MapLayers) -> IllustratedBriefing:
    """One area's facts, map and chart, built once for the page, the PDF and the slide."""
    return briefing_render.illustrate(area_briefing(analysis, area), layers)


def render_document(briefing: IllustratedBriefing, fmt: str) -> bytes:
    """One area's briefing, already built, as PDF or PPTX (one slide) bytes."""
    _check_format(fmt)
    if fmt == "pdf":
        return briefing_pdf.briefing_pdf(briefing)
    return briefing_pptx.briefing_pptx([briefing])


def national_deck(
    analysis: Analysis,
    layers: MapLayers,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    """England's summary slide, then one slide per ICB of the vintage in name order.

    `progress(done, total)` is called after each slide so a page can show a bar.
    """
    areas = [ENGLAND_AREA, *_icb_codes_by_name(analysis.metrics)]
    briefings = []
    for done, area in enumerate(areas, start=1):
        briefings.append(illustrated_briefing(analysis, area, layers))
        if progress is not None:
            progress(done, len(areas))
    return briefing_pptx.briefing_pptx(briefings)


def briefing_document(
    analysis: Analysis,
    area: str,
    fmt: str,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    """One area's briefing as PDF or PPTX bytes; England as PPTX is the national deck."""
    _check_format(fmt)
    layers = briefing_layers(analysis)
    if fmt == "pptx" and area == ENGLAND_AREA:
        return national_deck(analysis, layers, progress=progress)
    return render_document(illustrated_briefing(analysis, area, layers), fmt)


def dataset_version(analysis: Analysis) -> str | None:
    """Which version of the provider list the figures use, as the provenance table records it
    (its row whose `dataset` is 'sites')."""
    provenance = analysis.provenance
    if provenance.empty:
        return None
    sites = provenance[provenance["dataset"] == "sites"]
    return None if sites.empty else str(sites["version"].iloc[0])


def _check_area(analysis: Analysis, area: str) -> None:
    choices = area_choices(analysis)
    if area not in choices:
        examples = ", ".join(list(choices)[:4])
        raise InputError(
            f"no area {area!r} in the {analysis.vintage} ICBs: expected 'england', an NHS "
            f"region code (E40…) or an ICB code (E54…), e.g. {examples}"
        )


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"briefing format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _icb_codes_by_name(metrics: pd.DataFrame) -> list[str]:
    codes = metrics["icb_code"].astype("string")
    icbs = metrics[is_icb_code(codes)]
    return list(icbs.sort_values(["icb_name", "icb_code"])["icb_code"].astype(str))
