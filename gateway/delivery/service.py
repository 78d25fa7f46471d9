"""The delivery service's logic (no HTTP): submissions, attachments, submit, event log.

Other components call :func:`create_submission`, :func:`submit`, :func:`events_of` and
:func:`record_event`, and register :data:`~gateway.delivery.runtime.SubmitCheck` hooks on
``app.state.delivery.submit_checks``. Every query that returns a submission is scoped to the
principal asking, in :func:`visible_submission`: a sender sees only its own submissions, a
subscriber (a caseworker or subscriber client of the destination's authority) only its
authority's. Everything else is "not found", and recorded as a denied access.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.ids import new_id_str
from compliance import AccessEvent, Actor, Outcome, record_access
from gateway.delivery import jose
from gateway.delivery.destinations import Destination
from gateway.delivery.errors import (
    AlreadyUploaded,
    AttachmentNotFound,
    InvalidAttachment,
    InvalidEvent,
    InvalidSubmission,
    NotASender,
    SubmissionNotFound,
    SubmitRefused,
    TooLarge,
    WrongState,
)
from gateway.delivery.models import Attachment, Event, Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.delivery.schemas import CreateSubmission, Manifest, SubmitSubmission, canonical_uuid
from gateway.fitconnect import (
    AuthenticationTags,
    InvalidEventToken,
    check_tags,
    issue_event,
    verify_event,
)
from gateway.fitconnect.keys import destination_public_key

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


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a submit check found missing, in German and English."""

    type: str
    en: str
    de: str
    instance: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "detail": {"de": self.de, "en": self.en}}
        if self.instance is not None:
            body["instance"] = self.instance
        return body


class Denied(SubmissionNotFound):
    """Raised by :func:`visible_submission` for a submission that exists but is not the
    caller's, after the denied access was recorded in the session: the API answers 404 and
    lets the unit of work commit, so the entry stays."""


