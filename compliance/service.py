"""Domain logic of the audit trail (no HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from commons.ids import new_id_str
from compliance.models import AccessEntry

if TYPE_CHECKING:
    from compliance.recorder import AccessEvent


def append_entry(
    session: Session, event: AccessEvent, *, at: datetime, request_id: str | None
) -> AccessEntry:
    entry = AccessEntry(
        id=new_id_str(),
        at=at,
        request_id=request_id,
        actor_subject=event.actor.subject,
        actor_role=event.actor.role,
        actor_authority=event.actor.authority,
        actor_client_id=event.actor.client_id,
        data_subject=event.data_subject,
        action=event.action,
        resource=event.resource,
        purpose=event.purpose,
        legal_basis=event.legal_basis,
        outcome=event.outcome,
        disclosed_after=event.disclosed_after,
    )
    session.add(entry)
    session.flush()
    return entry
