"""HTTP routes of the UnsafeDevIdentityProvider, in Keycloak's URL layout under /dev-idp/."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from account.devidp import DEMO_USERS, OIDC, PREFIX, UnsafeDevIdentityProvider
from account.errors import DevIdpError, InvalidToken

router = APIRouter(prefix=PREFIX, include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _idp(request: Request) -> UnsafeDevIdentityProvider:
    idp: UnsafeDevIdentityProvider = request.app.state.dev_idp
    return idp


def _error(exc: DevIdpError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=_NO_STORE,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote(user), unquote(password)


@router.get("")
def realm_info(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    return {
        "realm": "ozg-dev",
        "public_key": idp.public_key_b64(),
        "token-service": f"{idp.issuer}{OIDC}",
        "tokens-not-before": 0,
    }


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, Any]:
    return _idp(request).discovery()


@router.get(f"{OIDC}/certs")
def certs(request: Request) -> dict[str, Any]:
    return _idp(request).jwks()


@router.post(f"{OIDC}/token")
async def token(request: Request) -> JSONResponse:
    try:
        body = _idp(request).token(await _form(request), _basic(request))
    except DevIdpError as exc:
        return _error(exc)
    return JSONResponse(body, headers=_NO_STORE)


@router.get(f"{OIDC}/auth")
def login_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_idp(request).login_page(dict(request.query_params)), headers=_NO_STORE)


_LOGIN_CSS = """
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.5;color:#1b1b1b}
main{max-width:32rem;margin:0 auto}
.field{margin:0 0 1rem}
label{display:block;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;border:2px solid #1b1b1b;font-size:1rem}
button{padding:.6rem 1.2rem;font-size:1rem;background:#0b4ea2;color:#fff;border:0}
:focus-visible{outline:3px solid #c84d00;outline-offset:2px}
.error{color:#a00;font-weight:600}
"""


@router.get("/login.css")
def login_css() -> Response:
    """The login page's style sheet (a file of its own: the CSP allows no inline style)."""
    return Response(_LOGIN_CSS, media_type="text/css")


@router.post(f"{OIDC}/auth", response_model=None)
async def login(request: Request) -> Response:
    form = await _form(request)
    idp = _idp(request)
    try:
        return RedirectResponse(idp.authorize(form), status_code=302, headers=_NO_STORE)
    except DevIdpError as exc:
        if exc.error == "invalid_grant":
            page = idp.login_page(form, "Invalid username or password.")
            return HTMLResponse(page, status_code=200, headers=_NO_STORE)
        return _error(exc)


@router.api_route(f"{OIDC}/userinfo", methods=["GET", "POST"])
def userinfo(request: Request) -> JSONResponse:
    try:
        principal = request.app.state.authenticator.authenticate(request)
    except InvalidToken:
        return JSONResponse(
            {"error": "invalid_token", "error_description": "Token verification failed"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    idp = _idp(request)
    for user in DEMO_USERS.values():
        if user.subject == principal.subject:
            claims = idp.user_claims(user)
            claims.pop("realm_access", None)
            claims.pop("resource_access", None)
            return JSONResponse(claims)
    return JSONResponse({"sub": principal.subject})


@router.api_route(f"{OIDC}/logout", methods=["GET", "POST"], response_model=None)
def logout(request: Request) -> Response:
    # Stateless: tokens expire on their own. Browser logout follows post_logout_redirect_uri.
    target = request.query_params.get("post_logout_redirect_uri")
    if target and target.startswith(("http://127.0.0.1", "http://localhost")):
        return RedirectResponse(target, status_code=302)
    return Response(status_code=204)
