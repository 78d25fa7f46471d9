"""The applicant's and caseworker's vault commands are safe and helpful (issue 15):
no silent overwrite or deletion, no weak passphrase, a listing with what only the device can
read, progress with a total, errors with numbers, and the right advice for each role."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx
import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from account import Principal
from commons import cli_safety
from commons.db import Database
from commons.settings import Settings
from compliance.models import AccessEntry, AccessPersonal
from gateway.app import create_app
from gateway.cli import app as cli_app
from tests import factories
from tests.vault.helpers import authority_key, pki_settings
from vault.client import VaultClient
from vault.client import cli as vault_cli
from vault.client.listing import describe

ActAs = Callable[[Principal | None], None]
Run = Callable[..., str]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PHRASE = "a long vault passphrase"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # small limits, so that the limit and quota errors are cheap to reach
    return pki_settings(tmp_path, database_url, max_document_bytes=40_000, quota_bytes=60_000)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def run(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(vault_cli, "http_factory", lambda url: client)
    monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", PHRASE)
    runner = CliRunner()

    def invoke(
        *args: str,
        code: int = 0,
        stdout_only: bool = False,
        input: str | None = None,
        lang: str | None = None,
    ) -> str:
        env = {"LANG": lang} if lang else None
        result = runner.invoke(cli_app, list(args), input=input, env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout if stdout_only else result.output

    return invoke


def _errors(output: str) -> list[str]:
    """The command's error lines (the in-process server may log to the same stream when an
    earlier test configured logging; those lines are not the command's)."""
    assert "Traceback" not in output
    return [line for line in output.splitlines() if line.startswith(("error:", "Fehler:"))]


def _pdf(path: Path, pages: int = 1) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    pdf.save(path)
    return path


def _applicant(run: Run, act_as: ActAs) -> Principal:
    owner = factories.applicant()
    act_as(owner)
    run("login", "--token", "dev-token")
    run("vault", "keygen")
    return owner


def _put(run: Run, path: Path) -> str:
    found: list[str] = UUID.findall(run("vault", "put", str(path)))
    return found[-1]


def test_get_never_replaces_a_file_unless_forced(run: Run, act_as: ActAs, tmp_path: Path) -> None:
    _applicant(run, act_as)
    doc_id = _put(run, _pdf(tmp_path / "pass.pdf"))
    original = tmp_path / "original.pdf"
    original.write_bytes(b"the user's own file")
    refused = run("vault", "get", doc_id, "-o", str(original), code=2)
    assert "exists; give --force to replace it" in refused
    assert original.read_bytes() == b"the user's own file"
    run("vault", "get", doc_id, "-o", str(original), "--force")
    assert original.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_a_file_that_appears_meanwhile_is_kept(tmp_path: Path) -> None:
    """The rename at the end never replaces: the check before the download is not enough."""
    partial, out = tmp_path / ".x.partial", tmp_path / "x.pdf"
    partial.write_bytes(b"decrypted")
    out.write_bytes(b"written meanwhile")
    with pytest.raises(FileExistsError):
        cli_safety.move_without_replacing(partial, out)
    assert out.read_bytes() == b"written meanwhile"
    out.unlink()
    cli_safety.move_without_replacing(partial, out)
    assert out.read_bytes() == b"decrypted"


