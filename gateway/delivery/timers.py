"""FIT-Connect's timers and the new-submission callbacks, run by ``ozg-commons delivery tick``.

:func:`tick` does, at the runtime's clock's ``now``:

1. an **incomplete** submission older than ``incomplete_hours`` (1 day) is deleted: its
   attachments are removed from the object store, its ciphertext cleared, its state set to
   ``deleted``, and a ``delete-submission`` event issued;
2. a **submitted** submission the subscriber never fetched for ``warn_unfetched_days``
   (3 days) warns the authority once (``warned_at``): its callback is sent again and a log
   line names the submission and destination ids, nothing personal;
3. one never fetched for ``reject_unfetched_days`` (14 days) is **rejected** by the delivery
   service (a ``reject-submission`` it signs, with a ``TechnicalError`` problem), its
   ciphertext removed, and every ``rejection_hooks`` entry called (to tell the applicant);
4. every **callback** that is due is sent (:func:`deliver_callbacks`); a failure is
   retried after ``callback_retry_minutes`` times the attempts, up to
   ``callback_max_attempts``.

Every step is idempotent: running the tick twice at the same time changes nothing the
second time. Each submission is handled in a transaction of its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.db import Database
from commons.settings import is_loopback
from gateway.delivery import service
from gateway.delivery.destinations import Destination
from gateway.delivery.errors import DeliveryError
from gateway.delivery.models import Attachment, Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.fitconnect import problem, sign_callback
from gateway.fitconnect.callbacks import NEW_SUBMISSIONS

log = logging.getLogger("ozg.delivery")


@dataclass
class TickReport:
    deleted: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    callbacks_sent: list[str] = field(default_factory=list)
    callbacks_failed: list[str] = field(default_factory=list)


def tick(database: Database, runtime: DeliveryRuntime) -> TickReport:
    report = TickReport()
    now = runtime.clock.now()
    config = runtime.config
    incomplete_before = now - timedelta(hours=config.incomplete_hours)
    warn_before = now - timedelta(days=config.warn_unfetched_days)
    reject_before = now - timedelta(days=config.reject_unfetched_days)

    def ids(*where: object) -> list[str]:
        with database.transaction() as session:
            return list(session.scalars(select(Submission.id).where(*where)))  # type: ignore[arg-type]

    for submission_id in ids(
        Submission.state == service.INCOMPLETE, Submission.created_at < incomplete_before
    ):
        _each(database, runtime, submission_id, _delete_incomplete, report.deleted)
    unfetched = (Submission.state.in_(service.OPEN_STATES), Submission.fetched_at.is_(None))
    for submission_id in ids(*unfetched, Submission.submitted_at < reject_before):
        _each(database, runtime, submission_id, _reject_unfetched, report.rejected)
    for submission_id in ids(
        *unfetched, Submission.submitted_at < warn_before, Submission.warned_at.is_(None)
    ):
        _each(database, runtime, submission_id, _warn_unfetched, report.warned)
    sent, failed = deliver_callbacks(database, runtime)
    report.callbacks_sent += sent
    report.callbacks_failed += failed
    return report


Step = Callable[[Session, DeliveryRuntime, Submission], bool]


def _each(
    database: Database,
    runtime: DeliveryRuntime,
    submission_id: str,
    step: Step,
    done: list[str],
) -> None:
    blobs: list[str] = []
    with database.transaction() as session:
        submission = session.get(Submission, submission_id, with_for_update=True)
        if submission is None:
            return
        if step is not _warn_unfetched:
            blobs = [a.blob_key for a in service.attachments_of(session, submission)]
        if not step(session, runtime, submission):
            return
        if step is not _warn_unfetched:
            session.execute(delete(Attachment).where(Attachment.submission_id == submission.id))
    for key in blobs:  # after the commit: a crash leaves an orphan blob, never a dangling row
        runtime.store.delete(key)
    done.append(submission_id)


def _delete_incomplete(session: Session, runtime: DeliveryRuntime, sub: Submission) -> bool:
    if sub.state != service.INCOMPLETE:
        return False
    _clear(sub, runtime, service.DELETED)
    service.record_event(session, runtime, sub, "delete-submission")
    service.audit_system(session, runtime, "delivery.submission.delete", sub)
    log.info("incomplete submission deleted", extra={"submission_id": sub.id})
    return True


def _reject_unfetched(session: Session, runtime: DeliveryRuntime, sub: Submission) -> bool:
    if sub.state not in service.OPEN_STATES or sub.fetched_at is not None:
        return False
    days = runtime.config.reject_unfetched_days
    issue = problem(
        "TechnicalError",
        title="Not fetched",
        detail=f"The destination did not fetch the submission within {days:g} days.",
    )
    _clear(sub, runtime, service.REJECTED)
    service.record_event(session, runtime, sub, "reject-submission", {"problems": [issue]})
    service.audit_system(session, runtime, "delivery.submission.decide", sub)
    for hook in runtime.rejection_hooks:
        hook(session, sub)
    service.run_event_hooks(session, runtime, sub, "reject-submission")
    log.warning(
        "unfetched submission rejected",
        extra={"submission_id": sub.id, "destination_id": sub.destination_id},
    )
    return True


def _warn_unfetched(session: Session, runtime: DeliveryRuntime, sub: Submission) -> bool:
    if sub.warned_at is not None or sub.fetched_at is not None:
        return False
    sub.warned_at = runtime.clock.now()
    sub.callback_pending = True  # the authority is told again through its callback
    sub.callback_next_at = sub.warned_at
    sub.callback_attempts = 0
    log.warning(
        "submission not fetched by its destination",
        extra={"submission_id": sub.id, "destination_id": sub.destination_id},
    )
    return True


def _clear(sub: Submission, runtime: DeliveryRuntime, state: str) -> None:
    sub.state = state
    sub.encrypted_metadata = sub.encrypted_data = None
    sub.closed_at = runtime.clock.now()
    sub.callback_pending = False


# --------------------------------------------------------------------------- callbacks
def callback_url_allowed(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine only."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))


def callback_body(submissions: list[Submission]) -> bytes:
    return json.dumps(
        {
            "type": NEW_SUBMISSIONS,
            "submissions": [
                {"destinationId": s.destination_id, "submissionId": s.id, "caseId": s.case_id}
                for s in submissions
            ],
        },
        separators=(",", ":"),
    ).encode()


def deliver_callbacks(
    database: Database, runtime: DeliveryRuntime, submission_ids: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Send every due callback (or those of ``submission_ids``), one request per
    submission; never raises (a failure is retried by the next tick)."""
    now = runtime.clock.now()
    with database.transaction() as session:
        query = select(Submission.id).where(
            Submission.callback_pending.is_(True), Submission.callback_next_at <= now
        )
        if submission_ids is not None:
            query = query.where(Submission.id.in_(submission_ids))
        due = list(session.scalars(query))
    sent: list[str] = []
    failed: list[str] = []
    for submission_id in due:
        try:
            ok = _deliver_one(database, runtime, submission_id)
        except Exception:  # never let one destination stop the others
            log.exception("callback failed", extra={"submission_id": submission_id})
            ok = False
        (sent if ok else failed).append(submission_id)
    return sent, failed


