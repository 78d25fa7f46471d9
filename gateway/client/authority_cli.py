"""``ozg-commons authority``: the authority's commands, run on the authority's machine.

- ``authority fetch --authority ID --key-file KEY.pem --out DIR``: fetch, decrypt, check,
  write one folder per case and acknowledge (docs/authority.md);
- ``authority cases [--state STATE]``: the authority's cases;
- ``authority case CASE_ID show|processing|request-documents|decide|waiver``: move a case on;
  messages and decision letters are sealed here to the applicant's vault key.

Authentication: the authority's subscriber client (``--client-id``/``--client-secret`` or
``OZG_AUTHORITY_CLIENT_ID``/``OZG_AUTHORITY_CLIENT_SECRET``, token URL from
``--keycloak-url``/``--realm``), else a bearer token (``--token``/``OZG_TOKEN``, or the one
``ozg-commons login`` stored). Every failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from commons.i18n import N_, _, ngettext, print_error

if TYPE_CHECKING:
    from gateway.client.authority import AuthorityClient

cli = typer.Typer(
    help="The authority's client: fetch and decrypt submissions, move cases on.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
case_cli = typer.Typer(
    help="Move one case on: CASE_ID then show, processing, request-documents, decide or waiver.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
cli.add_typer(case_cli, name="case")

Server = Annotated[
    str | None, typer.Option("--server", help="Server URL (OZG_SERVER_URL).", show_default=False)
]
ClientId = Annotated[
    str | None,
    typer.Option(
        "--client-id", envvar="OZG_AUTHORITY_CLIENT_ID", help="The subscriber client's id."
    ),
]
ClientSecret = Annotated[
    str | None,
    typer.Option(
        "--client-secret",
        envvar="OZG_AUTHORITY_CLIENT_SECRET",
        help="The subscriber client's secret.",
        show_default=False,
    ),
]
KeycloakUrl = Annotated[
    str | None,
    typer.Option(
        "--keycloak-url",
        envvar="OZG_KEYCLOAK_SERVER_URL",
        help="Keycloak base URL (default: the server's development IdP, <server>/dev-idp).",
    ),
]
Realm = Annotated[
    str | None,
    typer.Option("--realm", envvar="OZG_KEYCLOAK_REALM", help="Keycloak realm (default: ozg-dev)."),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="OZG_TOKEN", help="A bearer token.", show_default=False),
]


CONNECTION: Any = None  # filled in by @connected: the command never sees the six options


def _err(message: str) -> None:
    print_error(message)


def _progress(line: str) -> None:
    sys.stderr.write(line + "\n")


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")


@contextmanager
def _reporting() -> Iterator[None]:
    """One line on stderr for every expected failure; exit 2 for what the caller must fix
    (key files, options), 1 when the server refused."""
    from commons.errors import OzgError
    from gateway.client.authority import ServerError
    from vault.client import LoginError

    try:
        yield
    except ServerError as exc:
        _err(str(exc))
        raise typer.Exit(1) from None
    except (OzgError, LoginError) as exc:
        _err(str(exc))
        raise typer.Exit(2) from None


@dataclass(frozen=True)
class Connection:
    """How to reach the server and whom to log in as: the options every command that talks
    to the server takes (given once here, accepted after any of those commands)."""

    server: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    keycloak_url: str | None = None
    realm: str | None = None
    token: str | None = None

    def connect(self) -> AuthorityClient:
        return _connect(
            self.server,
            self.client_id,
            self.client_secret,
            self.keycloak_url,
            self.realm,
            self.token,
        )


_CONNECTION_OPTIONS: dict[str, Any] = {
    "server": Server,
    "client_id": ClientId,
    "client_secret": ClientSecret,
    "keycloak_url": KeycloakUrl,
    "realm": Realm,
    "token": Token,
}


def connected(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` (which takes ``connection: Connection``) the six connection options
    as its own, so that ``--server`` and the rest stay where the command lines put them."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "connection"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _CONNECTION_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        options = {name: kwargs.pop(name, None) for name in _CONNECTION_OPTIONS}
        command(*args, connection=Connection(**options), **kwargs)

    run.__signature__ = signature.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
    run.__annotations__ = {k: v for k, v in command.__annotations__.items() if k != "connection"}
    return run


def _connect(
    server: str | None,
    client_id: str | None,
    client_secret: str | None,
    keycloak_url: str | None,
    realm: str | None,
    token: str | None,
) -> AuthorityClient:
    from gateway.client.authority import AuthorityClient, AuthorityClientError, ClientCredentials

    url = (server or os.environ.get("OZG_SERVER_URL") or "http://127.0.0.1:8000").rstrip("/")
    source: Any
    if client_id or client_secret:
        if not (client_id and client_secret):
            raise AuthorityClientError(_("give both --client-id and --client-secret"))
        base = (keycloak_url or f"{url}/dev-idp").rstrip("/")
        token_url = f"{base}/realms/{realm or 'ozg-dev'}/protocol/openid-connect/token"
        source = ClientCredentials(token_url, client_id, client_secret)
    elif token:
        source = token
    else:
        from vault.client import LoginStore

        store = LoginStore(
            Path(os.environ.get("OZG_CLIENT_DIR", Path.home() / ".config" / "ozg-commons"))
        )
        if store.load() is None and not store.token_path.exists():
            raise AuthorityClientError(
                _(
                    "not logged in: give --client-id and --client-secret (or "
                    "OZG_AUTHORITY_CLIENT_ID/OZG_AUTHORITY_CLIENT_SECRET), --token, or run "
                    "`ozg-commons login`"
                )
            )
        source = store.bearer  # renewed silently while the login lasts
    return AuthorityClient(url, token=source)


@cli.command()
@connected
def fetch(
    authority: Annotated[str, typer.Option("--authority", help="The authority's id (tf, ...).")],
    key_file: Annotated[
        Path, typer.Option("--key-file", help="The destination's private encryption key (PEM).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the cases (one per case).")],
    signing_key_file: Annotated[
        Path | None,
        typer.Option(
            "--signing-key-file",
            help="The PS512 event-signing key (PEM); default: <id>-signing.key.pem beside an "
            "<id>-encryption.key.pem key file.",
        ),
    ] = None,
    destination: Annotated[
        list[str] | None,
        typer.Option("--destination", help="Destination id(s); default: the authority's."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of problem details: de or en.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    connection: Connection = CONNECTION,
) -> None:
    """Download new submissions, decrypt and check them here, write one folder per case and
    acknowledge each (accept-submission, or reject-submission with problems)."""
    with _reporting():
        from gateway.client.authority import (
            KeyFileError,
            default_signing_key_file,
            load_rsa_private_key,
        )
        from gateway.client.authority_fetch import fetch as run_fetch

        if lang not in ("de", "en"):
            raise KeyFileError(_("--lang must be de or en"))
        encryption_key = load_rsa_private_key(key_file, N_("key file"))
        signing_path = signing_key_file or default_signing_key_file(key_file)
        if signing_path is None:
            raise KeyFileError(
                _("give --signing-key-file (the authority's PS512 event-signing key)")
            )
        signing_key = load_rsa_private_key(signing_path, N_("signing key file"))
        client = connection.connect()
        try:
            report = run_fetch(
                client,
                authority=authority,
                encryption_key=encryption_key,
                signing_key=signing_key,
                out_dir=out,
                destinations=destination or None,
                lang=lang,
                progress=None if as_json else _progress,
            )
        finally:
            client.close()
    if as_json:
        doc = {
            "results": [
                {
                    "submissionId": r.submission_id,
                    "caseId": r.case_id,
                    "status": r.status,
                    "folder": str(r.folder) if r.folder else None,
                    "problems": r.problems,
                    "findings": r.findings,
                }
                for r in report.results
            ],
            "skipped": report.skipped,
        }
        _say(json.dumps(doc, indent=2))
        return
    for r in report.results:
        if r.status == "rejected":
            kinds = ", ".join(sorted({p["type"].rsplit("/", 1)[-1] for p in r.problems}))
            _say(
                _(
                    "rejected  {case}: {kinds} (see {folder}/fetch.json)",
                    case=r.case_id,
                    kinds=kinds,
                    folder=r.folder,
                )
            )
        elif r.status == "accepted":
            line = _("accepted  {case} -> {folder}", case=r.case_id, folder=r.folder)
            if r.findings:
                n = len(r.findings)
                line += ngettext("; {n} finding in fetch.json", "; {n} findings in fetch.json", n)
            _say(line)
        else:
            _say(_("acknowledged again {case}", case=r.case_id))
    _say(
        _(
            "{accepted} accepted, {rejected} rejected, {skipped} already fetched",
            accepted=len(report.accepted),
            rejected=len(report.rejected),
            skipped=len(report.skipped),
        )
    )


@cli.command()
@connected
def cases(
    state: Annotated[
        str | None, typer.Option(help="Only cases in this state (received, processing, ...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    connection: Connection = CONNECTION,
) -> None:
    """The authority's cases (never another authority's), oldest submission first."""
    with _reporting():
        client = connection.connect()
        listed = client.cases(state)
    if as_json:
        _say(json.dumps(listed, indent=2))
        return
    for c in listed:
        fit_connect = _("FIT-Connect case {id}", id=c.get("fit_connect_case_id") or "-")
        _say(f"{c['id']}  {c['state']:<16} {c['flow_id']:<22} {fit_connect}")
    _say(ngettext("{n} case", "{n} cases", len(listed)))


@case_cli.callback()
def _case(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="The case id (authority cases lists them).")],
) -> None:
    ctx.meta["case_id"] = case_id


def _show(case: dict[str, Any]) -> None:
    outcome = f" ({case['outcome']})" if case.get("outcome") else ""
    _say(
        _("case {id}: {state}", id=case["id"], state=case["state"])
        + f"{outcome} [{case['status']}]"
    )


@case_cli.command("show")
@connected
def case_show(
    ctx: typer.Context,
    connection: Connection = CONNECTION,
) -> None:
    """The case with its timeline."""
    with _reporting():
        client = connection.connect()
        case = client.case(ctx.meta["case_id"])
    _show(case)
    for step in case.get("timeline", []):
        _say(
            f"  {step['at']}  {step['from_state'] or '-'} -> {step['to_state']} ({step['reason']})"
        )


@case_cli.command("processing")
@connected
def case_processing(
    ctx: typer.Context,
    connection: Connection = CONNECTION,
) -> None:
    """The authority works on the case (from received, or back from action required)."""
    with _reporting():
        client = connection.connect()
        _show(client.processing(ctx.meta["case_id"]))


@case_cli.command("request-documents")
@connected
def case_request_documents(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("--message", help="The message to the applicant.")],
    document_type: Annotated[
        list[str], typer.Option("--document-type", help="A document type asked for (repeat).")
    ],
    lang: Annotated[str, typer.Option(help="The applicant's language: de or en.")] = "de",
    connection: Connection = CONNECTION,
) -> None:
    """Ask for more documents; the message is sealed here to the applicant's vault key."""
    with _reporting():
        client = connection.connect()
        _show(client.request_documents(ctx.meta["case_id"], document_type, message, lang))


