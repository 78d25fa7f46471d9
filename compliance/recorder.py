"""The access recorder every domain calls whenever personal data is read, written,
shared, exported or deleted.

The contract other domains rely on is :func:`record_access` with an :class:`AccessEvent`:
it writes the entry in the caller's session, i.e. in the same database transaction as the
access itself. If recording fails, the exception propagates and the whole unit of work
(the access included) is rolled back: no access without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from commons.clock import Clock, ensure_utc, system_clock
from commons.context import current_request_id

Outcome = Literal["success", "denied", "error"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who accessed: a person (``subject`` from the identity provider) or a client."""

    subject: str
    role: str
    authority: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One access to personal data.

    ``action`` is a dotted name from the action registry (``vault.document.read``);
    ``purpose`` and ``legal_basis`` say why the access is lawful (``"§ 86 AufenthG"``,
    ``"Art. 6(1)(e) GDPR"``). ``disclosed_after`` marks a restricted entry that the data
    subject does not see before that time (the DPO always does).
    """

    actor: Actor
    data_subject: str | None
    action: str
    resource: str
    purpose: str
    legal_basis: str
    outcome: Outcome = "success"
    disclosed_after: datetime | None = None


def record_access(session: Session, event: AccessEvent, *, clock: Clock = system_clock) -> None:
    """Record ``event`` in ``session``'s transaction; raise if it cannot be recorded."""
    from compliance import service  # local: service imports models, models import recorder

    service.append_entry(
        session,
        event,
        at=ensure_utc(clock.now()),
        request_id=current_request_id(),
    )
