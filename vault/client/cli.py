"""The device commands of ``ozg-commons vault ...`` and ``ozg-commons login``.

They talk to the server over HTTP with a bearer token: ``OZG_TOKEN``, or the one
``ozg-commons login`` saved. The server URL is ``--server`` / ``OZG_SERVER_URL``. The unlocked
private key is kept in ``$OZG_CLIENT_DIR/vault-key.pem`` (mode 0600) until ``vault lock``;
nothing secret ever leaves the device. The operator commands are in ``vault.cli``, which
mounts these.

Nothing heavy is imported at module level (httpx, the crypto libraries, rich's widgets), so
that ``--help`` starts fast; each command imports what it needs.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vault.errors import (
    ClientError,
    InvalidEnvelope,
    InvalidKey,
    RevocationUnknown,
    SanitizeError,
    WrongSecret,
)

if TYPE_CHECKING:
    import httpx
    from rich.console import Console
    from rich.progress import Progress

    from vault.client.sdk import VaultClient
    from vault.client.session import LoginStore
    from vault.recipients import PrivateKey

cli = typer.Typer(help="End-to-end encrypted documents.", no_args_is_help=True)

Server = Annotated[str | None, typer.Option("--server", help="Server URL (OZG_SERVER_URL).")]


def _default_http(url: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=url, timeout=120.0)


# Tests replace this to talk to an in-process app.
http_factory: Callable[[str], httpx.Client] = _default_http


@functools.cache
def out() -> Console:
    """The console for results (stdout)."""
    from rich.console import Console

    return Console()


@functools.cache
def err() -> Console:
    """The console for messages and errors (stderr)."""
    from rich.console import Console

    return Console(stderr=True)


def client_dir() -> Path:
    return Path(os.environ.get("OZG_CLIENT_DIR", Path.home() / ".config" / "ozg-commons"))


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by this user only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def server_url(server: str | None) -> str:
    return (server or os.environ.get("OZG_SERVER_URL", "http://127.0.0.1:8000")).rstrip("/")


def login_store() -> LoginStore:
    """This user's login on this device (``OZG_CLIENT_DIR``)."""
    from vault.client.session import LoginStore

    return LoginStore(client_dir())


def connect(server: str | None) -> VaultClient:
    """A client for ``server`` with the stored token and this device's trust anchors and
    CRLs (``OZG_VAULT_TRUST_ANCHORS``, ``OZG_VAULT_CRL_FILES``); exit 2 if not logged in."""
    from vault.client.sdk import VaultClient
    from vault.client.session import LoginError
    from vault.pki import load_anchors

    url = server_url(server)
    try:
        token = login_store().bearer()
    except LoginError as exc:
        err().print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    anchors_path = os.environ.get("OZG_VAULT_TRUST_ANCHORS")
    anchors = load_anchors(Path(anchors_path)) if anchors_path else None
    crls = device_crls() if anchors is not None else None
    return VaultClient(url, token, http=http_factory(url), trust_anchors=anchors, crls=crls)


def device_crls() -> list[Any] | None:
    """The CRLs named by OZG_VAULT_CRL_FILES on this device (a JSON list, as for the
    server, or paths separated by the OS path separator); None if it is not set."""
    from vault.errors import CrlFileError
    from vault.revocation import load_crls

    raw = os.environ.get("OZG_VAULT_CRL_FILES", "").strip()
    if not raw:
        return None
    try:
        names = json.loads(raw) if raw.startswith("[") else raw.split(os.pathsep)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("not a list of paths")
        return load_crls([Path(n) for n in names if n])
    except (ValueError, CrlFileError) as exc:
        err().print(f"[red]error:[/] OZG_VAULT_CRL_FILES: {exc}")
        raise typer.Exit(2) from None


def _key() -> PrivateKey:
    from vault.recipients import load_private_key

    path = client_dir() / "vault-key.pem"
    if not path.exists():
        err().print("[red]error:[/] the vault is locked: run `ozg-commons vault unlock`")
        raise typer.Exit(2)
    return load_private_key(path.read_bytes())


