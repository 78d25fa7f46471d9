"""Domain logic of payments: quotes, waivers, payment attempts and their state machine.

No HTTP here and no commit: the caller's unit of work decides. Every query that returns
payment data is scoped to the principal asking (:func:`visible_payment`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.ids import new_id_str
from compliance import AccessEvent, record_access
from payments import fees
from payments.declarations import BOOKING_RETENTION, FEE_BASIS
from payments.errors import (
    IdempotencyConflict,
    PaymentConflict,
    PaymentForbidden,
    PaymentNotFound,
    ProviderError,
)
from payments.models import Payment, Quote, Transition, Waiver
from payments.providers.base import BookingItem, PaymentRequest, ProviderStatusCode
from payments.references import new_kassenzeichen, purpose_for
from payments.runtime import PaymentsRuntime
from payments.schemas import QuoteRequest
from payments.states import FINAL_UNPAID, PAID_STATES, PaymentState, can_transition

log = logging.getLogger("ozg.payments")

DESCRIPTION = "Verwaltungsgebuehr"
"""What the payment page shows: generic on purpose (no permit type, no name)."""


# --------------------------------------------------------------------------- helpers
def audit(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    action: str,
    subject: str | None,
    resource: str,
    purpose: str,
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=subject,
            action=action,
            resource=resource,
            purpose=purpose,
            legal_basis=FEE_BASIS,
        ),
        clock=runtime.clock,
    )


def _params_hash(params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise PaymentConflict("Idempotency-Key must be 1-255 printable ASCII characters")


def replayed_result(
    session: Session, scope: str, key: str, params: Mapping[str, Any]
) -> str | None:
    from payments.models import IdempotencyKey

    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).one_or_none()
    if row is None:
        return None
    if row.params_hash != _params_hash(params):
        raise IdempotencyConflict()
    return row.result_id


def remember_result(
    session: Session,
    runtime: PaymentsRuntime,
    scope: str,
    key: str,
    params: Mapping[str, Any],
    result_id: str,
) -> None:
    from payments.models import IdempotencyKey

    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    id=new_id_str(runtime.clock),
                    scope=scope,
                    key=key,
                    params_hash=_params_hash(params),
                    result_id=result_id,
                    created_at=runtime.clock.now(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won; this one must not also take effect.
        raise IdempotencyConflict("a request with this idempotency key is in progress") from None


# --------------------------------------------------------------------------- quotes
def create_quote(
    session: Session, runtime: PaymentsRuntime, principal: Principal, request: QuoteRequest
) -> Quote:
    facts_in = request.facts.model_dump()
    decision_date: date = facts_in.pop("decision_date") or runtime.clock.now().date()
    result = fees.calculate(
        fees.FeeRule(**request.fee_rule.model_dump()),
        fees.CaseFacts(decision_date=decision_date, **facts_in),
    )
    quote = Quote(
        id=new_id_str(runtime.clock),
        authority=request.authority,
        case_reference=request.case_reference,
        case_hash=request.case_hash,
        data_subject=request.data_subject,
        catalogue_version=result.catalogue_version,
        quoted_cents=result.total_cents,
        currency=result.currency,
        explanation={
            "lines": [asdict(line) for line in result.lines],
            "applied": list(result.applied),
            "decision_date": decision_date.isoformat(),
        },
        created_by=principal.subject,
        created_at=runtime.clock.now(),
    )
    session.add(quote)
    session.flush()
    audit(
        session,
        runtime,
        principal,
        "payments.quote.create",
        quote.data_subject,
        f"payments/quote/{quote.id}",
        "calculate the fee for an application",
    )
    return quote


def waiver_of(session: Session, quote: Quote) -> Waiver | None:
    return session.scalars(select(Waiver).where(Waiver.quote_id == quote.id)).one_or_none()


def amount_due(session: Session, quote: Quote) -> int:
    waiver = waiver_of(session, quote)
    return quote.quoted_cents if waiver is None else waiver.amount_due_cents


def visible_quote(
    session: Session, principal: Principal, quote_id: str, *, for_update: bool = False
) -> Quote:
    query = select(Quote).where(Quote.id == quote_id, _visible(principal, Quote))
    if for_update:
        query = query.with_for_update()
    quote = session.scalars(query).one_or_none()
    if quote is None:
        raise PaymentNotFound("no such quote")
    return quote


def grant_waiver(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    quote_id: str,
    *,
    kind: str,
    amount_due_cents: int,
    legal_basis: str,
    reason: str | None,
) -> Waiver:
    quote = visible_quote(session, principal, quote_id)
    require_caseworker_of(principal, quote.authority)
    if waiver_of(session, quote) is not None:
        raise PaymentConflict("this quote already has a waiver")
    if kind == "exemption" and amount_due_cents != 0:
        raise PaymentConflict("an exemption leaves nothing to pay (amount_due_cents = 0)")
    if kind == "reduction" and not 0 < amount_due_cents < quote.quoted_cents:
        raise PaymentConflict("a reduction must leave less than the quoted amount, above 0")
    if _paid_attempt(session, quote) is not None:
        raise PaymentConflict("the fee is already paid; refund instead")
    waiver = Waiver(
        id=new_id_str(runtime.clock),
        quote_id=quote.id,
        kind=kind,
        amount_due_cents=amount_due_cents,
        legal_basis=legal_basis,
        reason=reason,
        granted_by=principal.subject,
        granted_at=runtime.clock.now(),
    )
    session.add(waiver)
    session.flush()
    audit(
        session,
        runtime,
        principal,
        "payments.waiver.create",
        quote.data_subject,
        f"payments/quote/{quote.id}",
        "waive or reduce a fee",
    )
    return waiver


# --------------------------------------------------------------------------- access
def _visible(principal: Principal, model: type[Quote] | type[Payment]) -> ColumnElement[bool]:
    """The one place that decides which quotes and payments a principal may see, as a
    query condition: caseworkers their authority's, flow clients those they created,
    applicants those about themselves."""
    conditions: list[ColumnElement[bool]] = []
    if principal.has(Role.CASEWORKER) and principal.authority is not None:
        conditions.append(model.authority == principal.authority)
    if principal.has(Role.FLOW):
        conditions.append(model.created_by == principal.subject)
    if principal.has(Role.APPLICANT):
        conditions.append(model.data_subject == principal.subject)
    return or_(false(), *conditions)


def require_caseworker_of(principal: Principal, authority: str) -> None:
    if not (principal.has(Role.CASEWORKER) and principal.authority == authority):
        raise PaymentForbidden("only caseworkers of the owning authority may do this")


def visible_payment(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    payment_id: str,
    *,
    for_update: bool = False,
    audit_action: str | None = "payments.payment.read",
) -> Payment:
    query = select(Payment).where(Payment.id == payment_id, _visible(principal, Payment))
    if for_update:
        query = query.with_for_update()
    payment = session.scalars(query).one_or_none()
    if payment is None:
        raise PaymentNotFound()
    if audit_action is not None:
        audit(
            session,
            runtime,
            principal,
            audit_action,
            payment.data_subject,
            f"payments/payment/{payment.id}",
            "handle the payment of a fee",
        )
    return payment


def payments_for_review(
    session: Session, runtime: PaymentsRuntime, principal: Principal
) -> list[Payment]:
    """The flagged payments of the caseworker's authority; each read is audited."""
    if not principal.has(Role.CASEWORKER) or principal.authority is None:
        raise PaymentForbidden("only caseworkers see the review list")
    found = list(
        session.scalars(
            select(Payment)
            .where(Payment.authority == principal.authority, Payment.needs_review.is_(True))
            .order_by(Payment.updated_at)
            .limit(500)
        ).all()
    )
    for payment in found:
        audit(
            session,
            runtime,
            principal,
            "payments.payment.read",
            payment.data_subject,
            f"payments/payment/{payment.id}",
            "decide on a payment flagged for review",
        )
    return found


