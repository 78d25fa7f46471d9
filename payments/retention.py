"""Retention executors of the payments domain (run by ``ozg-commons retention run``).

Each deletes the records of one declared type that are older than the cutoff and returns
their ids; the compliance domain records every deletion in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from payments.models import IdempotencyKey, Notification, Payment, Refund, Transition
from payments.states import FINAL_UNPAID, PAID_STATES

_CHUNK = 500


def _delete_payments(session: Session, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(Transition).where(Transition.payment_id.in_(chunk)))
        session.execute(delete(Refund).where(Refund.payment_id.in_(chunk)))
        session.execute(delete(Payment).where(Payment.id.in_(chunk)))


def delete_expired_bookings(session: Session, cutoff: datetime) -> list[str]:
    """``payments.booking``: booked payments (refunded or not) booked before the cutoff, with
    their state history and refunds."""
    ids = list(
        session.scalars(
            select(Payment.id).where(
                Payment.state.in_([s.value for s in PAID_STATES]), Payment.booked_at < cutoff
            )
        )
    )
    _delete_payments(session, ids)
    return ids


def delete_unbooked_attempts(session: Session, cutoff: datetime) -> list[str]:
    """``payments.unbooked_attempt``: failed or canceled attempts last changed before the
    cutoff (no money moved, so no accounting duty keeps them)."""
    ids = list(
        session.scalars(
            select(Payment.id).where(
                Payment.state.in_([s.value for s in FINAL_UNPAID]), Payment.updated_at < cutoff
            )
        )
    )
    _delete_payments(session, ids)
    return ids


def delete_idempotency_keys(session: Session, cutoff: datetime) -> list[str]:
    """``payments.idempotency_key``: stored request keys older than the cutoff."""
    ids = list(session.scalars(select(IdempotencyKey.id).where(IdempotencyKey.created_at < cutoff)))
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids[start : start + _CHUNK]))
        )
    return ids


def delete_notifications(session: Session, cutoff: datetime) -> list[str]:
    """``payments.notification``: replay-detection records received before the cutoff."""
    ids = list(session.scalars(select(Notification.id).where(Notification.received_at < cutoff)))
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(Notification).where(Notification.id.in_(ids[start : start + _CHUNK]))
        )
    return ids
