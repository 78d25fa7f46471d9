"""Errors of the account domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import OzgError


class AccountError(OzgError):
    """Base of every error the account domain raises to an API caller."""

    code = "account-error"


class AccountNotFound(AccountError):
    status = 404
    code = "account-not-found"
    title = "Account not found"


class ConsentNotFound(AccountError):
    status = 404
    code = "consent-not-found"
    title = "Consent not found"


class MessageNotFound(AccountError):
    status = 404
    code = "message-not-found"
    title = "Message not found"


class RecipientNotFound(AccountError):
    status = 404
    code = "recipient-not-found"
    title = "Recipient has no account"


class AttributeNotEditable(AccountError):
    status = 409
    code = "attribute-not-editable"
    title = "Attribute not editable"


class ErasureNotConfirmed(AccountError):
    status = 422
    code = "erasure-not-confirmed"
    title = "Erasure not confirmed"


class RecentAuthenticationRequired(AccountError):
    """RFC 9470: the authentication is too old for this operation (``max_age``)."""

    status = 401
    code = "insufficient-user-authentication"
    title = "Insufficient user authentication"

    def __init__(self, max_age_seconds: int) -> None:
        super().__init__(
            f"this operation needs an authentication within the last {max_age_seconds} "
            "seconds; authenticate again",
            headers={
                "WWW-Authenticate": (
                    f'Bearer error="insufficient_user_authentication", max_age={max_age_seconds}'
                )
            },
            max_age=max_age_seconds,
        )


class AccountErased(AccountError):
    """The token predates the erasure of its subject's account."""

    status = 401
    code = "account-erased"
    title = "Account erased"

    def __init__(self) -> None:
        super().__init__(
            "this account was erased; authenticate again to start a new one",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            reason="account-erased",
        )
