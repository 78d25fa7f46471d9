"""Errors of the account domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import OzgError


class AccountError(OzgError):
    """Base of every error the account domain raises to an API caller."""

    code = "account-error"
