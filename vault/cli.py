"""``ozg-commons vault ...`` (the applicant's device) and ``ozg-commons vault gc`` (operator).

Client commands talk to the server over HTTP with a bearer token: ``OZG_TOKEN``, or the one
``ozg-commons login`` saved. The server URL is ``--server`` / ``OZG_SERVER_URL``. The unlocked
private key is kept in ``$OZG_CLIENT_DIR/vault-key.pem`` (mode 0600) until ``vault lock``;
nothing secret ever leaves the device.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cryptography.hazmat.primitives import serialization
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from vault import keys
from vault.client import ClientError, VaultClient
from vault.errors import InvalidEnvelope, InvalidKey, RevocationUnknown, SanitizeError
from vault.pki import load_anchors
from vault.recipients import PrivateKey, load_private_key
from vault.revocation import CrlFileError, load_crls

cli = typer.Typer(help="End-to-end encrypted documents.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

Server = Annotated[str | None, typer.Option("--server", help="Server URL (OZG_SERVER_URL).")]

# Tests replace this to talk to an in-process app.
http_factory: Callable[[str], httpx.Client] = lambda url: httpx.Client(  # noqa: E731
    base_url=url, timeout=120.0
)


def client_dir() -> Path:
    return Path(os.environ.get("OZG_CLIENT_DIR", Path.home() / ".config" / "ozg-commons"))


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _client(server: str | None) -> VaultClient:
    url = server or os.environ.get("OZG_SERVER_URL", "http://127.0.0.1:8000")
    token = os.environ.get("OZG_TOKEN")
    token_file = client_dir() / "token"
    if not token and token_file.exists():
        token = token_file.read_text().strip()
    if not token:
        err.print("[red]error:[/] not logged in: run `ozg-commons login` or set OZG_TOKEN")
        raise typer.Exit(2)
    anchors_path = os.environ.get("OZG_VAULT_TRUST_ANCHORS")
    anchors = load_anchors(Path(anchors_path)) if anchors_path else None
    crls = _device_crls() if anchors is not None else None
    return VaultClient(url, token, http=http_factory(url), trust_anchors=anchors, crls=crls)


def _device_crls() -> list[Any] | None:
    """The CRLs named by OZG_VAULT_CRL_FILES on this device (a JSON list, as for the
    server, or paths separated by the OS path separator); None if it is not set."""
    raw = os.environ.get("OZG_VAULT_CRL_FILES", "").strip()
    if not raw:
        return None
    try:
        names = json.loads(raw) if raw.startswith("[") else raw.split(os.pathsep)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("not a list of paths")
        return load_crls([Path(n) for n in names if n])
    except (ValueError, CrlFileError) as exc:
        err.print(f"[red]error:[/] OZG_VAULT_CRL_FILES: {exc}")
        raise typer.Exit(2) from None


def _key() -> PrivateKey:
    path = client_dir() / "vault-key.pem"
    if not path.exists():
        err.print("[red]error:[/] the vault is locked: run `ozg-commons vault unlock`")
        raise typer.Exit(2)
    return load_private_key(path.read_bytes())


def _passphrase(confirm: bool = False) -> str:
    value = os.environ.get("OZG_VAULT_PASSPHRASE")
    if value:
        return value
    text: str = typer.prompt("Vault passphrase", hide_input=True, confirmation_prompt=confirm)
    return text


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        err.print(f"[red]error:[/] the server refused ({exc.status}): {exc.detail}")
        raise typer.Exit(1) from None
    except SanitizeError as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except InvalidEnvelope as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except (InvalidKey, RevocationUnknown) as exc:
        err.print(f"[red]error:[/] the authority key was refused: {exc.detail}")
        raise typer.Exit(1) from None
    except keys.WrongSecret as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    except httpx.TransportError:
        err.print("[red]error:[/] cannot reach the server")
        raise typer.Exit(1) from None


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    )


def login(
    token: Annotated[
        str | None, typer.Option(help="A bearer token to store (or OZG_TOKEN).")
    ] = None,
    username: Annotated[str | None, typer.Option(help="Password grant against Keycloak.")] = None,
    keycloak_url: Annotated[str | None, typer.Option(envvar="OZG_KEYCLOAK_SERVER_URL")] = None,
    realm: Annotated[str, typer.Option(envvar="OZG_KEYCLOAK_REALM")] = "ozg",
    client_id: Annotated[str, typer.Option(envvar="OZG_CLIENT_ID")] = "ozg-cli",
) -> None:
    """Store a bearer token for the vault commands (mode 0600)."""
    if token is None and username and keycloak_url:
        from keycloak import KeycloakOpenID

        password = typer.prompt("Password", hide_input=True)
        oidc = KeycloakOpenID(server_url=keycloak_url, realm_name=realm, client_id=client_id)
        token = oidc.token(username, password)["access_token"]
    token = token or os.environ.get("OZG_TOKEN")
    if not token:
        err.print("[red]error:[/] give --token (or OZG_TOKEN), or --username with --keycloak-url")
        raise typer.Exit(2)
    _write_secret(client_dir() / "token", token.encode())
    err.print("logged in; the token is stored in " + str(client_dir() / "token"))


@cli.command()
def keygen(server: Server = None) -> None:
    """Create your vault key on this device; the server gets it only wrapped."""
    client = _client(server)
    with _errors():
        pair = client.keygen(_passphrase(confirm=True))
    _save_key(pair.private_key)
    out.print("Your recovery code (shown once; write it down and keep it safe):")
    out.print(f"[bold]{pair.recovery_code}[/]", highlight=False)


def _save_key(key: PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_secret(client_dir() / "vault-key.pem", pem)


@cli.command()
def unlock(
    server: Server = None,
    recovery: Annotated[
        bool, typer.Option(help="Use the recovery code, set a new passphrase.")
    ] = False,
) -> None:
    """Fetch your wrapped key and unwrap it here with your passphrase."""
    client = _client(server)
    with _errors():
        if recovery:
            code = typer.prompt("Recovery code", hide_input=True)
            key = client.unlock(recovery_code=code)
            client.change_passphrase(key, _passphrase(confirm=True))
        else:
            key = client.unlock(passphrase=_passphrase())
    _save_key(key)
    err.print("vault unlocked")


@cli.command()
def passwd(server: Server = None) -> None:
    """Change the vault passphrase: re-wraps your key here; documents are untouched."""
    client, key = _client(server), _key()
    new: str = typer.prompt("New vault passphrase", hide_input=True, confirmation_prompt=True)
    with _errors():
        client.change_passphrase(key, new)
    err.print("passphrase changed")


@cli.command()
def lock() -> None:
    """Forget the unlocked key on this device."""
    (client_dir() / "vault-key.pem").unlink(missing_ok=True)
    err.print("vault locked")


@cli.command()
def put(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    server: Server = None,
) -> None:
    """Sanitize, encrypt and upload a PDF, JPEG or PNG."""
    client, key = _client(server), _key()
    with _errors(), _progress() as progress:
        task = progress.add_task("uploading", total=None)
        doc_id, report = client.put(file, key, progress=lambda n: progress.advance(task, n))
    if report and report.removed:
        err.print("removed before encryption: " + "; ".join(report.summary()))
    out.print(doc_id)


@cli.command("ls")
def list_documents(
    server: Server = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Your documents (or, as a caseworker, those shared with your authority)."""
    with _errors():
        docs = _client(server).ls()
    if as_json:
        out.print_json(json.dumps(docs))
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
    out.print(table)


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
    client = _client(server)
    key = load_private_key(key_file.read_bytes()) if key_file else _key()
    with _errors(), _progress() as progress:
        task = progress.add_task("downloading", total=None)
        meta = client.get(
            doc_id,
            output,
            key,
            as_authority=key_file is not None,
            progress=lambda n: progress.advance(task, n),
        )
    err.print(f"{meta.filename} ({meta.media_type}, {meta.size} bytes) -> {output}")


