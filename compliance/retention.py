"""Retention: running the declared policies (deleting or crypto-shredding what is due).

The Art. 30 register the same declarations compose into is rendered by
:mod:`compliance.register`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from compliance.models import AccessEntry, AccessPersonal
from compliance.recorder import AccessEvent, Actor, record_access
from compliance.register import Declarations

RETENTION_ACTOR = Actor(subject="ozg-commons/retention", role="system")


def shred_expired_entries(session: Session, cutoff: datetime) -> list[str]:
    """Executor for ``compliance.access_entry``: shred the personal part of old entries."""
    ids = list(
        session.scalars(
            select(AccessPersonal.entry_id)
            .join(AccessEntry, AccessEntry.id == AccessPersonal.entry_id)
            .where(AccessEntry.at < cutoff)
        )
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(AccessPersonal).where(AccessPersonal.entry_id.in_(chunk)))
    return ids


def run_retention(
    session: Session, declarations: Declarations, *, clock: Clock = system_clock
) -> dict[str, int | None]:
    """Apply every policy that has an executor; record each deletion. Returns counts per
    record type (``None``: declared, but no executor is registered for it)."""
    now = clock.now()
    done: dict[str, int | None] = {}
    for policy in declarations.retention:
        executor = declarations.executors.get(policy.record_type)
        if executor is None:
            done[policy.record_type] = None
            continue
        ids = executor(session, now - policy.keep_for)
        for record_id in ids:
            record_access(
                session,
                AccessEvent(
                    actor=RETENTION_ACTOR,
                    data_subject=None,
                    action="compliance.retention.delete",
                    resource=f"{policy.record_type}/{record_id}",
                    purpose="storage limitation",
                    legal_basis=policy.legal_basis,
                ),
                clock=clock,
            )
        done[policy.record_type] = len(ids)
    return done
