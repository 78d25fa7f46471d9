"""How other domains contribute to an applicant's GDPR export and erasure.

Each domain provides an exporter (Art. 15/20: everything it holds about a subject, as JSON)
and a shredder (Art. 17: remove or crypto-shred it, keeping only what the law requires).
The gateway registers them; the account service calls them all on export and on erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

Exporter = Callable[[Session, str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RetainedRecord:
    """A record kept despite erasure because the law requires it: minimal, with its basis."""

    record_type: str
    record_id: str
    legal_basis: str
    delete_after: datetime


@dataclass(slots=True)
class ShredReport:
    """What a domain's shredder did for one subject."""

    domain: str
    deleted: int = 0
    shredded: int = 0
    retained: list[RetainedRecord] = field(default_factory=list)


Shredder = Callable[[Session, str], ShredReport]


@dataclass(frozen=True, slots=True)
class PersonalDataHandler:
    domain: str
    export: Exporter
    shred: Shredder


class PersonalDataRegistry:
    """The domains' exporters and shredders, in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, PersonalDataHandler] = {}

    def add(self, domain: str, *, export: Exporter, shred: Shredder) -> None:
        if domain in self._handlers:
            raise ValueError(f"personal-data handler for {domain!r} registered twice")
        self._handlers[domain] = PersonalDataHandler(domain, export, shred)

    def __iter__(self) -> Any:
        return iter(self._handlers.values())

    def domains(self) -> list[str]:
        return list(self._handlers)
