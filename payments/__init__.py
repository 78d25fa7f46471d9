"""Fees and payments.

Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance), payment attempts
through provider plug-ins, signed notifications, refunds, reconciliation and receipts.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from payments.api import quote_out
    from payments.errors import PaymentNotFound
    from payments.fees import (
        CaseFacts,
        FeeLine,
        FeeResult,
        FeeRule,
        calculate,
        format_cents,
        known_procedures,
    )
    from payments.fitconnect import payment_information
    from payments.models import Quote
    from payments.personal_data import export_personal_data, shred_personal_data
    from payments.providers.base import ENTRY_POINT_GROUP, PaymentProvider
    from payments.quotes import amount_due, create_quote, grant_waiver, visible_quote
    from payments.refunds import refund_payment
    from payments.runtime import PaymentsRuntime
    from payments.schemas import CaseFactsIn, QuoteOut, QuoteRequest
    from payments.service import visible_payment
    from payments.states import PaymentState

__all__ = [
    "ENTRY_POINT_GROUP",
    "CaseFacts",
    "CaseFactsIn",
    "FeeLine",
    "FeeResult",
    "FeeRule",
    "PaymentNotFound",
    "PaymentProvider",
    "PaymentState",
    "PaymentsRuntime",
    "Quote",
    "QuoteOut",
    "QuoteRequest",
    "amount_due",
    "calculate",
    "create_quote",
    "export_personal_data",
    "format_cents",
    "grant_waiver",
    "known_procedures",
    "payment_information",
    "quote_out",
    "refund_payment",
    "shred_personal_data",
    "visible_payment",
    "visible_quote",
]
__getattr__ = lazy_face(
    __name__,
    {
        "CaseFacts": "payments.fees",
        "CaseFactsIn": "payments.schemas",
        "ENTRY_POINT_GROUP": "payments.providers.base",
        "FeeLine": "payments.fees",
        "FeeResult": "payments.fees",
        "FeeRule": "payments.fees",
        "PaymentNotFound": "payments.errors",
        "PaymentProvider": "payments.providers.base",
        "PaymentState": "payments.states",
        "PaymentsRuntime": "payments.runtime",
        "Quote": "payments.models",
        "QuoteOut": "payments.schemas",
        "QuoteRequest": "payments.schemas",
        "amount_due": "payments.quotes",
        "calculate": "payments.fees",
        "create_quote": "payments.quotes",
        "export_personal_data": "payments.personal_data",
        "grant_waiver": "payments.quotes",
        "known_procedures": "payments.fees",
        "payment_information": "payments.fitconnect",
        "quote_out": "payments.api",
        "refund_payment": "payments.refunds",
        "shred_personal_data": "payments.personal_data",
        "visible_payment": "payments.service",
        "visible_quote": "payments.quotes",
        "format_cents": "payments.fees",
    },
)
