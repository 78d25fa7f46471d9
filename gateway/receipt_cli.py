"""``ozg-commons receipt ...``: verify any receipt offline, make and show receipt keys.

``receipt verify FILE`` takes a compact JWS (a ``.jws`` text file), a JSON file holding one
(``{"receipt": "<JWS>", ...}``, e.g. a saved API response), a payment receipt PDF, or a
receipt in one of the legacy formats (docs/receipts.md). It prints what the receipt attests
and exits 0, or prints one line and exits 1.

Imports stay light at module level (no web framework, no database): the domain code a PDF
needs is imported only when a PDF is verified.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import commons.receipts as receipts  # a face that loads on first use: --help stays fast
from commons.i18n import print_error

if TYPE_CHECKING:
    from commons.receipts import Receipt

cli = typer.Typer(
    help="Receipts: verify offline; create and show signing keys.", no_args_is_help=True
)

KEYS_TIMEOUT_SECONDS = 10


class _Failure(Exception):
    """One line to print before exiting 1."""


def _settings() -> Any:
    from commons.settings import Settings

    try:
        return Settings()
    except ValueError as exc:  # pydantic ValidationError: the message names the setting
        raise _Failure(f"invalid settings: {str(exc).splitlines()[-2].strip()}") from None


def _load_jwks(source: str) -> dict[str, Any]:
    try:
        if source.startswith(("http://", "https://")):
            import httpx

            response = httpx.get(source, timeout=KEYS_TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        else:
            document = json.loads(Path(source).read_text(encoding="utf-8"))
    except Exception:  # any transport, file or JSON error: the key set cannot be had
        raise _Failure(f"cannot read a key set from {source}") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _Failure(f"{source} is not a JWKS (an object with a keys list)")
    return document


def _legacy_keys(jwks: Mapping[str, Any], given: list[str], secret: str | None) -> list[Any]:
    from commons.receipts import keys as receipt_keys
    from commons.receipts import legacy

    found = []
    for text in given:
        try:
            found.append(legacy.parse_public_key(text))
        except ValueError:
            raise _Failure("--legacy-key is not an Ed25519 public key") from None
    for entry in jwks["keys"]:
        try:
            found.append(receipt_keys.parse_public_jwk(entry))
        except ValueError:
            continue
    if secret is not None:
        found += legacy.derived_public_keys(secret).values()
    return found


def _verify_file(
    file: Path, jwks: Mapping[str, Any], legacy_keys: list[Any], signature: Path | None
) -> tuple[Receipt, str]:
    """The receipt in ``file`` and the name of its format."""
    from commons.receipts import legacy

    data = file.read_bytes()
    if data.startswith(b"%PDF"):
        from payments import receipts as payment_receipts  # the PDF needs the renderer

        sig = signature or file.with_name(file.name + ".sig")
        if signature is None and not sig.exists():
            return payment_receipts.verify_pdf(data, jwks), "v1 (PDF)"
        document = json.loads(sig.read_bytes())
        return legacy.verify_legacy(document, legacy_keys, pdf=data), "legacy payment PDF + .sig"
    text = data.decode("utf-8").strip()
    if not text.startswith("{"):
        return receipts.verify(text, jwks), "v1"
    document = json.loads(text)
    if not isinstance(document, dict):
        raise receipts.InvalidReceipt()
    if isinstance(document.get("receipt"), str):
        return receipts.verify(document["receipt"], jwks), "v1"
    if document.get("format") == legacy.PAYMENT_SIGNATURE_FORMAT and file.suffix == ".sig":
        pdf = file.with_name(file.name.removesuffix(".sig")).read_bytes()
        return legacy.verify_legacy(document, legacy_keys, pdf=pdf), "legacy payment PDF + .sig"
    return legacy.verify_legacy(document, legacy_keys), "legacy"


@cli.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="A .jws file, a JSON receipt, or a receipt PDF.")],
    keys: Annotated[
        str | None,
        typer.Option(help="JWKS file or URL to trust (default: this deployment's keys)."),
    ] = None,
    legacy_key: Annotated[
        list[str] | None,
        typer.Option(help="Public key of a legacy receipt (base64/base64url or JWK); repeatable."),
    ] = None,
    signature: Annotated[
        Path | None, typer.Option(help="Legacy payment receipts: the .sig (default FILE.sig).")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(help="Trust the keys this server publishes (SERVER/v1/receipts/keys)."),
    ] = None,
) -> None:
    """Check a receipt offline and print what it attests; a failure exits 1. Erasure
    receipts (ozg-commons me erase) are checked like every other kind."""
    if server is not None and keys is None:
        keys = f"{server.rstrip('/')}/v1/receipts/keys"
    try:
        secret = None
        if keys is None:
            settings = _settings()
            jwks: Mapping[str, Any] = receipts.load_signer(settings).jwks()
            secret = settings.secret_key.get_secret_value()  # the legacy keys' derivation
        else:
            jwks = _load_jwks(keys)
        receipt, form = _verify_file(
            file, jwks, _legacy_keys(jwks, legacy_key or [], secret), signature
        )
    except _Failure as exc:
        typer.echo(f"INVALID: {exc}", err=True)
        raise typer.Exit(1) from None
    except Exception:  # InvalidReceipt, unreadable file, malformed JSON: all the same answer
        typer.echo(f"INVALID: {receipts.InvalidReceipt.MESSAGE}", err=True)
        raise typer.Exit(1) from None
    sys.stdout.write(
        f"valid {receipt.kind} receipt ({form}), issued {receipt.issued_at.isoformat()}"
        f"{' by ' + receipt.issuer if receipt.issuer else ''}, key {receipt.kid}\n"
    )
    sys.stdout.write(json.dumps(dict(receipt.claims), indent=2, ensure_ascii=False) + "\n")


@cli.command("keygen")
def keygen_command() -> None:
    """Print a new receipt signing key (an Ed25519 OKP private JWK) for
    OZG_RECEIPT_SIGNING_KEY. Keep it secret; publish nothing but the JWKS."""
    from commons.receipts import keys as receipt_keys

    sys.stdout.write(receipt_keys.generate_private_jwk_text() + "\n")


@cli.command("keys")
def keys_command() -> None:
    """Print this deployment's receipt key set (JWKS), to hand to offline verifiers."""
    try:
        jwks = receipts.load_signer(_settings()).jwks()
    except (_Failure, ValueError) as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps(jwks, indent=2) + "\n")


@cli.command("legacy-keys")
def legacy_keys_command() -> None:
    """Print the public keys (JWKs) that signed this deployment's legacy receipts, derived
    from OZG_SECRET_KEY: add them to OZG_RECEIPT_RETIRED_KEYS to keep them published."""
    from commons.receipts import keys as receipt_keys
    from commons.receipts import legacy

    try:
        secret = _settings().secret_key.get_secret_value()
    except _Failure as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    for kind, key in legacy.derived_public_keys(secret).items():
        jwk = {
            k: v for k, v in receipt_keys.public_jwk(key).items() if k in ("kty", "crv", "x", "kid")
        }
        sys.stdout.write(f"{kind}\t{json.dumps(jwk, separators=(',', ':'))}\n")
