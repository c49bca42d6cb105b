"""ICS Provider Map: the Streamlit frame: page config, the shared sidebar and navigation."""

from __future__ import annotations

from pages import _frame

_frame.run(_frame.frame())
