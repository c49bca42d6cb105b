"""Upload: check a provider list, engagement list or boundary file row by row, then publish it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from geo.geocode import offline as geocode
from geo.io import exports, recognise
from geo.model import errors, sectors
from geo.model.errors import InputError
from geo.model.text import counted
from geo.publish import mapping, publishing, validation
from pages import (
    _access,
    _frame,
    _publish_engagement,
    _publish_sites,
    _state,
    _text,
    _upload_errors,
)
from pages._upload_errors import attempt, show

_frame.require_frame()
analyst = _access.require_analyst()  # everyone else is refused here, even by URL

KINDS = {"Provider list": "sites", "Engagement list": "engagement", "Boundary file": "boundaries"}
GEOCODERS = {"No": None, "Offline (ONSPD file)": "offline", "Online (postcodes.io)": "online"}
FILE_SECTORS = {"from the file": None, **{s: s for s in sectors.SECTORS if s != sectors.UNKNOWN}}


def on_local_copy(upload, action):
    """`action(path)` on the upload written to a temporary folder that is removed straight after."""
    with tempfile.TemporaryDirectory(prefix="ics-upload-") as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        return action(path)


def recognised(upload, kind: str, fmt: str | None = None) -> publishing.Recognised | None:
    """What the upload is, or is said to be (`fmt`), worked out once per file and format."""
    cached = st.session_state.get("upload-recognised", {})
    cached = {key: found for key, found in cached.items() if key[0] == upload.file_id}
    key = (upload.file_id, kind, fmt)
    if key not in cached:
        read = lambda p: publishing.recognise_upload(p, kind, fmt)  # noqa: E731
        found, problem = attempt(on_local_copy, upload, read, kind=kind)
        if problem is not None:
            show(problem)
            return None
        cached[key] = found
    st.session_state["upload-recognised"] = cached
    return cached[key]


def read_as(upload, found: publishing.Recognised) -> publishing.Recognised | None:
    """The provider list as the recognised format, unless the user picks another to read it as."""
    formats = list(recognise.SITE_FORMATS)
    fmt = st.selectbox(
        _upload_errors.READ_AS_LABEL, formats, formats.index(found.fmt), format_func=publishing.site_format_label,
        key=f"upload-format-{upload.file_id}",
    )  # fmt: skip
    return found if fmt == found.fmt else recognised(upload, "sites", fmt)


def within_limit(upload) -> bool:
    """Whether the upload is within ICS_UPLOAD_LIMIT_MB; if not, say so."""
    try:
        validation.check_upload_size(upload.size, upload.name)
    except InputError as error:
        show(_upload_errors.Problem(str(error), _upload_errors.fix_for(errors.FILE)))
        return False
    return True


def column_choices(raw, file_id: str) -> dict[str, str]:
    """A selectbox per column the app knows, pre-filled from the suggestions and their reasons."""
    suggested, reasons = mapping.suggest_columns(raw), mapping.explain_suggestions(raw)
    options, cells, chosen = ["(none)", *map(str, raw.columns)], st.columns(4), {}
    for n, field in enumerate(mapping.FIELDS):
        index = options.index(suggested.get(field, "(none)"))
        key, why = f"map-{file_id}-{field}", reasons.get(field)
        picked = cells[n % 4].selectbox(
            _text.plain(field), options, index, key=key, help=_text.plain(why) if why else None
        )
        chosen.update({field: picked} if picked != "(none)" else {})
    st.caption(
        _text.plain(" · ".join(reasons.values())) or "No column was recognised: choose them above."
    )
    st.dataframe(raw, hide_index=True, height=220)
    return chosen


def show_report(prepared: publishing.Prepared) -> None:
    """Counts that add up, every row with its status and reason, and the downloads."""
    labels = {"accepted": "Accepted", "warned": "With warnings", "rejected": "Rejected"}
    for column, (key, label) in zip(st.columns(3), labels.items(), strict=True):
        column.metric(_text.plain(label), f"{prepared.counts[key]:,}")
    st.caption(_text.plain(prepared.summary()))
    for note in prepared.notes:
        st.info(_text.plain(note))
    if prepared.report is None:
        st.dataframe(prepared.table.drop(columns="geometry", errors="ignore"), hide_index=True)
        return
    rows, stem = prepared.report.rows, Path(prepared.file_name).stem
    shown = st.multiselect("Show rows", validation.STATUSES, validation.STATUSES, key="upload-show")
    st.dataframe(rows[rows["status"].isin(shown)], hide_index=True)
    rejected = validation.rejected_csv(prepared.report)
    left, right = st.columns(2)
    left.download_button("Download the rejected rows (CSV)", rejected, f"{stem}_rejected.csv")
    right.download_button(
        "Download the full report (CSV)", exports.csv_bytes(rows), f"{stem}_report.csv"
    )


st.title("Upload data")
if "upload-published" in st.session_state:
    st.success(_text.plain(st.session_state.pop("upload-published")))
kind = KINDS[st.radio("What are you uploading?", list(KINDS), key="upload-kind", horizontal=True)]
types, limit = list(publishing.UPLOAD_TYPES[kind]), publishing.upload_limit_mb()
if kind == "engagement" and _publish_engagement.editing(analyst):
    st.stop()  # marking providers in the app, not uploading
upload = st.file_uploader(
    _upload_errors.FILE_LABEL, types, key=f"upload-file-{kind}", max_upload_size=limit
)
st.page_link("pages/versions.py", label="Published versions and reverting", icon="🕘")
if upload is None or not within_limit(upload):
    st.stop()
found = recognised(upload, kind)
if found is None:
    st.stop()
st.write(f"**{_text.plain(upload.name)}**: recognised as {_text.plain(found.label)}.")
if kind == "sites":
    found = read_as(upload, found)
    if found is None:
        st.stop()
options = {"sniffed": found.sniffed}  # what recognition found: the file is not sniffed again
if kind == "boundaries":
    options["vintage"] = st.text_input(_upload_errors.VINTAGE_LABEL, key="upload-vintage") or None
if found.fmt == "nhs_ods":
    reports = list(recognise.NHS_ODS_REPORTS)
    options["ods_report"] = st.selectbox("NHS ODS report", reports, None, placeholder="by name")
if kind == "sites":
    if found.preview is not None:
        options["columns"] = column_choices(found.preview, upload.file_id)
    sector = st.selectbox(
        "Sector for every row", list(FILE_SECTORS), key=f"upload-sector-{upload.file_id}",
        help="Keep the sectors the file gives, or set one sector for the whole file "
        "(recorded as sector_rule set_for_file).",
    )  # fmt: skip
    options["sector_for_file"] = FILE_SECTORS[sector]
    geocoder = st.radio(_upload_errors.GEOCODE_LABEL, list(GEOCODERS), key="upload-geocode")
    choice = GEOCODERS[geocoder]
    default = str(geocode.postcode_file_from_settings() or "")
    onspd = (
        st.text_input(_upload_errors.ONSPD_LABEL, default, key="upload-onspd")
        if choice == "offline"
        else None
    )
    options.update(geocode=choice, postcode_file=onspd or None)
if st.button("Check the file", key="upload-check", type="primary"):
    st.session_state.pop("upload-prepared", None)
    with st.status("Checking the file…", expanded=True) as status:
        bar = st.progress(0.0)
        options["progress"] = lambda step, share: bar.progress(
            min(share, 1.0), text=_text.plain(step)
        )
        options["store"] = _state.store()  # an engagement list is matched to its provider list
        check = lambda p: publishing.prepare(p, kind, **options)  # noqa: E731
        prepared, problem = attempt(on_local_copy, upload, check, kind=kind)
        done = (
            ("Checked", "complete")
            if prepared
            else ("The file cannot be used: see why below", "error")
        )
        status.update(label=_text.plain(done[0]), state=done[1], expanded=prepared is not None)
    st.session_state["upload-prepared"] = (upload.file_id, kind, prepared, problem)
file_id, checked_kind, prepared, problem = st.session_state.get(
    "upload-prepared", (None, None, None, None)
)
if (file_id, checked_kind) != (upload.file_id, kind):
    st.stop()  # not checked yet, or checked before another file or kind was chosen
if problem is not None:
    show(problem)  # kept on screen while the user changes the choices above
    st.stop()
show_report(prepared)
if prepared.table.empty:
    st.warning(_text.plain(publishing.nothing_to_publish(prepared)))
    st.warning(_text.plain(_upload_errors.fix_for(errors.FILE, kind)))
    st.stop()
if kind == "sites":
    _publish_sites.offer(prepared, analyst)  # add a new provider source or replace one
    st.stop()
if kind == "engagement":
    prepared = _publish_engagement.review(prepared)
dataset = st.text_input(
    _upload_errors.DATASET_LABEL, prepared.dataset, key=f"dataset-{prepared.checksum}"
)
by = _access.audit_identity(analyst)
if st.button("Publish", key="upload-publish", type="primary"):
    store = _state.store()
    version, problem = attempt(publishing.publish, prepared, store, by=by, dataset=dataset)
    if problem is not None:
        show(problem)
    else:
        del st.session_state["upload-prepared"]
        st.session_state["upload-published"] = (
            f"Published {version.dataset} version {version.version} ({counted(version.rows, 'row')}) by "
            f"{version.author}. Every page now uses it."
        )
        st.rerun()
