"""Tables on screen as people read them: human column labels (geo.analysis.readable) and
shares as percentages. Downloads keep the machine names (CSV) or the labels (XLSX)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import readable
from geo.io import exports

SHARE_COLUMNS = (readable.SHARE_COLUMN, "iv_share_unknown")  # 0..1, shown as percentages
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def show_table(frame: pd.DataFrame, **options) -> None:
    """`frame` (machine column names) as a labelled table, shares as percentages and
    distances in whole metres."""
    shares = {
        readable.label(column): st.column_config.NumberColumn(format="percent")
        for column in SHARE_COLUMNS
        if column in frame.columns
    }
    st.dataframe(
        readable.labelled(exports.whole_metres(frame)),
        hide_index=True,
        width="stretch",
        column_config=shares,
        **options,
    )
