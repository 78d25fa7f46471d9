"""Fees and payments.

Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance), payment attempts
through provider plug-ins, signed notifications, refunds, reconciliation and receipts.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from payments.fees import CaseFacts, FeeLine, FeeResult, FeeRule, calculate, known_procedures
    from payments.fitconnect import payment_information
    from payments.personal_data import export_personal_data, shred_personal_data
    from payments.providers.base import ENTRY_POINT_GROUP, PaymentProvider
    from payments.runtime import PaymentsRuntime
    from payments.states import PaymentState

__all__ = [
    "ENTRY_POINT_GROUP",
    "CaseFacts",
    "FeeLine",
    "FeeResult",
    "FeeRule",
    "PaymentProvider",
    "PaymentState",
    "PaymentsRuntime",
    "calculate",
    "export_personal_data",
    "known_procedures",
    "payment_information",
    "shred_personal_data",
]
__getattr__ = lazy_face(
    __name__,
    {
        "CaseFacts": "payments.fees",
        "ENTRY_POINT_GROUP": "payments.providers.base",
        "FeeLine": "payments.fees",
        "FeeResult": "payments.fees",
        "FeeRule": "payments.fees",
        "PaymentProvider": "payments.providers.base",
        "PaymentState": "payments.states",
        "PaymentsRuntime": "payments.runtime",
        "calculate": "payments.fees",
        "export_personal_data": "payments.personal_data",
        "known_procedures": "payments.fees",
        "payment_information": "payments.fitconnect",
        "shred_personal_data": "payments.personal_data",
    },
)
