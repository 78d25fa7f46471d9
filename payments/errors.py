"""Errors of the payments domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import OzgError


class PaymentError(OzgError):
    """Base of every error the payments domain raises to an API caller."""

    code = "payments-error"
