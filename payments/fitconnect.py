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
    # FIT-Connect names a few methods (CREDITCARD, PAYPAL, INVOICE, GIROPAY, OTHER);
    # anything a provider reports that we cannot map is OTHER.
    known = {"CREDITCARD", "PAYPAL", "INVOICE", "GIROPAY", "PAYDIRECT", "OTHER"}
    value = (method or "OTHER").upper()
    return value if value in known else "OTHER"


def dumps(payment: Payment) -> str:
    return money.dumps(payment_information(payment))
