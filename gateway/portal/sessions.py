"""Server-side browser sessions (see ``docs/adr/0005-portal-sessions.md``).

- The cookie ``ozg_session`` holds 32 random bytes (base64url); the row's id is their
  SHA-256, so the table alone cannot be replayed as a cookie.
- The identity provider's tokens (access, refresh, ID token) are sealed with AES-256-GCM under
  a key derived from ``OZG_SECRET_KEY`` (HKDF-SHA256, info ``ozg-portal/session-tokens/v1``);
  the associated data binds each blob to its row id.
- A session ends after ``session_idle_seconds`` without a request or ``session_max_seconds``
  after the login, and at logout (the row is deleted). While it lives, the access token is
  renewed with the refresh token a minute before it expires (silent renewal).
- Each session has a CSRF token (synchronizer token pattern): forms carry it as
  ``csrf_token``, scripts send it as ``X-CSRF-Token``.
- The login in progress (state, PKCE verifier, return path, requested acr) travels in a short
  sealed cookie ``ozg_login`` (its own HKDF key), so anonymous visitors create no rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select

from commons.clock import Clock, system_clock
from commons.encoding import b64url_decode_lenient, b64url_encode
from gateway.portal.models import PortalSession
from gateway.portal.oidc import OidcClient, OidcError

if TYPE_CHECKING:
    from fastapi import Request, Response
    from sqlalchemy.orm import Session

    from account import Principal
    from commons.db import Database

log = logging.getLogger("ozg.portal")

SESSION_COOKIE = "ozg_session"
LOGIN_COOKIE = "ozg_login"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
RENEW_BEFORE_SECONDS = 60
LOGIN_STATE_SECONDS = 600
_TOKENS_AAD = b"ozg-portal-session/1|"
_LOGIN_AAD = b"ozg-portal-login/1"


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(secret.encode())


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class LiveSession:
    """What a page needs of the caller's session (never the tokens themselves)."""

    subject: str
    name: str
    trust_level: int
    csrf_token: str
    expires_at: datetime
    idle_deadline: datetime


@dataclass(frozen=True, slots=True)
class LoginState:
    state: str
    verifier: str
    next_path: str
    acr: str | None


