"""The command line's login: OAuth 2.0 authorization code with PKCE and a loopback redirect
(RFC 8252, as the ``gh`` and ``gcloud`` CLIs do), the device authorization grant
(RFC 8628) where the identity provider offers it, or the password grant; the tokens kept
in a file only the user can read, and refreshed silently.

    login = browser_login(issuer, "ozg-cli", show=print)   # prints the URL to open
    store.save(login)
    token = store.bearer()        # refreshed here when it is about to expire

``ozg-commons login`` (vault/client/cli.py) drives it; every command that talks to the
server takes its bearer token from :meth:`LoginStore.bearer`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from commons import cli_messages as msg
from commons.i18n import N_, _

TIMEOUT = 15.0
REFRESH_MARGIN = 30.0
"""Seconds before expiry at which the access token is refreshed."""


_NO_IDP = N_("cannot reach the identity provider at {url}: {reason}")
_REFUSED = N_("the identity provider refused the login: {reason}")


def _again() -> str:
    """``log in again with: ozg-commons login``, translated: the ``{again}`` of the lines
    that end a login."""
    return _(msg.LOG_IN_AGAIN)


class LoginError(Exception):
    """A login failed or cannot be used; the message is one line for the terminal."""


class LoginRequired(LoginError):
    """No usable login: never logged in, or the session ended and cannot be refreshed."""


@dataclass(frozen=True)
class Login:
    """What ``ozg-commons login`` keeps (``login.json``, mode 0600)."""

    issuer: str
    client_id: str
    token_endpoint: str
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    refresh_expires_at: float | None = None


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def discover(issuer: str) -> dict[str, Any]:
    """The identity provider's OpenID configuration; a clear error if it cannot be read."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise LoginError(_(_NO_IDP, url=url, reason=exc)) from None
    if response.status_code != 200:
        raise LoginError(
            _("{url} answered {status}: is the issuer right?", url=url, status=response.status_code)
        )
    config: dict[str, Any] = response.json()
    return config


def _token_request(token_endpoint: str, form: dict[str, str]) -> dict[str, Any]:
    try:
        response = httpx.post(token_endpoint, data=form, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise LoginError(_(_NO_IDP, url=token_endpoint, reason=exc)) from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        reason = body.get("error_description") or body.get("error") or response.status_code
        raise LoginError(_(_REFUSED, reason=reason))
    return body


def _login_from(issuer: str, client_id: str, token_endpoint: str, body: dict[str, Any]) -> Login:
    now = time.time()
    refresh_in = body.get("refresh_expires_in")
    return Login(
        issuer=issuer,
        client_id=client_id,
        token_endpoint=token_endpoint,
        access_token=str(body["access_token"]),
        expires_at=now + float(body.get("expires_in", 300)),
        refresh_token=body.get("refresh_token"),
        # Keycloak: 0 means "as long as the SSO session lives": unknown here, so not checked
        refresh_expires_at=now + float(refresh_in) if refresh_in else None,
    )


# --------------------------------------------------------------------------- the grants
def password_login(issuer: str, client_id: str, username: str, password: str) -> Login:
    """The resource-owner password grant (development IdP, or a Keycloak client allowing it)."""
    endpoint = str(discover(issuer)["token_endpoint"])
    form = {
        "grant_type": "password",
        "client_id": client_id,
        "username": username,
        "password": password,
        "scope": "openid",
    }
    return _login_from(issuer, client_id, endpoint, _token_request(endpoint, form))


class _Callback(BaseHTTPRequestHandler):
    result: dict[str, str] | None = None
    done = threading.Event()

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if urlsplit(self.path).path != "/callback" or not ({"code", "error"} & query.keys()):
            self.send_response(404)
            self.end_headers()
            return
        type(self).result = query
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>ozg-commons login</title>"
            "<h1>Login complete / Anmeldung abgeschlossen</h1>"
            "<p>You can close this window and return to the command line. / "
            "Sie können dieses Fenster schließen.</p></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)
        type(self).done.set()

    def log_message(self, *_args: Any) -> None:  # the code stays out of the terminal
        return


def browser_login(
    issuer: str,
    client_id: str,
    *,
    show: Callable[[str], None],
    open_browser: Callable[[str], object] | None = None,
    timeout: float = 300.0,
    acr: str | None = None,
) -> Login:
    """Authorization code with PKCE (S256) and a loopback redirect on a free port of
    127.0.0.1: ``show`` gets the URL to open (``open_browser`` opens it too, if given)."""
    config = discover(issuer)
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)

    class Handler(_Callback):  # one class per login: its own result and event
        result: dict[str, str] | None = None
        done = threading.Event()

    server = HTTPServer(("127.0.0.1", 0), Handler)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if acr:
        params["acr_values"] = acr
    url = f"{config['authorization_endpoint']}?{urlencode(params)}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        show(url)
        if open_browser is not None:
            open_browser(url)
        if not Handler.done.wait(timeout):
            raise LoginError(
                _("no login within {seconds} s; {again}", seconds=int(timeout), again=_again())
            )
    finally:
        server.shutdown()
        server.server_close()
    result = Handler.result or {}
    if "error" in result:
        raise LoginError(_(_REFUSED, reason=result["error"]))
    if not secrets.compare_digest(result.get("state", ""), state):
        raise LoginError(_("the login answer does not belong to this login (state); try again"))
    endpoint = str(config["token_endpoint"])
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": result.get("code", ""),
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    return _login_from(issuer, client_id, endpoint, _token_request(endpoint, form))


