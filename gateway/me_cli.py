"""``ozg-commons me`` and ``ozg-commons mailbox``: the applicant's own account from the
command line, as the portal's "My data", "Who accessed my data" and mailbox pages offer it.

- ``me profile``, ``me consents list|grant|withdraw``: ``GET /v1/me``, ``/v1/me/consents``;
- ``me export -o FILE``: the Art. 15/20 bundle of ``GET /v1/me/export``, the same JSON the
  portal offers for download, written whole or not at all (an existing file only with
  ``--force``), readable by you only;
- ``me erase``: ``DELETE /v1/me`` after you confirmed (or ``--yes``), the signed erasure
  receipt kept (``-o``) for ``ozg-commons receipt verify``;
- ``me access-log``: who accessed your data, when and why (``GET /v1/me/access-log``), with
  the names of your documents decrypted on this device when the vault is unlocked;
- ``mailbox list|read|archive``: ``/v1/me/messages``; a sealed message is opened here with
  your vault key.

Messages follow ``LANG`` (``commons.i18n``); the login and the server are those of the
vault commands (``ozg-commons login``, ``--server``/``OZG_SERVER_URL``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from commons.i18n import N_, _, cli_language, ngettext, print_error

if TYPE_CHECKING:
    from gateway.client.cli_http import Api

me = typer.Typer(
    help="Your account: profile, consents, export, erasure, who accessed your data.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
consents = typer.Typer(
    help="Your consents: list, grant, withdraw.", no_args_is_help=True, rich_markup_mode=None
)
me.add_typer(consents, name="consents")
mailbox = typer.Typer(
    help="Your mailbox: list, read and archive the messages authorities sent you. "
    "Authorities write about a case, through the case: nobody needs your account's id.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Server = Annotated[
    str | None, typer.Option("--server", help="Server URL (OZG_SERVER_URL).", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NONE = "-"
ERASE_CONFIRMATION = "erase my account"  # what DELETE /v1/me wants (account.schemas.ErasureIn)

# The access log's roles, as the portal words them (templates/cases/_texts.html).
ROLES = {
    "applicant": N_("you"),
    "caseworker": N_("caseworker"),
    "flow": N_("application service"),
    "dpo": N_("data protection officer"),
    "admin": N_("administrator"),
    "system": N_("automatic"),
}


def _api(server: str | None) -> Api:
    from gateway.client.cli_http import connect

    return connect(server)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _table(*columns: str) -> Any:
    """A plain table; an ``id`` column is never shortened (it is copied into commands)."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, highlight=False)
    for column in columns:
        if column == "id":
            table.add_column(column, no_wrap=True, min_width=36)
        else:
            table.add_column(column, overflow="fold")
    return table


def _show(table: Any) -> None:
    from rich.console import Console

    # piped into another program, nothing is cut to fit a terminal's width
    Console(highlight=False, width=None if sys.stdout.isatty() else 1000).print(table)


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else NONE


# --------------------------------------------------------------------------- profile
@me.command("profile")
def profile(server: Server = None, as_json: AsJson = False) -> None:
    """Your account and profile: what the server knows about you, and where it came from."""
    from gateway.client.cli_http import reporting

    with reporting():
        answer = _api(server).call("GET", "/v1/me")
    if as_json:
        _print_json(answer)
        return
    sys.stdout.write(_("account since {at}", at=_when(answer.get("created_at"))) + "\n")
    notices = _("yes") if answer.get("email_notifications") else _("no")
    sys.stdout.write(_("e-mail notice of new messages: {answer}", answer=notices) + "\n")
    if not answer.get("attributes"):
        sys.stdout.write(_("No profile data yet.") + "\n")
        return
    table = _table(_("attribute"), _("value"), _("source"))
    for a in answer["attributes"]:
        source = _("from your sign-in (correct it there)") if a["source"] == "idp" else None
        table.add_row(a["name"], a["value"], source or _("entered by you"))
    _show(table)


