"""``ozg-commons accounts ...``: jobs a scheduler runs."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.console import Console

from commons.components import cli_context

err = Console(stderr=True)

cli = typer.Typer(help="Applicant accounts.", no_args_is_help=True)


@cli.command("expire")
def expire(ctx: typer.Context) -> None:
    """Notify dormant accounts; erase those still unused after the grace period."""
    from account.dormancy import expire_dormant
    from account.runtime import AccountSettings
    from commons.clock import system_clock
    from commons.settings import Settings

    settings = Settings()
    settings.check_startup()
    config = settings.section(AccountSettings)
    app = cli_context(ctx).create_app(settings)
    state = app.state
    try:
        with state.database.transaction() as session:
            noticed, erased = expire_dormant(
                session,
                notice_after=timedelta(days=config.dormant_after_days),
                grace=timedelta(days=config.dormant_grace_days),
                registry=state.personal_data,
                admin=state.identity_admin,
                signer=state.receipt_signer,
                secret=settings.secret_key.get_secret_value(),
                journal=state.erasure_journal,
                notifier=state.mail_notifier,
            )
    finally:
        state.database.dispose()
    # The journal keeps an erasure as long as its receipt (docs/backup-restore.md).
    state.erasure_journal.prune(system_clock.now())
    err.print(f"dormant accounts: {noticed} notified, {erased} erased")
