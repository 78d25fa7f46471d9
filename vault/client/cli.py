"""The device commands of ``ozg-commons vault ...`` and ``ozg-commons login``.

They talk to the server over HTTP with a bearer token: ``OZG_TOKEN``, or the one
``ozg-commons login`` saved. The server URL is ``--server`` / ``OZG_SERVER_URL``. The unlocked
private key is kept in ``$OZG_CLIENT_DIR/vault-key.pem`` (mode 0600) until ``vault lock``;
nothing secret ever leaves the device. The operator commands are in ``vault.cli``, which
mounts these.

Nothing heavy is imported at module level (httpx, the crypto libraries, rich's widgets), so
that ``--help`` starts fast; each command imports what it needs.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from commons import cli_messages as msg
from commons.cli_safety import confirm
from commons.i18n import _, accept_language, print_error, print_warning, say
from vault.errors import (
    ClientError,
    DocumentTooLarge,
    InvalidEnvelope,
    InvalidKey,
    RevocationUnknown,
    SanitizeError,
    WrongSecret,
)

if TYPE_CHECKING:
    import httpx
    from rich.console import Console
    from rich.progress import Progress

    from vault.client.sdk import VaultClient
    from vault.client.session import LoginStore
    from vault.recipients import PrivateKey

cli = typer.Typer(help="End-to-end encrypted documents.", no_args_is_help=True)

Server = Annotated[str | None, typer.Option("--server", help="Server URL (OZG_SERVER_URL).")]
KeyFile = Annotated[
    Path | None,
    typer.Option("--key-file", help="A caseworker's authority private key (PEM or JWK)."),
]


def _default_http(url: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=url, timeout=120.0, headers={"Accept-Language": accept_language()})


# Tests replace this to talk to an in-process app.
http_factory: Callable[[str], httpx.Client] = _default_http


def out() -> Console:
    """The console for results (stdout): as wide as the terminal, or wide enough for a
    whole table line when the output goes to a file or a pipe. Made anew for each use, since
    where stdout goes can change within one process (a test's runner, a redirect)."""
    import sys

    from rich.console import Console

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=200 if piped else None)


@functools.cache
def err() -> Console:
    """The console for messages and errors (stderr); an error stays one line."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def client_dir() -> Path:
    return Path(os.environ.get("OZG_CLIENT_DIR", Path.home() / ".config" / "ozg-commons"))


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by this user only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def server_url(server: str | None) -> str:
    return (server or os.environ.get("OZG_SERVER_URL", "http://127.0.0.1:8000")).rstrip("/")


def login_store() -> LoginStore:
    """This user's login on this device (``OZG_CLIENT_DIR``)."""
    from vault.client.session import LoginStore

    return LoginStore(client_dir())


_tried: dict[str, str] = {}  # the server the last connect() was for (errors name it)


def connect(server: str | None) -> VaultClient:
    """A client for ``server`` with the stored token and this device's trust anchors and
    CRLs (``OZG_VAULT_TRUST_ANCHORS``, ``OZG_VAULT_CRL_FILES``); exit 2 if not logged in."""
    from vault.client.sdk import VaultClient
    from vault.client.session import LoginError
    from vault.pki import load_anchors

    url = server_url(server)
    _tried["url"] = url
    try:
        token = login_store().bearer()
    except LoginError as exc:
        raise fail(str(exc), 2) from None
    anchors_path = os.environ.get("OZG_VAULT_TRUST_ANCHORS")
    anchors = load_anchors(Path(anchors_path)) if anchors_path else None
    crls = device_crls() if anchors is not None else None
    return VaultClient(url, token, http=http_factory(url), trust_anchors=anchors, crls=crls)


def device_crls() -> list[Any] | None:
    """The CRLs named by OZG_VAULT_CRL_FILES on this device (a JSON list, as for the
    server, or paths separated by the OS path separator); None if it is not set."""
    from vault.errors import CrlFileError
    from vault.revocation import load_crls

    raw = os.environ.get("OZG_VAULT_CRL_FILES", "").strip()
    if not raw:
        return None
    try:
        names = json.loads(raw) if raw.startswith("[") else raw.split(os.pathsep)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(_(msg.CRL_FILES_NOT_A_LIST))
        return load_crls([Path(n) for n in names if n])
    except (ValueError, CrlFileError) as exc:
        raise fail(f"OZG_VAULT_CRL_FILES: {exc}", 2) from None