# --------------------------------------------------------------------------- consents
@consents.command("list")
def consents_list(server: Server = None, as_json: AsJson = False) -> None:
    """Every consent you gave, active or withdrawn."""
    from gateway.client.cli_http import reporting

    with reporting():
        rows = _api(server).call("GET", "/v1/me/consents")
    if as_json:
        _print_json(rows)
        return
    if not rows:
        sys.stdout.write(_("You have not given any consent.") + "\n")
        return
    table = _table("id", _("purpose"), _("authority"), _("given"), _("state"))
    for c in rows:
        state = (
            _("withdrawn on {at}", at=_when(c["withdrawn_at"]))
            if c["withdrawn_at"]
            else _("active")
        )
        table.add_row(
            c["id"], c["purpose"], c["recipient_authority"] or NONE, _when(c["given_at"]), state
        )
    _show(table)


@consents.command("grant")
def consents_grant(
    purpose: Annotated[str, typer.Argument(help="What you agree to (e.g. reuse-documents).")],
    authority: Annotated[
        str | None, typer.Option(help="The authority the consent is for (e.g. tf).")
    ] = None,
    legal_basis: Annotated[
        str | None, typer.Option(help="Default: the portal's (Art. 6(1)(a), Art. 7 GDPR).")
    ] = None,
    text_version: Annotated[
        str | None, typer.Option(help="Version of the text you agree to (default: the portal's).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    server: Server = None,
) -> None:
    """Give a consent: shows the text you agree to (the portal's) and asks first."""
    from commons.cli_safety import confirm
    from gateway.client.cli_http import reporting
    from gateway.portal.mydata import CONSENT_LEGAL_BASIS, CONSENT_TEXT_VERSION, CONSENTS

    text = CONSENTS.get(purpose)
    if text is not None:
        sys.stderr.write(_(text) + "\n")
    confirm(_("Give this consent?"), yes=yes)
    body = {
        "purpose": purpose,
        "legal_basis": legal_basis or CONSENT_LEGAL_BASIS,
        "recipient_authority": authority,
        "text_version": text_version or CONSENT_TEXT_VERSION,
    }
    with reporting():
        given = _api(server).call("POST", "/v1/me/consents", json=body)
    sys.stderr.write(_("Consent given.") + "\n")
    sys.stdout.write(given["id"] + "\n")


@consents.command("withdraw")
def consents_withdraw(
    consent_id: Annotated[str, typer.Argument(help="The consent's id (me consents list).")],
    server: Server = None,
) -> None:
    """Withdraw a consent; it takes effect at once."""
    from urllib.parse import quote

    from gateway.client.cli_http import reporting

    with reporting():
        _api(server).call("POST", f"/v1/me/consents/{quote(consent_id, safe='')}/withdraw")
    sys.stderr.write(_("Consent withdrawn.") + "\n")


# --------------------------------------------------------------------------- export, erase
@me.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write (JSON).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    server: Server = None,
) -> None:
    """Everything held about you (GDPR Art. 15/20) into a file, the same JSON bundle the
    portal's "My data" page offers; readable by you only."""
    from commons.cli_safety import write_new_file
    from gateway.client.cli_http import reporting

    if output.exists() and not force:  # before asking the server: nothing to undo
        write_new_file(output, b"", force=False)
    with reporting():
        bundle = _api(server).call("GET", "/v1/me/export")
    data = (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    write_new_file(output, data, force=force)
    domains = ", ".join(bundle.get("domains", {}))
    sys.stderr.write(_("your data ({domains}) is in {path}", domains=domains, path=output) + "\n")


@me.command("erase")
def erase(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Keep the erasure receipt here.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    server: Server = None,
) -> None:
    """Erase your account and your data in every part of the service (GDPR Art. 17), after
    you confirmed; prints (or keeps, with -o) the signed erasure receipt. Needs a recent
    login (ozg-commons login)."""
    from commons.cli_safety import confirm, write_new_file
    from gateway.client.cli_http import reporting
    from vault.client import cli as vault_cli

    if output is not None and output.exists() and not force:
        write_new_file(output, b"", force=False)
    confirm(_("Erase your account and all your data for good? This cannot be undone."), yes=yes)
    api = _api(server)
    with reporting():
        receipt = api.call("DELETE", "/v1/me", json={"confirm": ERASE_CONFIRMATION})
    text = json.dumps(receipt, indent=2, ensure_ascii=False) + "\n"
    if output is not None:
        write_new_file(output, text.encode("utf-8"), force=force)
    else:
        sys.stdout.write(text)
    # nothing of the account is left to use on this device either
    (vault_cli.client_dir() / "vault-key.pem").unlink(missing_ok=True)
    vault_cli.login_store().clear()
    sys.stderr.write(
        _("Your account has been erased. Keep the receipt below as proof.")
        + "\n"
        + _(
            "check it with: ozg-commons receipt verify {file} --server {server}",
            file=output or "RECEIPT.json",
            server=api.url,
        )
        + "\n"
    )


# --------------------------------------------------------------------------- access log
def _who(entry: dict[str, Any], authorities: dict[str, str]) -> str:
    from compliance import SYSTEM, YOU

    if entry["who"] == YOU:
        return _("You")
    if entry["who"] == SYSTEM or entry["who"] == "operator":
        return _("The operator of this portal")
    role = _(ROLES[entry["role"]]) if entry["role"] in ROLES else entry["role"]
    return f"{authorities.get(entry['who'], entry['who'])}, {role}"


def _authority_names(api: Api, language: str) -> dict[str, str]:
    try:
        listed = api.call("GET", "/v1/authorities").get("authorities", [])
    except Exception:  # names are a courtesy: the ids are shown instead
        return {}
    return {a["id"]: a["name"].get(language) or a["name"].get("en") or a["id"] for a in listed}


def _document_names(api: Api, ids: set[str]) -> dict[str, str]:
    """The names of the documents, decrypted here (the server does not know them) from the
    metadata-only read of each (its header and metadata record, never the content; one
    ``vault.document.metadata_read`` in the log); none if the vault is locked."""
    from gateway.client.cli_http import unlocked_key
    from vault.client import open_sealed_metadata

    key = unlocked_key()
    if key is None:
        return {}
    names: dict[str, str] = {}
    for doc_id in sorted(ids):
        try:
            item = api.call("GET", f"/v1/vault/documents/{doc_id}/metadata")
            names[doc_id] = open_sealed_metadata(item, key).filename
        except Exception:  # noqa: S112 (deleted, not yours, or damaged: the id is shown)
            continue
    return names


@me.command("access-log")
def access_log(
    limit: Annotated[int, typer.Option(min=1, max=200, help="Entries per page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next page (printed at the end).")] = None,
    names: Annotated[
        bool, typer.Option(help="Show document names (needs the unlocked vault).")
    ] = True,
    server: Server = None,
    as_json: AsJson = False,
) -> None:
    """Who accessed your data, when and why, newest first."""
    from gateway.client.cli_http import reporting

    api = _api(server)
    params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    with reporting():
        body = api.call("GET", "/v1/me/access-log", params=params)
    if as_json:
        _print_json(body)
        return
    entries = body["entries"]
    language = cli_language()
    language = language if language in ("de", "en") else "en"
    authorities = _authority_names(api, language)
    wanted = {e["document_id"] for e in entries if e.get("document_id")}
    documents = _document_names(api, wanted) if names and wanted else {}
    if wanted and names and not documents:
        sys.stderr.write(_("unlock the vault to see the names of your documents") + "\n")
    if not entries:
        sys.stdout.write(_("Nobody accessed your data yet.") + "\n")
    for e in entries:
        what = e["what"].get(language) or e["what"]["en"]
        doc = e.get("document_id")
        if doc:
            what += f" ({_('document')}: {documents.get(doc, doc)})"
        sys.stdout.write(f"{_when(e['at'])}  {_who(e, authorities)}: {what}\n")
        why = f"{e['why']['purpose']} ({e['why']['legal_basis']})"
        outcome = e["outcome"].get(language) or e["outcome"]["code"]
        sys.stdout.write(f"    {_('Why')}: {why}; {_('Outcome')}: {outcome}\n")
    sys.stderr.write(ngettext("{n} entry", "{n} entries", len(entries)) + "\n")
    if body.get("next_cursor"):
        sys.stderr.write(_("older entries: --cursor {cursor}", cursor=body["next_cursor"]) + "\n")


# --------------------------------------------------------------------------- mailbox
@mailbox.command("list")
def mailbox_list(
    archived: Annotated[bool, typer.Option("--archived", help="The archived ones.")] = False,
    server: Server = None,
    as_json: AsJson = False,
) -> None:
    """Your messages, newest first (titles only; read one with: mailbox read ID)."""
    from gateway.client.cli_http import reporting

    with reporting():
        rows = _api(server).call("GET", "/v1/me/messages", params={"archived": archived})
    if as_json:
        _print_json(rows)
        return
    if not rows:
        sys.stdout.write(_("Your mailbox is empty.") + "\n")
        return
    table = _table("id", _("Sent"), _("From"), _("About application"), _("title"), "")
    for m in rows:
        sender = m.get("sender_authority") or m.get("sender_client_id") or NONE
        unread = "" if m.get("read_at") else _("unread")
        case = m.get("case_ref") or NONE
        table.add_row(m["id"], _when(m["sent_at"]), sender, case, m["title"], unread)
    _show(table)


@mailbox.command("read")
def mailbox_read(
    message_id: Annotated[str, typer.Argument(help="The message's id (mailbox list).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the message's content here.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    server: Server = None,
) -> None:
    """Open a message (its read receipt is set). A sealed message (a decision letter, say)
    is decrypted here with your unlocked vault key."""
    from urllib.parse import quote

    from commons.cli_safety import write_new_file
    from commons.encoding import b64url_decode
    from gateway.client.cli_http import reporting, unlocked_key
    from vault import envelope

    with reporting():
        m = _api(server).call("GET", f"/v1/me/messages/{quote(message_id, safe='')}")
    sender = m.get("sender_authority") or m.get("sender_client_id") or NONE
    heading = f"{m['title']}\n{_('From')}: {sender}  {_('Sent')}: {_when(m['sent_at'])}"
    if m.get("case_ref"):
        heading += f"  {_('About application')}: {m['case_ref']}"
    sys.stderr.write(heading + "\n")
    content, media_type, name = m["body"].encode("utf-8"), "text/plain", None
    if m.get("body_format") == "ozg-envelope":
        key = unlocked_key()
        if key is None:
            print_error(_("the message is sealed to your vault key: unlock the vault first"))
            sys.stderr.write("ozg-commons vault unlock\n")
            raise typer.Exit(2)
        with reporting():
            meta, content = envelope.open_bytes(b64url_decode(m["body"]), key)
        media_type, name = meta.media_type, meta.filename
    if output is not None:
        write_new_file(output, content, force=force)
        sys.stderr.write(f"{name or _('message')} ({media_type}) -> {output}\n")
    elif media_type.startswith("text/"):
        sys.stdout.write(content.decode("utf-8", errors="replace").rstrip("\n") + "\n")
    else:
        print_error(
            _(
                "the message holds {name} ({type}); write it to a file with -o FILE",
                name=name or "?",
                type=media_type,
            )
        )
        raise typer.Exit(2)
    for ref in m.get("document_refs") or []:
        sys.stderr.write(_("document: {id} (ozg-commons vault get {id} -o FILE)", id=ref) + "\n")


@mailbox.command("archive")
def mailbox_archive(
    message_id: Annotated[str, typer.Argument(help="The message's id (mailbox list).")],
    server: Server = None,
) -> None:
    """Move a message to the archive (mailbox list --archived shows it)."""
    from urllib.parse import quote

    from gateway.client.cli_http import reporting

    with reporting():
        _api(server).call("POST", f"/v1/me/messages/{quote(message_id, safe='')}/archive")
    sys.stderr.write(_("message archived") + "\n")
