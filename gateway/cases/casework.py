"""The authority's side of a case, for caseworkers of the case's authority: list, move to
processing, request documents, decide (with the fee that changes on rejection), and decide
a hardship waiver. No HTTP here and no commit.

Messages to the applicant are sealed on the authority's device to the applicant's vault key;
the server checks the envelope's structure, stores it with a neutral title and never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from account import Message, Principal, send_message
from commons.i18n import N_
from gateway.cases.declarations import AUTHORITY_BASIS, FEE_BASIS
from gateway.cases.errors import CaseConflict, IllegalTransition
from gateway.cases.models import Case, DocumentRequest
from gateway.cases.runtime import CasesRuntime
from gateway.cases.sealed import applicant_key, applicant_kid, check_sealed_text
from gateway.cases.service import audit, transition, visible, visible_case
from gateway.cases.states import AT_AUTHORITY, CaseState, Outcome
from payments import (
    CaseFacts,
    CaseFactsIn,
    FeeRule,
    PaymentState,
    calculate,
    grant_waiver,
    refund_payment,
    visible_payment,
)

HARDSHIP_BASIS = "§ 53 Abs. 2 AufenthV (Absehen von der Gebührenerhebung, hardship waiver)"
REJECTION_REFUND_REASON = "§ 49 AufenthV: the rejection fee is lower than the fee paid"


def authority_title(runtime: CasesRuntime, authority: str) -> str:
    """The neutral title of a message from an authority (no content, no case details)."""
    info = runtime.authority(authority)
    return f"Neue Nachricht von {info.name_de} / New message from {info.name_en}"


def authority_cases(
    session: Session, runtime: CasesRuntime, principal: Principal, state: str | None
) -> list[Case]:
    query = select(Case).where(visible(principal))
    if state is not None:
        query = query.where(Case.state == CaseState(state).value)
    cases = list(session.scalars(query.order_by(Case.submitted_at).limit(500)))
    for case in cases:
        audit(
            session,
            runtime,
            principal,
            "cases.authority.read",
            case,
            "list the authority's cases",
            AUTHORITY_BASIS,
        )
    return cases


def authority_case(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str
) -> Case:
    case = visible_case(session, principal, case_id)
    audit(
        session,
        runtime,
        principal,
        "cases.authority.read",
        case,
        "handle the case",
        AUTHORITY_BASIS,
    )
    return case


def applicant_key_of(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str
) -> tuple[Case, dict[str, Any], str]:
    """The applicant's public vault key, for a caseworker of the case's authority to seal a
    message or the decision letter to on the authority's device (recorded)."""
    case = visible_case(session, principal, case_id)
    jwk, kid = applicant_key(session, case.subject)
    audit(
        session,
        runtime,
        principal,
        "cases.applicant_key.read",
        case,
        "seal a message to the applicant",
        AUTHORITY_BASIS,
    )
    return case, jwk, kid


def start_processing(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str
) -> Case:
    case = visible_case(session, principal, case_id, for_update=True)
    transition(
        session, runtime, case, CaseState.PROCESSING, actor=principal, reason="processing-started"
    )
    return case


def _sealed_message(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case: Case,
    body: str,
    category: str,
) -> Message:
    assert case.authority is not None  # noqa: S101 - visible to a caseworker implies it
    return send_message(
        session,
        principal,
        recipient_subject=case.subject,
        title=authority_title(runtime, case.authority),
        body=body,
        body_format="ozg-envelope",
        category=category,
        document_refs=[],
        case_ref=case.id,
        notifier=runtime.notifier,
        clock=runtime.clock,
    )


def request_documents(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case_id: str,
    document_types: list[str],
    sealed_message: str,
) -> tuple[Case, DocumentRequest]:
    case = visible_case(session, principal, case_id, for_update=True)
    body = check_sealed_text(
        sealed_message, applicant_kid(session, case.subject), runtime.settings.max_sealed_bytes
    )
    transition(
        session,
        runtime,
        case,
        CaseState.ACTION_REQUIRED,
        actor=principal,
        reason="documents-requested",
    )
    message = _sealed_message(session, runtime, principal, case, body, "request-for-documents")
    request = DocumentRequest(
        id=message.id,
        case_id=case.id,
        message_id=message.id,
        document_types=sorted(set(document_types)),
        requested_at=runtime.clock.now(),
    )
    session.add(request)
    session.flush()
    return case, request


@dataclass(frozen=True, slots=True)
class FeeAdjustment:
    rejection_fee_cents: int
    paid_cents: int
    refunded_cents: int
    refund_id: str | None
    currency: str


