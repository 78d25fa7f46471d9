"""Errors of the account domain. All but :class:`DevIdpError` reach an API caller, rendered by
the gateway as problem details; the development IdP renders its own as OAuth 2.0 errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.errors import Forbidden, OzgError, ServiceUnavailable, Unauthorized
from commons.i18n import N_, Deferred

if TYPE_CHECKING:
    from account.principal import TrustLevel
    from account.scopes import Scope


class AccountError(OzgError):
    """Base of every error the account domain raises to an API caller."""

    code = "account-error"


class AccountNotFound(AccountError):
    status = 404
    code = "account-not-found"
    title = N_("Account not found")


class ConsentNotFound(AccountError):
    status = 404
    code = "consent-not-found"
    title = N_("Consent not found")


class MessageNotFound(AccountError):
    status = 404
    code = "message-not-found"
    title = N_("Message not found")


class RecipientNotFound(AccountError):
    status = 404
    code = "recipient-not-found"
    title = N_("Recipient has no account")


class AttributeNotEditable(AccountError):
    status = 409
    code = "attribute-not-editable"
    title = N_("Attribute not editable")


class RecentAuthenticationRequired(AccountError):
    """RFC 9470: the authentication is too old for this operation (``max_age``)."""

    status = 401
    code = "insufficient-user-authentication"
    title = N_("Insufficient user authentication")

    def __init__(self, max_age_seconds: int) -> None:
        super().__init__(
            Deferred(
                N_(
                    "this operation needs an authentication within the last {seconds} "
                    "seconds; authenticate again"
                ),
                seconds=max_age_seconds,
            ),
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
    title = N_("Account erased")

    def __init__(self) -> None:
        super().__init__(
            N_("this account was erased; authenticate again to start a new one"),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            reason="account-erased",
        )


# --------------------------------------------------------------------------- tokens and guards
REASONS = {
    "missing": N_("no bearer token was presented"),
    "malformed": N_("the access token is not a well-formed JWT"),
    "algorithm": N_("the access token's signing algorithm is not allowed"),
    "embedded-key": N_("the access token carries its own key, which is never trusted"),
    "unknown-key": N_("the access token is signed with an unknown key"),
    "signature": N_("the access token's signature is invalid"),
    "wrong-issuer": N_("the access token was issued by another issuer"),
    "wrong-audience": N_("the access token is not meant for this service (audience)"),
    "expired": N_("the access token has expired"),
    "lifetime": N_("the access token's lifetime is implausibly long"),
    "not-yet-valid": N_("the access token is not valid yet"),
    "auth-time-in-future": N_("the access token's authentication time lies in the future"),
    "inactive": N_("the access token is not active"),
    "wrong-type": N_("the token is not an access token"),
    "session-expired": N_("the portal session has expired or was ended; sign in again"),
}


class InvalidToken(Unauthorized):
    """The bearer token was refused; ``reason`` is one of :data:`REASONS`."""

    code = "invalid-token"
    title = N_("Invalid access token")

    def __init__(self, reason: str) -> None:
        detail = REASONS[reason]
        challenge = (
            "Bearer"
            if reason == "missing"
            else (f'Bearer error="invalid_token", error_description="{detail}"')
        )
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, reason=reason)
        self.reason = reason


class TokenNotPermitted(Forbidden):
    """A valid token that grants nothing here (no known role, no authority binding)."""

    code = "token-not-permitted"
    title = N_("Token not permitted")

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class InsufficientScope(Forbidden):
    """RFC 6750 §3.1: the token is valid but lacks the scope this operation needs."""

    code = "insufficient-scope"
    title = N_("Insufficient scope")

    def __init__(self, required: Scope) -> None:
        super().__init__(
            Deferred(N_("this operation needs the scope '{scope}'"), scope=required.value),
            headers={
                "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{required.value}"'
            },
            reason="insufficient-scope",
            required_scope=required.value,
        )


class InsufficientUserAuthentication(Unauthorized):
    """RFC 9470: the token is valid but its authentication level is too low."""

    code = "insufficient-user-authentication"
    title = N_("Insufficient user authentication")

    def __init__(self, required: TrustLevel) -> None:
        acr = required.name.lower()
        super().__init__(
            Deferred(
                N_("this operation needs trust level '{acr}' or higher; authenticate again"),
                acr=acr,
            ),
            headers={
                "WWW-Authenticate": (
                    f'Bearer error="insufficient_user_authentication", acr_values="{acr}"'
                )
            },
            required_trust_level=acr,
        )


class CsrfTokenInvalid(Forbidden):
    """A state-changing request authenticated by the portal's session cookie came without
    the session's CSRF token in ``X-CSRF-Token`` (or with a wrong one)."""

    code = "csrf-token-invalid"
    title = N_("CSRF token missing or invalid")

    def __init__(self) -> None:
        super().__init__(
            N_(
                "a request authenticated by the session cookie that changes something needs "
                "the session's CSRF token in the X-CSRF-Token header"
            )
        )


class JournalUnavailable(ServiceUnavailable):
    """The erasure journal (``account/journal.py``) cannot be opened, written or read. An
    erasure that cannot be journaled rolls back and can be retried; a journal that cannot be
    read stops ``serve`` and ``restore``: neither guesses."""

    code = "erasure-journal-unavailable"
    title = N_("Erasure journal unavailable")


# --------------------------------------------------------------------------- development IdP
class DevIdpError(Exception):
    """An OAuth 2.0 error of the development IdP (RFC 6749 §5.2), rendered by its routes as
    ``{"error": ..., "error_description": ...}``; not a problem-details error."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
