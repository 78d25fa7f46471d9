"""Case logic for the applicant (and flow clients acting within an allowed case): create,
draft, fee facts, payment link, withdrawal, documents; the one transition function; export,
erasure and draft expiry.

No HTTP here and no commit: the caller's unit of work decides. Every query that returns a
case goes through :func:`visible`, the one place that decides who sees which case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select
from sqlalchemy.orm import Session

from account import (
    InsufficientUserAuthentication,
    Principal,
    RecipientNotFound,
    Role,
    send_message,
    touch,
)
from commons.components import ShredReport
from commons.encoding import b64url_encode
from commons.ids import new_id_str
from compliance import AccessEvent, record_access, record_denied
from gateway.cases.declarations import CASE_BASIS, FEE_BASIS
from gateway.cases.errors import (
    CaseConflict,
    CaseNotFound,
    DraftNotFound,
    IllegalTransition,
    InvalidFeeFacts,
    UnknownFlow,
)
from gateway.cases.flows import FlowRequirements
from gateway.cases.models import Case, CaseDocument, DocumentRequest, Draft, TimelineEntry
from gateway.cases.runtime import CasesRuntime, WithdrawalNotice
from gateway.cases.sealed import applicant_kid, check_sealed
from gateway.cases.states import (
    FINAL,
    LABEL_TEXT,
    REASONS,
    VISIBLE_TO_AUTHORITY,
    CaseState,
    can_transition,
    label,
)
from payments import Quote, QuoteRequest, create_quote, visible_payment
from vault import get_document, shares_of

log = logging.getLogger("ozg.cases")

SYSTEM = Principal(
    subject="ozg-commons/cases", roles=frozenset({Role.ADMIN}), client_id="ozg-commons"
)
"""The sender of status notices and the actor of retention and delivery-driven changes."""

STATUS_TITLE = "Neuer Status Ihres Antrags / New status of your application"


# --------------------------------------------------------------------------- helpers
def actor_kind(principal: Principal) -> str:
    if principal.has(Role.CASEWORKER):
        return "caseworker"
    if principal.has(Role.APPLICANT):
        return "applicant"
    if principal.has(Role.FLOW):
        return "flow"
    return "system"


def audit(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal | None,
    action: str,
    case: Case,
    purpose: str,
    legal_basis: str = CASE_BASIS,
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=(principal or SYSTEM).as_actor(),
            data_subject=case.subject,
            action=action,
            resource=f"cases/case/{case.id}",
            purpose=purpose,
            legal_basis=legal_basis,
        ),
        clock=runtime.clock,
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The one place that decides which cases a principal may see, as a query condition:
    applicants their own, a flow client those the applicant allowed it into, caseworkers
    their authority's once submitted (never another authority's: they get 404)."""
    conditions: list[ColumnElement[bool]] = []
    if principal.has(Role.APPLICANT):
        conditions.append(Case.subject == principal.subject)
    if principal.has(Role.FLOW):
        conditions.append(Case.flow_client == principal.subject)
    if principal.has(Role.CASEWORKER) and principal.authority is not None:
        conditions.append(
            and_(
                Case.authority == principal.authority,
                Case.state.in_([s.value for s in VISIBLE_TO_AUTHORITY]),
            )
        )
    return or_(false(), *conditions)


def visible_case(
    session: Session, principal: Principal, case_id: str, *, for_update: bool = False
) -> Case:
    query = select(Case).where(Case.id == case_id, visible(principal))
    if for_update:
        query = query.with_for_update()
    case = session.scalars(query).one_or_none()
    if case is None:
        owner = session.scalar(select(Case.subject).where(Case.id == case_id))
        if owner is not None:  # someone else's case: the refusal is audited
            record_denied(
                session,
                AccessEvent(
                    actor=principal.as_actor(),
                    data_subject=owner,
                    action="cases.case.access_denied",
                    resource=f"cases/case/{case_id}",
                    purpose="documenting a refused access to personal data",
                    legal_basis="Art. 5(2), Art. 32 GDPR",
                    outcome="denied",
                ),
            )
        raise CaseNotFound()
    return case


def flow_of(runtime: CasesRuntime, flow_id: str) -> FlowRequirements:
    flow = runtime.flows(flow_id)
    if flow is None:
        raise UnknownFlow(flow_id, runtime.flows.known())
    return flow


def _require_draft(case: Case) -> None:
    if case.state != CaseState.DRAFT:
        raise CaseConflict("the case was submitted; only a draft can be changed")


def _expiry(runtime: CasesRuntime, case: Case, now: datetime) -> datetime:
    flow = runtime.flows(case.flow_id)
    days = runtime.draft_retention_days(flow.draft_retention_days if flow else None)
    return now + timedelta(days=days)