def decide(
    session: Session,
    runtime: CasesRuntime,
    principal: Principal,
    case_id: str,
    outcome: str,
    sealed_letter: str,
) -> tuple[Case, FeeAdjustment | None]:
    """Decide the case and deliver the sealed decision letter. A rejection recalculates the
    fee (§ 49 AufenthV) and refunds the difference when it is lower than what was paid."""
    case = visible_case(session, principal, case_id, for_update=True)
    chosen = Outcome(outcome)
    if CaseState(case.state) not in AT_AUTHORITY:
        # submitted -> decided is the delivery rejection's step; the authority decides
        # only what it received
        raise IllegalTransition(case.state, CaseState.DECIDED.value)
    body = check_sealed_text(
        sealed_letter, applicant_kid(session, case.subject), runtime.settings.max_sealed_bytes
    )
    transition(
        session,
        runtime,
        case,
        CaseState.DECIDED,
        actor=principal,
        reason=chosen.value,
        outcome=chosen.value,
    )
    _sealed_message(session, runtime, principal, case, body, "decision")
    adjustment = None
    if chosen == Outcome.REJECTED:
        adjustment = _rejection_fee(session, runtime, principal, case)
    return case, adjustment


def _rejection_fee(
    session: Session, runtime: CasesRuntime, principal: Principal, case: Case
) -> FeeAdjustment | None:
    if case.fee_input is None or case.payment_id is None:
        return None  # nothing was paid (waived, or no fee)
    payment = visible_payment(
        session, runtime.payments, principal, case.payment_id, for_update=True
    )
    if PaymentState(payment.state) not in (PaymentState.BOOKED, PaymentState.PARTIALLY_REFUNDED):
        return None
    # Stored facts, as sent before request bodies were strict ("24" then passed): read laxly.
    facts = CaseFactsIn.model_validate(case.fee_input["facts"], strict=False).model_dump()
    facts.pop("decision_date", None)
    facts["outcome"] = "rejection"
    result = calculate(
        FeeRule(**case.fee_input["fee_rule"]),
        CaseFacts(decision_date=runtime.clock.now().date(), **facts),
    )
    paid = payment.amount_cents - payment.refunded_cents
    if result.total_cents >= paid:
        return FeeAdjustment(result.total_cents, paid, 0, None, payment.currency)
    refund = refund_payment(
        session,
        runtime.payments,
        principal,
        payment.id,
        amount_cents=paid - result.total_cents,
        reason=REJECTION_REFUND_REASON,
        idempotency_key=f"cases:{case.id}:rejection-fee",
    )
    case.refund_id = refund.id
    return FeeAdjustment(result.total_cents, paid, refund.amount_cents, refund.id, payment.currency)


WAIVER_TEXT = {
    "granted": (
        "Die Gebühr für Ihren Antrag wird erlassen.",
        "The fee for your application is waived.",
    ),
    "refused": (
        "Ihr Antrag auf Gebührenbefreiung wurde abgelehnt. Bitte bezahlen Sie die Gebühr.",
        "Your request for a fee waiver was refused. Please pay the fee.",
    ),
}


def decide_waiver(
    session: Session, runtime: CasesRuntime, principal: Principal, case_id: str, decision: str
) -> Case:
    """Decide the hardship waiver the applicant requested with the application: granted,
    the fee is waived (an exemption in payments); refused, the applicant pays."""
    case = visible_case(session, principal, case_id, for_update=True)
    if CaseState(case.state) not in AT_AUTHORITY:
        raise CaseConflict(N_("a waiver is decided after receipt and before the decision"))
    if not case.waiver_requested or case.quote_id is None:
        raise CaseConflict(N_("no fee waiver was requested for this case"))
    if case.waiver_decision is not None:
        raise CaseConflict(N_("the waiver was already decided"))
    if decision == "granted":
        grant_waiver(
            session,
            runtime.payments,
            principal,
            case.quote_id,
            kind="exemption",
            amount_due_cents=0,
            legal_basis=HARDSHIP_BASIS,
            reason=None,
        )
    case.waiver_decision = decision
    case.updated_at = runtime.clock.now()
    assert case.authority is not None  # noqa: S101 - visible to a caseworker implies it
    de, en = WAIVER_TEXT[decision]
    send_message(
        session,
        principal,
        recipient_subject=case.subject,
        title=authority_title(runtime, case.authority),
        body=f"{de}\n\n{en}\n",
        category="payment",
        document_refs=[],
        case_ref=case.id,
        notifier=runtime.notifier,
        clock=runtime.clock,
    )
    audit(
        session, runtime, principal, "cases.waiver.decide", case, "decide a fee waiver", FEE_BASIS
    )
    return case
