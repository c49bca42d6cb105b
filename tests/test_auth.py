"""Sign-in and roles: who is an analyst, what a viewer is refused, and the safe defaults.

The rules and the server-side check are plain functions (`geo.model.access`,
`geo.publish.publishing`); the pages are run with AppTest, which takes the `[auth]`
secrets and the signed-in user's claims (`AppTest.user`, what `st.user` reads) directly.
The real sign-in, against a local issuer in a browser, is tests/test_auth_browser.py.
"""

from __future__ import annotations

import ast
import os
import time

import pytest
import streamlit as st
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from geo.model import access
from geo.publish import publishing
from geo.store.versions import open_store
from tests.factories import CQC_FIXTURE, PROJECT_DIR, run_cli

pytestmark = pytest.mark.usefixtures("apptest_runs_like_a_served_app")
DASHBOARD = str(PROJECT_DIR / "dashboard.py")
RULES = access.RoleRules(
    analysts=("ana@trust.nhs.uk", "@analytics.nhs.uk", "group:ics-analysts"),
    viewers=(),
    groups_claim="groups",
)
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "not-used-by-apptest-but-required",
    "client_id": "ics",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}
VIEWER = {
    "is_logged_in": True,
    "name": "Vera Viewer",
    "email": "vera@trust.nhs.uk",
    "email_verified": True,
    "groups": ["everyone"],
}
ANALYST = {**VIEWER, "name": "Ana Analyst", "email": "ana@trust.nhs.uk"}
STRANGER = access.Identity("Vera Viewer", "vera@trust.nhs.uk", access.VIEWER, access.SIGNED_IN)


def claims(email: str, *groups: str, verified: bool = True) -> dict:
    return {"email": email, "email_verified": verified, "groups": list(groups), "name": "X"}


# --- roles from the settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "role"),
    [
        (claims("ana@trust.nhs.uk"), access.ANALYST),  # her e-mail
        (claims("ANA@Trust.NHS.uk"), access.ANALYST),  # e-mail addresses ignore case
        (claims("bob@analytics.nhs.uk"), access.ANALYST),  # the domain
        (claims("bob@sub.analytics.nhs.uk"), access.VIEWER),  # a domain is not its subdomains
        (claims("carl@elsewhere.org", "ics-analysts"), access.ANALYST),  # the group
        (claims("dee@trust.nhs.uk", "other"), access.VIEWER),  # none of them
    ],
)
def test_analysts_are_named_by_e_mail_domain_or_group_and_everyone_else_views(token, role):
    assert access.role_for(token, RULES) == role


def test_an_unverified_e_mail_counts_for_no_rule_but_a_group_still_does():
    assert access.role_for(claims("ana@trust.nhs.uk", verified=False), RULES) == access.VIEWER
    token = claims("ana@trust.nhs.uk", "ics-analysts", verified=False)
    assert access.role_for(token, RULES) == access.ANALYST


def test_a_viewers_list_gives_everyone_else_no_access_and_analysts_always_view():
    rules = access.RoleRules(RULES.analysts, ("@trust.nhs.uk",), "roles")
    assert access.role_for(claims("dee@trust.nhs.uk"), rules) == access.VIEWER
    assert access.role_for(claims("eve@gmail.com"), rules) is None
    assert access.role_for(claims("bob@analytics.nhs.uk"), rules) == access.ANALYST
    # groups come from the claim the rules name (here `roles`), one value or a list
    assert access.role_for({"email": "x@y.org", "roles": "ICS-Analysts"}, rules) == "analyst"
    assert access.role_for({"email": "x@y.org", "groups": ["ics-analysts"]}, rules) is None


def test_the_role_rules_are_read_from_the_settings(monkeypatch):
    monkeypatch.setenv("ICS_ANALYSTS", " ana@trust.nhs.uk; group:ICS-Analysts ,")
    monkeypatch.setenv("ICS_GROUPS_CLAIM", "roles")
    rules = access.RoleRules.from_settings()
    assert rules == access.RoleRules(("ana@trust.nhs.uk", "group:ics-analysts"), (), "roles")


def test_an_id_token_past_its_exp_or_without_one_has_expired():
    now = time.time()
    assert not access.expired({"exp": int(now) + 60}, now)
    assert access.expired({"exp": int(now) - 1}, now)
    assert access.expired({}, now)
    assert access.expired({"exp": "tomorrow"}, now)


