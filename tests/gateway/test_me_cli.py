"""``ozg-commons me``, ``mailbox`` and ``fees`` against the in-process app, in English and
German (``LANG``): what the HTTP-only features of the portal do, from the command line."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from account import Principal
from commons.encoding import b64url_encode
from gateway.cli import app as cli_app
from tests import factories
from vault import envelope
from vault.client import cli as vault_cli

ActAs = Callable[[Principal | None], None]
Run = Callable[..., Result]


@pytest.fixture
def run(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(vault_cli, "http_factory", lambda url: client)
    monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "a long vault passphrase")
    monkeypatch.setenv("OZG_TOKEN", "token-of-the-principal-acted-as")

    def invoke(*args: str, code: int = 0, lang: str | None = None, stdin: str = "") -> Result:
        env = {"LANG": lang} if lang else None
        result = CliRunner().invoke(cli_app, list(args), env=env, input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


def _recent(principal: Principal) -> Principal:
    return replace(principal, auth_time=datetime.now(UTC))


def test_profile_consents_and_the_export_file(
    run: Run, act_as: ActAs, client: TestClient, tmp_path: Path
) -> None:
    act_as(factories.applicant())
    assert "No profile data yet." in run("me", "profile").stdout
    assert json.loads(run("me", "profile", "--json").stdout)["attributes"] == []
    assert "Noch keine Profildaten." in run("me", "profile", lang="de_DE.UTF-8").stdout
    # a consent: the portal's text is shown and the question asked (no terminal: --yes)
    refused = run("me", "consents", "grant", "reuse-documents", code=2)
    assert "give --yes" in refused.stderr
    given = run("me", "consents", "grant", "reuse-documents", "--authority", "tf", "--yes")
    assert "may reuse the documents I shared" in given.stderr
    consent_id = given.stdout.strip()
    listed = run("me", "consents", "list").stdout
    assert consent_id in listed
    assert "active" in listed
    assert "Consent withdrawn." in run("me", "consents", "withdraw", consent_id).stderr
    assert "widerrufen am" in run("me", "consents", "list", lang="de_DE.UTF-8").stdout
    rows = json.loads(run("me", "consents", "list", "--json").stdout)
    assert rows[0]["legal_basis"] == "Art. 6(1)(a), Art. 7 GDPR"
    assert rows[0]["withdrawn_at"]
    # the export: the API's bundle, whole, readable by the user only, never overwritten
    out = tmp_path / "my-data.json"
    assert str(out) in run("me", "export", "-o", str(out)).stderr
    bundle = json.loads(out.read_text(encoding="utf-8"))
    served = client.get("/v1/me/export").json()
    assert bundle["format"] == served["format"] == "ozg-personal-data-export/1"
    assert bundle["domains"].keys() == served["domains"].keys()
    assert bundle["domains"]["account"]["accounts"][0]["account_consent"][0]["id"] == consent_id
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # the readable part: what is held, why and for how long, in English and German
    about = {
        lang: {p["id"]: p for p in bundle["about"][lang]["processing"]} for lang in ("en", "de")
    }
    assert bundle["about"]["de"]["title"] == "Was wir über Sie speichern, warum und wie lange"
    assert about["en"]["account"]["why"].startswith("Tie the applicant")
    assert about["de"]["account"]["how_long"].startswith("bis zur Löschung auf Ihren Wunsch")
    assert "compliance.audit-trail" in about["de"]
    assert bundle["about"] == served["about"]
    out.write_text("mine")
    again = run("me", "export", "-o", str(out), code=2)
    assert "exists; give --force to replace it" in again.stderr
    assert out.read_text() == "mine"
    german = run("me", "export", "-o", str(out), code=2, lang="de_DE.UTF-8")
    assert "Fehler:" in german.stderr
    assert "--force" in german.stderr
    run("me", "export", "-o", str(out), "--force")
    assert json.loads(out.read_text())["format"] == "ozg-personal-data-export/1"


def test_erasure_asks_first_and_its_receipt_verifies(
    run: Run, act_as: ActAs, client: TestClient, tmp_path: Path
) -> None:
    act_as(_recent(factories.applicant()))
    run("me", "profile")
    assert "give --yes" in run("me", "erase", code=2).stderr
    receipt = tmp_path / "erasure.json"
    done = run("me", "erase", "--yes", "-o", str(receipt))
    assert "Your account has been erased" in done.stderr
    assert f"receipt verify {receipt}" in done.stderr
    assert json.loads(receipt.read_text())["kind"] == "erasure"
    assert not (tmp_path / "device" / "login.json").exists()
    keys = tmp_path / "keys.json"
    keys.write_text(client.get("/v1/receipts/keys").text)
    verified = run("receipt", "verify", str(receipt), "--keys", str(keys))
    assert verified.stdout.startswith("valid erasure receipt (v1)")
    tampered = json.loads(receipt.read_text())
    tampered["receipt"] = tampered["receipt"][:-4] + (
        "AAAA" if tampered["receipt"][-4:] != "AAAA" else "BBBB"
    )
    receipt.write_text(json.dumps(tampered))
    assert "INVALID" in run("receipt", "verify", str(receipt), "--keys", str(keys), code=1).stderr


def test_erasure_without_a_recent_login_is_refused_with_advice(run: Run, act_as: ActAs) -> None:
    act_as(factories.applicant())  # no auth_time: too old for an erasure
    refused = run("me", "erase", "--yes", code=1)
    assert "401" in refused.stderr
    assert "ozg-commons login" in refused.stderr


def test_the_access_log_says_you_and_shows_document_names(
    run: Run, act_as: ActAs, tmp_path: Path
) -> None:
    from tests.vault.test_cli_and_canary import _canary_pdf

    act_as(factories.applicant())
    run("vault", "keygen")
    pdf = tmp_path / "reisepass-kopie.pdf"
    _canary_pdf(pdf)
    run("vault", "put", str(pdf))
    shown = run("me", "access-log").stdout
    assert "You: " in shown
    assert "reisepass-kopie.pdf" in shown  # decrypted here: the server does not know it
    assert "ozg-commons:" not in shown
    german = run("me", "access-log", lang="de_DE.UTF-8")
    assert "Sie: " in german.stdout
    assert "Warum:" in german.stdout
    assert "Einträge" in german.stderr
    run("vault", "lock")
    locked = run("me", "access-log")
    assert "reisepass-kopie.pdf" not in locked.stdout
    assert "unlock the vault" in locked.stderr
    entries = json.loads(run("me", "access-log", "--json").stdout)["entries"]
    assert {e["who"] for e in entries} == {"you"}
    # the names came from the metadata-only read: nothing was downloaded for them
    actions = [e["action"] for e in entries]
    assert "vault.document.metadata_read" in actions
    assert "vault.document.read" not in actions


def test_the_mailbox_lists_reads_opens_sealed_letters_and_archives(
    run: Run, act_as: ActAs, client: TestClient, tmp_path: Path
) -> None:
    me = factories.applicant()
    act_as(me)
    run("me", "profile")  # the account exists from its first use
    run("vault", "keygen")
    public = client.get("/v1/vault/keys/me").json()["public_jwk"]
    from vault.recipients import public_key_from_jwk

    sealed = io.BytesIO()
    envelope.seal(b"%PDF-1.7 letter", sealed, [public_key_from_jwk(public)],
                  filename="bescheid.pdf", media_type="application/pdf")  # fmt: skip
    act_as(factories.caseworker("tf"))
    for body in (
        {"title": "Bitte Pass nachreichen", "body": "Guten Tag, bitte ...", "category": "status"},
        {"title": "Bescheid", "body": b64url_encode(sealed.getvalue()),
         "body_format": "ozg-envelope", "category": "decision"},
    ):  # fmt: skip
        sent = client.post("/v1/mailbox/messages", json={"recipient_subject": me.subject, **body})
        assert sent.status_code == 201, sent.text
    act_as(me)
    listed = json.loads(run("mailbox", "list", "--json").stdout)
    by_title = {m["title"]: m["id"] for m in listed}
    assert "unread" in run("mailbox", "list").stdout
    text = run("mailbox", "read", by_title["Bitte Pass nachreichen"])
    assert text.stdout.strip() == "Guten Tag, bitte ..."
    assert "From: tf" in text.stderr
    letter = run("mailbox", "read", by_title["Bescheid"], code=2)
    assert "bescheid.pdf (application/pdf)" in letter.stderr
    assert "-o FILE" in letter.stderr
    out = tmp_path / "bescheid.pdf"
    run("mailbox", "read", by_title["Bescheid"], "-o", str(out))
    assert out.read_bytes() == b"%PDF-1.7 letter"
    run("vault", "lock")
    assert "vault unlock" in run("mailbox", "read", by_title["Bescheid"], code=2).stderr
    assert "archiviert" in run("mailbox", "archive", by_title["Bescheid"], lang="de").stderr
    assert [m["id"] for m in json.loads(run("mailbox", "list", "--json").stdout)] == [
        by_title["Bitte Pass nachreichen"]
    ]
    archived = json.loads(run("mailbox", "list", "--archived", "--json").stdout)
    assert [m["id"] for m in archived] == [by_title["Bescheid"]]
    assert "404" in run("mailbox", "read", "no-such-message", code=1).stderr


def test_a_fee_quote_itemised_in_both_languages(run: Run, act_as: ActAs) -> None:
    act_as(factories.flow_client())
    args = ["fees", "quote", "--authority", "tf", "--procedure", "extension", "--age", "16"]
    args += ["--duration-months", "12"]
    shown = run(*args, "--decision-date", "2026-11-28").stdout
    assert "§ 50" in shown
    assert "to pay (quote" in shown
    answer = json.loads(run(*args, "--json").stdout)
    assert answer["amount_due_cents"] == sum(line["amount_cents"] for line in answer["lines"])
    assert "zu zahlen" in run(*args, lang="de_DE.UTF-8").stdout
    unknown = run("fees", "quote", "--authority", "zz", "--procedure", "extension", "--age", "3",
                  "--duration-months", "12",
                  code=1)  # fmt: skip
    assert "known authorities" in unknown.stderr
    assert "YYYY-MM-DD" in run(*args, "--decision-date", "28.11.2026", code=2).stderr
    act_as(factories.applicant())
    assert "403" in run(*args, code=1).stderr


def test_every_processing_activity_about_applicants_says_it_in_german() -> None:
    """The export's readable part has nothing in English only, but a flow's own texts
    (its flow.json is English; its title is German)."""
    from gateway.declarations import all_declarations

    about = [
        a for a in all_declarations().activities if any("applicant" in s for s in a.data_subjects)
    ]
    assert len(about) >= 8
    for a in about:
        assert a.name_de, a.id
        if not a.id.startswith("flow."):
            assert a.purpose_de, a.id
            assert a.retention_de, a.id
            assert len(a.data_categories_de) == len(a.data_categories), a.id
