"""Fees and payments.

Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance), payment attempts
through provider plug-ins, signed notifications, refunds, reconciliation and receipts.

Other packages use only what this module exports.
"""

from payments.fees import CaseFacts, FeeLine, FeeResult, FeeRule, calculate
from payments.fitconnect import payment_information
from payments.privacy import export_personal_data, shred_personal_data
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
    "payment_information",
    "shred_personal_data",
]
