"""Fixtures for the audit-trail tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from commons.db import Database
from compliance import AccessEvent, Actor, record_access
from compliance.keys import LogIdentity
from compliance.note import Signer
from compliance.sequencer import sequence_all


def event(
    subject: str | None = "subject-1",
    *,
    actor: str = "officer-1",
    authority: str | None = "tf",
    action: str = "vault.document.read",
    purpose: str = "deciding the application",
    disclosed_after: datetime | None = None,
) -> AccessEvent:
    return AccessEvent(
        actor=Actor(subject=actor, role="caseworker", authority=authority),
        data_subject=subject,
        action=action,
        resource=f"document:{subject}-passport",
        purpose=purpose,
        legal_basis="§ 86 AufenthG",
        disclosed_after=disclosed_after,
    )


@pytest.fixture
def identity() -> LogIdentity:
    return LogIdentity(origin="test.example/audit", signer=Signer.generate("test.example/audit"))


Record = Callable[..., None]


@pytest.fixture
def record(database: Database) -> Record:
    def write(n: int = 1, **kwargs: object) -> None:
        with database.transaction() as session:
            for _ in range(n):
                record_access(session, event(**kwargs))  # type: ignore[arg-type]

    return write


@pytest.fixture
def sequence(database: Database, identity: LogIdentity) -> Callable[[], int]:
    return lambda: sequence_all(database, identity, batch=7)


T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
