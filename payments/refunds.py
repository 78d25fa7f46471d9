"""Refunds: by caseworkers of the owning authority, idempotent, never above what was paid;
refunds reported by the provider wait for a person's decision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from account import Principal
from commons.i18n import N_
from commons.ids import new_id_str
from payments.access import audit, require_caseworker_of
from payments.errors import PaymentConflict, PaymentNotFound
from payments.idempotency import (
    check_idempotency_key,
    key_digest,
    refund_scope,
    remember_result,
    replayed_result,
)
from payments.models import Payment, Refund
from payments.runtime import PaymentsRuntime
from payments.service import transition, visible_payment
from payments.states import PaymentState


def refunds_of(session: Session, payment: Payment) -> list[Refund]:
    return list(
        session.scalars(
            select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)
        ).all()
    )


def _refundable(payment: Payment) -> int:
    return payment.amount_cents - payment.refunded_cents


def _apply_refund_amount(
    session: Session, runtime: PaymentsRuntime, payment: Payment, amount_cents: int, cause: str
) -> None:
    payment.refunded_cents += amount_cents
    target = (
        PaymentState.REFUNDED
        if payment.refunded_cents == payment.amount_cents
        else PaymentState.PARTIALLY_REFUNDED
    )
    transition(session, runtime, payment, target, cause)


def refund_payment(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    payment_id: str,
    *,
    amount_cents: int,
    reason: str | None,
    idempotency_key: str,
) -> Refund:
    check_idempotency_key(idempotency_key)
    payment = visible_payment(
        session, runtime, principal, payment_id, for_update=True, audit_action=None
    )
    require_caseworker_of(principal, payment.authority)
    scope = refund_scope(payment.id)
    params = {"amount_cents": amount_cents, "reason": reason}
    previous = replayed_result(session, runtime, scope, idempotency_key, params)
    if previous is not None:
        found = session.get(Refund, previous)
        if found is None:
            raise PaymentNotFound()
        return found
    if PaymentState(payment.state) not in (PaymentState.BOOKED, PaymentState.PARTIALLY_REFUNDED):
        raise PaymentConflict(N_("only a booked payment can be refunded"))
    if not 0 < amount_cents <= _refundable(payment):
        raise PaymentConflict(N_("the refund exceeds what is left of the amount paid"))
    if payment.provider_reference is None:  # pragma: no cover - booked implies a reference
        raise PaymentConflict(N_("the payment has no provider reference"))
    provider = runtime.provider_named(payment.provider, payment.authority, session)
    # The provider gets the keyed hash too: it may store it (the sandbox does).
    result = provider.refund(
        payment.provider_reference, amount_cents, key_digest(runtime, idempotency_key)
    )
    refund = Refund(
        id=new_id_str(runtime.clock),
        payment_id=payment.id,
        amount_cents=amount_cents,
        currency=payment.currency,
        origin="caseworker",
        state=result.status,
        provider_reference=result.provider_reference,
        requested_by=principal.subject,
        reason=reason,
        created_at=runtime.clock.now(),
    )
    session.add(refund)
    _apply_refund_amount(session, runtime, payment, amount_cents, "refund")
    remember_result(session, runtime, scope, idempotency_key, params, refund.id)
    audit(
        session,
        runtime,
        principal,
        "payments.refund.create",
        payment.data_subject,
        f"payments/payment/{payment.id}",
        "refund a fee",
    )
    return refund


def decide_provider_refund(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    payment_id: str,
    refund_id: str,
    *,
    accept: bool,
) -> Refund:
    payment = visible_payment(
        session, runtime, principal, payment_id, for_update=True, audit_action=None
    )
    require_caseworker_of(principal, payment.authority)
    refund = session.get(Refund, refund_id)
    if refund is None or refund.payment_id != payment.id:
        raise PaymentNotFound(N_("no such refund"))
    if refund.state != "needs_review":
        raise PaymentConflict(N_("this refund was already decided"))
    if accept:
        if PaymentState(payment.state) not in (
            PaymentState.BOOKED,
            PaymentState.PARTIALLY_REFUNDED,
        ) or not 0 < refund.amount_cents <= _refundable(payment):
            raise PaymentConflict(N_("the refund exceeds what is left of the amount paid"))
        _apply_refund_amount(session, runtime, payment, refund.amount_cents, "provider-refund")
        refund.state = "accepted"
    else:
        refund.state = "rejected"
    refund.decided_by = principal.subject
    refund.decided_at = runtime.clock.now()
    session.flush()
    still_open = session.scalars(
        select(Refund).where(Refund.payment_id == payment.id, Refund.state == "needs_review")
    ).first()
    if still_open is None and payment.review_reason and "refund" in payment.review_reason:
        payment.needs_review = False
        payment.review_reason = None
    audit(
        session,
        runtime,
        principal,
        "payments.refund.decide",
        payment.data_subject,
        f"payments/payment/{payment.id}",
        "decide on a refund reported by the payment provider",
    )
    return refund
