"""``ozg-commons audit ...``, ``ozg-commons retention run`` and ``ozg-commons compliance
register``: the compliance component's command groups. The composed declarations of every
component come from the gateway's :class:`~commons.components.CliContext`."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer

from commons.components import cli_context
from commons.db import Database, DatabaseUnreachable, check_reachable
from commons.errors import ConfigurationError
from commons.i18n import _, accept_language, ngettext, print_error, say
from commons.settings import Settings
from compliance import retention
from compliance.errors import VerificationFailed
from compliance.keys import load_identity
from compliance.note import Signer
from compliance.register import Declarations, register_json, register_markdown
from compliance.runtime import ComplianceSettings
from compliance.sequencer import sequence_all
from compliance.verify import HttpLog, verify_export, verify_server


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_startup()
    except ConfigurationError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of personal data.", no_args_is_help=True)
compliance_app = typer.Typer(help="Data-protection documentation.", no_args_is_help=True)


def _declarations(ctx: typer.Context) -> Declarations:
    decls: Declarations = cli_context(ctx).declarations()
    return decls


@audit.command("sequence")
def sequence(
    batch: Annotated[int, typer.Option(min=1, help="Entries per pass.")] = 20_000,
) -> None:
    """Sequence every pending entry and publish a signed checkpoint (one-off pass)."""
    settings = _settings()
    try:
        check_reachable(settings.effective_database_url)
    except DatabaseUnreachable as exc:
        print_error(str(exc))
        raise typer.Exit(1) from None
    database = Database.from_url(settings.effective_database_url)
    try:
        n = sequence_all(database, load_identity(settings), batch=batch)
    except ConfigurationError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    say(ngettext("sequenced {n} entry", "sequenced {n} entries", n))


def default_state_file(url: str) -> Path:
    """The verifier's pinned checkpoint of ``url``, kept with the rest of the client state
    (``OZG_CLIENT_DIR``, default ``~/.config/ozg-commons``), one file per server."""
    directory = Path(os.environ.get("OZG_CLIENT_DIR", Path.home() / ".config" / "ozg-commons"))
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_") or "server"
    return directory / "audit-verify" / f"{name}.json"


@audit.command("verify")
def verify(
    url: Annotated[str | None, typer.Option(help="Base URL of a running server.")] = None,
    export: Annotated[
        Path | None, typer.Option(help="A JSON export to verify instead.", exists=True)
    ] = None,
    key: Annotated[str | None, typer.Option(help="The log's verifier key (name+hash+key).")] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Where the last verified checkpoint is remembered (default: "
            "OZG_CLIENT_DIR/audit-verify/<server>.json)."
        ),
    ] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Check this many random inclusion proofs.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="OZG_AUDIT_TOKEN", help="Bearer token (DPO).")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(help="A witness verifier key whose cosignatures must verify."),
    ] = None,
) -> None:
    """Verify signatures, consistency and inclusion; exit 1 naming the first failure."""
    if (url is None) == (export is None):
        print_error(_("give exactly one of --url and --export"))
        raise typer.Exit(2)
    try:
        if export is not None:
            report = verify_export(json.loads(export.read_text()), verifier_key=key)
        else:
            state = state or default_state_file(str(url))
            say(_("pinned checkpoints: {path}", path=state))
            with httpx.Client(timeout=30, headers={"Accept-Language": accept_language()}) as client:
                report = verify_server(
                    HttpLog(client, str(url), token),
                    verifier_key=key,
                    state_file=state,
                    sample=sample,
                    witnesses=tuple(witness or ()),
                    progress=say,
                )
    except (VerificationFailed, ValueError) as exc:
        print_error(_("verification failed: {reason}", reason=exc))
        raise typer.Exit(1) from None
    sys.stdout.write(
        f"OK {report.origin} size={report.size} leaves={report.leaves_checked} "
        f"proofs={report.proofs_checked} consistent_with={report.consistent_with}\n"
    )


@audit.command("keygen")
def keygen(name: Annotated[str, typer.Option(help="Key name = checkpoint origin.")]) -> None:
    """Print a new signer key (for OZG_COMPLIANCE_SIGNING_KEY) and its verifier key."""
    signer = Signer.generate(name)
    sys.stdout.write(f"OZG_COMPLIANCE_SIGNING_KEY={signer.to_string()}\n")
    sys.stdout.write(f"verifier key: {signer.verifier_key}\n")


@retention_app.command("run")
def retention_run(ctx: typer.Context) -> None:
    """Delete or crypto-shred what is due under the declared policies; record each."""
    settings = _settings()
    database = Database.from_url(settings.effective_database_url)
    try:
        with database.transaction() as session:
            done = retention.run_retention(session, _declarations(ctx))
    finally:
        database.dispose()
    for record_type, count in done.items():
        shown = "declared, no executor registered" if count is None else f"{count} removed"
        sys.stdout.write(f"{record_type}: {shown}\n")


@compliance_app.command("register")
def register(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the GDPR Art. 30 record of processing activities."""
    decls = _declarations(ctx)
    controller = _settings().section(ComplianceSettings).controller()
    if as_json:
        sys.stdout.write(json.dumps(register_json(decls, controller), indent=2) + "\n")
    else:
        sys.stdout.write(register_markdown(decls, controller) + "\n")
