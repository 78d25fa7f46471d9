"""HTTP routes of the cases component: thin handlers over ``service.py`` (the applicant, and
flow clients within a case the applicant allowed) and ``casework.py`` (the authority)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from account import Principal, Role, Scope, require_roles, require_scope
from commons.text import decimal_int
from commons.web import DbSession, upload_body
from gateway.cases import casework, service
from gateway.cases.errors import ReceiptNotFound, SealedContentTooLarge
from gateway.cases.models import Case
from gateway.cases.runtime import CasesRuntime
from gateway.cases.schemas import (
    AuthorityIn,
    CaseApplicantKeyOut,
    CaseIn,
    CaseOut,
    CaseSummary,
    DecisionIn,
    DecisionOut,
    DocumentRequestOut,
    DocumentsIn,
    FeeAdjustmentOut,
    FeeFactsIn,
    FeeFactsOut,
    FlowClientIn,
    LinkedDocumentOut,
    PaymentLinkIn,
    RequestDocumentsIn,
    TimelineOut,
    WaiverDecisionIn,
)
from gateway.cases.states import label
from payments import quote_out

router = APIRouter(tags=["cases"])
authority_router = APIRouter(prefix="/authority", tags=["cases (authority)"])

OCTET_STREAM = "application/octet-stream"


def _runtime(request: Request) -> CasesRuntime:
    runtime: CasesRuntime = request.app.state.cases
    return runtime


Runtime = Annotated[CasesRuntime, Depends(_runtime)]
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
ApplicantOrFlow = Annotated[Principal, Depends(require_roles(Role.APPLICANT, Role.FLOW))]
Caseworker = Annotated[Principal, Depends(require_roles(Role.CASEWORKER))]
CasesRead = [Depends(require_scope(Scope.CASES_READ))]
CasesWrite = [Depends(require_scope(Scope.CASES_WRITE))]
StateName = Literal[
    "draft", "submitted", "received", "processing", "action_required", "decided", "withdrawn"
]


def case_summary(case: Case) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        flow_id=case.flow_id,
        flow_version=case.flow_version,
        authority=case.authority,
        state=case.state,
        status=label(case.state),
        outcome=case.outcome,
        created_at=case.created_at,
        last_change_at=case.updated_at,
        fit_connect_case_id=case.fit_connect_case_id,
        submission_id=case.submission_id,
    )


def case_out(session: Session, case: Case) -> CaseOut:
    detail = service.detail_of(session, case)
    return CaseOut(
        **case_summary(case).model_dump(),
        flow_client=case.flow_client,
        quote_id=case.quote_id,
        payment_id=case.payment_id,
        refund_id=case.refund_id,
        waiver_requested=case.waiver_requested,
        waiver_decision=case.waiver_decision,
        fee_facts=case.fee_facts,
        has_draft=detail.has_draft,
        draft_expires_at=case.draft_expires_at,
        submitted_at=case.submitted_at,
        decided_at=case.decided_at,
        documents=[
            LinkedDocumentOut(
                document_id=d.document_id, document_type=d.document_type, provided_at=d.provided_at
            )
            for d in detail.documents
        ],
        document_requests=[
            DocumentRequestOut(
                id=r.id,
                message_id=r.message_id,
                document_types=list(r.document_types),
                requested_at=r.requested_at,
                answered_at=r.answered_at,
            )
            for r in detail.requests
        ],
        timeline=[
            TimelineOut(
                from_state=t.from_state,
                to_state=t.to_state,
                status=label(t.to_state),
                at=t.at,
                actor_kind=t.actor_kind,
                reason=t.reason,
            )
            for t in detail.timeline
        ],
    )


# --------------------------------------------------------------------------- applicant
@router.post("/cases", status_code=201)
def create_case(
    body: CaseIn, session: DbSession, runtime: Runtime, principal: Applicant
) -> CaseOut:
    """Start an application for a flow (the applicant's trust level must reach the flow's
    level to start; else 401 with a step-up challenge, RFC 9470)."""
    case = service.create_case(session, runtime, principal, body.flow_id, body.allow_client)
    return case_out(session, case)


@router.get("/cases", dependencies=CasesRead)
def list_cases(
    session: DbSession, runtime: Runtime, principal: ApplicantOrFlow
) -> list[CaseSummary]:
    """The caller's cases with their state and last change, newest first."""
    return [case_summary(c) for c in service.list_cases(session, runtime, principal)]


@router.get("/cases/{case_id}", dependencies=CasesRead)
def get_case(
    case_id: str, session: DbSession, runtime: Runtime, principal: ApplicantOrFlow
) -> CaseOut:
    """One case with its status timeline."""
    return case_out(session, service.read_case(session, runtime, principal, case_id))