def device_login(
    issuer: str,
    client_id: str,
    *,
    show: Callable[[str, str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Login:
    """The device authorization grant (RFC 8628): ``show(verification_uri, user_code)``
    tells the user where to go; then the token endpoint is polled."""
    config = discover(issuer)
    endpoint = config.get("device_authorization_endpoint")
    if not endpoint:
        raise LoginError(
            "this identity provider does not offer the device grant; "
            "log in with the browser: ozg-commons login"
        )
    grant = _token_request(str(endpoint), {"client_id": client_id, "scope": "openid"})
    show(
        str(grant.get("verification_uri_complete") or grant["verification_uri"]),
        str(grant["user_code"]),
    )
    interval = float(grant.get("interval", 5))
    deadline = time.monotonic() + float(grant.get("expires_in", 600))
    token_endpoint = str(config["token_endpoint"])
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": client_id,
        "device_code": str(grant["device_code"]),
    }
    while time.monotonic() < deadline:
        sleep(interval)
        response = httpx.post(token_endpoint, data=form, timeout=TIMEOUT)
        body = response.json() if response.content else {}
        if response.status_code == 200:
            return _login_from(issuer, client_id, token_endpoint, body)
        error = body.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise LoginError(_(_REFUSED, reason=error))
    raise LoginError(_("the device code expired before the login; {again}", again=_again()))


# --------------------------------------------------------------------------- the store
class LoginStore:
    """The login of this user on this device, in ``directory`` (``OZG_CLIENT_DIR``):
    ``login.json`` (tokens, refreshable) or ``token`` (a bearer token given as is)."""

    def __init__(self, directory: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.clock = clock

    @property
    def path(self) -> Path:
        return self.directory / "login.json"

    @property
    def token_path(self) -> Path:
        return self.directory / "token"

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def save(self, login: Login) -> None:
        self._write(self.path, json.dumps(asdict(login)).encode())
        self.token_path.unlink(missing_ok=True)

    def save_token(self, token: str) -> None:
        self._write(self.token_path, token.encode())
        self.path.unlink(missing_ok=True)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.token_path.unlink(missing_ok=True)

    def load(self) -> Login | None:
        if not self.path.exists():
            return None
        try:
            return Login(**json.loads(self.path.read_text()))
        except (ValueError, TypeError):
            raise LoginRequired(
                _("{path} is damaged; {again}", path=self.path, again=_again())
            ) from None

    def bearer(self) -> str:
        """A valid access token: ``OZG_TOKEN``, the stored login (refreshed when it is
        about to expire), or the stored token; :class:`LoginRequired` otherwise."""
        token = os.environ.get("OZG_TOKEN")
        if token:
            return token
        login = self.load()
        if login is not None:
            if self.clock() < login.expires_at - REFRESH_MARGIN:
                return login.access_token
            return self.refresh(login).access_token
        if self.token_path.exists():
            return self.token_path.read_text().strip()
        raise LoginRequired(_("not logged in; {again} (or set OZG_TOKEN)", again=_again()))

    def refresh(self, login: Login) -> Login:
        expired = login.refresh_expires_at is not None and self.clock() >= login.refresh_expires_at
        if login.refresh_token is None or expired:
            raise LoginRequired(_("your login has expired; {again}", again=_again()))
        form = {
            "grant_type": "refresh_token",
            "client_id": login.client_id,
            "refresh_token": login.refresh_token,
        }
        try:
            body = _token_request(login.token_endpoint, form)
        except LoginError:
            raise LoginRequired(
                _("your login could not be renewed; {again}", again=_again())
            ) from None
        renewed = _login_from(login.issuer, login.client_id, login.token_endpoint, body)
        if renewed.refresh_token is None:  # the provider keeps the old refresh token valid
            renewed = Login(**{**asdict(renewed), "refresh_token": login.refresh_token})
        self.save(renewed)
        return renewed
