"""Login, logout and the session's own routes (OIDC code flow with PKCE, RFC 9470 step-up).

``GET /login?next=/path[&acr=hoch]`` starts the code flow; ``GET /auth/callback`` redeems the
code and creates the session; ``POST /logout`` ends it here and at the identity provider;
``POST /session/keepalive`` keeps a working user's session alive (``X-CSRF-Token``);
``GET /session-expired?next=`` says so and offers to sign in again, back to ``next``.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gateway.portal.oidc import OidcError, pkce_pair
from gateway.portal.pages import render
from gateway.portal.runtime import portal
from gateway.portal.sessions import LOGIN_COOKIE, SESSION_COOKIE, LoginState

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ozg.portal")
_NO_STORE = {"Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """A return path on this site, or ``/``: relative, starting with one slash, no scheme,
    host, backslash or control character (an open redirect otherwise)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def login_path(next_path: str, *, acr: str | None = None) -> str:
    path = f"/login?next={quote(safe_next(next_path), safe='')}"
    return f"{path}&acr={quote(acr, safe='')}" if acr else path


@router.get("/login")
def start_login(request: Request, next: str = "/", acr: str | None = None) -> Response:
    runtime = portal(request.app)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    acr_values = runtime.section.step_up_acr if acr == "hoch" else None
    try:
        target = runtime.oidc.authorization_url(
            redirect_uri=f"{runtime.base_url}/auth/callback",
            state=state,
            challenge=challenge,
            acr_values=acr_values,
        )
    except OidcError:
        return render(request, "message.html", status=503, kind="idp-unavailable")
    response = RedirectResponse(target, status_code=303, headers=_NO_STORE)
    runtime.sessions.login_cookie(response, LoginState(state, verifier, safe_next(next), acr))
    return response


@router.get("/auth/callback")
def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    runtime = portal(request.app)
    pending = runtime.sessions.read_login_cookie(request)
    if (
        error
        or not code
        or pending is None
        or not secrets.compare_digest((state or "").encode(), pending.state.encode())
    ):
        log.info("login callback refused", extra={"idp_error": error})
        return render(request, "message.html", status=400, kind="login-failed")
    try:
        tokens = runtime.oidc.exchange(
            code=code, verifier=pending.verifier, redirect_uri=f"{runtime.base_url}/auth/callback"
        )
        principal = request.app.state.authenticator.principal_for_token(str(tokens["access_token"]))
    except (OidcError, KeyError):
        return render(request, "message.html", status=400, kind="login-failed")
    except Exception as exc:  # the token's verification refused it (InvalidToken & co.)
        if getattr(exc, "status", None) in (401, 403):
            return render(request, "message.html", status=403, kind="login-refused")
        raise
    response = RedirectResponse(pending.next_path, status_code=303, headers=_NO_STORE)
    runtime.sessions.end(request, response)  # a step-up replaces the previous session
    runtime.sessions.create(response, tokens, principal)
    response.delete_cookie(LOGIN_COOKIE, path="/auth")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    runtime = portal(request.app)
    live = runtime.sessions.live(request)
    if live is not None and not runtime.sessions.form_csrf_valid(live, csrf_token):
        return render(request, "message.html", status=403, kind="csrf")
    response = RedirectResponse("/logged-out", status_code=303, headers=_NO_STORE)
    id_token = runtime.sessions.end(request, response)
    try:
        target = runtime.oidc.logout_url(
            id_token=id_token, post_logout_redirect_uri=f"{runtime.base_url}/logged-out"
        )
    except OidcError:
        target = None
    if target:
        response.headers["location"] = target
    return response


@router.get("/logged-out")
def logged_out(request: Request) -> Response:
    return render(request, "message.html", kind="logged-out")


@router.get("/session-expired")
def session_expired(request: Request, next: str = "/") -> Response:
    response = render(request, "message.html", kind="expired", next_path=safe_next(next))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/session/keepalive")
def keepalive(request: Request) -> Response:
    """Touches (and if due renews) the session; the page script calls it while the user is
    active, so filling a long form does not end the session."""
    sessions = portal(request.app).sessions
    live = sessions.live(request)
    if live is None:
        return JSONResponse({"active": False}, status_code=401, headers=_NO_STORE)
    if not sessions.csrf_valid(request):
        return JSONResponse({"active": True, "error": "csrf"}, status_code=403)
    return JSONResponse(
        {"active": True, "idle_deadline": live.idle_deadline.isoformat()}, headers=_NO_STORE
    )
