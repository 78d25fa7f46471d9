"""GDPR export (Art. 15/20) and erasure (Art. 17) of what the audit trail holds about a subject.

Erasure deletes the personal row of each entry about the subject: the plaintext personal
fields and the salt. The leaf keeps only its commitment, which without the salt reveals
nothing, so every leaf, node, checkpoint and proof stays valid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.components import ShredReport
from compliance import views
from compliance.models import AccessEntry, AccessPersonal


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    rows = session.execute(
        select(AccessEntry, AccessPersonal)
        .join(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
        .where(AccessPersonal.data_subject == subject)
        .order_by(AccessEntry.at)
    )
    return {
        "access_log": [
            {k: v for k, v in views.entry_json(views.Row(e, p), None).items() if k != "salt"}
            for e, p in rows
        ]
    }


def shred_personal_data(session: Session, subject: str) -> ShredReport:
    """Shred the salt and personal fields of every entry about ``subject``."""
    ids = list(
        session.scalars(
            select(AccessPersonal.entry_id).where(AccessPersonal.data_subject == subject)
        )
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(AccessPersonal).where(AccessPersonal.entry_id.in_(chunk)))
    return ShredReport("compliance", shredded=len(ids))
