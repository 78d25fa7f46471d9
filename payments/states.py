"""The payment state machine: an explicit table of legal transitions.

``initial -> pending -> booked | failed | canceled``; a booked payment may then become
``partially_refunded`` or ``refunded``. Anything else is refused, so duplicate, late or
out-of-order notifications cannot move a payment backwards.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    INITIAL = "initial"
    PENDING = "pending"
    BOOKED = "booked"
    FAILED = "failed"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = PaymentState

TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    S.INITIAL: frozenset({S.PENDING, S.BOOKED, S.FAILED, S.CANCELED}),
    S.PENDING: frozenset({S.BOOKED, S.FAILED, S.CANCELED}),
    S.BOOKED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
    S.REFUNDED: frozenset(),
}

PAID_STATES = frozenset({S.BOOKED, S.PARTIALLY_REFUNDED, S.REFUNDED})
"""States in which the money was received (refunds do not undo the booking)."""

FINAL_UNPAID = frozenset({S.FAILED, S.CANCELED})


def can_transition(current: PaymentState, target: PaymentState) -> bool:
    return target in TRANSITIONS[current]
