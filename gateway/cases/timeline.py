"""The one transition function: every state change of a case is checked against the state
machine, written to the timeline and the audit trail, and told to the applicant by a neutral
mailbox notice."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal, RecipientNotFound, send_message
from commons.ids import new_id_str
from gateway.cases.access import SYSTEM, actor_kind, audit
from gateway.cases.errors import IllegalTransition
from gateway.cases.models import Case, TimelineEntry
from gateway.cases.runtime import CasesRuntime
from gateway.cases.states import LABEL_TEXT, REASONS, CaseState, can_transition, label

log = logging.getLogger("ozg.cases")

STATUS_TITLE = "Neuer Status Ihres Antrags / New status of your application"


# --------------------------------------------------------------------------- transitions
def timeline_row(
    session: Session,
    runtime: CasesRuntime,
    case: Case,
    from_state: str | None,
    to_state: str,
    actor: str,
    reason: str,
    at: datetime,
) -> None:
    if reason not in REASONS:  # pragma: no cover - a programming error
        raise ValueError(f"unknown timeline reason {reason!r}")
    seq = session.scalar(
        select(func.count()).select_from(TimelineEntry).where(TimelineEntry.case_id == case.id)
    )
    session.add(
        TimelineEntry(
            id=new_id_str(runtime.clock),
            case_id=case.id,
            seq=(seq or 0) + 1,
            from_state=from_state,
            to_state=to_state,
            at=at,
            actor_kind=actor,
            reason=reason,
        )
    )


def transition(
    session: Session,
    runtime: CasesRuntime,
    case: Case,
    target: CaseState,
    *,
    actor: Principal | None,
    reason: str,
    outcome: str | None = None,
    actor_kind_override: str | None = None,
) -> None:
    """Move ``case`` to ``target`` if the state machine allows it (else 409), record the
    change in the timeline and the audit trail, and tell the applicant in the mailbox."""
    current = CaseState(case.state)
    if not can_transition(current, target):
        raise IllegalTransition(current.value, target.value)
    now = runtime.clock.now()
    case.state = target.value
    case.updated_at = now
    if target == CaseState.SUBMITTED:
        case.submitted_at = now
    if target == CaseState.DECIDED:
        case.decided_at = now
        case.outcome = outcome
    if target != CaseState.DRAFT:
        case.draft_expires_at = None
    kind = actor_kind_override or (actor_kind(actor) if actor else "system")
    timeline_row(session, runtime, case, current.value, target.value, kind, reason, now)
    session.flush()
    audit(session, runtime, actor, "cases.status.change", case, "follow the application")
    notify_status(session, runtime, case)


def notify_status(session: Session, runtime: CasesRuntime, case: Case) -> None:
    """A neutral status notice in the applicant's mailbox (category ``status``)."""
    de, en = LABEL_TEXT[label(case.state)]
    body = f"Ihr Antrag hat einen neuen Status: {de}.\n\nYour application has a new status: {en}.\n"
    try:
        send_message(
            session,
            SYSTEM,
            recipient_subject=case.subject,
            title=STATUS_TITLE,
            body=body,
            category="status",
            document_refs=[],
            case_ref=case.id,
            notifier=runtime.notifier,
            clock=runtime.clock,
        )
    except RecipientNotFound:  # the timeline stands; the notice is a courtesy
        log.warning("status notice without a mailbox", extra={"case_id": case.id})
