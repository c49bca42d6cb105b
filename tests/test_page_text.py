"""Data on a page shows as text (pages/_text.py): never as a Markdown image, link or heading.

`plain` is checked by rendering its output with a CommonMark renderer (markdown-it-py),
and every page is scanned: a Streamlit call whose Markdown argument holds data that did
not go through `plain` fails the test, naming the file and line.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from geo import workspace
from geo.fetch import sources
from geo.model import access, providers
from geo.publish import publishing
from geo.store.versions import open_store
from pages._text import WORD_JOINER, plain
from tests.factories import PROJECT_DIR

IMAGE = "![x](http://127.0.0.1:1/x.png)"
SCRIPT_LINK = "[x](javascript:alert(1))"
_RENDERER = MarkdownIt("commonmark").enable(["strikethrough", "table"])
_MARKUP = re.compile(r"<(?!/?p>)[a-z][^>]*>")  # any element but the paragraph around text


def rendered(markdown: str) -> str:
    """The HTML a CommonMark renderer makes of `markdown`."""
    return _RENDERER.render(markdown)


def shown_text(markdown: str) -> str:
    """What a reader sees of `markdown`: its rendered text, tags removed, entities decoded,
    without the invisible word joiners that keep addresses from becoming links."""
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown)))
    return text.replace(WORD_JOINER, "").strip()


def markup_in(markdown: str) -> list[str]:
    """The HTML elements (other than paragraphs) `markdown` renders to."""
    return _MARKUP.findall(rendered(markdown))


HOSTILE = [
    IMAGE,
    SCRIPT_LINK,
    "<img src=x onerror=alert(1)>",
    "<http://127.0.0.1:1/x>",
    "**bold** *it* `code` ~~gone~~ $x^2$",
    "# Heading",
    "> quoted",
    "- item",
    "+ item",
    "1. item",
    "2) item",
    "Oak\n===",
    "Oak\n---",
    "a | b\n--|--\nc | d",
    ":red[Oak] :material/home: :smile:",
    "[x]: http://127.0.0.1:1/ref\n\n[x]",
    "\\[x](javascript:alert(1))",
    "&lt;img src=x&gt; &#60;b&#62;",
    "__init__ _it_ site_name",
    "Oak House\n\n    indented",
    "see http://127.0.0.1:1/x, HTTPS://127.0.0.1:1/y, www.example.org and oak@example.org",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_renders_as_exactly_that_text_and_no_markup(text):
    markdown = plain(text)

    assert markup_in(markdown) == []
    assert " ".join(shown_text(markdown).split()) == " ".join(text.split())


def test_web_and_email_addresses_are_kept_from_becoming_links_by_a_word_joiner():
    text = "see http://127.0.0.1:1/x, HTTPS://y, www.example.org and oak@example.org"

    assert plain(text).count(WORD_JOINER) == 4
    assert "://" not in plain(text)
    assert "www." not in plain(text).lower()


def test_ordinary_sentences_and_names_are_left_as_they_are():
    for text in ("ICB boundaries: 2024 vintage, 42 ICBs.", "site_name", "1,213 of 1,213 sites"):
        assert plain(text) == text


# --- every page passes data through plain --------------------------------------------------

# Streamlit 1.67 calls (by method name, whatever they are called on) and which of their
# arguments it renders as Markdown: positions, and keyword names.
_BODY = ((0,), ("body", "title", "help"))
_LABEL = ((0,), ("label", "help"))
MARKDOWN_ARGUMENTS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    **dict.fromkeys(
        ("markdown", "caption", "info", "warning", "error", "success", "title", "header",
         "subheader", "toast", "spinner"),
        _BODY,
    ),
    **dict.fromkeys(
        ("button", "download_button", "link_button", "page_link", "checkbox", "toggle",
         "selectbox", "multiselect", "slider", "select_slider", "text_input", "text_area",
         "number_input", "date_input", "time_input", "file_uploader", "color_picker",
         "camera_input", "audio_input", "form_submit_button", "popover", "expander", "status"),
        _LABEL,
    ),
    **dict.fromkeys(("radio", "pills", "segmented_control"), ((0, 1), ("label", "options", "help"))),
    "metric": ((0, 1, 2), ("label", "value", "delta", "help")),
    "write": ((), ()),  # every positional argument: see below
    "progress": ((1,), ("text",)),
    "tabs": ((0,), ("tabs",)),
    "update": ((), ("label",)),  # a status container's new label
    "cache_data": ((), ("show_spinner",)),
    "cache_resource": ((), ("show_spinner",)),
}  # fmt: skip
_NOT_STREAMLIT = {"_log", "log", "logging", "logger"}


def unescaped_arguments(source: str) -> list[tuple[int, str]]:
    """(line, call) for each Streamlit call given data for Markdown without `plain`."""
    found = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        name, receiver = call.func.attr, call.func.value
        if name not in MARKDOWN_ARGUMENTS or getattr(receiver, "id", None) in _NOT_STREAMLIT:
            continue
        positions, keywords = MARKDOWN_ARGUMENTS[name]
        given = [arg for index, arg in enumerate(call.args) if index in positions]
        given += [kw.value for kw in call.keywords if kw.arg in keywords]
        if name in ("radio", "pills", "segmented_control") and _formats_plainly(call):
            given = given[:1] + [kw.value for kw in call.keywords if kw.arg in ("label", "help")]
        if name == "write":
            given = list(call.args)
        if not all(_safe(arg) for arg in given):
            found.append((call.lineno, ast.unparse(call.func)))
    return found


def _formats_plainly(call: ast.Call) -> bool:
    """Whether a radio's options are shown through `format_func=plain` (or a safe lambda)."""
    for keyword in call.keywords:
        if keyword.arg == "format_func":
            value = keyword.value
            return _is_plain(value) or (isinstance(value, ast.Lambda) and _safe(value.body))
    return False