# --------------------------------------------------------------------------- payments
def create_payment(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    *,
    quote_id: str,
    return_url: str,
    idempotency_key: str,
) -> Payment:
    check_idempotency_key(idempotency_key)
    scope = f"payment.create:{principal.subject}"
    params = {"quote_id": quote_id, "return_url": return_url}
    previous = replayed_result(session, scope, idempotency_key, params)
    if previous is not None:
        found = session.get(Payment, previous)
        if found is None:
            raise PaymentNotFound()
        return found

    quote = visible_quote(session, principal, quote_id, for_update=True)
    # Concurrent requests for one quote queue on its row lock; the later one then finds the
    # key the earlier one stored and returns the same payment.
    previous = replayed_result(session, scope, idempotency_key, params)
    if previous is not None:
        found = session.get(Payment, previous)
        if found is None:
            raise PaymentNotFound()
        return found
    due = amount_due(session, quote)
    if due == 0:
        raise PaymentConflict("nothing to pay: the fee is waived or zero")
    if _paid_attempt(session, quote) is not None:
        raise PaymentConflict("this quote is already paid")

    config = runtime.config_for(quote.authority)
    provider = runtime.build(config, session)
    now = runtime.clock.now()
    kassenzeichen = new_kassenzeichen()
    payment = Payment(
        id=new_id_str(runtime.clock),
        quote_id=quote.id,
        authority=quote.authority,
        data_subject=quote.data_subject,
        created_by=principal.subject,
        case_reference=quote.case_reference,
        case_hash=quote.case_hash,
        provider=config.provider,
        kassenzeichen=kassenzeichen,
        purpose=purpose_for(kassenzeichen),
        amount_cents=due,
        refunded_cents=0,
        currency=quote.currency,
        state=PaymentState.INITIAL.value,
        return_url=return_url,
        created_at=now,
        updated_at=now,
        needs_review=False,
    )
    session.add(payment)
    session.flush()
    base = runtime.settings.public_base_url.rstrip("/")
    request = PaymentRequest(
        request_id=payment.id,
        kassenzeichen=kassenzeichen,
        amount_cents=due,
        currency=payment.currency,
        purpose=payment.purpose,
        description=DESCRIPTION,
        redirect_url=f"{base}/v1/payments/{payment.id}/return",
        notification_url=f"{base}/v1/payments/notifications/{config.provider}/{quote.authority}",
        items=(
            BookingItem(
                id="1",
                description=DESCRIPTION,
                amount_cents=due,
                booking_data={**config.booking_data, "kassenzeichen": kassenzeichen},
            ),
        ),
    )
    try:
        created = provider.create_payment(request)
    except ProviderError as exc:
        payment.failure_code = (exc.provider_code or "PROVIDER_ERROR")[:64]
        transition(session, runtime, payment, PaymentState.FAILED, "create")
    else:
        payment.provider_reference = created.provider_reference
        payment.payment_url = created.payment_url
        transition(session, runtime, payment, PaymentState.PENDING, "create")
        apply_status(session, runtime, payment, created.status, "create")
    remember_result(session, runtime, scope, idempotency_key, params, payment.id)
    audit(
        session,
        runtime,
        principal,
        "payments.payment.create",
        payment.data_subject,
        f"payments/payment/{payment.id}",
        "collect the fee for an application",
    )
    return payment