@cli.command()
def share(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Give an authority access: your device wraps the document key to its key.

    With OZG_VAULT_TRUST_ANCHORS (a PEM file of CA certificates) the device itself checks
    the authority key's certificate chain first, and with OZG_VAULT_CRL_FILES its
    revocation too."""
    client = _client(server)
    if client.trust_anchors is None:
        err.print("[yellow]warning:[/] OZG_VAULT_TRUST_ANCHORS is not set; the authority key "
                  "is trusted on the server's word")  # fmt: skip
    with _errors():
        client.share(doc_id, authority, _key())
    err.print(f"shared with {authority}")


@cli.command()
def unshare(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Withdraw an authority's access (its wrapped key is deleted)."""
    with _errors():
        _client(server).unshare(doc_id, authority)
    err.print(f"no longer shared with {authority}")


@cli.command()
def rm(doc_id: str, server: Server = None) -> None:
    """Delete (crypto-shred) a document; prints the signed deletion receipt."""
    with _errors():
        receipt = _client(server).rm(doc_id)
    out.print_json(json.dumps(receipt))


@cli.command()
def gc(
    grace_seconds: Annotated[
        int | None, typer.Option(help="Override OZG_VAULT_GC_GRACE_SECONDS")
    ] = None,
) -> None:
    """Remove orphaned blobs (interrupted uploads, shredded documents). Operator command."""
    from commons.db import Database
    from commons.settings import Settings
    from vault.blobstore import store_from_settings
    from vault.runtime import VaultSettings
    from vault.service import collect_garbage

    settings = Settings()
    store = store_from_settings(settings)
    database = Database.from_url(settings.effective_database_url)
    grace = timedelta(
        seconds=settings.section(VaultSettings).gc_grace_seconds
        if grace_seconds is None
        else grace_seconds
    )
    try:
        with database.transaction() as session:
            removed = collect_garbage(session, store, grace)
    finally:
        database.dispose()
    err.print(f"removed {len(removed)} orphaned blob(s)")


@cli.command("demo-authority-key")
def demo_authority_key(
    authority: str,
    output: Annotated[Path, typer.Option("-o", help="Private key PEM to write (0600).")],
) -> None:
    """Development only: issue an authority key under the demo CA; prints the public JWK."""
    from datetime import UTC, datetime

    from cryptography import x509

    from commons.settings import Settings
    from vault.pki import ensure_demo_ca, issue_authority_key

    settings = Settings()
    if settings.is_production:
        err.print("[red]error:[/] the demo CA is for development only")
        raise typer.Exit(2)
    cert_path, key_path = ensure_demo_ca(settings.data_dir / "vault")
    ca_key: Any = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key, jwk = issue_authority_key(ca_key, ca_cert, authority, datetime.now(UTC))
    _write_secret(
        output,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    out.print_json(json.dumps({"jwk": jwk}))


def _read_jwk(path: Path) -> dict[str, Any]:
    """A public JWK from a file holding it bare or as ``{"jwk": ...}``; exit 2 if not."""
    try:
        doc = json.loads(path.read_text())
        jwk = doc.get("jwk", doc) if isinstance(doc, dict) else None
        if not isinstance(jwk, dict):
            raise ValueError("not a JWK")
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/] {path.name} is not a JWK in JSON ({exc})")
        raise typer.Exit(2) from None
    return jwk


@cli.command("register-authority-key")
def register_authority_key(
    authority: str,
    jwk_file: Annotated[Path, typer.Argument(help="The public JWK with x5c (JSON).")],
    server: Server = None,
) -> None:
    """Admin: register an authority's encryption key; it becomes the key clients wrap to."""
    client = _client(server)
    with _errors():
        registered = client.register_authority_key(authority, _read_jwk(jwk_file))
    err.print(f"registered key {registered['kid']} for {authority}")


@cli.command("demo-revoke")
def demo_revoke(
    jwk_file: Annotated[Path, typer.Argument(help="The authority key's public JWK (JSON).")],
) -> None:
    """Development only: revoke an authority key's certificate on the demo CA's CRL."""
    from commons.settings import Settings
    from vault.pki import chain_of, demo_revoke

    settings = Settings()
    if settings.is_production:
        err.print("[red]error:[/] the demo CA is for development only")
        raise typer.Exit(2)
    try:
        leaf = chain_of(_read_jwk(jwk_file))[0]
    except InvalidKey as exc:
        err.print(f"[red]error:[/] {jwk_file.name} has no usable x5c chain ({exc.detail})")
        raise typer.Exit(2) from None
    demo_revoke(settings.data_dir / "vault", leaf)
    err.print(f"revoked certificate serial {leaf.serial_number:x} on the demo CA's CRL")
