"""The ``ozg-commons`` command line: the gateway's own commands plus every component's groups.

A component names its groups as :class:`~commons.components.CliGroup` (name, help, import
path). ``ozg-commons --help`` lists them from those declarations alone; a group's module is
imported only when the group runs, and each command imports what it needs inside its body,
so that start-up stays fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from commons import i18n
from commons.components import CliContext, CliGroup
from commons.i18n import N_, _, cli_language, print_error, print_warning, translate
from gateway import cli_click
from gateway.portal import LOCALES_DIR

if TYPE_CHECKING:
    from fastapi import FastAPI

    from commons.components import Registry
    from commons.settings import Settings

log = logging.getLogger("ozg.cli")

# The command line speaks the portal's languages, from the portal's catalogues (LANG=de_DE...).
i18n.use_catalogues(LOCALES_DIR)


def _registry() -> Registry:
    from gateway.declarations import installed_components

    return installed_components()


def _declarations() -> Any:
    from gateway.declarations import all_declarations

    return all_declarations()


def _create_app(settings: Settings) -> FastAPI:
    from gateway.app import create_app

    return create_app(settings)


class _Placeholder(TyperCommand):
    """Stands in for a component's group in the help listing, without importing it."""

    def __init__(self, group: CliGroup) -> None:
        shown = _(group.help)
        super().__init__(group.name, help=shown, short_help=shown)
        self.group = group


def _load(group: CliGroup) -> Any:
    target = group.load()
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:  # a single command function
        single = typer.Typer(add_completion=False)  # as the root: no completion options
        single.command(group.name)(target)
        command = typer.main.get_command(single)
    command.name = group.name
    _plain(command, cli_language())
    return command


def _plain(command: Any, language: str) -> None:
    """Plain-text help for ``command`` and everything under it: readable in any terminal and
    screen reader (no boxes, no ``<bool>`` placeholders), and it needs no Rich at start-up.
    The help texts are said in ``language`` (the message catalogue has them: ``make
    messages`` extracts every ``help=`` and every command's docstring)."""
    command.rich_markup_mode = None
    if language != i18n.SOURCE_LANGUAGE and not getattr(command, "_ozg_language", None):
        command._ozg_language = language
        cli_click.localize(command, language)
        for owner in (command, *command.params):
            for attribute in ("help", "short_help"):
                text = getattr(owner, attribute, None)
                if text:
                    setattr(owner, attribute, translate(language, text))
    for sub in getattr(command, "commands", {}).values():
        _plain(sub, language)


# The gateway's own groups that live in their own modules (loaded only when run).
GATEWAY_GROUPS = (
    CliGroup("receipt", N_("Receipts: verify offline, keys."), "gateway.receipt_cli:cli"),
    CliGroup(
        "authority",
        N_("The authority's client: fetch and decrypt submissions, move cases on."),
        "gateway.client.authority_cli:cli",
    ),
    CliGroup(
        "demo", N_("Run the whole story step by step (development)."), "gateway.demo_cli:demo"
    ),
    CliGroup(
        "me",
        N_("Your account: profile, consents, export, erasure, who accessed your data."),
        "gateway.me_cli:me",
    ),
    CliGroup("mailbox", N_("Your mailbox: list, read, archive."), "gateway.me_cli:mailbox"),
    CliGroup("fees", N_("Fees: a quote from the fee catalogue."), "gateway.fees_cli:fees"),
)


class ComponentGroup(TyperGroup):
    """The root group: the gateway's commands plus the installed components' groups."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Start the command line in the language of the environment: its own help and its
        own commands' (serve, config) first; a group's when it is loaded (:func:`_load`)."""
        language = cli_language()
        cli_click.speak(language)  # "Usage:", "Options", "[required]", ...
        _plain(self, language)
        return super().main(*args, **kwargs)

    def _groups(self) -> dict[str, CliGroup]:
        return {g.name: g for g in (*GATEWAY_GROUPS, *_registry().cli_groups())}

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._groups()})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in (groups := self._groups()):
            return _Placeholder(groups[cmd_name])
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder):
            return name, _load(command.group), rest
        return name, command, rest


