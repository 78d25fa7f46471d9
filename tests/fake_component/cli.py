"""``ozg-commons fakecomp ...``."""

from __future__ import annotations

import typer

cli = typer.Typer(help="The fake component's commands.", no_args_is_help=True)


@cli.command("ping")
def ping() -> None:
    """Answer pong."""
    typer.echo("pong")


@cli.command("version")
def version() -> None:
    """Print the fake component's version."""
    typer.echo("fakecomp 1.0")
