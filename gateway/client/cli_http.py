"""What the applicant's and the flow's commands (``me``, ``mailbox``, ``fees``) share: the
server and the login of the vault's device commands (``vault.client.cli``: the same
``--server`` / ``OZG_SERVER_URL``, the same ``LoginStore``, the same HTTP client factory,
which tests replace, and the same error mapping). Files written whole and without
overwriting, and the one confirmation, are ``commons.cli_safety``'s, shared with the vault's
commands.

Errors of the server are :class:`vault.errors.ClientError` (status and the problem's
``detail``), so that ``vault.client.cli.reporting_errors`` turns them into one line, as for
every device command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from commons.i18n import accept_language, print_error
from vault.client import ClientError
from vault.client import cli as vault_cli

if TYPE_CHECKING:
    import httpx

    from vault import PrivateKey


class Api:
    """JSON over HTTP with the user's bearer token; a refusal raises :class:`ClientError`."""

    def __init__(self, url: str, http: httpx.Client, token: str | Callable[[], str]) -> None:
        self.url = url
        self.http = http
        self._token = token

    def _headers(self) -> dict[str, str]:
        token = self._token() if callable(self._token) else self._token
        return {"Authorization": f"Bearer {token}", "Accept-Language": accept_language()}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, headers=self._headers(), **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.reason_phrase)
            except ValueError:
                detail = response.reason_phrase
            raise ClientError(response.status_code, str(detail))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def connect(server: str | None, token: str | Callable[[], str] | None = None) -> Api:
    """The server (``--server``, ``OZG_SERVER_URL``) with ``token``, else the login of
    ``ozg-commons login`` (or ``OZG_TOKEN``); exit 2 with one line if there is none."""
    from vault.client import LoginError

    url = vault_cli.server_url(server)
    if token is None:
        store = vault_cli.login_store()
        try:
            store.bearer()  # fails now, with the advice, if there is no login
        except LoginError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None
        token = store.bearer
    return Api(url, vault_cli.http_factory(url), token)


reporting = vault_cli.reporting_errors
"""One line and exit 1 for what a server call can raise (the vault commands' mapping)."""


def unlocked_key() -> PrivateKey | None:
    """The vault key unlocked on this device (``ozg-commons vault unlock``), if it is."""
    from vault import load_private_key

    path = vault_cli.client_dir() / "vault-key.pem"
    return load_private_key(path.read_bytes()) if path.exists() else None
