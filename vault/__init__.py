"""End-to-end encrypted documents.

Documents are encrypted on the applicant's device and readable only by the applicant and the
authorities they share them with; the server stores ciphertext only.

Other packages use only what this module exports.
"""

from vault.envelope import Metadata, open, seal
from vault.errors import InvalidEnvelope, VaultError
from vault.processing import ACTIONS, ACTIVITIES, RETENTION
from vault.service import export_personal_data, shred_personal_data

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
