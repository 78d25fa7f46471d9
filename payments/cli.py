"""``ozg-commons payments ...``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from commons.components import cli_context
from commons.db import Database
from commons.errors import ConfigurationError, UnknownAuthority
from commons.i18n import _, print_error, say
from commons.settings import Settings
from compliance import AccessEvent, Actor, record_access
from payments.declarations import FEE_BASIS
from payments.reconcile import reconcile
from payments.runtime import PaymentsRuntime

cli = typer.Typer(help="Payments: reconciliation for the cash office.", no_args_is_help=True)


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_startup()
    except (ConfigurationError, ValueError) as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    return settings


@cli.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
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
        print_error(_("--date must be YYYY-MM-DD"))
        raise typer.Exit(2) from None
    settings = _settings()
    # the app's runtime: it knows the deployment's authorities (an unknown one exits 2)
    runtime: PaymentsRuntime = cli_context(ctx).create_app(settings).state.payments
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
    except UnknownAuthority as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    text = result.to_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    say(
        _(
            "{bookings} bookings, total {cents} cents, {mismatches} mismatches",
            bookings=result.booked_count,
            cents=result.booked_total_cents,
            mismatches=len(result.mismatches),
        )
    )
    if result.mismatches:
        raise typer.Exit(1)
