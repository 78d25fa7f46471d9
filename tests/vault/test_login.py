"""``ozg-commons login`` lasts: the browser login (code + PKCE, loopback redirect) against the
development IdP of a served app, tokens kept mode 0600, silent refresh, and one clear line
when the login cannot be used any more."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli_app
from tests.account.test_devidp_live import live_base  # noqa: F401 (the served app)
from vault.client.session import (
    Login,
    LoginError,
    LoginRequired,
    LoginStore,
    browser_login,
    device_login,
    password_login,
)


def _issuer(base: str) -> str:
    return f"{base}/dev-idp/realms/ozg-dev"


def _user_signs_in(url: str, username: str = "demo-applicant") -> None:
    """What the user does in the browser: the login form, posted with the page's fields."""

    def act() -> None:
        parts = urlsplit(url)
        form = dict(parse_qsl(parts.query))
        form.update(username=username, password=username)
        target = f"{parts.scheme}://{parts.netloc}{parts.path}"
        httpx.post(target, data=form, follow_redirects=True, timeout=30)

    threading.Thread(target=act, daemon=True).start()


def test_browser_login_is_stored_privately_and_refreshes_silently(
    live_base: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    shown: list[str] = []

    def show(url: str) -> None:
        shown.append(url)
        _user_signs_in(url)

    login = browser_login(_issuer(live_base), "ozg-cli", show=show, timeout=60)
    query = dict(parse_qsl(urlsplit(shown[0]).query))
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert login.refresh_token
    store = LoginStore(tmp_path / "device")
    store.save(login)
    assert store.path.stat().st_mode & 0o077 == 0
    me = httpx.get(
        f"{live_base}/v1/me", headers={"Authorization": f"Bearer {store.bearer()}"}, timeout=30
    )
    assert me.status_code == 200
    assert me.json()["subject"]

    # later: the access token is about to expire, so the next use renews it
    later = LoginStore(tmp_path / "device", clock=lambda: login.expires_at)
    renewed = later.bearer()
    assert renewed != login.access_token
    kept = json.loads(store.path.read_text())
    assert kept["access_token"] == renewed
    assert store.path.stat().st_mode & 0o077 == 0
    me = httpx.get(f"{live_base}/v1/me", headers={"Authorization": f"Bearer {renewed}"})
    assert me.status_code == 200


def test_a_login_that_cannot_be_renewed_says_log_in_again(
    live_base: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    login = password_login(_issuer(live_base), "ozg-cli", "demo-applicant", "demo-applicant")
    store = LoginStore(tmp_path, clock=lambda: login.expires_at + 1)
    store.save(Login(**{**login.__dict__, "refresh_token": "not-a-refresh-token"}))
    with pytest.raises(LoginRequired, match="log in again with: ozg-commons login"):
        store.bearer()
    store.save(Login(**{**login.__dict__, "refresh_token": None}))
    with pytest.raises(LoginRequired, match="log in again with: ozg-commons login"):
        store.bearer()


def test_wrong_password_is_one_line(live_base: str, tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(LoginError, match="refused the login"):
        password_login(_issuer(live_base), "ozg-cli", "demo-applicant", "wrong")
    result = CliRunner().invoke(
        cli_app,
        ["login", "--username", "demo-applicant", "--server", live_base],
        input="wrong\n",
        env={"OZG_CLIENT_DIR": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # the command raised nothing else
    # one line of the command's own (the served app runs in this process and may log too)
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]]
    assert errors[0].startswith("error: the identity provider refused the login")
    assert not (tmp_path / "login.json").exists()


def test_cli_password_login_then_a_vault_command_uses_it(
    live_base: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {"OZG_CLIENT_DIR": str(tmp_path), "OZG_SERVER_URL": live_base}
    result = CliRunner().invoke(
        cli_app, ["login", "--username", "demo-applicant"], input="demo-applicant\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "login.json") in result.output
    listed = CliRunner().invoke(cli_app, ["vault", "ls"], env=env)
    assert listed.exit_code == 0, listed.output
    out = CliRunner().invoke(cli_app, ["logout"], env=env)
    assert out.exit_code == 0
    again = CliRunner().invoke(cli_app, ["vault", "ls"], env=env)
    assert again.exit_code == 2
    assert "log in again with: ozg-commons login" in again.output


def test_device_grant_needs_an_idp_that_offers_it(live_base: str) -> None:  # noqa: F811
    with pytest.raises(LoginError, match="does not offer the device grant"):
        device_login(_issuer(live_base), "ozg-cli", show=lambda _uri, _code: None)


def test_unreachable_identity_provider_names_the_address() -> None:
    with pytest.raises(LoginError, match=r"http://127\.0\.0\.1:9/"):
        password_login("http://127.0.0.1:9/realms/x", "ozg-cli", "a", "b")
