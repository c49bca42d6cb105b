"""The engagement part of the upload page: a list's match report, with near misses to
accept one by one, and the editor where an analyst marks one ICB's providers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from geo.analysis.engagement import EDIT_NOTE, EDITED_ON
from geo.model import access, errors
from geo.model.providers import PLANNING_STATUSES
from geo.publish import engagement_edits, engagement_review, publishing
from geo.publish.engagement_review import APPROXIMATE, EXACT, NOT_IV, UNMATCHED
from pages import _access, _state, _text, _upload_errors

UPLOAD, EDIT = "Upload a list (CSV or XLSX)", "Mark providers in the app"
# The report's columns as the page shows them, per kind of match.
_SHOWN = ["row", "provider_id", "provider_name", "planning_status", "matched_provider_name",
          "score", "sites_matched", "sites_not_iv", "note"]  # fmt: skip
_KIND_LABELS = {
    EXACT: "Exact",
    APPROXIMATE: "Approximate",
    UNMATCHED: "Unmatched",
    NOT_IV: "Not independent or voluntary",
}


def editing(analyst: access.Identity) -> bool:
    """Whether the analyst chose to mark providers in the app (then the editor is shown)."""
    how = st.radio("How?", [UPLOAD, EDIT], key="engagement-how", horizontal=True)
    if how == EDIT:
        editor(analyst)
    return how == EDIT


def review(prepared: publishing.Prepared) -> publishing.Prepared:
    """The match report of a checked list, by kind; the list with the near misses ticked."""
    analysis = _state.load_analysis()
    if analysis is None:
        return prepared
    report = engagement_review.match_report(analysis.assigned, prepared.table)
    report["score"] = report["score"].round(1)
    st.subheader("How the list matches the providers")
    counts = engagement_review.kind_counts(report)
    for column, kind in zip(st.columns(4), engagement_review.MATCH_KINDS, strict=True):
        column.metric(_text.plain(_KIND_LABELS[kind]), f"{counts[kind]:,}")
    accepted = _near_misses(report[report["kind"] == APPROXIMATE], prepared.checksum)
    for kind in (UNMATCHED, NOT_IV, EXACT):
        rows = report[report["kind"] == kind]
        st.markdown(f"**{_text.plain(_KIND_LABELS[kind])}** ({len(rows):,})")
        st.dataframe(rows[_SHOWN], hide_index=True)
    table = engagement_review.accept_matches(prepared.table, report, accepted)
    return replace(prepared, table=table)


def _near_misses(rows: pd.DataFrame, checksum: str) -> list[int]:
    """The approximate matches with a tick each; the row numbers of those ticked."""
    st.markdown(f"**Approximate** ({len(rows):,}): tick each match that is right to apply it.")
    if rows.empty:
        return []
    shown = rows[_SHOWN].assign(accept=False)[["accept", *_SHOWN]]
    edited = st.data_editor(
        shown,
        key=f"engagement-accept-{checksum}",
        hide_index=True,
        disabled=_SHOWN,
        column_config={
            "accept": st.column_config.CheckboxColumn("Accept", default=False, width=70)
        },
    )
    return edited.loc[edited["accept"], "row"].astype(int).tolist()


def editor(analyst: access.Identity) -> None:
    """One ICB's independent and voluntary providers: mark each engaged or not, with a
    note and a date, and save the changes as the next engagement version."""
    analysis = _state.load_analysis()
    if analysis is None:
        return
    store = _state.store()
    if _state.current_pins().engagement is not None:
        st.warning("The sidebar shows an earlier engagement version; saving builds on the newest.")
    names = dict(zip(analysis.icbs["code"], analysis.icbs["name"], strict=True))
    icb = st.selectbox(
        "ICB", sorted(names, key=names.get), format_func=names.get, key="engagement-icb"
    )
    current = engagement_edits.current_list(store)
    before = engagement_edits.providers_of_icb(analysis.assigned, icb, current)
    if before.empty:
        st.info("No independent or voluntary provider has a site in this ICB.")
        return
    st.caption(
        "Each row is a provider with sites in this ICB. A status set here wins over the "
        "uploaded list's rows for its sites in this ICB; the date is today unless you give one."
    )
    version = store.current_version("engagement")
    after = st.data_editor(
        before, key=f"engagement-editor-{icb}-{version}", hide_index=True,
        disabled=["provider_id", "provider_name", "sites"], column_config=_EDITOR_COLUMNS,
    )  # fmt: skip
    changes = engagement_edits.changed_providers(before, after)
    by = _access.audit_identity(analyst)
    n = len(changes)
    if st.button(
        f"Save {n:,} change{'' if n == 1 else 's'} as a new engagement version",
        key="engagement-save", type="primary", disabled=changes.empty,
    ):  # fmt: skip
        saved, problem = _upload_errors.attempt(
            engagement_edits.publish_edits, store, changes, icb, by=by,
            today=date.today(), control=errors.AUTHOR,
        )  # fmt: skip
        if problem is not None:
            _upload_errors.show(problem)
            return
        st.session_state["upload-published"] = (
            f"Saved engagement version {saved.version} ({saved.rows:,} rows) by {saved.author}. "
            "Every page now uses it."
        )
        st.rerun()


# Fixed widths, so every column shows whole and a cell is where a person expects it.
_EDITOR_COLUMNS = {
    "provider_id": st.column_config.TextColumn("Provider ID", width=110),
    "provider_name": st.column_config.TextColumn("Provider", width=240),
    "sites": st.column_config.NumberColumn("Sites in this ICB", width=120),
    "planning_status": st.column_config.SelectboxColumn(
        "Planning status", options=list(PLANNING_STATUSES), required=True, width=140
    ),
    EDIT_NOTE: st.column_config.TextColumn("Note", width=180),
    EDITED_ON: st.column_config.DateColumn("Date", format="YYYY-MM-DD", width=120),
}
