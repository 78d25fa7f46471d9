"""Startup refuses settings a domain cannot use, listing every problem at once."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from commons.db import Database
from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance.note import Signer
from gateway.app import create_app, startup_problems
from gateway.authorities.routing import private_jwk_text
from tests.commons.test_settings import GOOD_PRODUCTION
from tests.gateway.authorities.helpers import entry, keys_for, rsa_key, write_file
from vault.pki import demo_crl_path, ensure_demo_ca


def _dev(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_development_defaults_have_no_problems(tmp_path: Path) -> None:
    assert startup_problems(_dev(tmp_path)) == []


def test_malformed_audit_keys_are_named(tmp_path: Path) -> None:
    settings = _dev(
        tmp_path,
        sections={
            "compliance": {
                "signing_key": SecretStr("PRIVATE+KEY+not-really"),
                "witness_keys": ["witness+nonsense"],
            }
        },
    )
    problems = startup_problems(settings)
    assert any(p.startswith("OZG_COMPLIANCE_SIGNING_KEY is not a signer key") for p in problems)
    assert any(p.startswith("OZG_COMPLIANCE_WITNESS_KEYS holds a malformed") for p in problems)
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings)
    assert len(raised.value.problems) == 2
    # the check has no side effect: no development key was generated for a refused start
    assert not (tmp_path / "audit-log-signing.key").exists()


def test_unreadable_trust_anchors_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "anchors.pem"
    bad.write_text("not a certificate")
    problems = startup_problems(_dev(tmp_path, sections={"vault": {"trust_anchors": bad}}))
    assert problems == [
        "OZG_VAULT_TRUST_ANCHORS (anchors.pem) is not a readable PEM file of certificates"
    ]
    missing = startup_problems(
        _dev(tmp_path, sections={"vault": {"trust_anchors": tmp_path / "nope.pem"}})
    )
    assert missing == [
        "OZG_VAULT_TRUST_ANCHORS (nope.pem) is not a readable PEM file of certificates"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[authorities.tf\nprovider=", "is not valid TOML"),
        ("title = 'no authorities'", "has no [authorities.<id>] table"),
        ("[authorities.tf]\nsettings = {}", "authority 'tf' needs provider"),
        ("[authorities.tf]\nprovider = 'sandbox'\nsettings = 3", "are tables"),
        ("[authorities.tf]\nprovider = 'nonesuch'", "which OZG_PAYMENTS_PROVIDERS does not enable"),
    ],
)
def test_malformed_payment_authorities_file_is_named(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "authorities.toml"
    path.write_text(content)
    problems = startup_problems(_dev(tmp_path, sections={"payments": {"authorities_file": path}}))
    assert len(problems) == 1
    assert (
        problems[0].startswith("OZG_PAYMENTS_AUTHORITIES_FILE") or "authority 'tf'" in problems[0]
    )
    assert expected in problems[0]


def test_production_needs_trust_anchors_and_payment_and_delivery_authorities(
    tmp_path: Path,
) -> None:
    problems = startup_problems(Settings(**GOOD_PRODUCTION))
    assert any(p.startswith("OZG_VAULT_TRUST_ANCHORS is not set") for p in problems)
    assert any(p.startswith("OZG_PAYMENTS_AUTHORITIES_FILE is not set") for p in problems)
    assert any(p.startswith("OZG_AUTHORITIES_FILE is not set") for p in problems)

    assert startup_problems(complete_production(tmp_path)) == []


def complete_production(tmp_path: Path, **overrides: Any) -> Settings:
    """Production settings with every file a production start needs, all under
    ``tmp_path`` (data directory ``var``, erasure journal ``erasure-journal``; the database
    URL names a server: pass the app a database to use)."""
    anchors, _ = ensure_demo_ca(tmp_path / "ca")
    crl = demo_crl_path(tmp_path / "ca")
    authorities = tmp_path / "authorities.toml"
    authorities.write_text(
        "[authorities.tf]\nprovider = 'xbezahldienste'\n[authorities.tf.settings]\n"
        "base_url = 'https://epay.example/api'\noriginator_id = 'tf'\n"
        "endpoint_id = 'abh'\nnotification_secret = '" + "s" * 40 + "'\n"
    )
    ca_key = serialization.load_pem_private_key(
        (tmp_path / "ca" / "demo-ca.key.pem").read_bytes(), None
    )
    ca_cert = x509.load_pem_x509_certificate(anchors.read_bytes())
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    registry = write_file(
        tmp_path / "registry.toml", [entry("tf", keys_for("tf", (ca_key, ca_cert)))]
    )
    routing_key = private_jwk_text(rsa_key("routing"))
    imprint, privacy = tmp_path / "imprint.txt", tmp_path / "privacy.txt"
    imprint.write_text("Landkreis Teltow-Fläming\n\nAm Nuthefließ 2, 14943 Luckenwalde")
    privacy.write_text("Verantwortlich: Landkreis Teltow-Fläming")
    sections = {
        **GOOD_PRODUCTION["sections"],
        "account": {"erasure_journal_dir": str(tmp_path / "erasure-journal")},
        "vault": {"trust_anchors": anchors, "crl_files": [crl]},
        "payments": {"providers": ["xbezahldienste"], "authorities_file": authorities},
        "authorities": {"file": registry, "routing_signing_key": SecretStr(routing_key)},
        "portal": {
            "imprint_file": imprint,
            "privacy_file": privacy,
            "accessibility_contact": "barrierefreiheit@teltow-flaeming.example",
        },
    }
    (tmp_path / "var").mkdir(exist_ok=True)
    fields = {**GOOD_PRODUCTION, "data_dir": tmp_path / "var", "sections": sections}
    return Settings(**{**fields, **overrides})


def test_serve_refuses_a_malformed_signing_key_with_exit_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OZG_DATA_DIR": str(tmp_path / "var"),
        "OZG_COMPLIANCE_SIGNING_KEY": Signer.generate("x.example/log").to_string()[:-5] + "!!!!!",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "OZG_COMPLIANCE_SIGNING_KEY is not a signer key" in proc.stderr
    assert env["OZG_COMPLIANCE_SIGNING_KEY"] not in proc.stderr + proc.stdout  # secrets stay out


# --------------------------------------------------------------------------- erasure journal
def _held_erasure(settings: Settings, database: Database) -> None:
    """The database holds a subject whose erasure the journal has and the database lacks:
    a backup older than the erasure, restored without ``ozg-commons restore``."""
    from account.erasure import subject_digest
    from account.journal import ErasureJournal, JournalEntry
    from account.models import Account
    from account.runtime import erasure_journal_dir

    now = datetime.now(UTC)
    with database.transaction() as session:
        session.add(
            Account(
                id=str(uuid.uuid4()), issuer="https://id.example/realms/ozg", subject="held-1",
                trust_level=1, created_at=now, last_seen_at=now,
            )
        )  # fmt: skip
    digest = subject_digest(
        settings.secret_key.get_secret_value(), "https://id.example/realms/ozg", "held-1"
    )
    ErasureJournal(erasure_journal_dir(settings)).append(
        JournalEntry(
            receipt_id="r-held", identity_issuer="https://id.example/realms/ozg",
            subject_digest=digest, erased_at=now, delete_after=now + timedelta(days=1000),
            receipt={"receipt": "x.y.z", "kind": "erasure", "claims": {}},
        )
    )  # fmt: skip


def test_a_production_app_refuses_to_start_on_a_restored_backup_however_it_is_run(
    tmp_path: Path, database: Database
) -> None:
    """``create_app`` as ``uvicorn --factory`` or gunicorn call it: the start-up (lifespan)
    refuses, before any component starts; requests are never served."""
    settings = complete_production(tmp_path)
    app = create_app(settings, database)
    with TestClient(app) as client:  # nothing pending: it starts
        assert client.get("/healthz").status_code == 200
    _held_erasure(settings, database)
    app = create_app(settings, database)
    with pytest.raises(ConfigurationError) as raised, TestClient(app):
        pass
    assert raised.value.problems == [
        "the database holds 1 erasure(s) of the erasure journal it has not seen (restored "
        "from an older backup?): run `ozg-commons restore` before serving"
    ]


def test_a_production_app_refuses_a_damaged_journal(tmp_path: Path, database: Database) -> None:
    settings = complete_production(tmp_path)
    journal = tmp_path / "erasure-journal"
    journal.mkdir()
    (journal / "erasures.jsonl").write_text("garbage\n", encoding="ascii")
    with pytest.raises(ConfigurationError) as raised, TestClient(create_app(settings, database)):
        pass
    assert raised.value.problems == ["the erasure journal is damaged at line 1 of erasures.jsonl"]


def test_development_apps_do_not_check_and_serve_checks_once(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Development: the app starts (tests and the demo build apps all the time), and
    ``ozg-commons serve`` refuses instead. Production: ``serve`` leaves it to the app's
    start-up, so every start runs the check once."""
    import uvicorn
    from typer.testing import CliRunner

    from gateway import restore
    from gateway.cli import app as cli

    calls: list[bool] = []
    real = restore.refusal

    def counted(settings: Settings, db: Database | None = None) -> str | None:
        calls.append(settings.is_production)
        return real(settings, db)

    monkeypatch.setattr(restore, "refusal", counted)
    development = Settings(
        data_dir=tmp_path / "dev",
        sections={"account": {"erasure_journal_dir": str(tmp_path / "erasure-journal")}},
    )
    _held_erasure(development, database)
    with TestClient(create_app(development, database)) as client:
        assert client.get("/healthz").status_code == 200
    assert calls == []

    started: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(True))
    monkeypatch.setattr("gateway.cli._reach_database", lambda settings: None)
    env = {
        "OZG_DATA_DIR": str(tmp_path / "dev"),
        "OZG_ACCOUNT_ERASURE_JOURNAL_DIR": str(tmp_path / "erasure-journal"),
    }
    monkeypatch.setattr("gateway.migrations.upgrade", lambda url: None)
    monkeypatch.setattr("gateway.restore.unreplayed", lambda settings, db=None: 1)
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert not started
    assert calls == [False]

    calls.clear()
    production = complete_production(tmp_path)
    monkeypatch.setattr("gateway.cli._load_settings", lambda: production)
    monkeypatch.setattr("gateway.cli._require_current_schema", lambda settings: None)
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert started == [True]
    assert calls == []  # serve did not check: the app's start-up does, once per start
    with pytest.raises(ConfigurationError), TestClient(create_app(production, database)):
        pass
    assert calls == [True]