def fail(message: str, code: int = 1, *, advice: str | None = None) -> typer.Exit:
    """Print ``message`` (already translated) as the one error line, through the one error
    printer (:func:`commons.i18n.print_error`: no console markup read from it), and
    ``advice`` below it; the exit to raise."""
    print_error(message, advice=advice)
    return typer.Exit(code)


def _stored_key() -> PrivateKey | None:
    from vault.recipients import load_private_key

    path = client_dir() / "vault-key.pem"
    return load_private_key(path.read_bytes()) if path.exists() else None


def _key(client: VaultClient | None = None) -> PrivateKey:
    """The unlocked applicant key; exit 2 with the advice for who is asking if the vault is
    locked (a caseworker, whom the server gives no applicant key, is told about
    --key-file)."""
    key = _stored_key()
    if key is not None:
        return key
    if client is not None and _is_caseworker(client):
        raise fail(_(msg.CASEWORKER_KEY_FILE), 2)
    raise fail(_(msg.VAULT_LOCKED), 2)


def _is_caseworker(client: VaultClient) -> bool:
    """Whether the server refuses this login an applicant key (403: not an applicant)."""
    import httpx

    try:
        return client.http.get(f"{client.api}/keys/me").status_code == 403
    except httpx.HTTPError:
        return False


def authority_key(path: Path) -> PrivateKey:
    """The authority's private key from ``--key-file``; one line and exit 2 if it is
    missing, unreadable or no key."""
    from vault.recipients import load_private_key

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise fail(_(msg.KEY_FILE_MISSING, path=path), 2) from None
    except OSError as exc:
        raise fail(_(msg.KEY_FILE_UNREADABLE, path=path, reason=exc.strerror), 2) from None
    try:
        return load_private_key(data)
    except (ValueError, TypeError, KeyError, InvalidKey):
        raise fail(_(msg.KEY_FILE_INVALID, path=path), 2) from None


def _save_key(key: PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(client_dir() / "vault-key.pem", pem)


def _passphrase(
    confirm: bool = False, prompt: str = msg.PASSPHRASE_PROMPT, from_env: bool = True
) -> str:
    """The passphrase (OZG_VAULT_PASSPHRASE, else asked with the marked ``prompt``); a new
    one (``confirm``) must be hard to guess, or the command exits 2 with zxcvbn's advice."""
    value = os.environ.get("OZG_VAULT_PASSPHRASE") if from_env else None
    if not value:
        value = typer.prompt(_(prompt), hide_input=True, confirmation_prompt=confirm)
    if confirm:
        from vault.client.strength import weakness

        advice = weakness(value)
        if advice is not None:
            raise fail(_(msg.WEAK_PASSPHRASE), 2, advice="\n".join(f"  - {a}" for a in advice))
    return value


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn what a client call can raise into a one-line message and exit 1."""
    import httpx

    try:
        yield
    except ClientError as exc:
        advice = _(msg.LOG_IN_AGAIN) if exc.status == 401 else None
        refused = _(msg.SERVER_REFUSED, status=exc.status, detail=exc.detail)
        raise fail(refused, advice=advice) from None
    except FileExistsError as exc:
        raise fail(_(msg.OUTPUT_EXISTS, path=exc.filename), 2) from None
    except (DocumentTooLarge, SanitizeError, InvalidEnvelope) as exc:
        raise fail(exc.detail) from None
    except (InvalidKey, RevocationUnknown) as exc:
        raise fail(_(msg.AUTHORITY_KEY_REFUSED, detail=exc.detail)) from None
    except WrongSecret as exc:
        raise fail(str(exc)) from None
    except httpx.TransportError as exc:
        raise fail(msg.unreachable(exc, _tried.get("url", "?"))) from None


def _progress() -> Progress:
    """Bytes done of the total, the percentage, the speed and the time left."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskProgressColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err(),
        transient=True,
        disable=not err().is_terminal,  # nothing for a log file or a pipe
    )


