"""What each domain and flow declares about the personal data it processes.

Declarations are data, not code paths: each domain exports tuples of these (in its
``processing.py``) and the gateway composes them into the action registry, the GDPR Art. 30
register of processing activities and the retention schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class ActionType:
    """A kind of access that the audit trail records, e.g. ``vault.document.read``.

    The texts are what the applicant reads in their access log, in plain language.
    """

    name: str
    data_category: str
    description_en: str
    description_de: str


@dataclass(frozen=True, slots=True)
class ProcessingActivity:
    """One entry of the record of processing activities (GDPR Art. 30(1))."""

    id: str
    name: str
    purpose: str
    data_categories: tuple[str, ...]
    data_subjects: tuple[str, ...]
    recipients: tuple[str, ...]
    legal_basis: str
    retention: str


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long one record type is kept, and on what basis; ``ozg-commons retention run``
    deletes or crypto-shreds what is due."""

    record_type: str
    keep_for: timedelta
    legal_basis: str
    description: str
