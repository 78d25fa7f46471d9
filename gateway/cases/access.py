"""Who sees which case (:func:`visible`, the one place that decides), the audit entry of
every access, and the small helpers every case operation shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.i18n import N_
from compliance import AccessEvent, record_access, record_denied
from gateway.cases.declarations import CASE_BASIS
from gateway.cases.errors import CaseConflict, CaseNotFound, UnknownFlow
from gateway.cases.flows import FlowRequirements
from gateway.cases.models import Case, CaseDocument, DocumentRequest, Draft, TimelineEntry
from gateway.cases.runtime import CasesRuntime
from gateway.cases.states import VISIBLE_TO_AUTHORITY, CaseState

SYSTEM = Principal(
    subject="ozg-commons/cases", roles=frozenset({Role.ADMIN}), client_id="ozg-commons"
)
"""The sender of status notices and the actor of retention and delivery-driven changes."""


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
    if principal.has(Role.FLOW):  # the applicant names the flow by its OAuth client id
        conditions.append(Case.flow_client == (principal.client_id or principal.subject))
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


def require_draft(case: Case) -> None:
    if case.state != CaseState.DRAFT:
        raise CaseConflict(N_("the case was submitted; only a draft can be changed"))


def expiry(runtime: CasesRuntime, case: Case, now: datetime) -> datetime:
    flow = runtime.flows(case.flow_id)
    days = runtime.draft_retention_days(flow.draft_retention_days if flow else None)
    return now + timedelta(days=days)


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
