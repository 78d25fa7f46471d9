"""GDPR export (Art. 15/20) and erasure (Art. 17) of payment data.

Erasure keeps what the cash office must keep by law, and nothing else: for a booked payment
the Kassenzeichen, amount, currency, booking date and provider reference stay (unlinked from
the applicant and the case) until ``retain_until``; the fee facts, the case link and every
unbooked attempt go.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.components import RetainedRecord, ShredReport
from payments.declarations import BOOKING_RETENTION, BOOKING_RETENTION_BASIS
from payments.idempotency import forget_keys_of
from payments.models import Payment, Quote, Refund, Transition, Waiver
from payments.runtime import PaymentsRuntime
from payments.states import PAID_STATES, PaymentState


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    quotes = session.scalars(select(Quote).where(Quote.data_subject == subject)).all()
    payments = session.scalars(select(Payment).where(Payment.data_subject == subject)).all()
    out_quotes = []
    for quote in quotes:
        waiver = session.scalars(select(Waiver).where(Waiver.quote_id == quote.id)).first()
        out_quotes.append(
            {
                "id": quote.id,
                "authority": quote.authority,
                "case_reference": quote.case_reference,
                "quoted_cents": quote.quoted_cents,
                "currency": quote.currency,
                "catalogue_version": quote.catalogue_version,
                "explanation": quote.explanation,
                "created_at": quote.created_at.isoformat(),
                "waiver": None
                if waiver is None
                else {
                    "kind": waiver.kind,
                    "amount_due_cents": waiver.amount_due_cents,
                    "legal_basis": waiver.legal_basis,
                    "reason": waiver.reason,
                    "granted_at": waiver.granted_at.isoformat(),
                },
            }
        )
    out_payments = []
    for payment in payments:
        refunds = session.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
        out_payments.append(
            {
                "id": payment.id,
                "quote_id": payment.quote_id,
                "kassenzeichen": payment.kassenzeichen,
                "amount_cents": payment.amount_cents,
                "refunded_cents": payment.refunded_cents,
                "currency": payment.currency,
                "state": payment.state,
                "provider": payment.provider,
                "created_at": payment.created_at.isoformat(),
                "booked_at": payment.booked_at.isoformat() if payment.booked_at else None,
                "refunds": [
                    {"amount_cents": r.amount_cents, "state": r.state, "origin": r.origin}
                    for r in refunds
                ],
            }
        )
    return {"quotes": out_quotes, "payments": out_payments}


def shred_personal_data(session: Session, subject: str, runtime: PaymentsRuntime) -> ShredReport:
    report = ShredReport(component="payments")
    now = runtime.clock.now()
    payments = session.scalars(select(Payment).where(Payment.data_subject == subject)).all()
    quote_ids = {p.quote_id for p in payments}
    quote_ids.update(session.scalars(select(Quote.id).where(Quote.data_subject == subject)).all())
    for payment in payments:
        if payment.provider_reference:
            try:
                runtime.provider_named(payment.provider, payment.authority, session).shred(
                    payment.provider_reference
                )
            except Exception:
                report.retained.append(
                    RetainedRecord(
                        "payments.provider-copy",
                        payment.id,
                        "the provider could not be reached; shredding is retried",
                        now,
                    )
                )
        if PaymentState(payment.state) in PAID_STATES:
            payment.data_subject = None
            payment.case_reference = None
            payment.case_hash = None
            payment.return_url = None
            payment.payment_url = None
            payment.created_by = "shredded"
            payment.shredded_at = now
            for refund in session.scalars(
                select(Refund).where(Refund.payment_id == payment.id)
            ).all():
                refund.reason = None
                refund.requested_by = None
            retain_until = payment.retain_until or ((payment.booked_at or now) + BOOKING_RETENTION)
            report.retained.append(
                RetainedRecord(
                    "payments.booking", payment.id, BOOKING_RETENTION_BASIS, retain_until
                )
            )
            report.shredded += 1
        else:
            session.execute(delete(Transition).where(Transition.payment_id == payment.id))
            session.execute(delete(Refund).where(Refund.payment_id == payment.id))
            session.delete(payment)
            report.deleted += 1
    session.flush()
    report.deleted += forget_keys_of(session, subject, [p.id for p in payments])
    for quote_id in quote_ids:
        quote = session.get(Quote, quote_id)
        if quote is None:
            continue
        remaining = session.scalars(select(Payment.id).where(Payment.quote_id == quote.id)).first()
        if remaining is None:
            session.execute(delete(Waiver).where(Waiver.quote_id == quote.id))
            session.delete(quote)
            report.deleted += 1
        else:
            quote.data_subject = None
            quote.created_by = "shredded"
            quote.case_reference = None
            quote.case_hash = None
            quote.explanation = None
            for waiver in session.scalars(select(Waiver).where(Waiver.quote_id == quote.id)):
                waiver.reason = None
            report.shredded += 1
    session.flush()
    return report