def test_rm_asks_first_and_refuses_without_a_terminal(
    run: Run, act_as: ActAs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _applicant(run, act_as)
    doc_id = _put(run, _pdf(tmp_path / "pass.pdf"))
    refused = run("vault", "rm", doc_id, code=2)
    assert "give --yes to confirm" in refused
    monkeypatch.setattr(cli_safety, "interactive", lambda: True)
    assert "nothing deleted" in run("vault", "rm", doc_id, input="n\n", code=1)
    assert doc_id in run("vault", "ls", "--json", stdout_only=True)
    answered = run("vault", "rm", doc_id, input="y\n", stdout_only=True)
    receipt = json.loads(answered[answered.index("{") :])  # the runner echoes the answer
    assert receipt["claims"]["document_id"] == doc_id
    assert json.loads(run("vault", "ls", "--json", stdout_only=True)) == []


def test_keygen_refuses_a_weak_passphrase_with_advice(
    run: Run, act_as: ActAs, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(factories.applicant())
    run("login", "--token", "dev-token")
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "a")
    refused = run("vault", "keygen", code=2)
    assert "too easy to guess" in refused
    assert "Add another word or two" in refused  # zxcvbn's own advice
    assert client.get("/v1/vault/keys/me").status_code == 404  # nothing was registered
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "password123")
    assert "too easy to guess" in run("vault", "keygen", code=2)
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", PHRASE)
    assert "recovery code" in run("vault", "keygen")
    weak = CliRunner().invoke(cli_app, ["vault", "passwd"], input="qwerty\nqwerty\n")
    assert weak.exit_code == 2, weak.output
    assert "too easy to guess" in weak.output


