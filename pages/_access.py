"""Who is using the app: Streamlit's OpenID Connect sign-in, roles, and the safe defaults.

With an `[auth]` section in `.streamlit/secrets.toml`, every visitor signs in
(`st.login`) and `st.user`'s claims become a `geo.model.access.Identity` on every run
(never kept in the session, so nothing a browser sends can change it). Without one the
app is in single-user local mode: it serves this machine only, unless
ICS_ALLOW_OPEN_NETWORK says otherwise, and then under a banner every visitor sees.
"""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from geo.model import access
from geo.publish import publishing
from pages import _text

LOCAL_MODE = (
    "Single-user local mode: sign-in is not configured, so this app serves this machine only "
    "and whoever uses it may publish; the audit log records the name typed below. "
    "See the README, 'Deployment with sign-in'."
)
OPEN_NETWORK_BANNER = (
    "⚠️ This app is open to other machines without sign-in (ICS_ALLOW_OPEN_NETWORK): anyone "
    "who can reach it may publish, revert and overwrite the data, and the audit log records "
    "whatever name they type."
)
REFUSED_OFF_MACHINE = (
    "This app is in single-user local mode (sign-in is not configured), so it serves only the "
    "machine it runs on. To serve others, configure sign-in (README, 'Deployment with "
    "sign-in'), or set ICS_ALLOW_OPEN_NETWORK=true to open it to everyone without sign-in."
)


def sign_in_configured() -> bool:
    """Whether secrets.toml has an `[auth]` section, so every visitor must sign in."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def visitor() -> access.Identity | None:
    """The visitor now: signed in (None when nobody is, or the token has expired), or the
    local user when sign-in is not configured. Read afresh from `st.user` on every run."""
    if not sign_in_configured():
        return access.local_user(publishing.default_author())
    claims = st.user.to_dict()
    if not claims.get("is_logged_in") or access.expired(claims, time.time()):
        return None
    return access.signed_in_identity(claims, access.RoleRules.from_settings())


def admit() -> access.Identity:
    """The visitor, once admitted: otherwise the sign-in page (or a refusal) is drawn as the
    app's only page and the run stops here. Draws the open-network banner when it applies."""
    if not sign_in_configured():
        return _admit_without_sign_in()
    who = visitor()
    if who is None:
        _only_page("Sign in", _sign_in_page)
    if who.role is None:
        _only_page("No access", lambda: _no_access_page(who))
    _signed_in_sidebar(who)
    return who


def require_analyst() -> access.Identity:
    """The analyst using this page; anyone else is refused here and the page stops.

    Every analyst page calls this first, so opening it by URL (even as a fresh server's
    first request, which Streamlit runs without the navigation) is refused too.
    """
    who = visitor()
    if who is None or not who.may(access.ANALYST):
        st.error(_text.plain(_refusal(who)))
        st.stop()
    if not who.signed_in:
        st.caption(f"🔓 {LOCAL_MODE}")
    return who


def audit_identity(who: access.Identity) -> access.Identity:
    """Who the audit log records: the signed-in identity, shown; in local mode, a typed name."""
    if who.signed_in:
        st.caption(_text.plain(f"The audit log records you as {who.author} (signed in)."))
        return who
    name = st.text_input("Your name, for the audit log", who.name, key="author")
    return replace(who, name=name)


def may_change_data() -> bool:
    """Whether the visitor is an analyst (downloading or loading official data is theirs)."""
    who = visitor()
    return who is not None and who.may(access.ANALYST)


def _admit_without_sign_in() -> access.Identity:
    """Local mode: this machine only, unless the open-network setting says otherwise."""
    ip = st.context.ip_address  # None from this machine; AppTest's stand-in is not a str
    beyond = access.reaches_beyond_this_machine(
        st.get_option("server.address"), ip if isinstance(ip, str) else None, st.context.headers
    )
    if beyond and not access.open_network_allowed():
        _only_page("Local mode", lambda: st.error(REFUSED_OFF_MACHINE))
    if access.open_network_allowed():
        st.warning(OPEN_NETWORK_BANNER)
    return access.local_user(publishing.default_author())


def _only_page(title: str, draw) -> None:
    """Make `draw` the app's only page (no navigation, whatever the URL), run it and stop."""
    st.navigation([st.Page(draw, title=title, url_path="welcome", default=True)], position="hidden")
    draw()
    st.stop()


def _sign_in_page() -> None:
    st.title("ICS Provider Map")
    st.write("Sign in with your organisation account to see the map.")
    claims = st.user.to_dict()
    if claims.get("is_logged_in"):
        st.info("Your session has ended (the sign-in has expired): sign in again.")
    for provider in _providers():
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(_text.plain(label), key=f"sign-in-{provider or 'default'}", type="primary"):
            st.login(provider)


def _no_access_page(who: access.Identity) -> None:
    st.title("ICS Provider Map")
    st.error(
        _text.plain(
            f"You are signed in as {who.author}, who is not given access to this app. "
            "Ask the app's administrator to add you (ICS_VIEWERS or ICS_ANALYSTS)."
        )
    )
    if st.button("Sign out", key="sign-out"):
        st.logout()


def _signed_in_sidebar(who: access.Identity) -> None:
    st.sidebar.caption(_text.plain(f"Signed in as {who.author} · {who.role}"))
    if st.sidebar.button("Sign out", key="sign-out"):
        st.logout()


def _providers() -> list[str | None]:
    """The named providers in `[auth]` (`[auth.NAME]` sections), or None for the one unnamed."""
    section = st.secrets["auth"]
    named = [
        name for name, value in section.items() if hasattr(value, "get") and "client_id" in value
    ]
    return named if named else [None]


def _refusal(who: access.Identity | None) -> str:
    """Why an analyst page is refused to this visitor, in one line."""
    if who is None:
        return "This page is for analysts: sign in first."
    held = f"a {who.role}" if who.role else "not given access"
    return (
        f"This page is for analysts; you are signed in as {who.author}, {held}, so it is refused."
    )
