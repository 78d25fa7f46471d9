"""Errors of the compliance domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import OzgError


class ComplianceError(OzgError):
    """Base of every error the compliance domain raises to an API caller."""

    code = "compliance-error"
