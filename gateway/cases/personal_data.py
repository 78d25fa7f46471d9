"""Export (GDPR Art. 15/20), erasure (Art. 17) and the expiry of abandoned drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.components import ShredReport
from commons.encoding import b64url_encode
from gateway.cases.access import detail_of
from gateway.cases.models import Case, CaseDocument, DocumentRequest, Draft, TimelineEntry
from gateway.cases.states import CaseState


# --------------------------------------------------------------------------- export, erasure
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    """Every case of ``subject`` with its timeline, links and sealed draft (GDPR Art. 15/20).
    The sealed draft is the applicant's to open with their own key."""
    out = []
    for case in session.scalars(select(Case).where(Case.subject == subject).order_by(Case.id)):
        row = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
        detail = detail_of(session, case)
        draft = session.get(Draft, case.id)
        out.append(
            {
                **{k: _iso(v) if isinstance(v, datetime) else v for k, v in row.items()},
                "timeline": [
                    {
                        "from_state": t.from_state,
                        "to_state": t.to_state,
                        "at": t.at.isoformat(),
                        "actor_kind": t.actor_kind,
                        "reason": t.reason,
                    }
                    for t in detail.timeline
                ],
                "documents": [
                    {"document_id": d.document_id, "document_type": d.document_type}
                    for d in detail.documents
                ],
                "document_requests": [
                    {"message_id": r.message_id, "document_types": list(r.document_types)}
                    for r in detail.requests
                ],
                "draft_envelope": b64url_encode(draft.envelope) if draft else None,
            }
        )
    return {"cases": out}


def delete_cases(session: Session, ids: list[str]) -> int:
    deleted = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for model in (TimelineEntry, CaseDocument, DocumentRequest):
            result = session.execute(delete(model).where(model.case_id.in_(chunk)))
            deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = session.execute(delete(Draft).where(Draft.case_id.in_(chunk)))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = session.execute(delete(Case).where(Case.id.in_(chunk)))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def shred_personal_data(session: Session, subject: str) -> ShredReport:
    """Art. 17: delete every case row and sealed draft of ``subject``. What was submitted
    is the authority's copy and is not touched by this (docs/cases.md)."""
    ids = list(session.scalars(select(Case.id).where(Case.subject == subject)))
    return ShredReport(component="cases", deleted=delete_cases(session, ids))


def delete_expired_drafts(session: Session, now: datetime) -> list[str]:
    """Retention ``cases.draft``: cases still in draft whose expiry has passed."""
    ids = list(
        session.scalars(
            select(Case.id).where(Case.state == CaseState.DRAFT.value, Case.draft_expires_at <= now)
        )
    )
    delete_cases(session, ids)
    return ids
