"""The case event log: Security Event Tokens issued by the delivery service, the
destination's acknowledgements (``accept-submission`` / ``reject-submission``), the
ozg-commons withdrawal event, and the hooks that tell other components (the cases
component moves the case and tells the applicant by mailbox)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal
from commons.errors import Forbidden
from commons.ids import new_id_str
from gateway.delivery.access import (
    ACCEPTED,
    DELETED,
    OPEN_STATES,
    REJECTED,
    attachments_of,
    audit,
    audit_system,
    is_subscriber_of,
    lookup,
    visible_submission,
)
from gateway.delivery.errors import InvalidEvent, SubmissionNotFound, WrongState
from gateway.delivery.models import Event, Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.delivery.schemas import canonical_uuid
from gateway.fitconnect import (
    AuthenticationTags,
    InvalidEventToken,
    check_tags,
    issue_event,
    verify_event,
)
from gateway.fitconnect.keys import destination_public_key

log = logging.getLogger("ozg.delivery")

WITHDRAWN_EVENT = "withdraw-submission"


def run_event_hooks(
    session: Session, runtime: DeliveryRuntime, submission: Submission, event: str
) -> None:
    """Tell every subscriber (``runtime.event_hooks``) of ``event`` on ``submission``, in
    the transaction that recorded it."""
    for hook in runtime.event_hooks:
        hook(session, submission, event)


def _next_seq(session: Session, case_id: str) -> int:
    current = session.scalar(select(func.max(Event.seq)).where(Event.case_id == case_id))
    return (current or 0) + 1


def record_event(
    session: Session,
    runtime: DeliveryRuntime,
    submission: Submission,
    event: str,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Sign ``event`` with the delivery service's key (iss = its URL) and log it."""
    identity = runtime.signing()
    now = runtime.clock.now()
    jti = new_id_str(runtime.clock)
    token = issue_event(
        event,
        submission_id=submission.id,
        case_id=submission.case_id,
        issuer=runtime.issuer,
        signing_key=identity.key,
        kid=identity.kid,
        now=now,
        payload=payload,
        jti=jti,
    )
    return _store_event(session, submission, jti, event, runtime.issuer, token, now)


def _store_event(
    session: Session,
    submission: Submission,
    jti: str,
    event: str,
    issuer: str,
    token: str,
    at: datetime,
) -> Event:
    row = Event(
        id=jti,
        seq=_next_seq(session, submission.case_id),
        case_id=submission.case_id,
        submission_id=submission.id,
        event=event,
        issuer=issuer,
        token=token,
        issued_at=at,
    )
    session.add(row)
    session.flush()
    return row


def events_of(session: Session, case_id: str, *, offset: int = 0, limit: int = 500) -> list[str]:
    """The case's event log: every SET, in the order issued."""
    return list(
        session.scalars(
            select(Event.token)
            .where(Event.case_id == case_id)
            .order_by(Event.seq)
            .offset(offset)
            .limit(limit)
        )
    )


def case_submission(
    session: Session, runtime: DeliveryRuntime, principal: Principal, case_id: str, *, action: str
) -> Submission:
    """The submission of a case that ``principal`` may see (the log's access check)."""
    try:
        key = canonical_uuid(case_id)
    except ValueError:
        raise SubmissionNotFound() from None
    submission = session.scalars(
        select(Submission).where(Submission.case_id == key).order_by(Submission.created_at)
    ).first()
    if submission is None:
        raise SubmissionNotFound()
    return visible_submission(session, runtime, principal, submission.id, action=action)


def read_events(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    case_id: str,
    *,
    offset: int,
    limit: int,
) -> list[str]:
    submission = case_submission(
        session, runtime, principal, case_id, action="delivery.events.read"
    )
    audit(session, runtime, principal, "delivery.events.read", submission)
    return events_of(session, submission.case_id, offset=offset, limit=limit)


def sent_tags(session: Session, submission: Submission) -> AuthenticationTags:
    """The tags of the JWEs as stored: what an accept-submission must echo."""
    if submission.encrypted_metadata is None:
        raise WrongState("the submission holds no metadata", state=submission.state)
    return AuthenticationTags(
        metadata=submission.encrypted_metadata.rsplit(".", 1)[-1],
        data=submission.encrypted_data.rsplit(".", 1)[-1] if submission.encrypted_data else None,
        attachments={a.attachment_id: a.tag for a in attachments_of(session, submission)},
    )


def post_event(
    session: Session, runtime: DeliveryRuntime, principal: Principal, case_id: str, token: str
) -> Submission:
    """The destination's ``accept-submission`` or ``reject-submission`` (``POST
    /cases/{caseId}/events``), verified against the destination's signature key."""
    submission = case_submission(
        session, runtime, principal, case_id, action="delivery.submission.decide"
    )
    if not is_subscriber_of(principal, submission.authority):
        raise Forbidden("only the destination's authority acknowledges a submission")
    destination = runtime.destinations().get(submission.destination_id)
    try:
        public_key, _kid = destination_public_key(destination.signature_jwk)
        event = verify_event(
            token,
            {destination.signature_kid: public_key},
            issuer=destination.destination_id,
            now=runtime.clock.now(),
        )
    except (InvalidEventToken, ValueError):
        raise InvalidEvent() from None
    if event.case_id != submission.case_id or event.name not in (
        "accept-submission",
        "reject-submission",
    ):
        raise InvalidEvent()
    target = lookup(session, event.submission_id)
    if target is None or target.case_id != submission.case_id:
        raise InvalidEvent()
    if len(event.jti) > 36 or session.get(Event, event.jti) is not None:
        raise InvalidEvent()
    if target.state not in OPEN_STATES:
        raise WrongState("the submission was already acknowledged", state=target.state)
    if event.name == "accept-submission":
        check_tags(event, sent_tags(session, target))
        target.state = ACCEPTED
    else:
        target.state = REJECTED
    target.closed_at = runtime.clock.now()
    target.callback_pending = False
    _store_event(session, target, event.jti, event.name, event.issuer, token, event.issued_at)
    audit(session, runtime, principal, "delivery.submission.decide", target)
    run_event_hooks(session, runtime, target, event.name)
    return target


def withdraw(
    session: Session, runtime: DeliveryRuntime, fit_connect_case_id: str, submission_id: str
) -> Event | None:
    """The applicant withdrew the case: record the ozg-commons event ``withdraw-submission``
    (``urn:ozg-commons:events:withdraw-submission``, issued by the delivery service) in the
    case's event log, where the authority's subscriber reads it. A submission already
    rejected or deleted gets no event. Returns the event, if one was recorded."""
    submission = lookup(session, submission_id)
    if submission is None or submission.case_id != fit_connect_case_id:
        log.warning("withdrawal of an unknown submission")
        return None
    if submission.state in (REJECTED, DELETED):
        return None
    row = record_event(session, runtime, submission, WITHDRAWN_EVENT)
    audit_system(session, runtime, "delivery.submission.withdraw", submission)
    return row
