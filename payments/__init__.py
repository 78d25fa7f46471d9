"""Fees and payments.

Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance), payment attempts
through provider plug-ins, signed notifications, refunds, reconciliation and receipts.

Other packages use only what this module exports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from payments.fees import CaseFacts, FeeLine, FeeResult, FeeRule, calculate
    from payments.fitconnect import payment_information
    from payments.personal_data import export_personal_data, shred_personal_data
    from payments.providers.base import ENTRY_POINT_GROUP, PaymentProvider
    from payments.runtime import PaymentsRuntime
    from payments.states import PaymentState

# Loaded on first use, so that importing one submodule does not import the whole package
# (its web and database layers included).
_EXPORTS = {
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
    "payment_information": "payments.fitconnect",
    "shred_personal_data": "payments.personal_data",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
