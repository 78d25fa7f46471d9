"""Errors of the compliance domain.

Two kinds. :class:`ComplianceError` and its subclasses reach an API caller; the gateway
renders them as problem details. The others are the verification errors of the log's pure
parts (Merkle proofs, signed notes, the independent verifier): each security check fails
closed with one opaque error of its own, never ``False`` and never which step failed.
"""

from __future__ import annotations

from commons.errors import OzgError
from commons.i18n import N_


class ComplianceError(OzgError):
    """Base of every error the compliance domain raises to an API caller."""

    code = "compliance-error"


class ProofRangeError(ComplianceError):
    """An inclusion or consistency proof was asked for sizes the log does not have."""

    status = 422
    code = "audit-proof-range"
    title = N_("No such proof")


class InvalidProof(Exception):
    """A proof, root or range is wrong. Deliberately says nothing about which check failed."""

    def __init__(self) -> None:
        super().__init__("invalid Merkle proof")


class InvalidNote(Exception):
    """A note, checkpoint, key or signature is malformed or does not verify."""

    def __init__(self) -> None:
        super().__init__("invalid signed note or checkpoint")


class VerificationFailed(Exception):
    """The log (or export) failed a check; the message names the first failure.

    Unlike the two above it is the verifier's report to the operator running
    ``ozg-commons audit verify``, not to a caller that could probe with it.
    """