def test_the_audit_log_records_name_and_e_mail_when_signed_in_and_the_name_otherwise():
    signed_in = access.signed_in_identity(claims("ana@trust.nhs.uk"), RULES)
    assert signed_in.author == "X <ana@trust.nhs.uk>"
    assert access.local_user("ana").author == "ana"
    assert access.operating_system_user("root").author == "root"


@pytest.mark.parametrize(
    ("bind", "visitor", "headers", "beyond"),
    [
        ("127.0.0.1", None, {}, False),
        ("localhost", None, {}, False),
        ("::1", None, {}, False),
        ("", None, {}, False),  # unset: the visitor decides
        ("0.0.0.0", None, {}, True),  # noqa: S104 - the case under test
        ("127.0.0.1", "10.1.2.3", {}, True),
        ("127.0.0.1", None, {"X-Forwarded-For": "10.1.2.3"}, True),  # a proxy on this machine
    ],
)
def test_serving_beyond_this_machine_is_seen_in_the_address_the_visitor_or_a_proxy(
    bind, visitor, headers, beyond
):
    assert access.reaches_beyond_this_machine(bind, visitor, headers) is beyond


# --- the server-side check where data is written ---------------------------------------------------


@pytest.fixture
def prepared(data_dir, fixtures_dir) -> publishing.Prepared:
    return publishing.prepare(fixtures_dir / CQC_FIXTURE, "sites")


def test_publishing_as_a_viewer_is_refused_where_it_writes_and_writes_nothing(prepared):
    with open_store() as store:
        with pytest.raises(access.NotAllowed, match=r"vera@trust.nhs.uk> is a viewer, so may not"):
            publishing.publish(prepared, store, by=STRANGER)
        assert store.datasets().empty


def test_reverting_as_a_viewer_is_refused_and_the_current_version_stays(prepared):
    analyst = access.signed_in_identity(ANALYST, RULES)
    with open_store() as store:
        publishing.publish(prepared, store, by=analyst)
        publishing.publish(prepared, store, by=analyst)
        with pytest.raises(access.NotAllowed, match="may not revert"):
            publishing.revert(store, "sites", 1, by=STRANGER)
        assert store.current_version("sites") == 2
        assert store.versions("sites")["author"].tolist() == [analyst.author] * 2


def test_an_identity_without_access_may_not_publish_either(prepared):
    nobody = access.Identity("Eve", "eve@gmail.com", None, access.SIGNED_IN)
    with open_store() as store, pytest.raises(access.NotAllowed, match="not given access"):
        publishing.publish(prepared, store, by=nobody)