def transition(
    session: Session,
    runtime: PaymentsRuntime,
    payment: Payment,
    target: PaymentState,
    cause: str,
) -> None:
    current = PaymentState(payment.state)
    if not can_transition(current, target):
        raise PaymentConflict(f"a payment cannot go from {current.value} to {target.value}")
    now = runtime.clock.now()
    seq = session.scalar(
        select(func.count()).select_from(Transition).where(Transition.payment_id == payment.id)
    )
    payment.state = target.value
    payment.updated_at = now
    session.add(
        Transition(
            id=new_id_str(runtime.clock),
            payment_id=payment.id,
            seq=(seq or 0) + 1,
            from_state=current.value,
            to_state=target.value,
            cause=cause,
            at=now,
        )
    )
    session.flush()


def flag_for_review(payment: Payment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:255]
    log.warning("payment flagged for review", extra={"payment_id": payment.id, "reason": reason})


_TARGET: dict[ProviderStatusCode, PaymentState] = {
    "INITIAL": PaymentState.PENDING,
    "BOOKED": PaymentState.BOOKED,
    "FAILED": PaymentState.FAILED,
    "CANCELED": PaymentState.CANCELED,
}


def apply_status(
    session: Session,
    runtime: PaymentsRuntime,
    payment: Payment,
    status: ProviderStatusCode,
    cause: str,
    payment_method: str | None = None,
) -> bool:
    """Move ``payment`` to what the provider reports, if that is a legal step.

    Duplicates and out-of-order reports change nothing. A booking reported for a payment we
    consider failed or canceled, or a second booked attempt for the same quote, is never
    silently accepted or dropped: it is flagged for a person (money may have to go back).
    Returns whether the state changed.
    """
    current = PaymentState(payment.state)
    target = _TARGET[status]
    if target == current or (target == PaymentState.BOOKED and current in PAID_STATES):
        return False
    if not can_transition(current, target):
        if target == PaymentState.BOOKED and current in FINAL_UNPAID:
            flag_for_review(payment, f"provider reports BOOKED for a {current.value} payment")
        return False
    if target == PaymentState.BOOKED:
        other = session.scalars(
            select(Payment).where(
                Payment.quote_id == payment.quote_id,
                Payment.id != payment.id,
                Payment.state.in_([s.value for s in PAID_STATES]),
            )
        ).first()
        if other is not None:
            flag_for_review(payment, "another attempt for the same quote is already booked")
        now = runtime.clock.now()
        payment.booked_at = now
        payment.retain_until = now + BOOKING_RETENTION
        if payment_method:
            payment.payment_method = payment_method[:64]
    transition(session, runtime, payment, target, cause)
    return True


def refresh_status(session: Session, runtime: PaymentsRuntime, payment: Payment) -> bool:
    """Ask the provider, server to server, and apply its answer."""
    if payment.provider_reference is None:
        return False
    provider = runtime.provider_named(payment.provider, payment.authority, session)
    status = provider.query_status(payment.provider_reference)
    return apply_status(session, runtime, payment, status.status, "query", status.payment_method)


def payment_for_return(session: Session, payment_id: str) -> Payment:
    """The payment a browser comes back for; the redirect itself proves nothing."""
    payment = session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment


def _paid_attempt(session: Session, quote: Quote) -> Payment | None:
    """The attempt that paid this quote, if any (at most one books; see the review flags)."""
    return session.scalars(
        select(Payment).where(
            Payment.quote_id == quote.id, Payment.state.in_([s.value for s in PAID_STATES])
        )
    ).first()
