"""Data shown as text: Streamlit reads almost every string a page gives it as Markdown.

In Streamlit 1.67 the body of st.markdown, st.caption, st.write, st.info/warning/error/
success, st.title/header/subheader and st.toast; the label, value and help of st.metric;
the label and `help` of every widget; expander, status, popover and tab labels; and
progress and spinner texts are GitHub-flavoured Markdown (with Streamlit's own
`:red[…]` and `:material/…:`). A provider, ICB, file or column name such as
`![x](http://host/x.png)` would be an image every visitor's browser fetches, and
`[x](javascript:…)` a live link. Every piece of data put into such a string goes
through `plain`. Selectbox and multiselect options, dataframe cells and column names,
st.text and st.code show text as it is and need nothing.

`plain` backslash-escapes what Markdown reads as markup (CommonMark shows `\\x` as `x`
for any ASCII punctuation), and leaves ordinary punctuation alone, so a sentence reads
the same in the page's source as on screen. A web or e-mail address gets an invisible
word joiner after its `://`, `www` or `@`, so it is not made a link either.
"""

from __future__ import annotations

import re

# Markup anywhere in a line: emphasis, code, links and images, HTML and autolinks,
# strikethrough, maths, table cells, backslashes; entities (&lt;); a colon that would open
# Streamlit's :color[…] or :material/…: or an :emoji: code; underscores, except inside a
# word (site_name), where CommonMark never reads them as emphasis.
_INLINE = re.compile(r"[\\`*\[\]<>~$|]|&(?=#?\w+;)|:(?=\w)|(?<![^\W_])_+|_+(?![^\W_])")
# GitHub's bare links (http://…, www.…, name@host) are made from the text after escapes
# are read, so no escape stops them: an invisible word joiner breaks what starts one.
_BARE_LINK_STARTS = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"
# Markup at the start of a line: headings, quotes, list items, setext underlines, and an
# indent that would make a code block (a paragraph shows no indent anyway).
_LINE_START = re.compile(r"^[ \t]*([#>+=-]|\d+(?=[.)]))?", re.MULTILINE)


def plain(value: object) -> str:
    """`value` as Markdown that shows exactly its text: no link, image, emphasis, HTML or
    heading, whatever characters it holds."""
    text = _INLINE.sub(_escape_each, _BARE_LINK_STARTS.sub(WORD_JOINER, str(value)))
    return _LINE_START.sub(_escape_line_start, text)


def _escape_each(match: re.Match) -> str:
    return "".join("\\" + char for char in match.group(0))


def _escape_line_start(match: re.Match) -> str:
    marker = match.group(1) or ""
    if marker[:1].isdigit():  # '1.' opens an ordered list: escape the full stop instead
        return marker + "\\"
    return "\\" + marker if marker else ""