def test_no_page_writes_to_the_store_except_through_the_checked_publishing_functions():
    """A page calling store.publish/revert/withdraw itself would skip the role check."""
    direct = []
    for path in sorted((PROJECT_DIR / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            through = node.func.value
            if node.func.attr in {"publish", "revert", "withdraw"} and not (
                isinstance(through, ast.Name) and through.id == "publishing"
            ):
                direct.append(f"{path.name}:{node.lineno}")
    assert direct == []


def test_the_command_line_records_the_operating_system_user_and_says_so(data_dir, prepared):
    operator = access.operating_system_user("someone")
    with open_store() as store:
        publishing.publish(prepared, store, by=operator)
        publishing.publish(prepared, store, by=operator)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ICS_AUTHOR"}}
    env.update(ICS_DATA_DIR=str(data_dir), USER="opsuser", LOGNAME="opsuser")
    result = run_cli("revert", "--dataset", "sites", "--version", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "by opsuser (the operating-system user; the command line does not sign in)" in (
        result.stdout
    )


# --- the pages, signed in or not ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_app(monkeypatch):
    """No author or role settings from the environment, and no cached store."""
    for name in ("ICS_AUTHOR", "ICS_ANALYSTS", "ICS_VIEWERS", "ICS_ALLOW_OPEN_NETWORK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ICS_ANALYSTS", "ana@trust.nhs.uk")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def visit(user: dict | None, page: str | None = None, *, auth: bool = True) -> AppTest:
    """A visitor with these claims (None: not signed in) opening the app, then `page`."""
    app = AppTest.from_file(DASHBOARD, default_timeout=120)
    if auth:
        app.secrets["auth"] = AUTH
    app.user = user if user is not None else {"is_logged_in": False}
    app.run()
    if page is not None:
        app.switch_page(f"pages/{page}.py")
        app.run()
    return app


def signed_in(user: dict) -> dict:
    return {**user, "exp": int(time.time()) + 3600}


def texts(app: AppTest) -> str:
    shown = [
        e.value for kind in ("title", "markdown", "caption", "error", "info") for e in app.get(kind)
    ]
    return " ".join(str(value) for value in shown).replace("\u2060", "").replace("\\", "")


def test_a_visitor_not_signed_in_gets_only_the_sign_in_page(data_dir):
    app = visit(None)
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]
    assert "Sign in with your organisation account" in texts(app)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/upload.py")


def test_named_providers_get_a_button_each(data_dir):
    app = AppTest.from_file(DASHBOARD, default_timeout=60)
    shared = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"]}
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    app.secrets["auth"] = {**shared, "entra": provider, "okta": provider}
    app.user = {"is_logged_in": False}
    app.run()
    assert [b.label for b in app.button] == ["Sign in with entra", "Sign in with okta"]


def test_an_expired_sign_in_shows_the_sign_in_page_again(data_dir):
    app = visit({**ANALYST, "exp": int(time.time()) - 5})
    assert "Your session has ended" in texts(app)
    assert [b.label for b in app.button] == ["Sign in"]


def test_a_viewer_is_refused_the_analyst_pages_by_url(data_dir):
    for page in ("upload", "versions"):
        app = visit(signed_in(VIEWER), page)
        assert not app.exception
        assert "This page is for analysts; you are signed in as Vera Viewer" in texts(app)
        assert not app.get("file_uploader")
        assert "Revert" not in " ".join(b.label for b in app.button)


def test_a_viewer_cannot_publish_with_a_checked_file_planted_in_session_state(data_dir, prepared):
    """What a rerun trick could plant: a checked file, a publish click and an analyst's role."""
    app = AppTest.from_file(DASHBOARD, default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = signed_in(VIEWER)
    app.run()
    app.session_state["upload-prepared"] = ("file", "sites", prepared)
    app.session_state["upload-publish"] = True
    app.session_state["role"] = access.ANALYST
    app.session_state["author"] = "Ana Analyst <ana@trust.nhs.uk>"
    app.switch_page("pages/upload.py")
    app.run()
    assert "This page is for analysts" in texts(app)
    with open_store() as store:
        assert store.datasets().empty


def test_a_signed_in_user_left_out_of_the_viewers_list_has_no_access(data_dir, monkeypatch):
    monkeypatch.setenv("ICS_VIEWERS", "@other.nhs.uk")
    app = visit(signed_in(VIEWER))
    assert "who is not given access to this app" in texts(app)
    assert [b.label for b in app.button] == ["Sign out"]


def test_an_analyst_publishes_as_the_signed_in_identity_without_typing_a_name(
    data_dir, fixtures_dir
):
    app = visit(signed_in(ANALYST), "upload")
    content = (fixtures_dir / CQC_FIXTURE).read_bytes()
    app.file_uploader(key="upload-file-sites").set_value((CQC_FIXTURE, content, "text/csv"))
    app.run()
    app.button(key="upload-check").click().run()
    assert "The audit log records you as Ana Analyst <ana@trust.nhs.uk> (signed in)" in texts(app)
    assert "author" not in [box.key for box in app.text_input]
    app.button(key="upload-publish").click().run()
    assert not app.exception
    with open_store() as store:
        assert store.versions("sites")["author"].tolist() == ["Ana Analyst <ana@trust.nhs.uk>"]


def test_without_sign_in_the_analyst_pages_say_they_are_in_single_user_local_mode(data_dir):
    app = visit(None, "upload", auth=False)
    assert "Single-user local mode" in texts(app)
    assert not app.exception


@pytest.fixture
def bound_to_every_interface():
    """As if started with --server.address 0.0.0.0 (put back afterwards)."""
    before = streamlit_config.get_option("server.address")
    streamlit_config.set_option("server.address", "0.0.0.0")  # noqa: S104 - the case under test
    yield
    streamlit_config.set_option("server.address", before)


@pytest.mark.usefixtures("bound_to_every_interface")
def test_without_sign_in_serving_other_machines_is_refused_unless_allowed_then_a_banner(
    data_dir, monkeypatch
):
    refused = visit(None, auth=False)
    assert "serves only the machine it runs on" in texts(refused)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        refused.switch_page("pages/upload.py")
    monkeypatch.setenv("ICS_ALLOW_OPEN_NETWORK", "true")
    opened = visit(None, "versions", auth=False)
    assert "open to other machines without sign-in" in opened.warning[0].value
    assert opened.title[0].value == "Published versions"