class SessionStore:
    """Implements ``account.SessionTokens`` for the ``/v1`` API and serves the pages."""

    cookie_name = SESSION_COOKIE

    def __init__(
        self,
        *,
        database: Database,
        secret: str,
        oidc: OidcClient,
        idle_seconds: int,
        max_seconds: int,
        secure: bool,
        clock: Clock = system_clock,
    ) -> None:
        self.database = database
        self.oidc = oidc
        self.idle = timedelta(seconds=idle_seconds)
        self.max_age = timedelta(seconds=max_seconds)
        self.secure = secure
        self.clock = clock
        self._tokens = AESGCM(_derive(secret, b"ozg-portal/session-tokens/v1"))
        self._login = AESGCM(_derive(secret, b"ozg-portal/login-state/v1"))

    # ------------------------------------------------------------------ sealing
    def _seal(self, row_id: str, tokens: dict[str, Any]) -> bytes:
        nonce = secrets.token_bytes(12)
        plain = json.dumps(tokens, separators=(",", ":")).encode()
        return nonce + self._tokens.encrypt(nonce, plain, _TOKENS_AAD + row_id.encode())

    def _open(self, row: PortalSession) -> dict[str, Any]:
        blob = row.sealed_tokens
        plain = self._tokens.decrypt(blob[:12], blob[12:], _TOKENS_AAD + row.id.encode())
        tokens: dict[str, Any] = json.loads(plain)
        return tokens

    # ------------------------------------------------------------------ login state
    def login_cookie(self, response: Response, state: LoginState) -> None:
        nonce = secrets.token_bytes(12)
        body = json.dumps(
            {
                "s": state.state,
                "v": state.verifier,
                "n": state.next_path,
                "a": state.acr,
                "t": int(time.time()),
            }
        ).encode()
        value = b64url_encode(nonce + self._login.encrypt(nonce, body, _LOGIN_AAD))
        response.set_cookie(
            LOGIN_COOKIE,
            value,
            max_age=LOGIN_STATE_SECONDS,
            path="/auth",
            httponly=True,
            secure=self.secure,
            samesite="lax",  # it must come back with the IdP's top-level redirect
        )

    def read_login_cookie(self, request: Request) -> LoginState | None:
        value = request.cookies.get(LOGIN_COOKIE)
        if not value:
            return None
        try:
            raw = b64url_decode_lenient(value)
            data = json.loads(self._login.decrypt(raw[:12], raw[12:], _LOGIN_AAD))
        except (InvalidTag, ValueError):
            return None
        if int(time.time()) - int(data["t"]) > LOGIN_STATE_SECONDS:
            return None
        return LoginState(data["s"], data["v"], data["n"], data["a"])

    # ------------------------------------------------------------------ sessions
    def create(self, response: Response, tokens: dict[str, Any], principal: Principal) -> str:
        """Store a new session for ``tokens`` (already verified as ``principal``) and set its
        cookie; returns the CSRF token."""
        cookie = secrets.token_urlsafe(32)
        row_id = _hash(cookie)
        now = self.clock.now()
        names = dict(principal.attributes)
        name = names.get("name") or " ".join(
            n for n in (names.get("given_name"), names.get("family_name")) if n
        )
        csrf = secrets.token_urlsafe(32)
        with self.database.transaction() as session:
            session.add(
                PortalSession(
                    id=row_id,
                    subject=principal.subject,
                    sealed_tokens=self._seal(row_id, {**_keep(tokens), "name": name}),
                    csrf_token=csrf,
                    trust_level=int(principal.trust_level),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.max_age,
                    access_expires_at=_expiry(now, tokens.get("expires_in")),
                    refresh_expires_at=_expiry(now, tokens.get("refresh_expires_in"))
                    if tokens.get("refresh_token")
                    else None,
                )
            )
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
        return csrf

    def end(self, request: Request, response: Response) -> str | None:
        """Delete the caller's session (logout); returns its ID token for the IdP logout."""
        cookie = request.cookies.get(SESSION_COOKIE)
        id_token: str | None = None
        if cookie:
            with self.database.transaction() as session:
                row = session.get(PortalSession, _hash(cookie))
                if row is not None:
                    try:
                        id_token = self._open(row).get("id_token")
                    except InvalidTag:
                        id_token = None
                    session.delete(row)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self.secure, httponly=True)
        return id_token

    def live(self, request: Request) -> LiveSession | None:
        """The caller's live session (renewed and touched), or ``None``."""
        found = self._load(request)
        return found[0] if found else None

    def access_token(self, request: Request) -> str | None:
        found = self._load(request)
        return found[1] if found else None

    def csrf_valid(self, request: Request) -> bool:
        live = self.live(request)
        offered = request.headers.get(CSRF_HEADER, "")
        return live is not None and secrets.compare_digest(offered, live.csrf_token)

    def form_csrf_valid(self, live: LiveSession | None, offered: str | None) -> bool:
        return live is not None and secrets.compare_digest(offered or "", live.csrf_token)

    def _load(self, request: Request) -> tuple[LiveSession, str] | None:
        cached: tuple[LiveSession, str] | None = getattr(request.state, "portal_session", None)
        if cached is not None:
            return cached
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie or len(cookie) > 128:
            return None
        now = self.clock.now()
        with self.database.transaction() as session:
            row = session.get(PortalSession, _hash(cookie))
            if row is None:
                return None
            if row.expires_at <= now or row.last_seen_at + self.idle <= now:
                session.delete(row)
                return None
            try:
                tokens = self._open(row)
            except InvalidTag:
                session.delete(row)
                return None
            if row.access_expires_at <= now + timedelta(seconds=RENEW_BEFORE_SECONDS):
                renewed = self._renew(request, tokens)
                if renewed is None:
                    session.delete(row)
                    return None
                fresh, principal = renewed
                tokens = {**_keep(fresh), "name": tokens.get("name", "")}
                row.sealed_tokens = self._seal(row.id, tokens)
                row.trust_level = int(principal.trust_level)
                row.access_expires_at = _expiry(now, fresh.get("expires_in"))
                if fresh.get("refresh_token"):
                    row.refresh_expires_at = _expiry(now, fresh.get("refresh_expires_in"))
            row.last_seen_at = now
            live = LiveSession(
                subject=row.subject,
                name=str(tokens.get("name", "")),
                trust_level=row.trust_level,
                csrf_token=row.csrf_token,
                expires_at=row.expires_at,
                idle_deadline=now + self.idle,
            )
            result = (live, str(tokens["access_token"]))
        request.state.portal_session = result
        return result

    def _renew(
        self, request: Request, tokens: dict[str, Any]
    ) -> tuple[dict[str, Any], Principal] | None:
        refresh = tokens.get("refresh_token")
        if not refresh:
            return None
        try:
            fresh = self.oidc.refresh(str(refresh))
            principal = request.app.state.authenticator.principal_for_token(
                str(fresh["access_token"])
            )
        except (OidcError, KeyError):
            log.info("session renewal refused by the identity provider")
            return None
        except Exception as exc:  # an InvalidToken or TokenNotPermitted from verification
            if getattr(exc, "status", None) in (401, 403):
                return None
            raise
        return fresh, principal

    def purge_expired(self) -> int:
        """Delete sessions past their absolute end (idle ones go when next touched)."""
        with self.database.transaction() as session:
            return len(delete_expired_sessions(session, self.clock.now()))

    def subjects(self) -> list[str]:  # for tests and diagnostics
        with self.database.transaction() as session:
            return list(session.scalars(select(PortalSession.subject)))


def delete_expired_sessions(session: Session, now: datetime) -> list[str]:
    """Sessions past their absolute end (retention ``portal.session``); returns the row ids
    (SHA-256 of the cookie: no personal data, and not a usable cookie)."""
    ids = list(session.scalars(select(PortalSession.id).where(PortalSession.expires_at <= now)))
    for start in range(0, len(ids), 500):
        session.execute(delete(PortalSession).where(PortalSession.id.in_(ids[start : start + 500])))
    return ids


def _keep(tokens: dict[str, Any]) -> dict[str, Any]:
    return {k: tokens[k] for k in ("access_token", "refresh_token", "id_token") if k in tokens}


def _expiry(now: datetime, seconds: Any) -> datetime:
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        value = 300
    return now + timedelta(seconds=max(value, 0))


def utcnow() -> datetime:
    return datetime.now(UTC)
