"""Errors of the cases component; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import Conflict, InvalidInput, NotFound, OzgError, PayloadTooLarge
from commons.i18n import N_


class CaseError(OzgError):
    """Base of every error the cases component raises to an API caller."""

    code = "case-error"


class CaseNotFound(CaseError, NotFound):
    """No such case, or not one the caller may see (the same answer for both)."""

    status = 404
    code = "case-not-found"
    title = N_("Case not found")

    def __init__(self) -> None:
        super().__init__("no such case")


class IllegalTransition(CaseError, Conflict):
    status = 409
    code = "illegal-transition"
    title = N_("Illegal case transition")

    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"a case cannot go from {current} to {target}", state=current, target=target
        )


class CaseConflict(CaseError, Conflict):
    status = 409
    code = "case-conflict"
    title = N_("Case conflict")


class UnknownFlow(CaseError, NotFound):
    status = 404
    code = "unknown-flow"
    title = N_("Unknown flow")

    def __init__(self, flow_id: str, known: list[str]) -> None:
        names = ", ".join(known) or "none"
        super().__init__(
            f"no flow {flow_id!r} is installed; known flows: {names}", known_flows=known
        )


class InvalidSealedContent(CaseError, InvalidInput):
    """The one error for a draft or message body that is not a well-formed vault envelope
    sealed to the applicant's vault key (which check failed is not told)."""

    status = 422
    code = "invalid-sealed-content"
    title = N_("Invalid sealed content")

    def __init__(self) -> None:
        super().__init__(
            "expected a vault envelope (docs/envelope.md) sealed to the applicant's vault key "
            "and no one else"
        )


class SealedContentTooLarge(CaseError, PayloadTooLarge):
    status = 413
    code = "sealed-content-too-large"
    title = N_("Sealed content too large")


class InvalidFeeFacts(CaseError, InvalidInput):
    status = 422
    code = "invalid-fee-facts"
    title = N_("Invalid fee facts")


class DraftNotFound(CaseError, NotFound):
    status = 404
    code = "draft-not-found"
    title = N_("Draft not found")

    def __init__(self) -> None:
        super().__init__("no draft has been saved for this case")


class ReceiptNotFound(CaseError, NotFound):
    status = 404
    code = "receipt-not-found"
    title = N_("Receipt not found")

    def __init__(self) -> None:
        super().__init__("the case has no submission receipt (it was not submitted)")
