"""Sign-in in real headless chromium: the app signed in against a local OpenID Connect issuer.

`geo.testing.oidc_issuer` serves discovery, JWKS, a sign-in form with a button per user
(a viewer, and an analyst by the `ics-analysts` group), tokens and sign-out on 127.0.0.1;
the app runs with an `[auth]` secrets file pointing at it and ICS_ANALYSTS naming that
group. A viewer and an analyst sign in by clicking through the issuer's form, as people
do. Screenshots go to test-artifacts/auth_*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from geo.store.versions import open_store
from geo.testing.app_server import AppDidNotStart, running_app
from geo.testing.headless import chromium
from geo.testing.oidc_issuer import ANALYST, CLIENT_ID, CLIENT_SECRET, VIEWER, serving_issuer
from tests.browser import require_browser, save_screenshot
from tests.factories import CQC_FIXTURE

pytestmark = pytest.mark.browser

COOKIE_SECRET = "a-test-cookie-secret-long-enough-for-hs256"
ANALYSTS_GROUP = "group:ics-analysts"
WAIT = 60_000  # ms: a first run starts Streamlit's script runner


@pytest.fixture(scope="module")
def issuer() -> Iterator:
    """The local identity provider; each app below registers its callback with it."""
    require_browser()
    with serving_issuer([]) as running:
        yield running


@pytest.fixture(scope="module")
def secrets_file(issuer, tmp_path_factory) -> Path:
    """An `[auth]` section for the issuer: Streamlit fills in `{port}` with the app's port."""
    path = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    path.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{issuer.base}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return path


@contextmanager
def signed_in_app(issuer, secrets_file: Path, folder: Path) -> Iterator[str]:
    """The app with sign-in on, its data in `folder`; its callback registered with the issuer."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"ICS_ANALYSTS": ANALYSTS_GROUP, "ICS_VIEWERS": ""}
    try:
        with running_app(
            folder, folder.parent / "streamlit.log", secrets_file=secrets_file, settings=settings
        ) as base:
            issuer.client.redirect_uris.append(f"{base}/oauth2callback")
            yield base
    except AppDidNotStart as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def app_data(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("auth-app") / "data"


@pytest.fixture(scope="module")
def app(issuer, secrets_file, app_data) -> Iterator[str]:
    """One app server with sign-in, shared by the tests that do not need a fresh one."""
    with signed_in_app(issuer, secrets_file, app_data) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def new_page(browser):
    """A new visitor (fresh cookies) that may reach only this machine."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/])(?!data:|blob:|about:)"), _abort)
    return context, context.new_page()


def _abort(route) -> None:
    route.abort()


def sign_in(page, base: str, user) -> None:
    """Click 'Sign in' in the app, then the user's button on the issuer's form."""
    page.goto(base)
    page.get_by_role("button", name="Sign in").click(timeout=WAIT)
    page.get_by_role("button", name=f"Sign in as {user.name}").click(timeout=WAIT)
    page.wait_for_url(re.compile(re.escape(base) + r"/?$"), timeout=WAIT)
    sidebar_text(page, f"Signed in as {user.name}")


def sidebar_text(page, text: str) -> str:
    """The sidebar's text once it shows `text`."""
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text(text, exact=False).first.wait_for(timeout=WAIT)
    return sidebar.inner_text()


def navigation(page) -> list[str]:
    """The page titles in the sidebar's navigation (without their icons)."""
    links = page.locator("[data-testid=stSidebarNav] a").all_inner_texts()
    return [link.splitlines()[-1].strip() for link in links]


def main_text(page, waiting_for: str) -> str:
    main = page.locator("[data-testid=stMain]")
    main.get_by_text(waiting_for, exact=False).first.wait_for(timeout=WAIT)
    return main.inner_text()


def test_an_unauthenticated_visitor_sees_only_the_sign_in_page(app, browser):
    context, page = new_page(browser)
    with closing(context):
        for path in ("/", "/explorer", "/upload", "/versions"):
            page.goto(app + path)
            text = main_text(page, "Sign in with your organisation account")
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
            assert navigation(page) == []
            assert "Upload data" not in text
            assert "Map explorer" not in text
        save_screenshot(page, "auth_sign_in_page")


def test_a_viewer_sees_no_analyst_pages_and_is_refused_them_by_url(app, browser):
    context, page = new_page(browser)
    with closing(context):
        sign_in(page, app, VIEWER)
        shown = sidebar_text(page, "viewer").replace("\u2060", "")  # plain() keeps e-mails unlinked
        assert f"Signed in as {VIEWER.name} <{VIEWER.email}> · viewer" in shown
        pages = navigation(page)
        assert "ICS gaps" in pages
        assert "Upload data" not in pages
        assert "Published versions" not in pages
        save_screenshot(page, "auth_viewer_home")
        for path in ("/upload", "/versions"):
            page.goto(app + path)
            text = main_text(page, "This page is for analysts")
            assert "so it is refused" in text
            assert page.locator("[data-testid=stFileUploader]").count() == 0
            assert page.get_by_role("button", name="Publish").count() == 0
            assert page.get_by_role("button", name=re.compile("Revert")).count() == 0
        save_screenshot(page, "auth_viewer_refused_versions")