def _save_key(key: PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(client_dir() / "vault-key.pem", pem)


def _passphrase(confirm: bool = False) -> str:
    value = os.environ.get("OZG_VAULT_PASSPHRASE")
    if value:
        return value
    text: str = typer.prompt("Vault passphrase", hide_input=True, confirmation_prompt=confirm)
    return text


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn what a client call can raise into a one-line message and exit 1."""
    import httpx

    try:
        yield
    except ClientError as exc:
        err().print(f"[red]error:[/] the server refused ({exc.status}): {exc.detail}")
        if exc.status == 401:
            err().print("log in again with: ozg-commons login")
        raise typer.Exit(1) from None
    except SanitizeError as exc:
        err().print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except InvalidEnvelope as exc:
        err().print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except (InvalidKey, RevocationUnknown) as exc:
        err().print(f"[red]error:[/] the authority key was refused: {exc.detail}")
        raise typer.Exit(1) from None
    except WrongSecret as exc:
        err().print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    except httpx.TransportError as exc:
        try:
            where = f" at {exc.request.url.copy_with(query=None)}"
        except RuntimeError:  # no request attached
            where = ""
        err().print(f"[red]error:[/] cannot reach the server{where}")
        raise typer.Exit(1) from None


def _progress() -> Progress:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err(),
        transient=True,
    )


def login(
    token: Annotated[
        str | None, typer.Option(help="Store this bearer token as it is (no refresh).")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(help="Use the password grant for this user (asks for the password)."),
    ] = None,
    device: Annotated[
        bool, typer.Option("--device", help="Use the device authorization grant (RFC 8628).")
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the login URL instead of opening it.")
    ] = False,
    issuer: Annotated[
        str | None,
        typer.Option(
            envvar="OZG_OIDC_ISSUER",
            help="The identity provider (default: Keycloak's realm if --keycloak-url is given, "
            "else the development IdP of --server).",
        ),
    ] = None,
    keycloak_url: Annotated[str | None, typer.Option(envvar="OZG_KEYCLOAK_SERVER_URL")] = None,
    realm: Annotated[str, typer.Option(envvar="OZG_KEYCLOAK_REALM")] = "ozg",
    client_id: Annotated[str, typer.Option(envvar="OZG_CLIENT_ID")] = "ozg-cli",
    server: Server = None,
) -> None:
    """Log in: opens the identity provider's login page in the browser (authorization code
    with PKCE and a loopback redirect), keeps the tokens readable by you only, and renews
    them silently until the identity provider ends the session."""
    import webbrowser

    from vault.client.session import LoginError, browser_login, device_login, password_login

    store = login_store()
    if token is not None:
        store.save_token(token)
        err().print(f"logged in; the token is stored in {store.token_path} (it is not renewed)")
        return
    if issuer is None:
        if keycloak_url:
            issuer = f"{keycloak_url.rstrip('/')}/realms/{realm}"
        else:
            issuer = f"{server_url(server)}/dev-idp/realms/ozg-dev"
    try:
        if username:
            password = typer.prompt("Password", hide_input=True)
            session = password_login(issuer, client_id, username, password)
        elif device:
            session = device_login(
                issuer,
                client_id,
                show=lambda uri, code: err().print(
                    f"open {uri} in a browser and enter the code {code}", highlight=False
                ),
            )
        else:
            session = browser_login(
                issuer,
                client_id,
                show=lambda url: err().print(
                    f"open this address in your browser to log in:\n{url}", highlight=False
                ),
                open_browser=None if no_browser else webbrowser.open,
            )
    except LoginError as exc:
        err().print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    store.save(session)
    err().print(f"logged in; your login is kept in {store.path} (readable by you only)")


def logout() -> None:
    """Forget the login on this device."""
    login_store().clear()
    err().print("logged out")


@cli.command()
def keygen(server: Server = None) -> None:
    """Create your vault key on this device; the server gets it only wrapped."""
    client = connect(server)
    with reporting_errors():
        pair = client.keygen(_passphrase(confirm=True))
    _save_key(pair.private_key)
    out().print("Your recovery code (shown once; write it down and keep it safe):")
    out().print(f"[bold]{pair.recovery_code}[/]", highlight=False)


@cli.command()
def unlock(
    server: Server = None,
    recovery: Annotated[
        bool, typer.Option(help="Use the recovery code, set a new passphrase.")
    ] = False,
) -> None:
    """Fetch your wrapped key and unwrap it here with your passphrase."""
    client = connect(server)
    with reporting_errors():
        if recovery:
            code = typer.prompt("Recovery code", hide_input=True)
            key = client.unlock(recovery_code=code)
            client.change_passphrase(key, _passphrase(confirm=True))
        else:
            key = client.unlock(passphrase=_passphrase())
    _save_key(key)
    err().print("vault unlocked")


@cli.command()
def passwd(server: Server = None) -> None:
    """Change the vault passphrase: re-wraps your key here; documents are untouched."""
    client, key = connect(server), _key()
    new: str = typer.prompt("New vault passphrase", hide_input=True, confirmation_prompt=True)
    with reporting_errors():
        client.change_passphrase(key, new)
    err().print("passphrase changed")


@cli.command()
def lock() -> None:
    """Forget the unlocked key on this device."""
    (client_dir() / "vault-key.pem").unlink(missing_ok=True)
    err().print("vault locked")


@cli.command()
def put(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    server: Server = None,
) -> None:
    """Sanitize, encrypt and upload a PDF, JPEG or PNG."""
    client, key = connect(server), _key()
    with reporting_errors(), _progress() as progress:
        task = progress.add_task("uploading", total=None)
        doc_id, report = client.put(file, key, progress=lambda n: progress.advance(task, n))
    if report and report.removed:
        err().print("removed before encryption: " + "; ".join(report.summary()))
    out().print(doc_id)


@cli.command("ls")
def list_documents(
    server: Server = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Your documents (or, as a caseworker, those shared with your authority)."""
    from rich.table import Table

    with reporting_errors():
        docs = connect(server).ls()
    if as_json:
        out().print_json(json.dumps(docs))
        return
    table = Table("size", "created", "shared with")
    table.add_column("id", no_wrap=True, min_width=36)
    for doc in docs:
        table.add_row(
            str(doc["envelope_size"]),
            doc["created_at"][:19],
            ", ".join(doc["shared_with"]),
            doc["id"],
        )
    out().print(table)