app = typer.Typer(
    name="ozg-commons",
    help="Shared services for online residence-permit applications.",
    cls=ComponentGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(
    help="Inspect the configuration.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(config_app, name="config")


@app.callback()
def _root(ctx: typer.Context) -> None:
    ctx.obj = CliContext(create_app=_create_app, registry=_registry, declarations=_declarations)


def _load_settings() -> Settings:
    """Read and check the settings; on a refusal print what to set and exit 2."""
    from commons.errors import ConfigurationError
    from commons.settings import Settings
    from gateway.app import check_startup

    try:
        settings = Settings()
        check_startup(settings)
    except ConfigurationError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic ValidationError: a malformed value
        print_error(_("invalid settings:") + f"\n{exc}")
        raise typer.Exit(2) from None
    return settings


def _reach_database(settings: Settings) -> None:
    """Exit with one clear line (host named, password never) if the database does not
    answer."""
    from commons.db import DatabaseUnreachable, check_reachable

    try:
        check_reachable(settings.effective_database_url)
    except DatabaseUnreachable as exc:
        print_error(str(exc))
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API. Development applies migrations first; production requires
    that "ozg-commons migrate" has run."""
    import uvicorn

    from commons.logging import configure_logging
    from gateway import migrations

    settings = _load_settings()
    configure_logging(settings.log_level)
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    _reach_database(settings)
    if settings.is_production:
        _require_current_schema(settings)
    else:
        migrations.upgrade(settings.effective_database_url)
        log.warning("development mode: embedded defaults, not for production use")
        if "OZG_PUBLIC_BASE_URL" not in os.environ:
            # The URL the demo's routes and receipts name is the one being served
            # (`make run PORT=8080`), unless the deployment says otherwise.
            shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
            shown = f"[{shown}]" if ":" in shown else shown
            os.environ["OZG_PUBLIC_BASE_URL"] = f"http://{shown}:{port}"
    if not settings.is_production:  # in production the app's start-up checks it
        _refuse_unreplayed_erasures(settings)
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


def _require_current_schema(settings: Settings) -> None:
    """Exit 2 with one line unless the database's schema is the code's (production never
    migrates implicitly: ``ozg-commons migrate``)."""
    from commons.db import make_engine
    from gateway import migrations

    engine = make_engine(settings.effective_database_url)
    try:
        migrations.ensure_current(engine)
    except migrations.SchemaNotCurrent as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _refuse_unreplayed_erasures(settings: Settings) -> None:
    """Exit 2 with one line while the database must not serve (``gateway.restore.refusal``:
    a restored backup older than erasures the journal holds, or a damaged journal)."""
    from gateway.restore import refusal

    problem = refusal(settings)
    if problem:
        print_error(problem)
        raise typer.Exit(2)


@app.command()
def restore(
    vacuum: Annotated[
        bool, typer.Option(help="PostgreSQL: VACUUM FULL after erasing (dead tuples).")
    ] = True,
) -> None:
    """After restoring the database from a backup, before serving: erase again everyone the
    erasure journal says was erased since (docs/backup-restore.md)."""
    from account import JournalUnavailable
    from commons.logging import configure_logging
    from gateway.restore import replay

    settings = _load_settings()
    configure_logging(settings.log_level)
    _reach_database(settings)
    _require_current_schema(settings)
    try:
        report = replay(settings, vacuum=vacuum)
    except JournalUnavailable as exc:
        print_error(exc.detail)
        raise typer.Exit(2) from None
    typer.echo(
        _(
            "erasure journal: {entries} entries, {replayed} not yet in the database, "
            "{erased} subject(s) erased again",
            entries=report.journal_entries,
            replayed=report.replayed,
            erased=report.subjects_erased,
        ),
        err=True,
    )


@app.command()
def migrate() -> None:
    """Apply all pending database migrations (Alembic upgrade heads)."""
    from commons.logging import configure_logging
    from gateway import migrations

    settings = _load_settings()
    configure_logging(settings.log_level)
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    _reach_database(settings)
    migrations.upgrade(settings.effective_database_url)
    sys.stderr.write(_("database schema is current") + "\n")


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings of the platform and of every component, with secrets
    masked."""
    from rich.console import Console
    from rich.table import Table

    from commons.settings import Settings, mask_secrets, section_name
    from gateway.app import startup_problems

    try:
        settings = Settings()
        shown: dict[str, Any] = {
            f"OZG_{key.upper()}" if key in Settings.model_fields else key: value
            for key, value in settings.masked().items()
        }
        for component in _registry():
            model = component.settings_model()
            if model is None:
                continue
            prefix = f"OZG_{section_name(model).upper()}_"
            for key, value in mask_secrets(settings.section(model)).items():
                shown[prefix + key.upper()] = value
    except ValueError as exc:
        print_error(_("invalid settings:") + f"\n{exc}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(shown, indent=2, default=str) + "\n")
    else:
        table = Table(_("setting"), _("value"), title=_("ozg-commons settings"))
        for key, value in shown.items():
            table.add_row(key, str(value))
        Console().print(table)
    if settings.is_production:
        for problem in startup_problems(settings):
            print_warning(_("production problem: {problem}", problem=problem))


def main() -> None:
    app()