def test_a_forged_identity_cookie_claiming_the_analyst_group_is_not_believed(app, browser):
    context, page = new_page(browser)
    with closing(context):
        forged = (
            '{"email": "vera.viewer@region.example.nhs.uk", "groups": ["ics-analysts"], '
            f'"is_logged_in": true, "provider": "default", "origin": "{app}", '
            f'"exp": {int(time.time()) + 3600}}}'
        )
        context.add_cookies([{"name": "_streamlit_user", "value": forged, "url": app}])
        page.goto(f"{app}/upload")
        main_text(page, "Sign in with your organisation account")
        assert page.locator("[data-testid=stFileUploader]").count() == 0


def test_on_a_fresh_server_a_viewers_first_request_for_upload_is_refused(
    issuer, secrets_file, browser, tmp_path
):
    """The viewer is signed in through Streamlit's HTTP routes alone (no script runs), so the
    server's first script run is /upload, which Streamlit runs in its old pages/ mode."""
    with signed_in_app(issuer, secrets_file, tmp_path / "data") as fresh:
        context, page = new_page(browser)
        with closing(context):
            context.add_cookies(_signed_in_cookies(fresh, VIEWER))
            page.goto(f"{fresh}/upload")
            text = main_text(page, "This page is for analysts")
            assert VIEWER.name in text
            assert page.locator("[data-testid=stFileUploader]").count() == 0
            save_screenshot(page, "auth_fresh_server_viewer_upload")


def _signed_in_cookies(base: str, user) -> list[dict]:
    """Sign `user` in through Streamlit's /auth/login and /oauth2callback and the issuer's
    form, over plain HTTP, stopping before the redirect to the app; the cookies it set."""
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        to_issuer = client.get(f"{base}/auth/login", params={"provider": _provider_token()})
        form = client.get(to_issuer.headers["location"])
        assert "Test identity provider" in form.text
        back = client.post(to_issuer.headers["location"], data={"user": user.sub})
        signed_in = client.get(back.headers["location"])
        assert signed_in.status_code == 302
        return [
            {"name": cookie.name, "value": cookie.value, "url": base}
            for cookie in client.cookies.jar
        ]


def _provider_token() -> str:
    """What st.login puts in its /auth/login link: the provider, signed with the cookie secret."""
    claims = {"provider": "default", "exp": int(time.time()) + 120}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(COOKIE_SECRET))


def test_an_analyst_publishes_and_the_audit_log_shows_their_e_mail_then_signs_out(
    app, app_data, browser, fixtures_dir, issuer
):
    context, page = new_page(browser)
    with closing(context):
        sign_in(page, app, ANALYST)
        assert "Upload data" in navigation(page)
        page.goto(f"{app}/upload")
        main_text(page, "Upload data")
        page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
            str(fixtures_dir / CQC_FIXTURE)
        )
        page.get_by_role("button", name="Check the file").click(timeout=WAIT)
        text = main_text(page, "The audit log records you as").replace("\u2060", "")
        assert f"{ANALYST.name} <{ANALYST.email}> (signed in)" in text
        assert page.get_by_label("Your name, for the audit log").count() == 0
        page.get_by_role("button", name="Publish", exact=True).click(timeout=120_000)
        published = main_text(page, "Every page now shows")
        assert ANALYST.name in published
        save_screenshot(page, "auth_analyst_published")
        with open_store_at(app_data) as store:
            log = store.versions("sites")
        assert log["author"].tolist() == [f"{ANALYST.name} <{ANALYST.email}>"]
        page.goto(f"{app}/versions")
        main_text(page, "Published versions")
        save_screenshot(page, "auth_analyst_versions")

        signed_out_before = len(issuer.signed_out)
        page.locator("[data-testid=stSidebar]").get_by_role("button", name="Sign out").click()
        main_text(page, "Sign in with your organisation account")
        assert len(issuer.signed_out) == signed_out_before + 1
        assert navigation(page) == []
        save_screenshot(page, "auth_signed_out")


@contextmanager
def open_store_at(folder: Path):
    """The app's SQLite store in `folder`, opened from the test."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ICS_DATA_DIR", str(folder))
        env.delenv("DATABASE_URL", raising=False)
        with open_store() as store:
            yield store