def _safe(node: ast.expr) -> bool:
    """Whether an argument can only hold our own words, numbers, or data through `plain`."""
    if isinstance(node, ast.Constant) or _is_constant_name(node):
        return True
    if isinstance(node, ast.Call):
        return _is_plain(node.func) or (
            getattr(node.func, "id", None) == "list" and all(map(_is_constant_name, node.args))
        )
    if isinstance(node, ast.JoinedStr):
        return all(_safe_part(part) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_safe(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_safe(element) for element in node.elts)
    return False


def _safe_part(part: ast.expr) -> bool:
    """Text of an f-string, a number with a format (`{n:,}`), or data through `plain`."""
    if isinstance(part, ast.Constant):
        return True
    if isinstance(part, ast.FormattedValue):
        return part.conversion == -1 and (part.format_spec is not None or _safe(part.value))
    return False


def _is_constant_name(node: ast.expr) -> bool:
    """A module's constant (KINDS, validation.STATUSES): our own words, named in capitals."""
    name = getattr(node, "attr", None) or getattr(node, "id", None)
    return isinstance(node, ast.Name | ast.Attribute) and bool(name) and name.isupper()


def _is_plain(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "plain") or (
        isinstance(func, ast.Name) and func.id == "plain"
    )


def page_sources() -> list[Path]:
    """dashboard.py and every module of pages/."""
    return [PROJECT_DIR / "dashboard.py", *sorted((PROJECT_DIR / "pages").glob("*.py"))]


def test_every_page_shows_data_in_markdown_only_through_plain():
    unescaped = [
        f"{path.relative_to(PROJECT_DIR)}:{line}: {call}(…)"
        for path in page_sources()
        for line, call in unescaped_arguments(path.read_text(encoding="utf-8"))
    ]

    assert unescaped == []


def test_the_page_scan_finds_data_given_to_markdown_and_accepts_it_through_plain():
    source = """
st.info(note.text)
st.subheader(f"{row['icb_name']}")
cells[0].metric("Sites", f"{count:,}", help=f"Basis: {basis}")
status.update(label=f"{verb} failed")
st.radio("Kind", list(kinds))
st.write(f"**{upload.name}**")
st.info(_text.plain(note.text))
st.subheader(_text.plain(row["icb_name"]))
cells[0].metric("Sites", f"{count:,}", help=f"Basis: {_text.plain(basis)}")
st.radio("Kind", list(KINDS))
st.radio("Kind", kinds, format_func=_text.plain)
st.write(f"**{_text.plain(upload.name)}**: {n:,} rows")
st.caption(_text.plain(" · ".join(reasons)) or "None recognised.")
st.dataframe(frame)
_log.error("failed: %s", detail)
"""
    assert [line for line, _ in unescaped_arguments(source)] == [2, 3, 4, 5, 6, 7]


# --- hostile data through the pages (AppTest) ----------------------------------------------

DASHBOARD = str(PROJECT_DIR / "dashboard.py")
WEST_YORKSHIRE = "E54000054"
LEEDS = {"lat": "53.80", "lon": "-1.55"}
_MARKDOWN_FIELDS = ("body", "label", "help", "text", "delta")  # what Streamlit renders


@pytest.fixture(autouse=True)
def _fresh_app():
    """No store or analysis cached by an earlier test's data folder."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def loaded(data_dir, shared_data, monkeypatch):
    """Real boundaries and lookups, loaded as an offline user would; no tiles fetched."""
    monkeypatch.setenv("ICS_MAP_TILES", "none")
    sources.fetch_from_dir(shared_data)
    return data_dir


def markdown_shown(app: AppTest) -> list[str]:
    """Every string the page hands Streamlit to render as Markdown, in page order."""
    found: list[str] = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        for field, value in proto.ListFields() if hasattr(proto, "ListFields") else ():
            if field.name in _MARKDOWN_FIELDS and isinstance(value, str):
                found.append(value)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(app._tree)
    return found


def assert_shown_as_text(app: AppTest, *texts: str) -> None:
    """No Markdown on the page renders to an image or a link, and each text is shown as it is."""
    shown = markdown_shown(app)
    tags = [tag for markdown in shown for tag in markup_in(markdown)]
    assert [tag for tag in tags if tag.startswith(("<img", "<a "))] == []
    for text in texts:
        assert any(text in shown_text(markdown) for markdown in shown), text


def publish_sites(*rows: dict) -> None:
    """A small provider list, published as the upload page would store it."""
    raw = pd.DataFrame(list(rows), dtype="string")
    sites = providers.to_canonical(raw, {}, source="test list").sites
    with open_store() as store:
        store.publish(
            workspace.SITES, workspace.SITES, sites, author="test", file_name="sites.csv",
            checksum="x", counts={"accepted": len(sites)},
        )  # fmt: skip


def page(name: str, **params: str) -> AppTest:
    """A visitor opening one page of the app from a URL with these query parameters."""
    app = AppTest.from_file(DASHBOARD, default_timeout=120)
    app.switch_page(f"pages/{name}.py")
    for key, value in {"vintage": "2024", **params}.items():
        app.query_params[key] = value
    return app.run()


def test_a_file_name_and_column_names_in_markdown_show_as_text_on_the_upload_page(data_dir):
    name = f"{SCRIPT_LINK}.csv"
    app = page("upload")
    content = f"{IMAGE},{SCRIPT_LINK},Postcode\nOak House,1,LS1 4AP\n".encode()
    app.file_uploader(key="upload-file-sites").set_value((name, content, "text/csv")).run()
    app.button(key="upload-check").click().run()

    assert not app.exception
    assert_shown_as_text(app, f"{name}: recognised as", f"columns found: {IMAGE}, {SCRIPT_LINK}")


def test_an_icb_named_in_markdown_heads_its_panel_as_text(loaded, shared_data, tmp_path):
    name = f"{IMAGE} {SCRIPT_LINK}"
    layer = gpd.read_file(shared_data / "icb_2024_04_from_lsoa21_bsc.geojson")
    layer.loc[layer["ICB24CD"] == WEST_YORKSHIRE, "ICB24NM"] = name
    layer.to_file(tmp_path / "icbs.geojson")
    with open_store() as store:
        prepared = publishing.prepare(tmp_path / "icbs.geojson", "boundaries")
        publishing.publish(prepared, store, by=access.operating_system_user("test"))

    app = page("explorer", selected_icb=WEST_YORKSHIRE)

    assert not app.exception
    assert app.subheader[0].value == plain(name)
    assert_shown_as_text(app, name)


def test_a_note_quoting_a_sub_icb_code_in_markdown_shows_as_text(loaded):
    code = IMAGE.upper()  # sub-ICB codes are read in capitals
    publish_sites({"site_id": "S1", "site_name": "Oak House", "official_sicbl_code": code, **LEEDS})

    app = page("home")

    assert not app.exception
    assert_shown_as_text(app, f"{code}: 1 site")  # in the note on codes the lookup cannot map


def test_names_with_control_characters_leave_the_icb_panel_and_its_downloads_working(loaded):
    name = "Oak\x0bHouse \u202eesuoH\x00"
    publish_sites(
        {"site_id": "S1", "site_name": name, "provider_name": "Elm\x0cCare", **LEEDS,
         "sector": "Independent", "planning_status": "not engaged"},
    )  # fmt: skip

    app = page("explorer", selected_icb=WEST_YORKSHIRE)

    assert not app.exception
    assert app.dataframe[0].value["Site"].tolist() == [name]  # shown under its human label
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download CSV", "Download XLSX"]