# --------------------------------------------------------------------------- transitions
def _timeline_row(
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
    _timeline_row(session, runtime, case, current.value, target.value, kind, reason, now)
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


# --------------------------------------------------------------------------- cases
def create_case(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    flow_id: str,
    allow_client: str | None = None,
) -> Case:
    flow = flow_of(runtime, flow_id)
    if principal.trust_level < flow.trust_to_start:
        raise InsufficientUserAuthentication(flow.trust_to_start)
    touch(session, principal, clock=runtime.clock)  # the mailbox the notices go to
    now = runtime.clock.now()
    case = Case(
        id=new_id_str(runtime.clock),
        subject=principal.subject,
        flow_id=flow.id,
        flow_version=flow.version,
        flow_client=allow_client,
        state=CaseState.DRAFT.value,
        waiver_requested=False,
        created_at=now,
        updated_at=now,
    )
    case.draft_expires_at = _expiry(runtime, case, now)
    session.add(case)
    session.flush()
    _timeline_row(session, runtime, case, None, CaseState.DRAFT.value, "applicant", "created", now)
    audit(session, runtime, principal, "cases.case.create", case, "start an application")
    return case


def list_cases(session: Session, runtime: CasesRuntime, principal: Principal) -> list[Case]:
    cases = list(
        session.scalars(
            select(Case).where(visible(principal)).order_by(Case.created_at.desc()).limit(500)
        )
    )
    for case in cases:
        audit(session, runtime, principal, "cases.case.read", case, "show the applicant's cases")
    return cases


def read_case(session: Session, runtime: CasesRuntime, principal: Principal, case_id: str) -> Case:
    case = visible_case(session, principal, case_id)
    audit(session, runtime, principal, "cases.case.read", case, "show the application")
    return case


@dataclass(frozen=True, slots=True)
class CaseDetail:
    timeline: list[TimelineEntry]
    documents: list[CaseDocument]
    requests: list[DocumentRequest]
    has_draft: bool


def detail_of(session: Session, case: Case) -> CaseDetail:
    return CaseDetail(
        timeline=list(
            session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.case_id == case.id)
                .order_by(TimelineEntry.seq)
            )
        ),
        documents=list(
            session.scalars(
                select(CaseDocument)
                .where(CaseDocument.case_id == case.id)
                .order_by(CaseDocument.provided_at)
            )
        ),
        requests=list(
            session.scalars(
                select(DocumentRequest)
                .where(DocumentRequest.case_id == case.id)
                .order_by(DocumentRequest.requested_at)
            )
        ),
        has_draft=session.get(Draft, case.id) is not None,
    )


def delete_draft_case(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str
) -> None:
    """The applicant abandons a draft: the case and its sealed draft are deleted."""
    case = visible_case(session, principal, case_id, for_update=True)
    _require_draft(case)
    audit(session, runtime, principal, "cases.case.delete", case, "abandon a draft")
    _delete_cases(session, [case.id])


# --------------------------------------------------------------------------- drafts
def put_draft(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str, data: bytes
) -> Draft:
    case = visible_case(session, principal, case_id, for_update=True)
    _require_draft(case)
    kid = applicant_kid(session, case.subject)
    document_id = check_sealed(data, kid, runtime.settings.max_sealed_bytes)
    now = runtime.clock.now()
    draft = session.get(Draft, case.id)
    if draft is None:
        draft = Draft(case_id=case.id, envelope=data, size=len(data), document_id=document_id)
        session.add(draft)
    draft.envelope, draft.size, draft.document_id, draft.updated_at = (
        data,
        len(data),
        document_id,
        now,
    )
    case.updated_at = now
    case.draft_expires_at = _expiry(runtime, case, now)
    session.flush()
    audit(session, runtime, principal, "cases.draft.write", case, "save the sealed draft")
    return draft


def get_draft(session: Session, runtime: CasesRuntime, principal: Principal, case_id: str) -> Draft:
    case = visible_case(session, principal, case_id)
    draft = session.get(Draft, case.id)
    if draft is None:
        raise DraftNotFound()
    audit(session, runtime, principal, "cases.draft.read", case, "resume the sealed draft")
    return draft


# --------------------------------------------------------------------------- authority, fees
def choose_authority(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str, authority: str
) -> Case:
    """The authority the applicant's device chose from the public routing endpoint (the
    address stays sealed; the server learns only the choice)."""
    case = visible_case(session, principal, case_id, for_update=True)
    _require_draft(case)
    info = runtime.authority(authority, case.flow_id)
    if case.authority != info.id:
        case.authority = info.id
        case.quote_id = case.payment_id = None  # a quote is bound to its authority
    case.updated_at = runtime.clock.now()
    audit(session, runtime, principal, "cases.case.update", case, "choose the authority")
    return case