def _deliver_one(database: Database, runtime: DeliveryRuntime, submission_id: str) -> bool:
    with database.transaction() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or not submission.callback_pending:
            return True
        try:
            destination = runtime.destinations().get(submission.destination_id)
        except DeliveryError:
            destination = None
        body = callback_body([submission])
    ok = destination is not None and _post(runtime, destination, body)
    with database.transaction() as session:
        submission = session.get(Submission, submission_id, with_for_update=True)
        if submission is None:
            return ok
        if ok:
            submission.callback_pending = False
            return True
        submission.callback_attempts += 1
        if submission.callback_attempts >= runtime.config.callback_max_attempts:
            submission.callback_pending = False
            log.warning("callback given up", extra={"submission_id": submission_id})
        else:
            wait = timedelta(minutes=runtime.config.callback_retry_minutes)
            submission.callback_next_at = runtime.clock.now() + wait * submission.callback_attempts
    return False


def _post(runtime: DeliveryRuntime, destination: Destination, body: bytes) -> bool:
    url, secret = destination.callback_url, destination.callback_secret
    if not url or not secret:
        return False
    if not callback_url_allowed(url):
        log.warning("callback URL refused: https only (http to loopback only)")
        return False
    timestamp = int(runtime.clock.now().timestamp())
    headers = {"Content-Type": "application/json", **sign_callback(body, secret, timestamp)}
    try:
        with httpx.Client(
            transport=runtime.http_transport,
            timeout=runtime.config.callback_timeout_seconds,
            follow_redirects=False,
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError:
        log.warning("callback not delivered", extra={"destination_id": destination.destination_id})
        return False
    if not 200 <= response.status_code < 300:
        log.warning(
            "callback refused",
            extra={"destination_id": destination.destination_id, "status": response.status_code},
        )
        return False
    return True
