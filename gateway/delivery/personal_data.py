"""Export (GDPR Art. 15/20) and erasure (Art. 17) of what the delivery service holds about
an applicant who sent submissions, and the expiry of the delivery records erasure keeps.

Erasure removes every ciphertext (the attachments' JWEs in the object store and their rows,
the encrypted metadata and data), the manifest, the receipt, the region and the link to the
sender. A submission that never reached the authority (``incomplete``) goes completely, with
its event log. One that did is kept as a minimal **delivery record** (policy
``delivery.delivery_record``): the submission and destination ids, the authority, the
service, the states and their times, and the case's event log (signed tokens that hold ids,
authentication tags and problems, no content), as proof that and when the application reached
the authority. A submission still waiting for its acknowledgement gets ``delete-submission``
first, so that the authority's subscriber knows. What the authority fetched is the
authority's copy: erasure here does not reach it (docs/delivery.md, "Erasure").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from account import Role
from commons.components import RetainedRecord, ShredReport
from gateway.delivery.access import (
    DELETED,
    ERASED_SENDER,
    INCOMPLETE,
    OPEN_STATES,
    audit_system,
)
from gateway.delivery.declarations import RECORD_BASIS, RECORD_RETENTION, RECORD_TYPE
from gateway.delivery.eventlog import record_event
from gateway.delivery.models import Attachment, Event, Submission
from gateway.delivery.runtime import DeliveryRuntime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _own(session: Session, subject: str) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.sender == subject, Submission.sender_role == Role.APPLICANT.value)
            .order_by(Submission.created_at, Submission.id)
        )
    )


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    """Every submission ``subject`` sent: ids, destination, states and times, the manifest,
    the attachments' sizes and digests, the receipt and the event log. The ciphertext is
    encrypted to the authority's key; the applicant holds the plaintext."""
    out = []
    for sub in _own(session, subject):
        attachments = session.scalars(
            select(Attachment)
            .where(Attachment.submission_id == sub.id)
            .order_by(Attachment.attachment_id)
        )
        events = session.scalars(
            select(Event).where(Event.submission_id == sub.id).order_by(Event.seq)
        )
        out.append(
            {
                "submission_id": sub.id,
                "fit_connect_case_id": sub.case_id,
                "destination_id": sub.destination_id,
                "authority": sub.authority,
                "state": sub.state,
                "service_identifier": sub.service_identifier,
                "region": sub.region,
                "manifest": sub.manifest,
                "created_at": _iso(sub.created_at),
                "submitted_at": _iso(sub.submitted_at),
                "fetched_at": _iso(sub.fetched_at),
                "closed_at": _iso(sub.closed_at),
                "attachments": [
                    {"attachment_id": a.attachment_id, "size": a.size, "sha512": a.sha512}
                    for a in attachments
                ],
                "receipt": sub.receipt,
                "events": [
                    {
                        "event": e.event,
                        "issuer": e.issuer,
                        "issued_at": _iso(e.issued_at),
                        "token": e.token,
                    }
                    for e in events
                ],
            }
        )
    return {"submissions": out}


def shred_personal_data(session: Session, subject: str, runtime: DeliveryRuntime) -> ShredReport:
    """Art. 17 for the submissions ``subject`` sent (see the module docstring). The blobs are
    deleted in the erasure's transaction, as the vault does: a later failure rolls the rows
    back, and the retry finds the blobs gone (deleting is idempotent)."""
    report = ShredReport(component="delivery")
    now = runtime.clock.now()
    for sub in _own(session, subject):
        report.deleted += _delete_attachments(session, runtime, sub)
        if sub.state == INCOMPLETE:
            result = session.execute(delete(Event).where(Event.submission_id == sub.id))
            report.deleted += int(getattr(result, "rowcount", 0) or 0) + 1
            session.delete(sub)
            continue
        sub.sender = ERASED_SENDER
        sub.sender_client = None
        if sub.state in OPEN_STATES:
            # Not acknowledged yet: the subscriber reads that the submission is gone.
            sub.state = DELETED
            sub.closed_at = now
            record_event(session, runtime, sub, "delete-submission")
            audit_system(session, runtime, "delivery.submission.delete", sub)
        sub.closed_at = sub.closed_at or now
        sub.encrypted_metadata = sub.encrypted_data = None
        sub.manifest = None
        sub.receipt = None
        sub.region = None
        sub.callback_pending = False
        sub.callback_next_at = None
        report.shredded += 1
        report.retained.append(
            RetainedRecord(RECORD_TYPE, sub.id, RECORD_BASIS, _record_base(sub) + RECORD_RETENTION)
        )
    session.flush()
    return report


def _record_base(sub: Submission) -> datetime:
    """The time a delivery record's retention counts from: its submission."""
    return sub.submitted_at or sub.created_at


def _delete_attachments(session: Session, runtime: DeliveryRuntime, sub: Submission) -> int:
    rows = list(session.scalars(select(Attachment).where(Attachment.submission_id == sub.id)))
    for row in rows:
        session.delete(row)
    session.flush()
    for row in rows:
        runtime.store.delete(row.blob_key)
    return len(rows)


def delete_expired_records(session: Session, cutoff: datetime) -> list[str]:
    """Retention executor for ``delivery.delivery_record``: delivery records of erased
    applicants submitted before ``cutoff``, with their event log."""
    ids = list(
        session.scalars(
            select(Submission.id).where(
                Submission.sender == ERASED_SENDER, Submission.submitted_at < cutoff
            )
        )
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(Attachment).where(Attachment.submission_id.in_(chunk)))
        session.execute(delete(Event).where(Event.submission_id.in_(chunk)))
        session.execute(delete(Submission).where(Submission.id.in_(chunk)))
    return ids
