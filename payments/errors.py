"""Errors of the payments domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import Conflict, Forbidden, NotFound, OzgError, Unauthorized
from commons.i18n import N_


class PaymentError(OzgError):
    """Base of every error the payments domain raises to an API caller."""

    code = "payments-error"


class FeeRuleError(PaymentError):
    """The fee rule and case facts do not determine a fee."""

    status = 422
    code = "fee-rule"
    title = N_("The fee cannot be calculated from these facts")


class PaymentNotFound(PaymentError, NotFound):
    status = 404
    code = "payment-not-found"
    title = N_("Payment not found")


class PaymentForbidden(PaymentError, Forbidden):
    status = 403
    code = "payment-forbidden"
    title = N_("Not allowed for this payment")


class IdempotencyConflict(PaymentError, Conflict):
    """The idempotency key was used before with different parameters."""

    status = 409
    code = "idempotency-conflict"
    title = N_("Idempotency key reused with different parameters")


class PaymentConflict(PaymentError, Conflict):
    status = 409
    code = "payment-conflict"
    title = N_("The payment is not in a state that allows this")


class InvalidNotification(PaymentError, Unauthorized):
    """A notification failed verification. One opaque error for every reason (bad
    signature, stale or malformed timestamp, malformed body): callers learn nothing."""

    status = 401
    code = "invalid-notification"
    title = N_("Invalid notification")


class ProviderError(PaymentError):
    """The payment provider refused or failed a request."""

    status = 502
    code = "payment-provider"
    title = N_("The payment provider failed")

    def __init__(self, detail: str | None = None, *, provider_code: str | None = None) -> None:
        super().__init__(detail)
        self.provider_code = provider_code