# --------------------------------------------------------------------------- audit
def _audit(
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
    return submission.sender if submission.sender_role == Role.APPLICANT.value else None


# --------------------------------------------------------------------------- who may
def _sender_role(principal: Principal) -> Role:
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


def _lookup(session: Session, submission_id: str) -> Submission | None:
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
    submission = _lookup(session, submission_id)
    if submission is None or submission.state == DELETED:
        raise SubmissionNotFound()
    if (as_sender and is_sender_of(principal, submission)) or (
        as_subscriber and is_subscriber_of(principal, submission.authority)
    ):
        return submission
    _audit(session, runtime, principal, action, submission, outcome="denied")
    log.warning("submission access denied", extra={"action": action})
    raise Denied()


# --------------------------------------------------------------------------- create
def create_submission(
    session: Session, runtime: DeliveryRuntime, principal: Principal, request: CreateSubmission
) -> Submission:
    """Announce a submission (FIT-Connect ``POST /submissions``); signs create-submission."""
    role = _sender_role(principal)
    destination = runtime.destinations().get(request.destination_id)
    if len(request.announced_attachments) > runtime.config.max_attachments:
        raise TooLarge(
            f"at most {runtime.config.max_attachments} attachments per submission",
            limit=runtime.config.max_attachments,
        )
    service = request.service
    if destination.services and service.identifier not in {
        s.identifier for s in destination.services
    }:
        raise InvalidSubmission(
            "publicService.identifier is not a service of this destination",
            services=[s.identifier for s in destination.services],
        )
    manifest = request.ozg_manifest
    if manifest is not None:
        _check_manifest(manifest, destination, request.announced_attachments)
    now = runtime.clock.now()
    submission = Submission(
        id=new_id_str(runtime.clock),
        case_id=new_id_str(runtime.clock),
        destination_id=destination.destination_id,
        authority=destination.authority,
        state=INCOMPLETE,
        sender=principal.subject,
        sender_role=role.value,
        sender_client=principal.client_id,
        announced_attachments=list(request.announced_attachments),
        service_identifier=service.identifier,
        service_name=service.name,
        region=request.region,
        bidirectional=request.bidirectional,
        manifest=manifest.model_dump(by_alias=True, exclude_none=True) if manifest else None,
        attachment_bytes=0,
        created_at=now,
        callback_pending=False,
        callback_attempts=0,
    )
    session.add(submission)
    session.flush()
    record_event(session, runtime, submission, "create-submission")
    _audit(session, runtime, principal, "delivery.submission.create", submission)
    return submission


def _check_manifest(manifest: Manifest, destination: Destination, announced: list[str]) -> None:
    if manifest.authority != destination.authority:
        raise InvalidSubmission("ozgManifest.authority is not the destination's authority")
    parts = manifest.attachment_parts()
    if set(parts) != set(announced):
        raise InvalidSubmission(
            "ozgManifest.parts must name every announced attachment, and no other"
        )


# --------------------------------------------------------------------------- attachments
def check_upload(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    submission_id: str,
    attachment_id: str,
) -> tuple[Submission, Destination, str]:
    """Before receiving an upload: the caller's incomplete submission announced this
    attachment and has not received it yet. Returns the canonical attachment id."""
    submission = visible_submission(
        session,
        runtime,
        principal,
        submission_id,
        action="delivery.attachment.upload",
        as_subscriber=False,
    )
    try:
        key = canonical_uuid(attachment_id)
    except ValueError:
        raise AttachmentNotFound("this attachment was not announced") from None
    if key not in submission.announced_attachments:
        raise AttachmentNotFound("this attachment was not announced")
    if submission.state != INCOMPLETE:
        raise WrongState("attachments are uploaded before submit", state=submission.state)
    if session.get(Attachment, (submission.id, key)) is not None:
        raise AlreadyUploaded()
    return submission, runtime.destinations().get(submission.destination_id), key


def modulus_bytes(destination: Destination) -> int:
    key, _kid = destination_public_key(destination.encryption_jwk)
    return (key.key_size + 7) // 8


def check_manifest_size(submission: Submission, part: str, inspected: jose.Inspected) -> None:
    """An uncompressed JWE's ciphertext is exactly as long as its plaintext: the size the
    manifest announced for the part must match."""
    if submission.manifest is None or inspected.header.get("zip"):
        return
    for item in submission.manifest["parts"]:
        if item.get("attachmentId", item.get("part")) == part:
            if item["size"] != inspected.ciphertext_bytes:
                raise InvalidAttachment(f"the size of {_part_name(part)} differs from ozgManifest")


def _part_name(part: str) -> str:
    return part if part in ("data", "metadata") else "the attachment"


def add_attachment(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    submission_id: str,
    attachment_id: str,
    *,
    blob_key: str,
    size: int,
    tag: str,
) -> Attachment:
    """Record a stored attachment (checks again, in this transaction)."""
    submission, _destination, key = check_upload(
        session, runtime, principal, submission_id, attachment_id
    )
    if submission.attachment_bytes + size > runtime.config.max_submission_bytes:
        raise TooLarge(
            "the submission exceeds its size limit", limit=runtime.config.max_submission_bytes
        )
    submission.attachment_bytes += size
    row = Attachment(
        submission_id=submission.id,
        attachment_id=key,
        blob_key=blob_key,
        size=size,
        tag=tag,
        uploaded_at=runtime.clock.now(),
    )
    session.add(row)
    _audit(
        session,
        runtime,
        principal,
        "delivery.attachment.upload",
        submission,
        resource=f"delivery:submission:{submission.id}:attachment:{key}",
    )
    return row


def attachments_of(session: Session, submission: Submission) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.submission_id == submission.id)
            .order_by(Attachment.attachment_id)
        )
    )


def attachment_for(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    submission_id: str,
    attachment_id: str,
) -> tuple[Submission, Attachment]:
    submission = visible_submission(
        session, runtime, principal, submission_id, action="delivery.attachment.read"
    )
    try:
        key = canonical_uuid(attachment_id)
    except ValueError:
        raise AttachmentNotFound() from None
    row = session.get(Attachment, (submission.id, key))
    if row is None:
        raise AttachmentNotFound()
    _audit(
        session,
        runtime,
        principal,
        "delivery.attachment.read",
        submission,
        resource=f"delivery:submission:{submission.id}:attachment:{key}",
    )
    return submission, row


# --------------------------------------------------------------------------- submit
def fit_connect_problems(session: Session, submission: Submission) -> list[Problem]:
    """FIT-Connect's own check: every announced attachment is uploaded."""
    uploaded = {a.attachment_id for a in attachments_of(session, submission)}
    return [
        Problem(
            type="https://schema.fitko.de/fit-connect/events/problems/missing-attachments",
            en=f"attachment {attachment_id} is announced but not uploaded",
            de=f"Anlage {attachment_id} ist angekündigt, aber nicht hochgeladen",
            instance=f"attachment:{attachment_id}",
        )
        for attachment_id in submission.announced_attachments
        if attachment_id not in uploaded
    ]


