"""Case logic for the applicant (and flow clients acting within an allowed case): create,
draft, fee facts, payment link, withdrawal, documents.

No HTTP here and no commit: the caller's unit of work decides. Every query that returns a
case goes through :func:`~gateway.cases.access.visible`; every state change through
:func:`~gateway.cases.timeline.transition`; export, erasure and draft expiry are
:mod:`gateway.cases.personal_data`.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from account import InsufficientUserAuthentication, Principal, touch
from commons.i18n import N_
from commons.ids import new_id_str
from gateway.cases.access import (
    SYSTEM,
    CaseDetail,
    actor_kind,
    audit,
    detail_of,
    expiry,
    flow_of,
    require_draft,
    visible,
    visible_case,
)
from gateway.cases.declarations import FEE_BASIS
from gateway.cases.errors import CaseConflict, DraftNotFound, InvalidFeeFacts
from gateway.cases.models import Case, CaseDocument, DocumentRequest, Draft
from gateway.cases.personal_data import (
    delete_cases,
    delete_expired_drafts,
    export_personal_data,
    shred_personal_data,
)
from gateway.cases.runtime import CasesRuntime, WithdrawalNotice
from gateway.cases.sealed import applicant_kid, check_sealed
from gateway.cases.states import FINAL, CaseState
from gateway.cases.timeline import STATUS_TITLE, notify_status, timeline_row, transition
from payments import Quote, QuoteRequest, create_quote, visible_payment
from vault import get_document, shares_of

__all__ = [
    "STATUS_TITLE",
    "SYSTEM",
    "CaseDetail",
    "actor_kind",
    "audit",
    "choose_authority",
    "create_case",
    "declare_fee_facts",
    "delete_draft_case",
    "delete_expired_drafts",
    "detail_of",
    "export_personal_data",
    "flow_of",
    "get_draft",
    "link_payment",
    "list_cases",
    "notify_status",
    "provide_documents",
    "put_draft",
    "read_case",
    "set_flow_client",
    "shred_personal_data",
    "transition",
    "visible",
    "visible_case",
    "withdraw",
]

log = logging.getLogger("ozg.cases")


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
    case.draft_expires_at = expiry(runtime, case, now)
    session.add(case)
    session.flush()
    timeline_row(session, runtime, case, None, CaseState.DRAFT.value, "applicant", "created", now)
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


def delete_draft_case(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str
) -> None:
    """The applicant abandons a draft: the case and its sealed draft are deleted."""
    case = visible_case(session, principal, case_id, for_update=True)
    require_draft(case)
    audit(session, runtime, principal, "cases.case.delete", case, "abandon a draft")
    delete_cases(session, [case.id])


def set_flow_client(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case_id: str,
    client_id: str | None,
) -> Case:
    """The applicant lets an external flow (its OAuth client id) act within the case, in
    place of any flow allowed before, or with ``None`` takes the permission back. Nothing
    of the case's content changes hands: the flow sees what the routes it has scopes for
    return (states, the sealed draft, fee facts)."""
    case = visible_case(session, principal, case_id, for_update=True)
    if client_id is not None and CaseState(case.state) in FINAL:
        raise CaseConflict(N_("the case is closed; no flow can act in it any more"))
    revoked = client_id is None
    case.flow_client = client_id
    case.updated_at = runtime.clock.now()
    audit(
        session,
        runtime,
        principal,
        "cases.flow_client.revoke" if revoked else "cases.flow_client.allow",
        case,
        "end an external flow's permission" if revoked else "let an external flow act",
    )
    return case


# --------------------------------------------------------------------------- drafts
def put_draft(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str, data: bytes
) -> Draft:
    case = visible_case(session, principal, case_id, for_update=True)
    require_draft(case)
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
    case.draft_expires_at = expiry(runtime, case, now)
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
    require_draft(case)
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
    require_draft(case)
    if case.authority is None:
        raise CaseConflict(N_("choose the authority first (PUT /v1/cases/{id}/authority)"))
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
        raise CaseConflict(N_("the case is closed"))
    payment = visible_payment(session, runtime.payments, principal, payment_id)
    if case.quote_id is None or payment.quote_id != case.quote_id:
        raise CaseConflict(N_("the payment is not for this case's current fee quote"))
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
        raise CaseConflict(
            N_("a draft is not submitted; delete it instead (DELETE /v1/cases/{id})")
        )
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
        raise CaseConflict(N_("the authority has not asked for documents"))
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