def login(
    token: Annotated[
        str | None, typer.Option(help="Store this bearer token as it is (no refresh).")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(help="Use the password grant for this user (asks for the password)."),
    ] = None,
    device: Annotated[
        bool, typer.Option("--device", help="Use the device authorization grant (RFC 8628).")
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the login URL instead of opening it.")
    ] = False,
    issuer: Annotated[
        str | None,
        typer.Option(
            envvar="OZG_OIDC_ISSUER",
            help="The identity provider (default: Keycloak's realm if --keycloak-url is given, "
            "else the development IdP of --server).",
        ),
    ] = None,
    keycloak_url: Annotated[str | None, typer.Option(envvar="OZG_KEYCLOAK_SERVER_URL")] = None,
    realm: Annotated[str, typer.Option(envvar="OZG_KEYCLOAK_REALM")] = "ozg",
    client_id: Annotated[str, typer.Option(envvar="OZG_CLIENT_ID")] = "ozg-cli",
    server: Server = None,
) -> None:
    """Log in: opens the identity provider's login page in the browser (authorization code
    with PKCE and a loopback redirect), keeps the tokens readable by you only, and renews
    them silently until the identity provider ends the session."""
    import webbrowser

    from vault.client.session import LoginError, browser_login, device_login, password_login

    store = login_store()
    if token is not None:
        store.save_token(token)
        say(_(msg.LOGGED_IN_TOKEN, path=store.token_path))
        return
    if issuer is None:
        if keycloak_url:
            issuer = f"{keycloak_url.rstrip('/')}/realms/{realm}"
        else:
            issuer = f"{server_url(server)}/dev-idp/realms/ozg-dev"
    try:
        if username:
            password = typer.prompt(_(msg.PASSWORD_PROMPT), hide_input=True)
            session = password_login(issuer, client_id, username, password)
        elif device:
            session = device_login(
                issuer,
                client_id,
                show=lambda uri, code: say(_(msg.DEVICE_LOGIN, uri=uri, code=code)),
            )
        else:
            session = browser_login(
                issuer,
                client_id,
                show=lambda url: say(_(msg.BROWSER_LOGIN) + "\n" + url),
                open_browser=None if no_browser else webbrowser.open,
            )
    except LoginError as exc:
        raise fail(str(exc)) from None
    store.save(session)
    say(_(msg.LOGGED_IN, path=store.path))


def logout() -> None:
    """Forget the login on this device."""
    login_store().clear()
    say(_(msg.LOGGED_OUT))


@cli.command()
def keygen(server: Server = None) -> None:
    """Create your vault key on this device; the server gets it only wrapped."""
    client = connect(server)
    with reporting_errors():
        pair = client.keygen(_passphrase(confirm=True))
    _save_key(pair.private_key)
    out().print(_(msg.RECOVERY_CODE), highlight=False, markup=False)
    out().print(f"[bold]{pair.recovery_code}[/]", highlight=False)


@cli.command()
def unlock(
    server: Server = None,
    recovery: Annotated[
        bool, typer.Option(help="Use the recovery code, set a new passphrase.")
    ] = False,
) -> None:
    """Fetch your wrapped key and unwrap it here with your passphrase (applicants; a
    caseworker gives --key-file to the commands instead)."""
    client = connect(server)
    with reporting_errors():
        try:
            if recovery:
                code = typer.prompt(_(msg.RECOVERY_CODE_PROMPT), hide_input=True)
                key = client.unlock(recovery_code=code)
                client.change_passphrase(key, _passphrase(confirm=True))
            else:
                key = client.unlock(passphrase=_passphrase())
        except ClientError as exc:
            if exc.status == 403:  # not an applicant: no applicant key to unlock
                raise fail(_(msg.CASEWORKER_KEY_FILE), 2) from None
            raise
    _save_key(key)
    say(_(msg.VAULT_UNLOCKED))


