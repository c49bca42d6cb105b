"""A local OpenID Connect issuer on 127.0.0.1, built on Authlib's authorization server.

For tests of sign-in (`st.login`): the discovery document, a JWKS with one RSA key,
an authorization endpoint whose sign-in form has one button per known user (the test
clicks the user it wants; nothing else authenticates), a token endpoint that checks the
client secret and PKCE and issues RS256-signed ID tokens, userinfo, and an
end_session_endpoint that records the sign-out and sends the browser back. Authlib's
own grant and OpenID Connect code (the `authlib.oauth2` and `authlib.oidc.core`
packages) do the protocol; this module only stores codes and tokens in memory and
speaks HTTP through the standard library.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "ics-provider-map"
CLIENT_SECRET = "local-test-secret"  # noqa: S105 - a test issuer's client, on 127.0.0.1 only
SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class TestUser:
    """Someone the issuer can sign in: the claims their ID token carries."""

    __test__ = False  # not a pytest test class

    sub: str
    name: str
    email: str
    groups: tuple[str, ...] = ()

    def claims(self) -> dict:
        """The user's claims for an ID token or userinfo."""
        return UserInfo(
            sub=self.sub,
            name=self.name,
            email=self.email,
            email_verified=True,
            groups=list(self.groups),
        )


VIEWER = TestUser("u-viewer", "Vera Viewer", "vera.viewer@region.example.nhs.uk")
ANALYST = TestUser(
    "u-analyst", "Ana Analyst", "ana.analyst@region.example.nhs.uk", ("ics-analysts",)
)


@dataclass
class _Client(ClientMixin):
    """The app, registered with one secret and the redirect URIs it may use."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code:
    """One authorization code: for whom, for which redirect, with its nonce and PKCE challenge."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: TestUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class _Request(OAuth2Request):
    """An HTTP request as Authlib's server reads it: query and form fields, headers."""

    def __init__(self, method: str, uri: str, headers: dict, query: dict, form: dict) -> None:
        super().__init__(method, uri, headers=headers)
        self._args, self._form = query, form
        self.payload = BasicOAuth2Payload({**query, **form})

    @property
    def args(self) -> dict:
        return self._args

    @property
    def form(self) -> dict:
        return self._form


