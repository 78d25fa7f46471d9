"""UnsafeDevIdentityProvider: a tiny Keycloak look-alike for development. NEVER production.

Served by the same process under ``/dev-idp/realms/ozg-dev/...`` with Keycloak's URL layout,
so python-keycloak's ``KeycloakOpenID(server_url=".../dev-idp/", realm_name="ozg-dev",
client_id="ozg-cli")`` works against it. It signs real RS256 tokens in Keycloak's claim
layout with a key persisted under ``OZG_DATA_DIR/dev-idp/``. Demo users' passwords equal
their user names; settings refuse it in production.

Grants: password (direct access), client credentials (``demo-flow``), authorization code with
PKCE (S256) through a minimal login page, refresh token (a signed JWT: stateless).
``ozg-portal`` is the web portal's public client (code flow with PKCE). An authorization
request with ``acr_values`` naming trust level ``hoch`` (RFC 9470 step-up) makes the login
pretend an eID-card authentication: its tokens carry ``acr`` ``STORK-QAA-Level-4``.

``demo-flow`` holds every flow scope in use (``account.scopes.GRANTED``). A client-credentials
request whose ``scope`` parameter names flow scopes gets only the named ones it holds
(RFC 6749 §3.3: a narrower grant), so ``scope=fees:read`` yields a flow token lacking every
other scope; ``openid`` and the other OIDC scopes narrow nothing. ``demo-subscriber-<id>``
(secret ``demo-subscriber-<id>-secret``, for ``tf``, ``ee``, ``p``) is a demo authority's
FIT-Connect subscriber software: a service account with the ``caseworker`` role bound to that
authority (``authority:<id>``) and the scope ``submissions:read``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jws

from account.errors import DevIdpError
from account.scopes import GRANTED, Scope
from commons.clock import Clock, system_clock
from commons.encoding import b64url_encode

log = logging.getLogger("ozg.account.devidp")

REALM = "ozg-dev"
PREFIX = f"/dev-idp/realms/{REALM}"
OIDC = "/protocol/openid-connect"
API_CLIENT = "ozg-api"
PORTAL_CLIENT = "ozg-portal"
#: acr_values that ask for trust level hoch; the dev IdP answers with STORK-QAA-Level-4.
STEP_UP_ACR_VALUES = frozenset({"hoch", "STORK-QAA-Level-4"})
HOCH_ACR = "STORK-QAA-Level-4"
TOKEN_LIFETIME = 300
REFRESH_LIFETIME = 1800
AUTHORITIES = {
    "tf": "Landkreis Teltow-Fläming",
    "ee": "Landkreis Elbe-Elster",
    "p": "Landeshauptstadt Potsdam",
    "operator": "Betreiber (operator)",
}


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    realm_roles: tuple[str, ...]
    acr: str
    client_roles: tuple[str, ...] = ()
    given_name: str = "Demo"
    family_name: str = "User"

    @property
    def subject(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ozg-dev:{self.username}"))


DEMO_USERS: dict[str, DemoUser] = {
    u.username: u
    for u in (
        DemoUser("demo-applicant", ("applicant",), "STORK-QAA-Level-1", family_name="Applicant"),
        DemoUser("demo-applicant-hoch", ("applicant",), "STORK-QAA-Level-4", family_name="Hoch"),
        DemoUser("demo-caseworker-tf", ("caseworker",), "STORK-QAA-Level-3", ("authority:tf",)),
        DemoUser("demo-caseworker-ee", ("caseworker",), "STORK-QAA-Level-3", ("authority:ee",)),
        DemoUser("demo-caseworker-p", ("caseworker",), "STORK-QAA-Level-3", ("authority:p",)),
        DemoUser("demo-dpo", ("dpo",), "STORK-QAA-Level-3", ("authority:operator",)),
        DemoUser("demo-admin", ("admin",), "STORK-QAA-Level-3", ("authority:operator",)),
    )
}


@dataclass(frozen=True, slots=True)
class DemoClient:
    client_id: str
    secret: str | None  # None: a public client (PKCE for the code flow)
    service_roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    client_roles: tuple[str, ...] = ()  # e.g. authority:tf, on the API client


DEMO_CLIENTS: dict[str, DemoClient] = {
    c.client_id: c
    for c in (
        DemoClient("ozg-cli", None),
        DemoClient(PORTAL_CLIENT, None),
        DemoClient(API_CLIENT, "dev-only-client-secret"),
        DemoClient("demo-flow", "demo-flow-secret", ("flow",), tuple(sorted(GRANTED))),
        # FIT-Connect subscriber software of each demo authority (client credentials).
        *(
            DemoClient(
                f"demo-subscriber-{a}",
                f"demo-subscriber-{a}-secret",
                ("caseworker",),
                (Scope.SUBMISSIONS_READ.value,),
                (f"authority:{a}",),
            )
            for a in ("tf", "ee", "p")
        ),
    )
}


@dataclass(slots=True)
class _Code:
    user: DemoUser
    client_id: str
    redirect_uri: str
    challenge: str | None
    nonce: str | None
    scope: str
    expires: float
    auth_time: int
    acr: str


@dataclass(slots=True)
class UnsafeDevIdentityProvider:
    """The development identity provider. Its name says it: unsafe outside development."""

    base_url: str
    key_dir: Path
    clock: Clock = system_clock
    disabled: set[str] = field(default_factory=set)
    _key: jwk.JWK | None = None
    _codes: dict[str, _Code] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        log.warning(
            "UnsafeDevIdentityProvider is active: demo users with known passwords can log in; "
            "never use it in production"
        )

    # ------------------------------------------------------------------ keys
    @property
    def issuer(self) -> str:
        return f"{self.base_url.rstrip('/')}{PREFIX}"

    @property
    def key(self) -> jwk.JWK:
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create_key()
            return self._key

    def _load_or_create_key(self) -> jwk.JWK:
        path = self.key_dir / "signing-key.pem"
        if not path.exists():
            # Several workers may start at once: write a complete file under a temporary
            # name, then link it into place atomically; whoever links first wins, and
            # everyone reads the winner's key.
            self.key_dir.mkdir(parents=True, exist_ok=True)
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = self.key_dir / f".signing-key.{secrets.token_hex(8)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = jwk.JWK.from_pem(path.read_bytes())
        return jwk.JWK(**{**key.export(as_dict=True), "kid": key.thumbprint()})

    def jwks(self) -> dict[str, Any]:
        public = self.key.export_public(as_dict=True)
        return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}

    def public_key_b64(self) -> str:
        der = serialization.load_pem_public_key(self.key.export_to_pem()).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        protected = {"alg": "RS256", "typ": "JWT", "kid": self.key.get("kid"), **(header or {})}
        token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
        token.add_signature(self.key, alg="RS256", protected=json.dumps(protected))
        return str(token.serialize(compact=True))

    # ------------------------------------------------------------------ discovery
    def discovery(self) -> dict[str, Any]:
        base = f"{self.issuer}{OIDC}"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{base}/certs",
            "introspection_endpoint": f"{base}/token/introspect",
            "grant_types_supported": [
                "authorization_code",
                "password",
                "client_credentials",
                "refresh_token",
            ],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email", "roles"],
            "acr_values_supported": ["STORK-QAA-Level-1", "STORK-QAA-Level-3", "STORK-QAA-Level-4"],
        }

    # ------------------------------------------------------------------ tokens
    def user_claims(self, user: DemoUser) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": user.subject,
            "preferred_username": user.username,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "name": f"{user.given_name} {user.family_name}",
            "email": f"{user.username}@example.invalid",
            "email_verified": True,
            "realm_access": {"roles": [*user.realm_roles, "default-roles-ozg-dev"]},
        }
        if user.client_roles:
            claims["resource_access"] = {API_CLIENT: {"roles": list(user.client_roles)}}
        return claims

    def access_token(
        self,
        user: DemoUser | None,
        client: DemoClient,
        *,
        scope: str | None = None,
        auth_time: int | None = None,
        acr: str | None = None,
        lifetime: int = TOKEN_LIFETIME,
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """A Keycloak-shaped access token; ``overrides`` lets tests forge bad ones.

        ``scope`` defaults to ``openid profile email`` for a user and to every scope the
        client holds for a service account (no user)."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "exp": now + lifetime,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": [API_CLIENT, "account"],
            "typ": "Bearer",
            "azp": client.client_id,
            "scope": scope if scope is not None else "openid profile email",
        }
        if user is not None:
            claims.update(self.user_claims(user))
            claims["auth_time"] = auth_time or now
            claims["acr"] = acr or user.acr
            claims["sid"] = str(uuid.uuid4())
        else:
            claims["sub"] = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"ozg-dev:client:{client.client_id}")
            )
            claims["clientId"] = client.client_id
            claims["preferred_username"] = f"service-account-{client.client_id}"
            claims["realm_access"] = {"roles": list(client.service_roles)}
            if client.client_roles:
                claims["resource_access"] = {API_CLIENT: {"roles": list(client.client_roles)}}
            claims["scope"] = scope if scope is not None else _client_scope(client, None)
        claims.update(overrides or {})
        return self.sign(claims)

    def _token_response(
        self,
        user: DemoUser | None,
        client: DemoClient,
        scope: str,
        auth_time: int | None = None,
        acr: str | None = None,
    ) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        acr = acr or (user.acr if user is not None else None)
        body: dict[str, Any] = {
            "access_token": self.access_token(
                user, client, scope=scope, auth_time=auth_time, acr=acr
            ),
            "expires_in": TOKEN_LIFETIME,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": scope,
            "refresh_expires_in": 0,
        }
        if user is not None:
            body["refresh_token"] = self.sign(
                {
                    "exp": now + REFRESH_LIFETIME,
                    "iat": now,
                    "iss": self.issuer,
                    "aud": self.issuer,
                    "typ": "Refresh",
                    "azp": client.client_id,
                    "sub": user.subject,
                    "username": user.username,
                    "auth_time": auth_time or now,
                    "scope": scope,
                    "acr": acr,
                }
            )
            body["refresh_expires_in"] = REFRESH_LIFETIME
            if "openid" in scope.split():
                body["id_token"] = self.sign(
                    {
                        "exp": now + TOKEN_LIFETIME,
                        "iat": now,
                        "iss": self.issuer,
                        "aud": client.client_id,
                        "typ": "ID",
                        "azp": client.client_id,
                        "auth_time": auth_time or now,
                        "acr": acr,
                        **{k: v for k, v in self.user_claims(user).items() if k != "realm_access"},
                    }
                )
        return body

    def _client(self, form: dict[str, str], basic: tuple[str, str] | None) -> DemoClient:
        client_id, secret = (
            basic if basic else (form.get("client_id", ""), form.get("client_secret"))
        )
        client = DEMO_CLIENTS.get(client_id)
        if client is None:
            raise DevIdpError("invalid_client", "Invalid client credentials", 401)
        if client.secret is not None and not (
            secret and secrets.compare_digest(secret.encode(), client.secret.encode())
        ):
            raise DevIdpError("unauthorized_client", "Invalid client credentials", 401)
        return client

    def _user(self, username: str | None, password: str | None) -> DemoUser:
        user = DEMO_USERS.get(username or "")
        if (
            user is None
            or user.username in self.disabled
            or not secrets.compare_digest((password or "").encode(), user.username.encode())
        ):
            raise DevIdpError("invalid_grant", "Invalid user credentials", 401)
        return user

    def token(self, form: dict[str, str], basic: tuple[str, str] | None = None) -> dict[str, Any]:
        """The token endpoint: password, client_credentials, authorization_code, refresh."""
        client = self._client(form, basic)
        grant = form.get("grant_type")
        scope = _scope(form.get("scope"))
        if grant == "password":
            return self._token_response(
                self._user(form.get("username"), form.get("password")), client, scope
            )
        if grant == "client_credentials":
            if client.secret is None or not client.service_roles:
                raise DevIdpError("unauthorized_client", "Client not enabled for this grant")
            return self._token_response(None, client, _client_scope(client, form.get("scope")))
        if grant == "authorization_code":
            return self._redeem_code(form, client)
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""), client)
        raise DevIdpError("unsupported_grant_type", "Unsupported grant_type")

    def _redeem_code(self, form: dict[str, str], client: DemoClient) -> dict[str, Any]:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
        if (
            code is None
            or code.expires < time.monotonic()
            or code.client_id != client.client_id
            or code.redirect_uri != form.get("redirect_uri")
        ):
            raise DevIdpError("invalid_grant", "Code not valid")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = b64url_encode(digest)
            if not secrets.compare_digest(expected, code.challenge):
                raise DevIdpError("invalid_grant", "PKCE verification failed")
        elif client.secret is None:
            raise DevIdpError("invalid_grant", "PKCE is required for public clients")
        return self._token_response(code.user, client, code.scope, code.auth_time, code.acr)

    def _refresh(self, token: str, client: DemoClient) -> dict[str, Any]:
        try:
            signed = jws.JWS()
            signed.allowed_algs = ["RS256"]
            signed.deserialize(token)
            signed.verify(self.key, alg="RS256")
            claims = json.loads(signed.payload)
        except Exception:
            raise DevIdpError("invalid_grant", "Invalid refresh token") from None
        user = DEMO_USERS.get(claims.get("username", ""))
        if (
            claims.get("typ") != "Refresh"
            or claims.get("azp") != client.client_id
            or claims.get("exp", 0) < self.clock.now().timestamp()
            or user is None
            or user.username in self.disabled
        ):
            raise DevIdpError("invalid_grant", "Invalid refresh token")
        return self._token_response(
            user, client, claims.get("scope", ""), claims.get("auth_time"), claims.get("acr")
        )

    # ------------------------------------------------------------------ login page
    def login_page(self, params: dict[str, str], error: str | None = None) -> str:
        """The login form: a heading, labelled inputs, the error tied to them, WCAG 2.1 AA
        (checked with axe-core in the browser tests)."""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("username", "password")
        )
        invalid = ' aria-invalid="true" aria-describedby="input-error"' if error else ""
        message = (
            f'<p id="input-error" class="error" role="alert">{html.escape(error)}</p>'
            if error
            else ""
        )
        step_up = (
            "<p><strong>Trust level <em>hoch</em> requested.</strong> In production you would "
            "now use your online ID card; this development identity provider only pretends "
            "it.</p>"
            if _asks_for_hoch(params.get("acr_values"))
            else ""
        )
        users = "".join(f"<li><code>{html.escape(name)}</code></li>" for name in DEMO_USERS)
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Sign in: ozg-dev (UNSAFE development identity provider)</title>"
            f'<link rel="stylesheet" href="{PREFIX}/login.css"></head><body><main>'
            '<h1 id="kc-page-title">Sign in to your account</h1>'
            "<p><strong>Development identity provider: demo users only.</strong> Never use "
            "it in production. Each demo user's password is its user name.</p>"
            f'{step_up}{message}<form id="kc-form-login" method="post" '
            f'action="{PREFIX}{OIDC}/auth">{hidden}'
            '<div class="field"><label for="username">User name</label>'
            f'<input id="username" name="username" autocomplete="username" required{invalid}>'
            '</div><div class="field"><label for="password">Password</label>'
            '<input id="password" name="password" type="password" '
            f'autocomplete="current-password" required{invalid}></div>'
            '<button id="kc-login" type="submit">Sign in</button></form>'
            f"<h2>Demo users</h2><ul>{users}</ul></main></body></html>"
        )

    def authorize(self, form: dict[str, str]) -> str:
        """Check the login form; return the redirect URL carrying the code."""
        client = DEMO_CLIENTS.get(form.get("client_id", ""))
        redirect_uri = form.get("redirect_uri", "")
        if client is None or not redirect_uri.startswith(("http://127.0.0.1", "http://localhost")):
            raise DevIdpError("invalid_request", "unknown client or redirect_uri not allowed")
        if form.get("response_type", "code") != "code":
            raise DevIdpError("unsupported_response_type", "only the code flow is supported")
        challenge = form.get("code_challenge") or None
        if challenge is not None and form.get("code_challenge_method", "plain") != "S256":
            raise DevIdpError("invalid_request", "only S256 PKCE is supported")
        user = self._user(form.get("username"), form.get("password"))
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for stale in [c for c, v in self._codes.items() if v.expires < now]:
                del self._codes[stale]
            self._codes[code] = _Code(
                user,
                client.client_id,
                redirect_uri,
                challenge,
                form.get("nonce"),
                _scope(form.get("scope")),
                time.monotonic() + 60,
                int(self.clock.now().timestamp()),
                HOCH_ACR if _asks_for_hoch(form.get("acr_values")) else user.acr,
            )
        query = {"code": code}
        if form.get("state"):
            query["state"] = form["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(query)}"


def _asks_for_hoch(acr_values: str | None) -> bool:
    return any(v in STEP_UP_ACR_VALUES for v in (acr_values or "").split())


def _client_scope(client: DemoClient, requested: str | None) -> str:
    """A service account's scopes: all its client holds, or, if the request names any flow
    scope, only the named ones it holds (``openid`` and the like narrow nothing)."""
    wanted = {s for s in (requested or "").split() if s in Scope.__members__.values()}
    held = [s for s in client.scopes if s in wanted] if wanted else list(client.scopes)
    return " ".join(("profile", "email", *held))


def _scope(requested: str | None) -> str:
    allowed = {"openid", "profile", "email", "roles", "offline_access"}
    scopes = ["profile", "email"]
    for s in (requested or "").split():
        if s in allowed and s not in scopes:
            scopes.append(s)
    return " ".join(scopes)