@case_cli.command("decide")
@connected
def case_decide(
    ctx: typer.Context,
    outcome: Annotated[str, typer.Argument(help="approved or rejected")],
    letter: Annotated[
        Path | None,
        typer.Option("--letter", help="The decision letter (PDF); default: a simple letter."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the default letter: de or en.")] = "de",
    connection: Connection = CONNECTION,
) -> None:
    """Decide the case; the decision letter is sealed here to the applicant's vault key."""
    with _reporting():
        from gateway.client.authority import AuthorityClientError, decision_letter_pdf

        if outcome not in ("approved", "rejected"):
            raise AuthorityClientError(_("the outcome is approved or rejected"))
        case_id = ctx.meta["case_id"]
        client = connection.connect()
        if letter is not None:
            try:
                data = letter.read_bytes()
            except OSError as exc:
                raise AuthorityClientError(
                    _("--letter {path}: {reason}", path=letter, reason=exc.strerror)
                ) from None
        else:
            case = client.case(case_id)
            data = decision_letter_pdf(case_id, case.get("authority") or "", outcome, lang,
                                       date.today())  # fmt: skip
        result = client.decide(case_id, outcome, data)
    _show(result["case"])
    adjustment = result.get("fee_adjustment")
    if adjustment and adjustment.get("refunded_cents"):
        amount = f"{adjustment['refunded_cents'] / 100:.2f} {adjustment['currency']}"
        _say(_("refunded {amount}", amount=amount))


@case_cli.command("waiver")
@connected
def case_waiver(
    ctx: typer.Context,
    decision: Annotated[str, typer.Argument(help="granted or refused")],
    connection: Connection = CONNECTION,
) -> None:
    """Decide the hardship fee waiver requested with the application."""
    with _reporting():
        from gateway.client.authority import AuthorityClientError

        if decision not in ("granted", "refused"):
            raise AuthorityClientError(_("the waiver decision is granted or refused"))
        client = connection.connect()
        _show(client.decide_waiver(ctx.meta["case_id"], decision))
