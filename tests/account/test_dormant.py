"""Dormant accounts: a notice after the configured period, erasure after the grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from typer.testing import CliRunner

from account import service
from account.dormancy import expire_dormant
from account.models import Account, Erasure, Message
from account.principal import Principal, Role
from commons.clock import FixedClock
from commons.components import PersonalDataRegistry
from commons.db import Database
from commons.receipts import ReceiptSigner, verify
from gateway.cli import app as cli_app

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Notifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(self, address: str) -> None:
        self.sent.append(address)


def _applicant(subject: str) -> Principal:
    return Principal(
        subject=subject,
        roles=frozenset({Role.APPLICANT}),
        attributes=(("email", f"{subject}@example.test"),),
    )


def test_notice_then_erasure_unless_used(database: Database) -> None:
    clock = FixedClock(T0)
    signer = ReceiptSigner(Ed25519PrivateKey.generate(), "https://ozg.example", clock=clock)
    notifier = Notifier()

    def run() -> tuple[int, int]:
        with database.transaction() as session:
            return expire_dormant(
                session,
                notice_after=timedelta(days=365),
                grace=timedelta(days=30),
                registry=PersonalDataRegistry(),
                admin=None,
                signer=signer,
                secret="x" * 40,
                journal=None,
                notifier=notifier,
                clock=clock,
            )

    with database.transaction() as session:
        service.touch(session, _applicant("sleeper"), clock=clock)
        service.touch(session, _applicant("returner"), clock=clock)
    clock.advance(timedelta(days=364))
    assert run() == (0, 0)
    clock.advance(timedelta(days=2))
    assert run() == (2, 0)
    assert sorted(notifier.sent) == ["returner@example.test", "sleeper@example.test"]
    assert run() == (0, 0)  # noticed once only
    clock.advance(timedelta(days=10))
    with database.transaction() as session:
        service.touch(session, _applicant("returner"), clock=clock)  # clears the notice
        titles = list(session.scalars(select(Message.title)))
    assert len(titles) == 2
    clock.advance(timedelta(days=21))
    assert run() == (0, 1)
    with database.transaction() as session:
        subjects = list(session.scalars(select(Account.subject)))
        erasures = list(session.scalars(select(Erasure)))
    assert subjects == ["returner"]
    assert len(erasures) == 1
    assert erasures[0].receipt["claims"]["reason"].startswith("dormant account")
    receipt = verify(erasures[0].receipt["receipt"], signer.jwks())
    assert receipt.kind == "erasure"
    assert receipt.claims == erasures[0].receipt["claims"]
    assert receipt.issued_at == clock.now()


def test_cli_expire_runs(tmp_path: Path) -> None:
    env = {"OZG_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli_app, ["migrate"], env=env).exit_code == 0
    result = runner.invoke(cli_app, ["accounts", "expire"], env=env)
    assert result.exit_code == 0, result.output
    assert "0 notified, 0 erased" in result.output
