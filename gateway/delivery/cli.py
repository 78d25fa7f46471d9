"""``ozg-commons delivery ...``: run FIT-Connect's timers and pending callbacks."""

from __future__ import annotations

import json

import typer

from commons.components import cli_context
from commons.errors import ConfigurationError
from commons.i18n import _, print_error, say
from commons.settings import Settings

cli = typer.Typer(help="FIT-Connect delivery: timers and callbacks.", no_args_is_help=True)


@cli.command("tick")
def tick_command(ctx: typer.Context) -> None:
    """Delete incomplete submissions (1 day), warn about unfetched ones (3 days), reject
    those unfetched for 14 days, and send due callbacks. Prints what it did as JSON (ids
    only) on stdout, and a summary line on stderr. Run it from cron every few minutes; running
    it twice is harmless."""
    from dataclasses import asdict

    from gateway.delivery.timers import tick

    try:
        settings = Settings()
        app = cli_context(ctx).create_app(settings)
    except (ConfigurationError, ValueError) as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    report = tick(app.state.database, app.state.delivery)
    typer.echo(json.dumps(asdict(report), indent=2))
    say(
        _(
            "{deleted} incomplete deleted, {warned} warned about, {rejected} rejected; "
            "{sent} callbacks sent, {failed} failed",
            deleted=len(report.deleted),
            warned=len(report.warned),
            rejected=len(report.rejected),
            sent=len(report.callbacks_sent),
            failed=len(report.callbacks_failed),
        )
    )