def test_ls_shows_what_only_the_device_can_read(
    run: Run,
    act_as: ActAs,
    app: FastAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database: Database,
) -> None:
    owner = _applicant(run, act_as)
    first = _put(run, _pdf(tmp_path / "Reisepass [scan].pdf"))
    second = _put(run, _pdf(tmp_path / "Mietvertrag.pdf", pages=3))
    act_as(factories.admin())
    _key, jwk = authority_key("tf")
    (tmp_path / "tf.json").write_text(json.dumps({"jwk": jwk}))
    run("vault", "register-authority-key", "tf", str(tmp_path / "tf.json"))
    act_as(owner)
    run("vault", "share", second, "--with", "tf")

    before = len(_audit(database))
    listed = {d["id"]: d for d in json.loads(run("vault", "ls", "--json", stdout_only=True))}
    assert sorted(_audit(database)[before:]) == sorted(
        ("vault.document.metadata_read", d) for d in (first, second)
    )
    assert listed[first]["filename"] == "Reisepass [scan].pdf"
    assert listed[second]["filename"] == "Mietvertrag.pdf"
    assert {d["media_type"] for d in listed.values()} == {"application/pdf"}
    assert all(0 < d["size"] < d["envelope_size"] for d in listed.values())  # the sanitized
    assert listed[second]["shared_with"] == ["tf"]
    assert listed[first]["shared_with"] == []
    assert all(d["content_hash"].startswith("sha-256:") for d in listed.values())

    table = run("vault", "ls", stdout_only=True)
    assert "Reisepass [scan].pdf" in table  # a file name is never read as markup
    assert "application/pdf" in table
    assert "tf" in table
    assert first in table

    run("vault", "lock")
    locked = run("vault", "ls")
    assert first in locked
    assert "Reisepass" not in locked
    assert "unlock the vault" in locked

    # the caseworker sees what was shared with their authority, named with their key
    auth_key, _jwk = authority_key("tf")
    pem = tmp_path / "tf.pem"
    pem.write_bytes(
        auth_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    act_as(factories.caseworker("tf"))
    before = len(_audit(database))
    theirs = json.loads(run("vault", "ls", "--json", "--key-file", str(pem), stdout_only=True))
    assert [(d["id"], d["filename"]) for d in theirs] == [(second, "Mietvertrag.pdf")]
    # the stanza came with the metadata: no wrapped key or content was fetched for the name
    assert _audit(database)[before:] == [("vault.document.metadata_read", second)]


def test_a_listing_reads_headers_and_records_only(
    client: TestClient, act_as: ActAs, tmp_path: Path, database: Database
) -> None:
    """The metadata-only read: one request per page, never the content or a wrapped key, and
    one ``vault.document.metadata_read`` per document in the access log."""
    key = ec.generate_private_key(ec.SECP256R1())
    owner = factories.applicant()
    act_as(owner)
    http = cast(httpx.Client, client)
    sdk = VaultClient("http://testserver", None, http=http)
    ids = []
    for name, size in (("big.bin", 20_000), ("small.bin", 10_000)):
        src = tmp_path / name
        src.write_bytes(os.urandom(size))
        ids.append(sdk.put(src, key, do_sanitize=False)[0])
    seen: list[str] = []
    original = client.get

    def spy(url: str, **kw: Any) -> Any:
        seen.append(url)
        return original(url, **kw)

    sdk.http = cast(httpx.Client, type("Spy", (), {"get": staticmethod(spy)})())
    before = _audit(database)
    docs = describe(sdk, key)
    assert sorted((d["id"], d["filename"], d["size"]) for d in docs) == sorted(
        [(ids[0], "big.bin", 20_000), (ids[1], "small.bin", 10_000)]
    )
    assert seen == ["/v1/vault/documents", "/v1/vault/documents/metadata"]
    new = _audit(database)[len(before) :]
    assert sorted(new) == sorted(("vault.document.metadata_read", i) for i in ids)
    # the name of one document, for the access log
    assert sdk.metadata(ids[1], key).filename == "small.bin"
    assert not [u for u in seen if u.endswith(("/content", "/key"))]
    # a document deleted between the two requests is listed without its name
    sdk.sealed_metadata = lambda: {}  # type: ignore[method-assign]
    assert {d["error"] for d in describe(sdk, key)} == {"deleted meanwhile"}


def _audit(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as s:
        rows = s.execute(
            select(AccessEntry.action, AccessPersonal.resource)
            .join(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
            .order_by(AccessEntry.at, AccessEntry.id)
        )
        return [(a, r) for a, r in rows]


def test_progress_knows_the_total(client: TestClient, act_as: ActAs, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    sdk = VaultClient("http://testserver", None, http=cast(httpx.Client, client))
    src = tmp_path / "doc.bin"
    src.write_bytes(os.urandom(20_000))
    totals: list[int] = []
    done: list[int] = []
    doc_id, _ = sdk.put(src, key, do_sanitize=False, total=totals.append, progress=done.append)
    assert totals == [20_000]
    assert sum(done) == 20_000
    totals.clear()
    done.clear()
    sdk.get(doc_id, tmp_path / "back.bin", key, total=totals.append, progress=done.append)
    assert totals[0] > 20_000
    assert sum(done) == totals[0]
    columns = [type(c).__name__ for c in vault_cli._progress().columns]
    for needed in ("TaskProgressColumn", "TransferSpeedColumn", "TimeRemainingColumn"):
        assert needed in columns


def test_errors_say_the_numbers(run: Run, act_as: ActAs, tmp_path: Path) -> None:
    _applicant(run, act_as)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "the file is empty" in run("vault", "put", str(empty), code=1)
    big = _pdf(tmp_path / "big.pdf")
    with pikepdf.open(big, allow_overwriting_input=True) as pdf:
        pdf.docinfo["/Subject"] = pikepdf.String("x")
        pdf.pages[0].Contents = pdf.make_stream(os.urandom(45_000))
        pdf.save(big, compress_streams=False)
    too_large = run("vault", "put", str(big), code=1)
    assert "exceeds the size limit of 40 kB (40000 bytes)" in too_large, too_large
    medium = _pdf(tmp_path / "medium.pdf")
    with pikepdf.open(medium, allow_overwriting_input=True) as pdf:
        pdf.pages[0].Contents = pdf.make_stream(os.urandom(25_000))
        pdf.save(medium, compress_streams=False)
    _put(run, medium)
    _put(run, medium)
    over = run("vault", "put", str(medium), code=1)
    assert re.search(r"would exceed your storage quota: [\d.]+ kB of 60 kB used", over), over


def test_a_caseworker_is_told_about_the_key_file(run: Run, act_as: ActAs, tmp_path: Path) -> None:
    owner = _applicant(run, act_as)
    doc_id = _put(run, _pdf(tmp_path / "pass.pdf"))
    act_as(factories.admin())
    _key, jwk = authority_key("tf")
    (tmp_path / "tf.json").write_text(json.dumps({"jwk": jwk}))
    run("vault", "register-authority-key", "tf", str(tmp_path / "tf.json"))
    act_as(owner)
    run("vault", "share", doc_id, "--with", "tf")
    run("vault", "lock")

    act_as(factories.caseworker("tf"))
    out = tmp_path / "out.pdf"
    advice = run("vault", "get", doc_id, "-o", str(out), code=2)
    assert "--key-file" in advice
    assert "--key-file" in run("vault", "unlock", code=2)
    assert "vault unlock` is for applicants" in advice
    missing = run("vault", "get", doc_id, "-o", str(out), "--key-file", "nope.pem", code=2)
    assert _errors(missing) == ["error: --key-file nope.pem: no such file"]
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nbm8=\n-----END PRIVATE KEY-----\n")
    bad = run("vault", "get", doc_id, "-o", str(out), "--key-file", str(junk), code=2)
    assert _errors(bad) == [f"error: --key-file {junk}: not a private key (PEM or JWK)"]
    other = tmp_path / "other.pem"
    other.write_bytes(
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    wrong = run("vault", "get", doc_id, "-o", str(out), "--key-file", str(other), code=1)
    assert "not the one the document was shared with" in wrong
    assert len(_errors(wrong)) == 1
    assert not out.exists()


def test_cannot_reach_names_the_url(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        vault_cli, "http_factory", lambda url: httpx.Client(base_url="http://127.0.0.1:9")
    )
    run("login", "--token", "t")
    assert _errors(run("vault", "ls", code=1)) == [
        "error: cannot reach the server at http://127.0.0.1:9/v1/vault/documents"
    ]


def test_the_vault_commands_speak_german(
    run: Run, act_as: ActAs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With LANG=de the errors, the question, the confirmations and the table are German,
    from the portal's catalogue; the file names, ids and the JSON stay as they are."""
    de = "de_DE.UTF-8"
    _applicant(run, act_as)
    doc_id = _put(run, _pdf(tmp_path / "Reisepass.pdf"))
    table = run("vault", "ls", stdout_only=True, lang=de)
    for header in ("Name", "Typ", "Größe", "hochgeladen (UTC)", "geteilt mit", "ID"):
        assert header in table
    assert "Reisepass.pdf" in table
    assert "filename" in run("vault", "ls", "--json", stdout_only=True, lang=de)

    kept = tmp_path / "kept.pdf"
    kept.write_bytes(b"mine")
    refused = run("vault", "get", doc_id, "-o", str(kept), code=2, lang=de)
    assert _errors(refused) == [f"Fehler: {kept} gibt es schon; mit --force wird die Datei ersetzt"]
    assert kept.read_bytes() == b"mine"
    assert _errors(run("vault", "rm", doc_id, code=2, lang=de)) == [
        "Fehler: ohne Terminal wird nicht gefragt; bestätigen Sie mit --yes"
    ]
    monkeypatch.setattr(cli_safety, "interactive", lambda: True)
    asked = run("vault", "rm", doc_id, input="n\n", code=1, lang=de)
    assert f"Dokument {doc_id} endgültig löschen" in asked
    assert "es wurde nichts gelöscht" in asked
    assert "Tresor gesperrt" in run("vault", "lock", lang=de)
    locked = run("vault", "ls", lang=de)
    assert "entsperren Sie den Tresor" in locked
    assert _errors(run("vault", "get", doc_id, "-o", str(tmp_path / "x.pdf"), code=2, lang=de)) == [
        "Fehler: der Tresor ist gesperrt: führen Sie `ozg-commons vault unlock` aus"
    ]
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "not the vault passphrase")
    assert _errors(run("vault", "unlock", code=1, lang=de)) == [
        "Fehler: falsche Passphrase oder falscher Wiederherstellungscode"
    ]
