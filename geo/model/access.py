"""Who may do what: the signed-in identity, its role from the settings, and the safe defaults.

The app's edge reads the identity provider's claims (Streamlit's `st.user`) and turns
them into a plain `Identity` here; every function that writes (publish, revert,
withdraw, engagement edits) is handed that identity and calls `require_role` itself,
so a page that forgot to hide a button still cannot write for a viewer.

Roles come from three settings (README, "Deployment with sign-in"): ICS_ANALYSTS and
ICS_VIEWERS list e-mail addresses (`ann@trust.nhs.uk`), domains (`@trust.nhs.uk` or
`trust.nhs.uk`) and groups (`group:<id>`, matched against the claim ICS_GROUPS_CLAIM
names). Analysts may do everything viewers may.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from geo.model.errors import InputError
from geo.model.settings import get_setting

VIEWER = "viewer"
ANALYST = "analyst"
ROLES = (VIEWER, ANALYST)  # each may do what those before it may

SIGNED_IN = "signed in"  # the identity provider vouches for the name and e-mail
LOCAL = "local"  # sign-in is not configured: whoever uses this machine, by the name they type
OPERATING_SYSTEM = "operating-system user"  # the command line, run by someone on the machine

_TRUE = {"1", "true", "yes", "on"}
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class NotAllowed(InputError):
    """The identity's role does not allow the action: nothing was written."""


@dataclass(frozen=True)
class Identity:
    """Who is acting: a name, an e-mail when known, a role (None: no access) and how we know."""

    name: str
    email: str
    role: str | None
    how: str

    @property
    def signed_in(self) -> bool:
        """Whether the identity provider vouches for this identity."""
        return self.how == SIGNED_IN

    @property
    def author(self) -> str:
        """The audit log's record of who acted: `Name <e-mail>` when signed in, else the name."""
        return f"{self.name} <{self.email}>" if self.email else self.name

    def may(self, role: str) -> bool:
        """Whether this identity has `role` or one above it."""
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class RoleRules:
    """Who is an analyst and who may view, from the settings (README, "Deployment with sign-in")."""

    analysts: tuple[str, ...]
    viewers: tuple[str, ...]  # empty: everyone the identity provider signs in
    groups_claim: str

    @classmethod
    def from_settings(cls) -> RoleRules:
        """The rules in ICS_ANALYSTS, ICS_VIEWERS and ICS_GROUPS_CLAIM."""
        return cls(
            analysts=_entries(get_setting("analysts")),
            viewers=_entries(get_setting("viewers")),
            groups_claim=get_setting("groups_claim").strip() or "groups",
        )


def local_user(name: str) -> Identity:
    """The single user of an app without sign-in, on this machine: an analyst by the name typed."""
    return Identity(name=name, email="", role=ANALYST, how=LOCAL)


def operating_system_user(name: str) -> Identity:
    """Whoever runs the command line on this machine (an operator), recorded by `name`."""
    return Identity(name=name, email="", role=ANALYST, how=OPERATING_SYSTEM)


def signed_in_identity(claims: Mapping[str, object], rules: RoleRules) -> Identity:
    """The identity in an ID token's claims, with the role the rules give it (None: no access)."""
    email = _claim(claims, "email") or _claim(claims, "preferred_username") or _claim(claims, "sub")
    name = _claim(claims, "name") or email
    return Identity(name=name, email=email, role=role_for(claims, rules), how=SIGNED_IN)


def role_for(claims: Mapping[str, object], rules: RoleRules) -> str | None:
    """ANALYST, VIEWER, or None when the viewers' list is set and leaves this identity out.

    Only a verified `email` claim counts for e-mail and domain rules (a provider that
    says `email_verified: false` lets users type any address), and groups come from
    the claim the rules name.
    """
    email = "" if claims.get("email_verified") is False else _claim(claims, "email").casefold()
    groups = _groups(claims.get(rules.groups_claim))
    if _matches(rules.analysts, email, groups):
        return ANALYST
    if not rules.viewers or _matches(rules.viewers, email, groups):
        return VIEWER
    return None


def expired(claims: Mapping[str, object], now: float) -> bool:
    """Whether the ID token's lifetime (`exp`) is over; a token without one counts as over.

    Streamlit keeps the claims in a cookie for 30 days, so the session ends here when the
    identity provider's token does.
    """
    exp = claims.get("exp")
    return not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now


def require_role(identity: Identity, role: str, action: str) -> None:
    """Raise NotAllowed unless `identity` has `role`: the check every write makes itself."""
    if not identity.may(role):
        held = f"a {identity.role}" if identity.role else "not given access"
        raise NotAllowed(
            f"{identity.author or 'this user'} is {held}, so may not {action}: "
            f"only {role}s may; nothing was changed"
        )


def open_network_allowed() -> bool:
    """Whether ICS_ALLOW_OPEN_NETWORK says to serve other machines without sign-in."""
    return get_setting("allow_open_network").strip().casefold() in _TRUE


def reaches_beyond_this_machine(
    bind_address: str | None, visitor_ip: str | None, headers: Mapping[str, str]
) -> bool:
    """Whether the app is serving beyond this machine: bound to a non-loopback address, a
    visitor from another address, or a request forwarded by a proxy."""
    bound_wide = bool(bind_address) and not is_loopback(bind_address)
    remote = visitor_ip is not None and not is_loopback(visitor_ip)
    proxied = any(header in {key.casefold() for key in headers} for header in _PROXY_HEADERS)
    return bound_wide or remote or proxied


def is_loopback(address: str) -> bool:
    """Whether `address` (an IP address or `localhost`) only reaches this machine."""
    if address.strip().casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _entries(value: str) -> tuple[str, ...]:
    return tuple(e.strip().casefold() for e in value.replace(";", ",").split(",") if e.strip())


def _claim(claims: Mapping[str, object], key: str) -> str:
    value = claims.get(key)
    return value.strip() if isinstance(value, str) else ""


def _groups(value: object) -> set[str]:
    """The groups claim as a set: providers send a list, or one group as a string."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        return set()
    return {str(group).strip().casefold() for group in value}


def _matches(entries: tuple[str, ...], email: str, groups: set[str]) -> bool:
    """Whether any entry names this e-mail, its domain or one of its groups."""
    for entry in entries:
        if entry.startswith("group:"):
            found = entry.removeprefix("group:").strip() in groups
        elif "@" in entry.lstrip("@"):
            found = email == entry
        else:
            found = bool(email) and email.endswith("@" + entry.lstrip("@"))
        if found:
            return True
    return False
