"""Errors of the vault domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import OzgError


class VaultError(OzgError):
    """Base of every error the vault domain raises to an API caller."""

    code = "vault-error"