class OidcIssuer(AuthorizationServer):
    """The issuer's state (users, codes, tokens, sign-outs) and Authlib's protocol on top."""

    def __init__(self, redirect_uris: list[str], id_token_seconds: int = 3600) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.base = ""  # set once the HTTP server has a port
        self.users = {user.sub: user for user in (VIEWER, ANALYST)}
        self.client = _Client(CLIENT_ID, CLIENT_SECRET, redirect_uris)
        self.id_token_seconds = id_token_seconds
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, TestUser] = {}
        self.signed_out: list[str] = []  # id_token_hint of each sign-out
        self.lock = threading.Lock()
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: generate_token(42),
                expires_generator=lambda client, grant_type: self.id_token_seconds,
            ),
        )
        self.register_grant(_CodeGrant, [_OpenIdCode(self), CodeChallenge(required=False)])

    def metadata(self) -> dict:
        """The discovery document (/.well-known/openid-configuration)."""
        return {
            "issuer": self.base,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "userinfo_endpoint": f"{self.base}/userinfo",
            "jwks_uri": f"{self.base}/jwks",
            "end_session_endpoint": f"{self.base}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "name", "email", "email_verified", "groups"],
        }

    def jwks(self) -> dict:
        """The public key set ID tokens are checked against."""
        return KeySet([self.key]).as_dict(private=False)

    def query_client(self, client_id: str) -> _Client | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict, request: OAuth2Request) -> None:
        with self.lock:
            self.access_tokens[token["access_token"]] = request.user

    def create_oauth2_request(self, request: _Request) -> _Request:
        return request

    def handle_response(self, status: int, body, headers) -> tuple[int, object, list]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args, **kwargs) -> None:
        """Authlib's signals (client authenticated, token revoked): nothing listens here."""


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        issuer: OidcIssuer = self.server
        with issuer.lock:
            issuer.codes[code] = _Code(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope,
                user=request.user,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        found = self.server.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        with self.server.lock:
            self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> TestUser:
        return authorization_code.user


class _OpenIdCode(OpenIDCode):
    """Authlib's OpenID Connect extension: ID tokens signed with the issuer's RSA key."""

    def __init__(self, issuer: OidcIssuer) -> None:
        super().__init__(require_nonce=True)
        self.issuer = issuer

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(code.nonce == nonce for code in self.issuer.codes.values())

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.issuer.key

    def get_client_algorithm(self, client: _Client) -> str:
        return "RS256"

    def get_encode_header(self, client: _Client) -> dict:
        return {"alg": "RS256", "kid": "test-key"}

    def get_client_claims(self, client: _Client) -> dict:
        return {
            "iss": self.issuer.base,
            "aud": [client.client_id],
            "exp": int(time.time()) + self.issuer.id_token_seconds,
        }

    def generate_user_info(self, user: TestUser, scope: str) -> UserInfo:
        return user.claims()


@contextmanager
def serving_issuer(redirect_uris: list[str], id_token_seconds: int = 3600) -> Iterator[OidcIssuer]:
    """An issuer on a free port of 127.0.0.1 for as long as the block runs (`.base` is its URL)."""
    issuer = OidcIssuer(redirect_uris, id_token_seconds)
    handler = type("_Bound", (_Handler,), {"issuer": issuer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    issuer.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    issuer: OidcIssuer

    def do_GET(self) -> None:
        path, query = self._split()
        if path == "/.well-known/openid-configuration":
            self._json(200, self.issuer.metadata())
        elif path == "/jwks":
            self._json(200, self.issuer.jwks())
        elif path == "/authorize":
            self._authorize(query, {})
        elif path == "/userinfo":
            self._userinfo()
        elif path == "/logout":
            self._logout(query)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        path, query = self._split()
        form = self._form()
        if path == "/authorize":
            self._authorize(query, form)
        elif path == "/token":
            request = self._request("POST", query, form)
            self._answer(*self.issuer.create_token_response(request))
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict, form: dict) -> None:
        """The sign-in form (GET), or the chosen user approved and sent back with a code (POST)."""
        request = self._request(self.command, query, {})
        try:
            grant = self.issuer.get_consent_grant(request)
        except Exception as error:  # Authlib's OAuth2Error: shown, as a provider would
            self._html(400, f"<p>Bad authorization request: {html.escape(str(error))}</p>")
            return
        user = self.issuer.users.get(form.get("user", ""))
        if user is None:
            self._html(200, _sign_in_form(self.path, self.issuer.users.values()))
            return
        self._answer(
            *self.issuer.create_authorization_response(request, grant_user=user, grant=grant)
        )

    def _userinfo(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        user = self.issuer.access_tokens.get(token)
        if user is None:
            self._json(401, {"error": "invalid_token"})
        else:
            self._json(200, dict(user.claims()))

    def _logout(self, query: dict) -> None:
        with self.issuer.lock:
            self.issuer.signed_out.append(query.get("id_token_hint", ""))
        back = query.get("post_logout_redirect_uri")
        if back not in self.issuer.client.redirect_uris:
            self._html(200, "<p>Signed out.</p>")
            return
        self._answer(302, "", [("Location", back)])

    def _split(self) -> tuple[str, dict]:
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def _form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        return {k: v[-1] for k, v in parse_qs(body).items()}

    def _request(self, method: str, query: dict, form: dict) -> _Request:
        return _Request(method, self.issuer.base + self.path, dict(self.headers), query, form)

    def _answer(self, status: int, body, headers) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        data = body if isinstance(body, str) else json.dumps(body)
        encoded = data.encode("utf-8")
        if not any(name.lower() == "content-type" for name, _ in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def _json(self, status: int, body: dict) -> None:
        self._answer(status, body, [("Content-Type", "application/json")])

    def _html(self, status: int, body: str) -> None:
        self._answer(status, body, [("Content-Type", "text/html; charset=utf-8")])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: tests read the app's log, not the issuer's."""


def _sign_in_form(action: str, users) -> str:
    """The provider's sign-in page: one button per user, posting back with the same query."""
    buttons = "".join(
        f'<button type="submit" name="user" value="{html.escape(u.sub)}">'
        f"Sign in as {html.escape(u.name)}</button>"
        for u in users
    )
    return (
        "<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1>"
        f'<form method="post" action="{html.escape(action)}">{buttons}</form>'
    )
