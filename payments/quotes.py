"""Fee quotes and waivers: the fee of a case, calculated and stored, and its waiver.

A quote binds the calculated fee to the case reference; a payment always charges the
quote's amount due (the quoted fee, or what a caseworker's waiver leaves of it).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from account import Principal
from commons.i18n import N_
from commons.ids import new_id_str
from payments import fees
from payments.access import audit, record_refusal, require_caseworker_of, visible_to
from payments.errors import PaymentConflict, PaymentNotFound
from payments.models import Payment, Quote, Waiver
from payments.runtime import PaymentsRuntime
from payments.schemas import QuoteRequest
from payments.states import PAID_STATES


def create_quote(
    session: Session, runtime: PaymentsRuntime, principal: Principal, request: QuoteRequest
) -> Quote:
    runtime.require_known(request.authority)
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
    session: Session,
    principal: Principal,
    quote_id: str,
    *,
    for_update: bool = False,
    to_pay: bool = False,
) -> Quote:
    """The quote if ``principal`` may see it (``to_pay``: may start a payment for it, see
    :func:`payments.access.visible_to`), else 404."""
    query = select(Quote).where(Quote.id == quote_id, visible_to(principal, Quote, to_pay=to_pay))
    if for_update:
        query = query.with_for_update()
    quote = session.scalars(query).one_or_none()
    if quote is None:
        record_refusal(session, principal, Quote, quote_id)
        raise PaymentNotFound(N_("no such quote"))
    return quote


def paid_attempt(session: Session, quote: Quote) -> Payment | None:
    """The attempt that paid this quote, if any (at most one books; see the review flags)."""
    return session.scalars(
        select(Payment).where(
            Payment.quote_id == quote.id, Payment.state.in_([s.value for s in PAID_STATES])
        )
    ).first()


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
        raise PaymentConflict(N_("this quote already has a waiver"))
    if kind == "exemption" and amount_due_cents != 0:
        raise PaymentConflict(N_("an exemption leaves nothing to pay (amount_due_cents = 0)"))
    if kind == "reduction" and not 0 < amount_due_cents < quote.quoted_cents:
        raise PaymentConflict(N_("a reduction must leave less than the quoted amount, above 0"))
    if paid_attempt(session, quote) is not None:
        raise PaymentConflict(N_("the fee is already paid; refund instead"))
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
