"""ICS Provider Map: provider sites by sector over Integrated Care System boundaries.

`geo` is a plain Python package (no streamlit) so that the CLI, the tests and the
app share one implementation: boundaries, provider lists, spatial assignment and
the per-ICB gap metrics all live here.
"""

__version__ = "0.1.0"
