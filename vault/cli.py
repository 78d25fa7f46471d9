"""``ozg-commons vault ...``: the device commands (``vault.client.cli``) and the operator's
and the development PKI's commands (``gc``, ``register-authority-key``,
``demo-authority-key``, ``demo-revoke``).

The group built here carries both, so the commands users type stay one group. Nothing heavy
is imported at module level; each command imports what it needs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from commons.i18n import _, say
from vault.client import cli as device
from vault.client.cli import Server, connect, fail, out, reporting_errors, write_secret
from vault.errors import InvalidKey

cli = typer.Typer(help="End-to-end encrypted documents.", no_args_is_help=True)
cli.registered_commands += device.cli.registered_commands  # keygen, unlock, put, ls, ...


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
    from vault.gc import collect_garbage
    from vault.runtime import VaultSettings

    settings = Settings()
    store = store_from_settings(settings)
    database = Database.from_url(settings.effective_database_url)
    grace = timedelta(
        seconds=settings.section(VaultSettings).gc_grace_seconds
        if grace_seconds is None
        else grace_seconds
    )
    from commons.clock import system_clock
    from vault.chunked import collect_expired, spool_dir

    try:
        with database.transaction() as session:
            removed = collect_garbage(session, store, grace)
            expired = collect_expired(session, spool_dir(settings.data_dir), system_clock.now())
    finally:
        database.dispose()
    say(
        _(
            "removed {blobs} orphaned blob(s), {uploads} expired upload(s)",
            blobs=len(removed),
            uploads=len(expired),
        )
    )


@cli.command("demo-authority-key")
def demo_authority_key(
    authority: str,
    output: Annotated[Path, typer.Option("-o", help="Private key PEM to write (0600).")],
) -> None:
    """Development only: issue an authority key under the demo CA; prints the public JWK."""
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from commons.settings import Settings
    from vault.pki import ensure_demo_ca, issue_authority_key

    settings = Settings()
    if settings.is_production:
        raise fail(_("the demo CA is for development only"), 2)
    cert_path, key_path = ensure_demo_ca(settings.data_dir / "vault")
    ca_key: Any = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key, jwk = issue_authority_key(ca_key, ca_cert, authority, datetime.now(UTC))
    write_secret(
        output,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    out().print_json(json.dumps({"jwk": jwk}))


def _read_jwk(path: Path) -> dict[str, Any]:
    """A public JWK from a file holding it bare or as ``{"jwk": ...}``; exit 2 if not."""
    try:
        doc = json.loads(path.read_text())
        jwk = doc.get("jwk", doc) if isinstance(doc, dict) else None
        if not isinstance(jwk, dict):
            raise ValueError("not a JWK")
    except (OSError, ValueError) as exc:
        raise fail(
            _("{name} is not a JWK in JSON ({reason})", name=path.name, reason=exc), 2
        ) from None
    return jwk


@cli.command("register-authority-key")
def register_authority_key(
    authority: str,
    jwk_file: Annotated[Path, typer.Argument(help="The public JWK with x5c (JSON).")],
    server: Server = None,
) -> None:
    """Admin: register an authority's encryption key; it becomes the key clients wrap to."""
    client = connect(server)
    with reporting_errors():
        registered = client.register_authority_key(authority, _read_jwk(jwk_file))
    say(_("registered key {kid} for {authority}", kid=registered["kid"], authority=authority))


@cli.command("demo-revoke")
def demo_revoke(
    jwk_file: Annotated[Path, typer.Argument(help="The authority key's public JWK (JSON).")],
) -> None:
    """Development only: revoke an authority key's certificate on the demo CA's CRL."""
    from commons.settings import Settings
    from vault.pki import chain_of, demo_revoke

    settings = Settings()
    if settings.is_production:
        raise fail(_("the demo CA is for development only"), 2)
    try:
        leaf = chain_of(_read_jwk(jwk_file))[0]
    except InvalidKey as exc:
        raise fail(
            _("{name} has no usable x5c chain ({reason})", name=jwk_file.name, reason=exc.detail), 2
        ) from None
    demo_revoke(settings.data_dir / "vault", leaf)
    say(
        _(
            "revoked certificate serial {serial} on the demo CA's CRL",
            serial=f"{leaf.serial_number:x}",
        )
    )