@router.get("/cases/{case_id}/receipt", dependencies=CasesRead)
def get_receipt(
    case_id: str, session: DbSession, runtime: Runtime, principal: ApplicantOrFlow
) -> dict[str, Any]:
    """The signed submission receipt (docs/receipts.md, kind ``submission``): 404 before
    the case was submitted."""
    from commons.receipts import verify
    from gateway.delivery.receipts import stored_receipt

    case = service.read_case(session, runtime, principal, case_id)
    token = stored_receipt(session, case.submission_id) if case.submission_id else None
    if token is None:
        raise ReceiptNotFound()
    claims = verify(token, request_jwks(runtime)).claims
    return {"receipt": token, "kind": "submission", "claims": dict(claims)}


def request_jwks(runtime: CasesRuntime) -> dict[str, Any]:
    signer: Any = runtime.app.state.receipt_signer
    jwks: dict[str, Any] = signer.jwks()
    return jwks


@router.delete("/cases/{case_id}", status_code=204)
def delete_case(
    case_id: str, session: DbSession, runtime: Runtime, principal: Applicant
) -> Response:
    """Abandon a draft (a submitted case is withdrawn instead)."""
    service.delete_draft_case(session, runtime, principal, case_id)
    return Response(status_code=204)


@router.put("/cases/{case_id}/flow-client")
def allow_flow_client(
    case_id: str, body: FlowClientIn, session: DbSession, runtime: Runtime, principal: Applicant
) -> CaseOut:
    """Let an external flow (its client id) act within the case, in place of any before
    (409 once the case is closed)."""
    case = service.set_flow_client(session, runtime, principal, case_id, body.client_id)
    return case_out(session, case)


@router.delete("/cases/{case_id}/flow-client", status_code=204)
def revoke_flow_client(
    case_id: str, session: DbSession, runtime: Runtime, principal: Applicant
) -> Response:
    """Take the flow's permission back: from now on it gets 404 for the case."""
    service.set_flow_client(session, runtime, principal, case_id, None)
    return Response(status_code=204)


