"""``ozg-commons payments ...`` and ``ozg-commons receipt ...``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from commons.db import Database
from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance import AccessEvent, Actor, record_access
from payments import receipts
from payments.errors import InvalidReceipt
from payments.processing import FEE_BASIS
from payments.reconcile import reconcile
from payments.runtime import PaymentsRuntime

cli = typer.Typer(help="Payments: reconciliation for the cash office.", no_args_is_help=True)
receipt_cli = typer.Typer(help="Payment receipts: verify offline.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_startup()
    except (ConfigurationError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    return settings


@cli.command("reconcile")
def reconcile_command(
    authority: Annotated[str, typer.Option(help="Authority id.")],
    day: Annotated[str, typer.Option("--date", help="Booking day, YYYY-MM-DD.")],
    output: Annotated[
        Path | None, typer.Option(help="Write the CSV here (default stdout).")
    ] = None,
    provider_check: Annotated[
        bool, typer.Option(help="Ask the provider for each payment's status.")
    ] = True,
    timezone: Annotated[str, typer.Option(help="Time zone of the booking day.")] = "Europe/Berlin",
) -> None:
    """Export the day's bookings as CSV with totals; flag provider/our status mismatches.
    Exits 1 when there are mismatches."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        err.print("[bold red]error:[/] --date must be YYYY-MM-DD", highlight=False)
        raise typer.Exit(2) from None
    settings = _settings()
    runtime = PaymentsRuntime.from_settings(settings)
    database = Database.from_url(settings.effective_database_url)
    try:
        with database.transaction() as session:
            result = reconcile(
                session,
                runtime,
                authority,
                parsed,
                check_provider=provider_check,
                timezone=timezone,
            )
            record_access(
                session,
                AccessEvent(
                    actor=Actor(subject="cli", role="operator", authority=authority),
                    data_subject=None,
                    action="payments.reconcile.export",
                    resource=f"payments/reconciliation/{authority}/{parsed.isoformat()}",
                    purpose="reconcile the day's bookings with the cash office",
                    legal_basis=FEE_BASIS,
                ),
            )
    finally:
        database.dispose()
    text = result.to_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    err.print(
        f"{result.booked_count} bookings, total {result.booked_total_cents} cents, "
        f"{len(result.mismatches)} mismatches",
        highlight=False,
    )
    if result.mismatches:
        raise typer.Exit(1)


@receipt_cli.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="The receipt PDF.")],
    signature: Annotated[
        Path | None, typer.Option(help="The signature file (default FILE.sig).")
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(help="Trusted Ed25519 public key, base64 (default: this deployment's)."),
    ] = None,
) -> None:
    """Check a receipt offline: the signature, the key and that the PDF is the one signed."""
    signature = signature or file.with_name(file.name + ".sig")
    try:
        if public_key is None:
            key = PaymentsRuntime(settings=_settings()).receipt_signing_key().public_key()
        else:
            key = receipts.load_public_key(public_key)
        payload = receipts.verify(file.read_bytes(), signature.read_bytes(), key)
    except (InvalidReceipt, OSError):
        err.print("[bold red]INVALID:[/] the receipt does not verify", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(
        f"valid receipt: Kassenzeichen {payload['kassenzeichen']}, "
        f"{payload['amount_cents']} cents {payload['currency']}, booked {payload['booked_at']}\n"
    )


@receipt_cli.command("public-key")
def public_key_command() -> None:
    """Print this deployment's receipt public key (base64), to hand to verifiers."""
    key = PaymentsRuntime(settings=_settings()).receipt_signing_key().public_key()
    sys.stdout.write(receipts.public_key_b64(key) + "\n")
