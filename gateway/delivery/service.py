"""The delivery service's logic (no HTTP): announce, upload, submit, read.

Other components call :func:`create_submission`, :func:`submit`, :func:`events_of` and
:func:`record_event`, register a :data:`~gateway.delivery.runtime.SubmitCheck` on
``app.state.delivery.submit_checks`` and an :data:`~gateway.delivery.runtime.EventHook` on
``app.state.delivery.event_hooks``. Who may see what is decided in
:mod:`gateway.delivery.access`; the event log is :mod:`gateway.delivery.eventlog`; the
submit checks and :class:`Problem` are :mod:`gateway.delivery.checks`; the submission
receipt is :mod:`gateway.delivery.receipts`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal
from commons.errors import Forbidden
from commons.ids import new_id_str
from gateway.delivery import jose
from gateway.delivery.access import (
    ACCEPTED,
    DELETED,
    FORWARDED,
    INCOMPLETE,
    LEGAL_BASIS,
    OPEN_STATES,
    PURPOSE,
    REJECTED,
    SUBMITTED,
    Denied,
    attachments_of,
    audit,
    audit_system,
    is_sender_of,
    is_subscriber_of,
    sender_role,
    visible_submission,
)
from gateway.delivery.checks import (
    Problem,
    check_announced_manifest,
    check_manifest_size,
    fit_connect_problems,
    manifest_problems,
)
from gateway.delivery.destinations import Destination
from gateway.delivery.errors import (
    AlreadyUploaded,
    AttachmentNotFound,
    InvalidAttachment,
    InvalidSubmission,
    SubmitRefused,
    TooLarge,
    WrongState,
)
from gateway.delivery.eventlog import (
    case_submission,
    events_of,
    post_event,
    read_events,
    record_event,
    run_event_hooks,
    sent_tags,
    withdraw,
)
from gateway.delivery.models import Attachment, Submission
from gateway.delivery.receipts import issue_receipt
from gateway.delivery.runtime import DeliveryRuntime
from gateway.delivery.schemas import CreateSubmission, SubmitSubmission, canonical_uuid
from gateway.fitconnect.keys import destination_public_key

__all__ = [
    "ACCEPTED",
    "DELETED",
    "FORWARDED",
    "INCOMPLETE",
    "LEGAL_BASIS",
    "OPEN_STATES",
    "PURPOSE",
    "REJECTED",
    "SUBMITTED",
    "Denied",
    "Problem",
    "add_attachment",
    "attachment_for",
    "attachments_of",
    "audit_system",
    "case_submission",
    "check_manifest_size",
    "check_upload",
    "create_submission",
    "events_of",
    "fit_connect_problems",
    "is_sender_of",
    "is_subscriber_of",
    "list_for_sender",
    "list_for_subscriber",
    "modulus_bytes",
    "post_event",
    "read_events",
    "read_submission",
    "record_event",
    "run_event_hooks",
    "sent_tags",
    "submit",
    "visible_submission",
    "withdraw",
]


# --------------------------------------------------------------------------- create
def create_submission(
    session: Session, runtime: DeliveryRuntime, principal: Principal, request: CreateSubmission
) -> Submission:
    """Announce a submission (FIT-Connect ``POST /submissions``); signs create-submission."""
    role = sender_role(principal)
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
        check_announced_manifest(manifest, destination, request.announced_attachments)
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
    audit(session, runtime, principal, "delivery.submission.create", submission)
    return submission


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
    sha512: str | None = None,
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
        sha512=sha512,
        uploaded_at=runtime.clock.now(),
    )
    session.add(row)
    audit(
        session,
        runtime,
        principal,
        "delivery.attachment.upload",
        submission,
        resource=f"delivery:submission:{submission.id}:attachment:{key}",
    )
    return row


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
    audit(
        session,
        runtime,
        principal,
        "delivery.attachment.read",
        submission,
        resource=f"delivery:submission:{submission.id}:attachment:{key}",
    )
    return submission, row


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
    problems += manifest_problems(submission, body.encrypted_data)
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
    submission.receipt = issue_receipt(session, runtime, submission)
    audit(session, runtime, principal, "delivery.submission.submit", submission)
    run_event_hooks(session, runtime, submission, "submit-submission")
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
    audit(session, runtime, principal, "delivery.submission.read", submission)
    return submission
