"""The ``ozg-commons`` command line. Each domain adds its subcommands here."""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

import account.cli
import compliance.cli
from commons.db import make_engine
from commons.errors import ConfigurationError
from commons.logging import configure_logging
from commons.settings import Settings
from gateway import migrations, receipt_cli
from gateway.app import check_startup, create_app, startup_problems
from gateway.declarations import all_declarations
from payments.cli import cli as payments_cli
from vault import cli as vault_cli

app = typer.Typer(
    name="ozg-commons",
    help="Shared services for online residence-permit applications.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
compliance.cli.add_commands(app, all_declarations)
app.add_typer(account.cli.make_cli(create_app), name="accounts")
app.add_typer(vault_cli.cli, name="vault")
app.command("login")(vault_cli.login)
app.add_typer(payments_cli, name="payments")
app.add_typer(receipt_cli.cli, name="receipt")

err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("ozg.cli")


def _load_settings() -> Settings:
    """Read and check the settings; on a refusal print what to set and exit 2."""
    try:
        settings = Settings()
        check_startup(settings)
    except ConfigurationError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic ValidationError: a malformed value
        err.print(f"[bold red]error:[/] invalid settings:\n{exc}", highlight=False)
        raise typer.Exit(2) from None
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API. Development applies migrations first; production requires
    ``ozg-commons migrate`` to have run."""
    settings = _load_settings()
    configure_logging(settings.log_level)
    if settings.is_production:
        engine = make_engine(settings.effective_database_url)
        try:
            migrations.ensure_current(engine)
        except migrations.SchemaNotCurrent as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrations.upgrade(settings.effective_database_url)
        log.warning("development mode: embedded defaults, not for production use")
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        server_header=False,
    )


@app.command()
def migrate() -> None:
    """Apply all pending database migrations (Alembic upgrade heads)."""
    settings = _load_settings()
    configure_logging(settings.log_level)
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.effective_database_url)
    err.print("database schema is current")


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings, with secrets masked."""
    try:
        settings = Settings()
    except ValueError as exc:
        err.print(f"[bold red]error:[/] invalid settings:\n{exc}", highlight=False)
        raise typer.Exit(2) from None
    shown = settings.masked()
    if as_json:
        sys.stdout.write(json.dumps(shown, indent=2, default=str) + "\n")
    else:
        table = Table("setting", "value", title="ozg-commons settings")
        for key, value in shown.items():
            table.add_row(f"OZG_{key.upper()}" if key in Settings.model_fields else key, str(value))
        Console().print(table)
    if settings.is_production:
        for problem in startup_problems(settings):
            err.print(f"[yellow]production problem:[/] {problem}", highlight=False)


def main() -> None:
    app()