def declare_fee_facts(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case_id: str,
    facts: dict[str, Any],
    waiver_requested: bool,
) -> tuple[Case, Quote]:
    """Store the fee facts the flow declares (shown to the applicant on the device) and
    quote the fee through payments. Any fact the flow does not declare is refused."""
    case = visible_case(session, principal, case_id, for_update=True)
    _require_draft(case)
    if case.authority is None:
        raise CaseConflict("choose the authority first (PUT /v1/cases/{id}/authority)")
    flow = flow_of(runtime, case.flow_id)
    undeclared = sorted(set(facts) - flow.fee_facts)
    if undeclared:
        raise InvalidFeeFacts(
            f"the flow {flow.id!r} does not declare these fee facts: {', '.join(undeclared)}",
            undeclared=undeclared,
        )
    calculator_facts = {**flow.fee_fixed, **facts}
    try:
        request = QuoteRequest.model_validate(
            {
                "authority": case.authority,
                "case_reference": case.id,
                "data_subject": case.subject,
                "fee_rule": dict(flow.fee_rule),
                "facts": calculator_facts,
            }
        )
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise InvalidFeeFacts(
            f"the fee facts are incomplete or invalid: {', '.join(fields)}", fields=fields
        ) from None
    quote = create_quote(session, runtime.payments, principal, request)
    case.fee_facts = dict(facts)
    case.fee_input = {"fee_rule": dict(flow.fee_rule), "facts": calculator_facts}
    case.quote_id, case.payment_id = quote.id, None
    case.waiver_requested = waiver_requested
    case.updated_at = runtime.clock.now()
    audit(
        session,
        runtime,
        principal,
        "cases.fee_facts.write",
        case,
        "quote the fee of the application",
        FEE_BASIS,
    )
    return case, quote


def link_payment(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str, payment_id: str
) -> Case:
    """Link the payment that pays the case's current quote (after the sandbox or the
    payment platform sent the applicant back)."""
    case = visible_case(session, principal, case_id, for_update=True)
    if CaseState(case.state) in FINAL:
        raise CaseConflict("the case is closed")
    payment = visible_payment(session, runtime.payments, principal, payment_id)
    if case.quote_id is None or payment.quote_id != case.quote_id:
        raise CaseConflict("the payment is not for this case's current fee quote")
    case.payment_id = payment.id
    case.updated_at = runtime.clock.now()
    audit(session, runtime, principal, "cases.case.update", case, "link the fee payment")
    return case


# --------------------------------------------------------------------------- withdrawal
def withdraw(session: Session, runtime: CasesRuntime, principal: Principal, case_id: str) -> Case:
    """The applicant withdraws a submitted case (until it is decided). The authority is told
    through the withdrawal hooks (the delivery component sends an event)."""
    case = visible_case(session, principal, case_id, for_update=True)
    if case.state == CaseState.DRAFT:
        raise CaseConflict("a draft is not submitted; delete it instead (DELETE /v1/cases/{id})")
    transition(session, runtime, case, CaseState.WITHDRAWN, actor=principal, reason="withdrawn")
    notice = WithdrawalNotice(
        case_id=case.id,
        authority=case.authority,
        fit_connect_case_id=case.fit_connect_case_id,
        submission_id=case.submission_id,
        at=case.updated_at,
    )
    for hook in runtime.withdrawal_hooks:
        hook(session, notice)
    return case


# --------------------------------------------------------------------------- documents
def provide_documents(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case_id: str,
    documents: list[tuple[str, str]],
) -> Case:
    """Answer the open request for documents with vault documents (``(document id,
    document type)`` pairs) that the applicant owns and shared with the case's authority."""
    case = visible_case(session, principal, case_id, for_update=True)
    if case.state != CaseState.ACTION_REQUIRED:
        raise CaseConflict("the authority has not asked for documents")
    request = session.scalars(
        select(DocumentRequest)
        .where(DocumentRequest.case_id == case.id, DocumentRequest.answered_at.is_(None))
        .order_by(DocumentRequest.requested_at.desc())
    ).first()
    now = runtime.clock.now()
    linked = set(
        session.scalars(select(CaseDocument.document_id).where(CaseDocument.case_id == case.id))
    )
    for document_id, document_type in documents:
        doc = get_document(session, principal, document_id, owned=True)
        if case.authority not in {s.authority for s in shares_of(session, doc.id)}:
            raise CaseConflict(
                f"document {doc.id} is not shared with the case's authority; share it first"
            )
        if doc.id in linked:
            continue
        linked.add(doc.id)
        session.add(
            CaseDocument(
                id=new_id_str(runtime.clock),
                case_id=case.id,
                document_id=doc.id,
                document_type=document_type,
                request_id=request.id if request else None,
                provided_at=now,
            )
        )
    if request is not None:
        request.answered_at = now
    session.flush()
    audit(session, runtime, principal, "cases.documents.provide", case, "answer a request")
    transition(
        session, runtime, case, CaseState.PROCESSING, actor=principal, reason="documents-provided"
    )
    return case


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


def _delete_cases(session: Session, ids: list[str]) -> int:
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
    return ShredReport(component="cases", deleted=_delete_cases(session, ids))


def delete_expired_drafts(session: Session, now: datetime) -> list[str]:
    """Retention ``cases.draft``: cases still in draft whose expiry has passed."""
    ids = list(
        session.scalars(
            select(Case.id).where(Case.state == CaseState.DRAFT.value, Case.draft_expires_at <= now)
        )
    )
    _delete_cases(session, ids)
    return ids
