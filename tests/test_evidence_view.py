"""How one ICB's evidence and a figure's basis are said on pages and in briefings."""

from __future__ import annotations

import pandas as pd

from geo.analysis.evidence_view import basis_words, icb_evidence_lines
from geo.model.evidence import EVIDENCE_COLUMNS, PATIENTS_WAITING


def _rows(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{column: row.get(column) for column in EVIDENCE_COLUMNS} for row in rows])


def test_an_icbs_elective_care_is_summed_over_its_sites_for_the_latest_month():
    waiting = {"icb_code": "E54000054", "measure": PATIENTS_WAITING}
    table = _rows(
        {**waiting, "site_id": "A", "period": "2026-06", "value": 1000.0},
        {**waiting, "site_id": "B", "period": "2026-06", "value": 240.0},
        {**waiting, "site_id": "A", "period": "2026-05", "value": 999.0},
        {**waiting, "icb_code": "E54000008", "site_id": "C", "period": "2026-06", "value": 5.0},
    )
    assert icb_evidence_lines(table, "E54000054") == [
        "NHS-funded elective care for this ICB: 1,240 patients waiting, RTT 2026-06 (2 sites)"
    ]


def test_a_basis_of_none_or_missing_is_named_as_none():
    assert basis_words(None, None) == "basis: none"
    assert basis_words("none", None) == "basis: none"
    assert basis_words("engagement list", None) == "basis: engagement list"