@cli.command()
def passwd(server: Server = None) -> None:
    """Change the vault passphrase: re-wraps your key here; documents are untouched."""
    client = connect(server)
    key = _key(client)
    new = _passphrase(confirm=True, prompt=msg.NEW_PASSPHRASE_PROMPT, from_env=False)
    with reporting_errors():
        client.change_passphrase(key, new)
    say(_(msg.PASSPHRASE_CHANGED))


@cli.command()
def lock() -> None:
    """Forget the unlocked key on this device."""
    (client_dir() / "vault-key.pem").unlink(missing_ok=True)
    say(_(msg.VAULT_LOCKED_NOW))


@cli.command()
def put(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    server: Server = None,
) -> None:
    """Sanitize, encrypt and upload a PDF, JPEG or PNG."""
    client = connect(server)
    key = _key(client)
    with reporting_errors(), _progress() as progress:
        task = progress.add_task(_(msg.UPLOADING), total=None)
        doc_id, report = client.put(
            file,
            key,
            progress=lambda n: progress.advance(task, n),
            total=lambda n: progress.update(task, total=n),
        )
    if report and report.removed:
        say(_(msg.REMOVED_BEFORE_ENCRYPTION, removed="; ".join(report.summary())))
    out().print(doc_id)


@cli.command("ls")
def list_documents(
    server: Server = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    key_file: KeyFile = None,
) -> None:
    """Your documents (or, as a caseworker, those shared with your authority): name, type,
    size and date, decrypted here from each document's metadata record, and the
    authorities it is shared with."""
    from vault.client.listing import describe, print_table

    client = connect(server)
    key = authority_key(key_file) if key_file else _stored_key()
    with reporting_errors():
        docs = describe(client, key)
    if as_json:
        out().print_json(json.dumps(docs))
    else:
        print_table(out(), docs)
    if key is None and docs:
        say(_(msg.NAMES_NEED_KEY))


@cli.command()
def get(
    doc_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    server: Server = None,
    key_file: KeyFile = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
) -> None:
    """Download and decrypt a document (as a caseworker: with --key-file). An existing
    output file is kept unless --force is given; the file appears only once decrypted and
    verified."""
    if output.exists() and not force:
        raise fail(_(msg.OUTPUT_EXISTS, path=output), 2)
    client = connect(server)
    key = authority_key(key_file) if key_file else _key(client)
    with reporting_errors(), _progress() as progress:
        task = progress.add_task(_(msg.DOWNLOADING), total=None)
        meta = client.get(
            doc_id,
            output,
            key,
            as_authority=key_file is not None,
            overwrite=force,
            progress=lambda n: progress.advance(task, n),
            total=lambda n: progress.update(task, total=n),
        )
    say(_(msg.DOWNLOADED, name=meta.filename, type=meta.media_type, size=meta.size, path=output))


@cli.command()
def share(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Give an authority access: your device wraps the document key to its key.

    With OZG_VAULT_TRUST_ANCHORS (a PEM file of CA certificates) the device itself checks
    the authority key's certificate chain first, and with OZG_VAULT_CRL_FILES its
    revocation too."""
    client = connect(server)
    if client.trust_anchors is None:
        print_warning(_(msg.NO_TRUST_ANCHORS))
    key = _key(client)
    with reporting_errors():
        client.share(doc_id, authority, key)
    say(_(msg.SHARED, authority=authority))


@cli.command()
def unshare(
    doc_id: str, authority: Annotated[str, typer.Option("--with")], server: Server = None
) -> None:
    """Withdraw an authority's access (its wrapped key is deleted)."""
    with reporting_errors():
        connect(server).unshare(doc_id, authority)
    say(_(msg.UNSHARED, authority=authority))


@cli.command()
def rm(
    doc_id: str,
    server: Server = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete (crypto-shred) a document for good; prints the signed deletion receipt. Asks
    first, unless --yes is given."""
    confirm(_(msg.CONFIRM_DELETE, doc_id=doc_id), yes=yes, declined=msg.NOT_DELETED)
    with reporting_errors():
        receipt = connect(server).rm(doc_id)
    out().print_json(json.dumps(receipt))