def submit(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    submission_id: str,
    body: SubmitSubmission,
) -> Submission:
    """Submit (FIT-Connect ``PUT /submissions/{id}``): checks, then ``submitted`` with the
    events submit-submission and notify-submission. The new-submission callback is only
    marked due here (:mod:`gateway.delivery.timers` sends it): it never blocks a submit."""
    submission = visible_submission(
        session,
        runtime,
        principal,
        submission_id,
        action="delivery.submission.submit",
        as_subscriber=False,
    )
    if submission.state != INCOMPLETE:
        raise WrongState("this submission was already submitted", state=submission.state)
    destination = runtime.destinations().get(submission.destination_id)
    size = len(body.encrypted_metadata) + len(body.encrypted_data or "")
    if size > runtime.config.max_metadata_chars:
        raise TooLarge(
            "encryptedMetadata and encryptedData are too large",
            limit=runtime.config.max_metadata_chars,
        )
    if submission.attachment_bytes + size > runtime.config.max_submission_bytes:
        raise TooLarge(
            "the submission exceeds its size limit", limit=runtime.config.max_submission_bytes
        )
    kid, modulus = destination.encryption_kid, modulus_bytes(destination)
    for part, text in (("metadata", body.encrypted_metadata), ("data", body.encrypted_data)):
        if text is None:
            continue
        try:
            inspected = jose.inspect_text(text, kid=kid, modulus_bytes=modulus)
        except InvalidAttachment as exc:
            raise InvalidSubmission(f"encrypted{part.capitalize()}: {exc.detail}") from None
        check_manifest_size(submission, part, inspected)
    problems = fit_connect_problems(session, submission)
    if submission.manifest is not None:
        has_data_part = any(p.get("part") == "data" for p in submission.manifest["parts"])
        if has_data_part and body.encrypted_data is None:
            problems.append(
                Problem(
                    type="https://schema.fitko.de/fit-connect/events/problems/missing-data",
                    en="encryptedData is announced in the manifest but missing",
                    de="encryptedData ist im Manifest angekündigt, fehlt aber",
                )
            )
    submission.encrypted_metadata = body.encrypted_metadata
    submission.encrypted_data = body.encrypted_data
    for check in runtime.submit_checks:
        problems += check(session, submission)
    if problems:
        submission.encrypted_metadata = submission.encrypted_data = None
        raise SubmitRefused([p.as_json() for p in problems])
    now = runtime.clock.now()
    submission.state = SUBMITTED
    submission.submitted_at = now
    record_event(session, runtime, submission, "submit-submission")
    notify = "callback" if destination.callback_url else "polling"
    record_event(session, runtime, submission, "notify-submission", {"notifyType": notify})
    if destination.callback_url:
        submission.callback_pending = True
        submission.callback_next_at = now
    _audit(session, runtime, principal, "delivery.submission.submit", submission)
    return submission


# --------------------------------------------------------------------------- subscriber
def list_for_subscriber(
    session: Session,
    runtime: DeliveryRuntime,
    principal: Principal,
    destination_id: str,
    *,
    offset: int,
    limit: int,
) -> tuple[list[Submission], int]:
    """Submissions of the destination ready to be fetched (submitted, not yet accepted or
    rejected), oldest first, with the total."""
    destination = runtime.destinations().get(destination_id)
    if not is_subscriber_of(principal, destination.authority):
        from commons.errors import Forbidden

        raise Forbidden("only the destination's authority lists its submissions")
    where = (Submission.destination_id == destination.destination_id,
             Submission.state.in_(OPEN_STATES))  # fmt: skip
    total = session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    rows = list(
        session.scalars(
            select(Submission)
            .where(*where)
            .order_by(Submission.submitted_at, Submission.id)
            .offset(offset)
            .limit(limit)
        )
    )
    return rows, total


def list_for_sender(
    session: Session, principal: Principal, *, offset: int, limit: int
) -> tuple[list[Submission], int]:
    where = (Submission.sender == principal.subject, Submission.state != DELETED)
    total = session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    rows = list(
        session.scalars(
            select(Submission)
            .where(*where)
            .order_by(Submission.created_at, Submission.id)
            .offset(offset)
            .limit(limit)
        )
    )
    return rows, total


def read_submission(
    session: Session, runtime: DeliveryRuntime, principal: Principal, submission_id: str
) -> Submission:
    """``GET /submissions/{id}``; the subscriber's first read marks it fetched."""
    submission = visible_submission(
        session, runtime, principal, submission_id, action="delivery.submission.read"
    )
    if is_subscriber_of(principal, submission.authority) and submission.fetched_at is None:
        submission.fetched_at = runtime.clock.now()
    _audit(session, runtime, principal, "delivery.submission.read", submission)
    return submission


# --------------------------------------------------------------------------- events
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
    _audit(session, runtime, principal, "delivery.events.read", submission)
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
        from commons.errors import Forbidden

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
    target = _lookup(session, event.submission_id)
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
    _audit(session, runtime, principal, "delivery.submission.decide", target)
    return target
