"""The upload page's provider-list publishing: add a new source or replace one, see what changes, publish."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from geo.model import access
from geo.model.errors import InputError
from geo.publish import changes, publishing
from geo.store.versions import DEFAULT_SOURCE
from pages import _access, _state, _text, _upload_errors

ACTIONS = {"Add a new source": changes.ADD, "Replace a source": changes.REPLACE}


def offer(prepared: publishing.Prepared, analyst: access.Identity) -> None:
    """Ask which source the checked list is, show what publishing it changes, then publish."""
    store = _state.store()
    known = store.sources()["source"].tolist()
    action = ACTIONS[
        st.radio(
            "Publish as", list(ACTIONS), key="upload-source-action", horizontal=True,
            help="Every page shows the union of all provider sources, the same site merged.",
        )
    ]  # fmt: skip
    if action == changes.REPLACE and not known:
        st.info("There is no provider source to replace yet: add this list as a new source.")
        return
    if action == changes.ADD:
        source = st.text_input(
            "Source name", _suggested_name(prepared.file_name, known), key="upload-source-name",
            help="Lower-case letters, digits and '-', e.g. cqc-directory or community-services-team.",
        ).strip()  # fmt: skip
    else:
        source = st.selectbox("Source to replace", known, key="upload-source-replace")
    chosen = _state.guarded(
        changes.check_source_choice, store, source, action, failure="The source cannot be used."
    )
    if chosen is None:
        return
    preview = _state.guarded(
        _changes, prepared, prepared.checksum, chosen, _state.current_vintage(), _state.fingerprint(),
        failure="The changes could not be worked out.",
    )  # fmt: skip
    if preview is None:
        return
    show_changes(preview, chosen, action)
    by = _access.audit_identity(analyst)
    if st.button("Publish", key="upload-publish", type="primary"):
        version, problem = _upload_errors.attempt(
            publishing.publish, prepared, store, by=by, source=chosen
        )
        if problem is not None:
            _upload_errors.show(problem)
        else:
            del st.session_state["upload-prepared"]
            verb = "Added provider source" if action == changes.ADD else "Replaced provider source"
            st.session_state["upload-published"] = (
                f"Published {version.dataset} version {version.version} ({version.rows:,} rows) "
                f"by {version.author}: {verb.lower()} {chosen}. Every page now shows "
                f"{preview.sites_after:,} sites from {_count_sources(store)}."
            )
            st.rerun()


def show_changes(preview: changes.SourceChanges, source: str, action: str) -> None:
    """Before publishing: the sites everyone would see added, removed and changed, per ICB."""
    st.subheader(_text.plain(f"What publishing {source} changes"))
    st.markdown(
        _text.plain(
            f"Every page shows {preview.sites_before:,} sites now and would show "
            f"{preview.sites_after:,}: {preview.added:,} added, {preview.removed:,} removed, "
            f"{preview.changed:,} changed"
            + (" (adding a source removes nothing)" if action == changes.ADD else "")
            + "."
        )
    )
    if preview.by_icb.empty:
        st.info("Nothing would change.")
        return
    st.dataframe(preview.by_icb, hide_index=True)


@st.cache_data(max_entries=4, show_spinner="Comparing with what every page shows now…")
def _changes(
    _prepared: publishing.Prepared,
    checksum: str,
    source: str,
    vintage: str | None,
    fingerprint: str,
) -> changes.SourceChanges:
    """The change preview, once per checked file (its checksum), source and store state."""
    del checksum, fingerprint  # the cache key: the file and the store as they are now
    return changes.source_changes(_state.store(), source, _prepared.table, vintage)


def _suggested_name(file_name: str, known: list[str]) -> str:
    """The default source's name for the first list, else one from the file name
    ('CQC Directory.csv' -> 'cqc-directory')."""
    if not known:
        return DEFAULT_SOURCE
    slug = re.sub(r"[^a-z0-9]+", "-", Path(file_name).stem.casefold()).strip("-")[:40].strip("-")
    return slug if slug and slug not in known else ""


def _count_sources(store) -> str:
    try:
        count = len(store.sources())
    except InputError:
        return "the sources"
    return f"{count} source" + ("" if count == 1 else "s")
