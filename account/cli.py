"""``ozg-commons accounts ...``: jobs a scheduler runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import typer
from rich.console import Console

from account.erasure import expire_dormant
from commons.settings import Settings

err = Console(stderr=True)


def make_cli(build_app: Callable[[Settings], Any]) -> typer.Typer:
    """The ``accounts`` command group; ``build_app`` composes the app whose registered
    shredders, identity admin and signer the jobs use (the gateway passes ``create_app``)."""
    cli = typer.Typer(help="Applicant accounts.", no_args_is_help=True)

    @cli.command("expire")
    def expire() -> None:
        """Notify dormant accounts; erase those still unused after the grace period."""
        settings = Settings()
        settings.check_startup()
        app = build_app(settings)
        state = app.state
        try:
            with state.database.transaction() as session:
                noticed, erased = expire_dormant(
                    session,
                    notice_after=timedelta(days=settings.account_dormant_after_days),
                    grace=timedelta(days=settings.account_dormant_grace_days),
                    registry=state.personal_data,
                    admin=state.identity_admin,
                    signer=state.receipt_signer,
                    secret=settings.secret_key.get_secret_value(),
                    notifier=state.mail_notifier,
                )
        finally:
            state.database.dispose()
        err.print(f"dormant accounts: {noticed} notified, {erased} erased")

    return cli
