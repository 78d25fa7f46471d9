"""End-to-end encrypted documents.

Documents are encrypted on the applicant's device and readable only by the applicant and the
authorities they share them with; the server stores ciphertext only.

Other packages use only what this module exports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.declarations import ACTIONS, ACTIVITIES, RETENTION
    from vault.envelope import Metadata, open, seal
    from vault.errors import InvalidEnvelope, VaultError
    from vault.personal_data import export_personal_data, shred_personal_data

# Loaded on first use, so that importing one submodule does not import the whole package
# (its web and database layers included).
_EXPORTS = {
    "ACTIONS": "vault.declarations",
    "ACTIVITIES": "vault.declarations",
    "InvalidEnvelope": "vault.errors",
    "Metadata": "vault.envelope",
    "RETENTION": "vault.declarations",
    "VaultError": "vault.errors",
    "export_personal_data": "vault.personal_data",
    "open": "vault.envelope",
    "seal": "vault.envelope",
    "shred_personal_data": "vault.personal_data",
}

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "RETENTION",
    "InvalidEnvelope",
    "Metadata",
    "VaultError",
    "export_personal_data",
    "open",
    "seal",
    "shred_personal_data",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
