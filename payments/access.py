"""Who may see which quotes and payments, and the audit record of every access.

The one place that scopes payment data to the principal asking (:func:`visible_to`), so that
no handler re-checks it ad hoc.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.clock import Clock, system_clock
from compliance import AccessEvent, record_access, record_denied
from payments.declarations import FEE_BASIS
from payments.errors import PaymentForbidden
from payments.models import Payment, Quote
from payments.runtime import PaymentsRuntime


def audit(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    action: str,
    subject: str | None,
    resource: str,
    purpose: str,
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=subject,
            action=action,
            resource=resource,
            purpose=purpose,
            legal_basis=FEE_BASIS,
        ),
        clock=runtime.clock,
    )


def visible_to(
    principal: Principal, model: type[Quote] | type[Payment], *, to_pay: bool = False
) -> ColumnElement[bool]:
    """The one place that decides which quotes and payments a principal may see, as a
    query condition: caseworkers their authority's, flow clients those they created,
    applicants those about themselves.

    ``to_pay=True`` scopes the quotes a principal may start a payment for: a flow client
    those it created, an applicant their own (``data_subject``); caseworkers never start
    payments, so their authority's quotes are not included."""
    conditions: list[ColumnElement[bool]] = []
    if principal.has(Role.CASEWORKER) and principal.authority is not None and not to_pay:
        conditions.append(model.authority == principal.authority)
    if principal.has(Role.FLOW):
        conditions.append(model.created_by == principal.subject)
    if principal.has(Role.APPLICANT):
        conditions.append(model.data_subject == principal.subject)
    return or_(false(), *conditions)


def record_refusal(
    session: Session,
    principal: Principal,
    model: type[Quote] | type[Payment],
    row_id: str,
    *,
    clock: Clock = system_clock,
) -> None:
    """A quote or payment that exists but that :func:`visible_to` hides from the principal:
    an audit entry with outcome ``denied`` (kept though the refusal rolls back)."""
    found = session.execute(select(model.data_subject).where(model.id == row_id)).first()
    if found is None:
        return  # no such row: nobody's data was at stake
    kind = "quote" if model is Quote else "payment"
    record_denied(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=found[0],
            action="payments.access_denied",
            resource=f"payments/{kind}/{row_id}",
            purpose="documenting a refused access to personal data",
            legal_basis="Art. 5(2), Art. 32 GDPR",
            outcome="denied",
        ),
        clock=clock,
    )


def require_caseworker_of(principal: Principal, authority: str) -> None:
    if not (principal.has(Role.CASEWORKER) and principal.authority == authority):
        raise PaymentForbidden("only caseworkers of the owning authority may do this")