async def _sealed_body(request: Request) -> bytes:
    """The request body, read up to the configured limit (413 beyond it)."""
    limit: int = request.app.state.cases.settings.max_sealed_bytes
    declared = decimal_int(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise SealedContentTooLarge(f"sealed content is at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SealedContentTooLarge(f"sealed content is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


SealedBody = Annotated[bytes, Depends(_sealed_body)]


@router.put(
    "/cases/{case_id}/draft",
    status_code=204,
    dependencies=CasesWrite,
    openapi_extra=upload_body(
        requestBody={
            "required": True,
            "description": "The draft as a vault envelope sealed on the device to the "
            "applicant's own vault key (docs/envelope.md); at most OZG_CASES_MAX_SEALED_BYTES.",
            "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    ),
)
def put_draft(
    case_id: str,
    data: SealedBody,
    session: DbSession,
    runtime: Runtime,
    principal: ApplicantOrFlow,
) -> Response:
    """Save the sealed draft (replacing the previous one). The server checks only that it
    is a well-formed envelope sealed to the applicant's key: 422 otherwise."""
    service.put_draft(session, runtime, principal, case_id, data)
    return Response(status_code=204)


@router.get(
    "/cases/{case_id}/draft",
    dependencies=CasesRead,
    response_class=Response,
    responses={200: {"content": {OCTET_STREAM: {}}}},
)
def get_draft(
    case_id: str, session: DbSession, runtime: Runtime, principal: ApplicantOrFlow
) -> Response:
    """The sealed draft, byte for byte as saved (resume on any device)."""
    draft = service.get_draft(session, runtime, principal, case_id)
    return Response(draft.envelope, media_type=OCTET_STREAM)


@router.put("/cases/{case_id}/authority", dependencies=CasesWrite)
def choose_authority(
    case_id: str,
    body: AuthorityIn,
    session: DbSession,
    runtime: Runtime,
    principal: ApplicantOrFlow,
) -> CaseOut:
    """The authority the device chose from the public routing endpoint."""
    case = service.choose_authority(session, runtime, principal, case_id, body.authority)
    return case_out(session, case)


@router.put("/cases/{case_id}/fee-facts", dependencies=CasesWrite)
def declare_fee_facts(
    case_id: str,
    body: FeeFactsIn,
    session: DbSession,
    runtime: Runtime,
    principal: ApplicantOrFlow,
) -> FeeFactsOut:
    """The fee facts the flow declares (after the applicant saw them) -> a fee quote."""
    case, quote = service.declare_fee_facts(
        session, runtime, principal, case_id, body.facts, body.waiver_requested
    )
    return FeeFactsOut(
        case_id=case.id,
        fee_facts=dict(case.fee_facts or {}),
        waiver_requested=case.waiver_requested,
        quote=quote_out(session, quote),
    )


@router.post("/cases/{case_id}/payment", dependencies=CasesWrite)
def link_payment(
    case_id: str,
    body: PaymentLinkIn,
    session: DbSession,
    runtime: Runtime,
    principal: ApplicantOrFlow,
) -> CaseOut:
    """Link the payment of the case's current quote."""
    case = service.link_payment(session, runtime, principal, case_id, body.payment_id)
    return case_out(session, case)


@router.post("/cases/{case_id}/withdraw")
def withdraw(case_id: str, session: DbSession, runtime: Runtime, principal: Applicant) -> CaseOut:
    """Withdraw a submitted case, until it is decided; the authority is told."""
    return case_out(session, service.withdraw(session, runtime, principal, case_id))


@router.post("/cases/{case_id}/documents")
def provide_documents(
    case_id: str,
    body: DocumentsIn,
    session: DbSession,
    runtime: Runtime,
    principal: Applicant,
) -> CaseOut:
    """Answer a request for documents with vault documents shared with the authority."""
    pairs = [(d.document_id, d.document_type) for d in body.documents]
    return case_out(session, service.provide_documents(session, runtime, principal, case_id, pairs))


# --------------------------------------------------------------------------- authority
@authority_router.get("/cases")
def authority_cases(
    session: DbSession,
    runtime: Runtime,
    principal: Caseworker,
    state: StateName | None = None,
) -> list[CaseSummary]:
    """The cases of the caseworker's authority (never a draft, never another authority's)."""
    cases = casework.authority_cases(session, runtime, principal, state)
    return [case_summary(c) for c in cases]


@authority_router.get("/cases/{case_id}")
def authority_case(
    case_id: str, session: DbSession, runtime: Runtime, principal: Caseworker
) -> CaseOut:
    return case_out(session, casework.authority_case(session, runtime, principal, case_id))


@authority_router.get("/cases/{case_id}/applicant-key")
def applicant_key(
    case_id: str, session: DbSession, runtime: Runtime, principal: Caseworker
) -> CaseApplicantKeyOut:
    """The applicant's public vault key: the authority's client seals a message or the
    decision letter to it on the authority's device (recorded in the audit trail)."""
    case, jwk, kid = casework.applicant_key_of(session, runtime, principal, case_id)
    return CaseApplicantKeyOut(case_id=case.id, kid=kid, public_jwk=jwk)


@authority_router.post("/cases/{case_id}/processing")
def start_processing(
    case_id: str, session: DbSession, runtime: Runtime, principal: Caseworker
) -> CaseOut:
    """The authority works on the case (from received, or back from action required)."""
    return case_out(session, casework.start_processing(session, runtime, principal, case_id))


@authority_router.post("/cases/{case_id}/request-documents")
def request_documents(
    case_id: str,
    body: RequestDocumentsIn,
    session: DbSession,
    runtime: Runtime,
    principal: Caseworker,
) -> CaseOut:
    """Ask for more documents, with a message sealed to the applicant's vault key; the
    applicant's mailbox gets it under a neutral title (category request-for-documents)."""
    case, _request = casework.request_documents(
        session, runtime, principal, case_id, body.document_types, body.message
    )
    return case_out(session, case)


@authority_router.post("/cases/{case_id}/decision")
def decide(
    case_id: str,
    body: DecisionIn,
    session: DbSession,
    runtime: Runtime,
    principal: Caseworker,
) -> DecisionOut:
    """Decide, with the decision letter (a PDF) sealed to the applicant's vault key. A
    rejection recalculates the fee (§ 49 AufenthV) and refunds what was paid above it."""
    case, adjustment = casework.decide(
        session, runtime, principal, case_id, body.outcome, body.letter
    )
    return DecisionOut(
        case=case_out(session, case),
        fee_adjustment=None
        if adjustment is None
        else FeeAdjustmentOut(
            rejection_fee_cents=adjustment.rejection_fee_cents,
            paid_cents=adjustment.paid_cents,
            refunded_cents=adjustment.refunded_cents,
            refund_id=adjustment.refund_id,
            currency=adjustment.currency,
        ),
    )


@authority_router.post("/cases/{case_id}/waiver")
def decide_waiver(
    case_id: str,
    body: WaiverDecisionIn,
    session: DbSession,
    runtime: Runtime,
    principal: Caseworker,
) -> CaseOut:
    """Decide the hardship waiver requested with the application: the case is then waived,
    or the applicant pays."""
    return case_out(
        session, casework.decide_waiver(session, runtime, principal, case_id, body.decision)
    )
