"""Who may see which submission, and the audit entries of every access.

Every query that returns a submission is scoped to the principal asking, in
:func:`visible_submission`: a sender sees only its own submissions, a subscriber (a
caseworker or subscriber client of the destination's authority) only its authority's.
Everything else is "not found", and recorded as a denied access.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from account import Principal, Role
from compliance import AccessEvent, Actor, Outcome, record_access
from gateway.delivery.errors import NotASender, SubmissionNotFound
from gateway.delivery.models import Attachment, Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.delivery.schemas import canonical_uuid

log = logging.getLogger("ozg.delivery")

PURPOSE = "Deliver an application to the responsible immigration authority (FIT-Connect)"
LEGAL_BASIS = "Art. 6(1)(e) GDPR with § 81 AufenthG (application) and § 1a OZG"

INCOMPLETE = "incomplete"
SUBMITTED = "submitted"
FORWARDED = "forwarded"
ACCEPTED = "accepted"
REJECTED = "rejected"
DELETED = "deleted"
OPEN_STATES = (SUBMITTED, FORWARDED)

ERASED_SENDER = "erased"
"""The sender of a delivery record kept after its applicant's erasure (the link is gone)."""


class Denied(SubmissionNotFound):
    """Raised by :func:`visible_submission` for a submission that exists but is not the
    caller's, after the denied access was recorded in the session: the API answers 404 and
    lets the unit of work commit, so the entry stays."""


# --------------------------------------------------------------------------- audit
def audit(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    action: str,
    submission: Submission,
    *,
    outcome: Outcome = "success",
    resource: str | None = None,
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=_data_subject(submission),
            action=action,
            resource=resource or f"delivery:submission:{submission.id}",
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
            outcome=outcome,
        ),
        clock=runtime.clock,
    )


def audit_system(
    session: Session, runtime: DeliveryRuntime, action: str, submission: Submission
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=Actor(subject="delivery-service", role="system"),
            data_subject=_data_subject(submission),
            action=action,
            resource=f"delivery:submission:{submission.id}",
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
        ),
        clock=runtime.clock,
    )


def _data_subject(submission: Submission) -> str | None:
    if submission.sender_role != Role.APPLICANT.value or submission.sender == ERASED_SENDER:
        return None
    return submission.sender


# --------------------------------------------------------------------------- who may
def sender_role(principal: Principal) -> Role:
    if principal.has(Role.APPLICANT):
        return Role.APPLICANT
    if principal.has(Role.FLOW):
        return Role.FLOW
    raise NotASender()


def is_sender_of(principal: Principal, submission: Submission) -> bool:
    return submission.sender == principal.subject and (
        principal.has(Role.APPLICANT) or principal.has(Role.FLOW)
    )


def is_subscriber_of(principal: Principal, authority: str) -> bool:
    return principal.has(Role.CASEWORKER) and principal.authority == authority


def lookup(session: Session, submission_id: str) -> Submission | None:
    try:
        key = canonical_uuid(submission_id)
    except ValueError:
        return None
    return session.get(Submission, key)


def visible_submission(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    submission_id: str,
    *,
    action: str,
    as_sender: bool = True,
    as_subscriber: bool = True,
) -> Submission:
    """The submission if ``principal`` may see it (its sender, or its authority's
    subscriber); else :class:`SubmissionNotFound` (recorded as denied when it exists)."""
    submission = lookup(session, submission_id)
    if submission is None or submission.state == DELETED:
        raise SubmissionNotFound()
    if (as_sender and is_sender_of(principal, submission)) or (
        as_subscriber and is_subscriber_of(principal, submission.authority)
    ):
        return submission
    audit(session, runtime, principal, action, submission, outcome="denied")
    log.warning("submission access denied", extra={"action": action})
    raise Denied()


def attachments_of(session: Session, submission: Submission) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.submission_id == submission.id)
            .order_by(Attachment.attachment_id)
        )
    )
