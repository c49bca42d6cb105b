"""Problems that stop an upload, shown in the open: what is wrong and which box on the
page puts it right, kept on screen while the user changes their choices."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

import streamlit as st

from geo.model import errors
from geo.model.errors import InputError
from geo.model.redaction import redact
from pages import _text

_log = logging.getLogger(__name__)

# The labels of the boxes the fixes point at; the page's widgets use the same constants.
FILE_LABEL = "File"
READ_AS_LABEL = "Read as"
GEOCODE_LABEL = "Place rows without coordinates by postcode?"
ONSPD_LABEL = "ONSPD/NSPL file"
VINTAGE_LABEL = "Vintage (year)"
DATASET_LABEL = "Publish as dataset"
AUTHOR_LABEL = "Your name, for the audit log"
# Which box on the upload page fixes each kind of problem geo names (errors.CONTROLS).
FIXES: dict[str, str] = {
    errors.FILE: f"To fix it: choose a corrected file in the '{FILE_LABEL}' box above.",
    errors.COLUMNS: "To fix it: choose the columns again in the column boxes above.",
    errors.POSTCODE_FILE: (
        f"To fix it: enter the path of an ONSPD or NSPL file in the '{ONSPD_LABEL}' box above, "
        f"or choose another answer to '{GEOCODE_LABEL}'."
    ),
    errors.VINTAGE: f"To fix it: enter the boundaries' year in the '{VINTAGE_LABEL}' box above.",
    errors.DATASET: f"To fix it: change the name in the '{DATASET_LABEL}' box below.",
    errors.AUTHOR: f"To fix it: enter your name in the '{AUTHOR_LABEL}' box below.",
}
_SITES_FILE_FIX = (
    f"To fix it: choose a corrected file in the '{FILE_LABEL}' box above, or another format "
    f"in the '{READ_AS_LABEL}' box."
)
UNEXPECTED = "Something went wrong and nothing was published; the details below may help support."


@dataclass(frozen=True)
class Problem:
    """Why an upload stopped, how to put it right, and (for a fault) the details."""

    message: str
    fix: str
    details: str = ""


def attempt(action, *args, control: str = errors.FILE, kind: str = "", **kwargs):
    """(the action's result, None), or (None, the Problem that stopped it): a fault is
    logged in full on the server and never shown as a traceback."""
    try:
        return action(*args, **kwargs), None
    except InputError as error:
        return None, Problem(str(error), fix_for(error.control or control, kind))
    except Exception as error:
        _log.error("%s\n%s", UNEXPECTED, redact(traceback.format_exc()))
        details = redact(f"{type(error).__name__}: {error}")
        return None, Problem(UNEXPECTED, fix_for(control, kind), details)


def fix_for(control: str, kind: str = "") -> str:
    """The sentence naming the box that fixes a problem of this control."""
    if control == errors.FILE and kind == "sites":
        return _SITES_FILE_FIX
    return FIXES[control]


def show(problem: Problem) -> None:
    """The problem, expanded: its message, the box that fixes it, any details."""
    st.error(_text.plain(problem.message) + "\n\n" + _text.plain(problem.fix), icon="⛔")
    if problem.details:
        st.code(problem.details, language=None)
