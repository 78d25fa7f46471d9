"""Reconciliation for the cash office: the day's bookings as CSV, with totals, and every
disagreement between the provider's status and ours flagged.

The day is a calendar day in the authority's time zone (default Europe/Berlin), because
that is the booking date the cash office (Kasse, HKR system) sees.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from payments.errors import PaymentError
from payments.fees import format_cents
from payments.models import Payment
from payments.runtime import PaymentsRuntime
from payments.states import PAID_STATES, PaymentState

COLUMNS = (
    "kassenzeichen",
    "amount",
    "currency",
    "booking_date",
    "provider_reference",
    "case_reference",
    "our_status",
    "provider_status",
    "mismatch",
)


@dataclass(slots=True)
class Row:
    kassenzeichen: str
    amount_cents: int
    currency: str
    booking_date: str
    provider_reference: str
    case_reference: str
    our_status: str
    provider_status: str
    mismatch: str


@dataclass(slots=True)
class Reconciliation:
    authority: str
    day: date
    rows: list[Row] = field(default_factory=list)

    @property
    def booked_total_cents(self) -> int:
        return sum(r.amount_cents for r in self.rows if r.booking_date)

    @property
    def booked_count(self) -> int:
        return sum(1 for r in self.rows if r.booking_date)

    @property
    def mismatches(self) -> list[Row]:
        return [r for r in self.rows if r.mismatch]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.rows:
            writer.writerow(
                (
                    r.kassenzeichen,
                    format_cents(r.amount_cents),
                    r.currency,
                    r.booking_date,
                    r.provider_reference,
                    r.case_reference,
                    r.our_status,
                    r.provider_status,
                    r.mismatch,
                )
            )
        writer.writerow(
            (
                "TOTAL",
                format_cents(self.booked_total_cents),
                "EUR",
                f"{self.booked_count} bookings",
                "",
                "",
                "",
                "",
                f"{len(self.mismatches)} mismatches",
            )
        )
        return out.getvalue()


def reconcile(
    session: Session,
    runtime: PaymentsRuntime,
    authority: str,
    day: date,
    *,
    check_provider: bool = True,
    timezone: str = "Europe/Berlin",
) -> Reconciliation:
    runtime.require_known(authority)
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    payments = session.scalars(
        select(Payment)
        .where(
            Payment.authority == authority,
            or_(
                (Payment.booked_at >= start) & (Payment.booked_at < end),
                (Payment.created_at >= start) & (Payment.created_at < end),
            ),
        )
        .order_by(Payment.booked_at, Payment.kassenzeichen)
    ).all()
    result = Reconciliation(authority=authority, day=day)
    for payment in payments:
        state = PaymentState(payment.state)
        booked_today = payment.booked_at is not None and start <= payment.booked_at < end
        provider_status = ""
        mismatch: list[str] = []
        if check_provider and payment.provider_reference:
            try:
                provider = runtime.provider_named(payment.provider, authority, session)
                provider_status = provider.query_status(payment.provider_reference).status
            except PaymentError:
                provider_status = "UNREACHABLE"
                mismatch.append("provider status unavailable")
        if provider_status == "BOOKED" and state not in PAID_STATES:
            mismatch.append(f"provider BOOKED, ours {state.value}")
        elif provider_status in ("FAILED", "CANCELED", "INITIAL") and state in PAID_STATES:
            mismatch.append(f"provider {provider_status}, ours {state.value}")
        if payment.needs_review:
            mismatch.append(f"review: {payment.review_reason or 'flagged'}")
        if not booked_today and not mismatch:
            continue  # created today, not booked, nothing wrong: not a booking of the day
        result.rows.append(
            Row(
                kassenzeichen=payment.kassenzeichen,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                booking_date=payment.booked_at.astimezone(zone).date().isoformat()
                if booked_today and payment.booked_at
                else "",
                provider_reference=payment.provider_reference or "",
                case_reference=payment.case_reference or "",
                our_status=state.value,
                provider_status=provider_status,
                mismatch="; ".join(mismatch),
            )
        )
    return result
