"""FIT-Connect's ``paymentInformation`` block (submission metadata schema 1.0.0).

``grossAmount`` is a JSON number in euros; it is written from integer cents as exact
decimal text (see :mod:`payments.money`), never through a float.
"""

from __future__ import annotations

from typing import Any, Literal

from payments import money
from payments.models import Payment
from payments.states import PaymentState

FitConnectStatus = Literal["INITIAL", "BOOKED", "FAILED", "CANCELED"]

_STATUS: dict[PaymentState, FitConnectStatus] = {
    PaymentState.INITIAL: "INITIAL",
    PaymentState.PENDING: "INITIAL",
    PaymentState.BOOKED: "BOOKED",
    PaymentState.PARTIALLY_REFUNDED: "BOOKED",
    PaymentState.REFUNDED: "BOOKED",
    PaymentState.FAILED: "FAILED",
    PaymentState.CANCELED: "CANCELED",
}


def payment_information(payment: Payment) -> dict[str, Any]:
    """The block, with ``grossAmount`` as :class:`payments.money.Euros`."""
    # transactionTimestamp is, in the schema, the time the payment succeeded: the booking
    # time. A payment not (yet) booked has none, so it carries the time of its last change.
    at = payment.booked_at or payment.updated_at
    return {
        "transactionId": payment.provider_reference or payment.id,
        "transactionReference": payment.kassenzeichen,
        "transactionTimestamp": at.isoformat().replace("+00:00", "Z"),
        "paymentMethod": _method(payment.payment_method),
        "status": _STATUS[PaymentState(payment.state)],
        "grossAmount": money.Euros(payment.amount_cents),
    }


def _method(method: str | None) -> str:
    # The schema's paymentMethod enum is GIROPAY, PAYDIRECT, CREDITCARD, PAYPAL, INVOICE and
    # OTHER. The field is required in the block although the schema fills it only for a
    # successful payment: a payment without a reported method, or with one outside the enum
    # (the sandbox's "sandbox-card"), is OTHER.
    known = {"GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "INVOICE", "OTHER"}
    value = (method or "OTHER").upper()
    return value if value in known else "OTHER"


def dumps(payment: Payment) -> str:
    return money.dumps(payment_information(payment))
