"""The first-run panel: say what data is missing and offer to fetch or load it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.fetch import catalogue, sources
from geo.model.errors import InputError
from pages import _access, _text


def offer_data() -> None:
    """Tell the user what is missing and let them download it or take it from a folder."""
    for line in catalogue.missing_for_app():
        st.warning(_text.plain(line))
    if not _access.may_change_data():
        st.info("An analyst needs to download or load the official data.")
        return
    online, offline = st.columns(2)
    with online:
        st.markdown("**Online:** download the official files (ONS, CQC, NHS ODS).")
        if st.button("Download official data", key="fetch-online"):
            _run(lambda progress: sources.fetch_all(progress=progress), "Downloading")
    with offline:
        st.markdown("**Offline:** take the same files from a folder on this machine.")
        folder = st.text_input("Folder", key="fetch-folder", placeholder="/path/to/downloads")
        if st.button("Load from folder", key="fetch-offline", disabled=not folder):
            _run(lambda progress: sources.fetch_from_dir(Path(folder)), "Loading")


def _run(fetch, verb: str) -> None:
    with st.status(_text.plain(f"{verb} data…"), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int | None) -> None:
            bar.progress(min(done / total, 1.0) if total else 0.5, text=f"{done:,} records")

        try:
            report = fetch(progress)
        except InputError as error:
            status.update(label=_text.plain(f"{verb} failed"), state="error")
            st.error(_text.plain(error))
            return
        for entry in report.taken:
            st.write(_text.plain(f"Took {entry.title} ({entry.kind} {entry.vintage or ''})"))
        for what, reason in report.failed:
            st.warning(_text.plain(f"{what}: {reason}"))
        for name, reason in report.ignored:
            st.caption(_text.plain(f"Ignored {name}: {reason}"))
        status.update(
            label=_text.plain(f"{verb} finished"), state="complete" if report.taken else "error"
        )
    if report.taken:
        st.cache_resource.clear()
        st.rerun()