@cli.command()
def get(
    doc_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    server: Server = None,
    key_file: Annotated[
        Path | None, typer.Option(help="Authority private key (PEM or JWK).")
    ] = None,
) -> None:
    """Download and decrypt a document (as an authority: with --key-file)."""
    from vault.recipients import load_private_key

    client = connect(server)
    key = load_private_key(key_file.read_bytes()) if key_file else _key()
    with reporting_errors(), _progress() as progress:
        task = progress.add_task("downloading", total=None)
        meta = client.get(
            doc_id,
            output,
            key,
            as_authority=key_file is not None,
            progress=lambda n: progress.advance(task, n),
        )
    err().print(f"{meta.filename} ({meta.media_type}, {meta.size} bytes) -> {output}")


@cli.command()
def share(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Give an authority access: your device wraps the document key to its key.

    With OZG_VAULT_TRUST_ANCHORS (a PEM file of CA certificates) the device itself checks
    the authority key's certificate chain first, and with OZG_VAULT_CRL_FILES its
    revocation too."""
    client = connect(server)
    if client.trust_anchors is None:
        err().print("[yellow]warning:[/] OZG_VAULT_TRUST_ANCHORS is not set; the authority key "
                    "is trusted on the server's word")  # fmt: skip
    with reporting_errors():
        client.share(doc_id, authority, _key())
    err().print(f"shared with {authority}")


@cli.command()
def unshare(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Withdraw an authority's access (its wrapped key is deleted)."""
    with reporting_errors():
        connect(server).unshare(doc_id, authority)
    err().print(f"no longer shared with {authority}")


@cli.command()
def rm(doc_id: str, server: Server = None) -> None:
    """Delete (crypto-shred) a document; prints the signed deletion receipt."""
    with reporting_errors():
        receipt = connect(server).rm(doc_id)
    out().print_json(json.dumps(receipt))
