"""Versions: the audit log of every published dataset, and bringing back an earlier version."""

from __future__ import annotations

import streamlit as st

from geo.model.errors import InputError
from geo.publish import publishing
from pages import _access, _frame, _state, _text

_frame.require_frame()
analyst = _access.require_analyst()  # everyone else is refused here, even by URL

st.title("Published versions")
st.caption(
    "Every publish and revert is kept: who, when, from which file (with its SHA-256 checksum) "
    "and how many rows were accepted, warned about and rejected. Pages use the current version."
)
if "versions-done" in st.session_state:
    st.success(_text.plain(st.session_state.pop("versions-done")))

store = _state.store()
datasets = store.datasets()
if datasets.empty:
    st.info("Nothing has been published yet: the pages use the official files as downloaded.")
    st.stop()
st.dataframe(datasets, hide_index=True)

name = st.selectbox("Dataset", datasets["dataset"].tolist(), key="versions-dataset")
log = store.versions(name).sort_values("version", ascending=False)
st.dataframe(log, hide_index=True)

by = _access.audit_identity(analyst)
if log.loc[log["current"], "rows"].iloc[0] > 0 and st.button(
    f"Withdraw {_text.plain(name)}", key="versions-withdraw",
    help="A new version with no rows: pages stop using it; history is kept and a revert brings it back.",
):  # fmt: skip
    try:
        withdrawn = publishing.withdraw(store, name, by=by)
    except InputError as error:
        st.error(_text.plain(error))
    else:
        st.session_state["versions-done"] = (
            f"{name} version {withdrawn.version} is withdrawn (no rows); no page uses it."
        )
        st.rerun()
earlier = log.loc[~log["current"], "version"].tolist()
if not earlier:
    st.info(f"{_text.plain(name)} has only one version, so there is nothing to go back to.")
    st.stop()
version = st.selectbox("Version to bring back", earlier, key=f"versions-target-{name}")
if st.button(f"Revert to version {_text.plain(version)}", key="versions-revert"):
    try:
        reverted = publishing.revert(store, name, int(version), by=by)
    except InputError as error:
        st.error(_text.plain(error))
    else:
        st.session_state["versions-done"] = (
            f"{name} version {reverted.version} now holds the rows of version {version}; "
            "every page uses it."
        )
        st.rerun()
