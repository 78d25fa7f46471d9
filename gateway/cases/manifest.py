"""The submit check the delivery service runs, and the hook through which it moves cases.

**The check.** Our own clients add a plaintext *submission manifest* (format
``ozg-manifest/1``, specified in docs/delivery.md) to a FIT-Connect submission: the case,
flow, authority, payment and the announced parts with their document types and sizes;
never form values, file names or metadata.
:func:`evaluate` is a pure function over plain data that returns
every :class:`Problem` (in German and English) that stops the submission;
:func:`check_manifest` gathers that data from the database; :func:`submit_check` is the
``SubmitCheck`` (``(session, submission) -> list[Problem]``) registered on
``app.state.delivery.submit_checks``.

**The hook.** :func:`on_delivery_event` moves the case when the delivery service records
``submit-submission`` (-> submitted), ``accept-submission`` (-> received) or
``reject-submission`` (-> decided/rejected, reason ``delivery-rejected``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from account import Principal, Role
from gateway.cases.access import audit, visible
from gateway.cases.flows import FlowRequirements
from gateway.cases.models import Case, Draft
from gateway.cases.runtime import CasesRuntime
from gateway.cases.states import CaseState, Outcome, can_transition
from gateway.cases.timeline import transition
from gateway.delivery.checks import OZG_PROBLEMS
from gateway.delivery.checks import Problem as Problem
from gateway.delivery.schemas import MANIFEST_FORMAT as MANIFEST_FORMAT
from gateway.delivery.schemas import Manifest as WireManifest
from payments import PaymentNotFound, PaymentState, amount_due, visible_payment, visible_quote

log = logging.getLogger("ozg.cases.delivery")


def _problem(code: str, de: str, en: str) -> Problem:
    """An ozg-commons rule's refusal: type ``urn:ozg-commons:problem:<code>``."""
    return Problem(type=OZG_PROBLEMS + code, en=en, de=de)


@dataclass(frozen=True, slots=True)
class ManifestPart:
    document_type: str
    size: int
    attachment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the rules read of an ``ozg-manifest/1`` (its one specification, and its JSON
    schema, are the delivery component's: docs/delivery.md, ``gateway.delivery.schemas``)."""

    case_id: str
    flow_id: str
    authority_id: str
    payment_id: str | None
    parts: tuple[ManifestPart, ...]


def parse_manifest(data: Any) -> Manifest | Problem:
    """The manifest, or the one problem naming the first field that is wrong."""
    try:
        parsed = WireManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the manifest"
        return _problem(
            "manifest-malformed",
            f"Das Einreichungsmanifest ist fehlerhaft: {where}.",
            f"The submission manifest is malformed: {where}.",
        )
    return Manifest(
        case_id=parsed.case_id,
        flow_id=parsed.flow,
        authority_id=parsed.authority,
        payment_id=parsed.payment_id,
        parts=tuple(ManifestPart(p.document_type, p.size, p.attachment_id) for p in parsed.parts),
    )


# --------------------------------------------------------------------------- the pure check
@dataclass(frozen=True, slots=True)
class CaseView:
    """What the check needs of the case the manifest names, if the sender may act in it."""

    id: str
    state: str
    flow_id: str
    authority: str | None
    quote_id: str | None
    waiver_requested: bool


@dataclass(frozen=True, slots=True)
class FeeView:
    """The fee as payments sees it: what is due on the case's quote (0: exempt, waived or
    free) and the state of the payment the manifest names, if it pays that quote."""

    amount_due_cents: int
    payment_state: str | None
    payment_for_quote: bool


def evaluate(
    manifest: Manifest,
    case: CaseView | None,
    flow: FlowRequirements | None,
    fee: FeeView | None,
) -> list[Problem]:
    """Every reason the submission described by ``manifest`` must be refused."""
    if case is None:
        return [
            _problem(
                "case-unknown",
                "Der im Manifest genannte Antrag existiert nicht oder gehört nicht zu Ihnen.",
                "The case the manifest names does not exist or is not yours.",
            )
        ]
    problems: list[Problem] = []
    if case.state != CaseState.DRAFT:
        problems.append(
            _problem(
                "case-not-draft",
                "Der Antrag wurde bereits eingereicht.",
                "The case was already submitted.",
            )
        )
    if manifest.flow_id != case.flow_id:
        problems.append(
            _problem(
                "flow-mismatch",
                f"Das Manifest nennt das Verfahren {manifest.flow_id}, der Antrag gehört zu "
                f"{case.flow_id}.",
                f"The manifest names the flow {manifest.flow_id}; the case belongs to "
                f"{case.flow_id}.",
            )
        )
    if case.authority is None:
        problems.append(
            _problem(
                "authority-missing",
                "Für den Antrag ist noch keine Behörde gewählt.",
                "No authority has been chosen for the case.",
            )
        )
    elif manifest.authority_id != case.authority:
        problems.append(
            _problem(
                "authority-mismatch",
                f"Das Manifest nennt die Behörde {manifest.authority_id}, der Antrag geht an "
                f"{case.authority}.",
                f"The manifest names the authority {manifest.authority_id}; the case goes to "
                f"{case.authority}.",
            )
        )
    if flow is None:
        problems.append(
            _problem(
                "flow-unknown",
                f"Das Verfahren {case.flow_id} ist nicht installiert.",
                f"The flow {case.flow_id} is not installed.",
            )
        )
    else:
        present = {p.document_type for p in manifest.parts}
        for doc in flow.required_documents:
            if doc.type not in present:
                problems.append(
                    _problem(
                        "document-missing",
                        f"Es fehlt das Pflichtdokument „{doc.title_de}“ ({doc.type}).",
                        f"The required document “{doc.title_en}” ({doc.type}) is missing.",
                    )
                )
    problems += _fee_problems(manifest, case, fee)
    return problems


def _fee_problems(manifest: Manifest, case: CaseView, fee: FeeView | None) -> list[Problem]:
    if case.quote_id is None or fee is None:
        return [
            _problem(
                "fee-not-quoted",
                "Für den Antrag wurde noch keine Gebühr berechnet.",
                "No fee has been quoted for the case yet.",
            )
        ]
    if manifest.payment_id is not None and not fee.payment_for_quote:
        return [
            _problem(
                "payment-mismatch",
                "Die genannte Zahlung gehört nicht zur aktuellen Gebühr des Antrags.",
                "The payment named is not for the case's current fee.",
            )
        ]
    if fee.amount_due_cents == 0 or case.waiver_requested:
        return []  # exempt or waived, or the authority decides the waiver after receipt
    if manifest.payment_id is None:
        return [
            _problem(
                "fee-unpaid",
                "Die Gebühr ist nicht bezahlt, und es wurde keine Gebührenbefreiung beantragt.",
                "The fee is not paid, and no fee waiver was requested.",
            )
        ]
    if fee.payment_state != PaymentState.BOOKED:
        return [
            _problem(
                "fee-unpaid",
                "Die Zahlung der Gebühr ist noch nicht gebucht.",
                "The payment of the fee is not booked yet.",
            )
        ]
    return []


# --------------------------------------------------------------------------- the adapter
def check_manifest(
    session: Session, runtime: CasesRuntime, manifest_data: Any, sender: Principal
) -> list[Problem]:
    """Gather what :func:`evaluate` needs for ``manifest_data`` sent by ``sender``."""
    parsed = parse_manifest(manifest_data)
    if isinstance(parsed, Problem):
        return [parsed]
    case = session.scalars(
        select(Case).where(Case.id == parsed.case_id, visible(sender))
    ).one_or_none()
    if case is None or sender.has(Role.CASEWORKER):
        return evaluate(parsed, None, None, None)
    view = CaseView(
        case.id, case.state, case.flow_id, case.authority, case.quote_id, case.waiver_requested
    )
    fee = _fee_view(session, runtime, case, parsed.payment_id)
    problems = evaluate(parsed, view, runtime.flows(case.flow_id), fee)
    audit(session, runtime, sender, "cases.submission.check", case, "check a submission")
    return problems


def _fee_view(
    session: Session, runtime: CasesRuntime, case: Case, payment_id: str | None
) -> FeeView | None:
    if case.quote_id is None:
        return None
    # The sender may act in the case; the fee is read on behalf of its applicant.
    owner = Principal(subject=case.subject, roles=frozenset({Role.APPLICANT}))
    try:
        quote = visible_quote(session, owner, case.quote_id)
    except PaymentNotFound:
        return None
    state, for_quote = None, False
    if payment_id is not None:
        try:
            payment = visible_payment(
                session, runtime.payments, owner, payment_id, audit_action=None
            )
        except PaymentNotFound:
            pass
        else:
            state, for_quote = payment.state, payment.quote_id == quote.id
    return FeeView(amount_due(session, quote), state, for_quote)


def sender_of(submission: Any) -> Principal:
    """The principal that sent a delivery submission (its ``sender``, ``sender_role`` and
    ``sender_client`` columns)."""
    role = Role(getattr(submission, "sender_role", "applicant"))
    return Principal(
        subject=submission.sender,
        roles=frozenset({role}),
        client_id=getattr(submission, "sender_client", None),
    )


def submit_check(session: Session, runtime: CasesRuntime, submission: Any) -> list[Problem]:
    """The ``SubmitCheck`` for a delivery submission: nothing to check without a manifest
    (a plain FIT-Connect sender: the delivery service's own checks apply)."""
    manifest = getattr(submission, "manifest", None)
    if manifest is None:
        return []
    return check_manifest(session, runtime, manifest, sender_of(submission))


# --------------------------------------------------------------------------- the hook
_EVENTS: dict[str, tuple[CaseState, str, str | None]] = {
    "submit-submission": (CaseState.SUBMITTED, "submitted", None),
    "accept-submission": (CaseState.RECEIVED, "delivery-accepted", None),
    "reject-submission": (CaseState.DECIDED, "delivery-rejected", Outcome.REJECTED.value),
}


def on_delivery_event(
    session: Session,
    runtime: CasesRuntime,
    case_id: str,
    event: str,
    *,
    submission_id: str | None = None,
    fit_connect_case_id: str | None = None,
    payment_id: str | None = None,
) -> bool:
    """Move the case ``case_id`` for a FIT-Connect ``event`` (the event's short name, e.g.
    ``accept-submission``). Returns whether the case changed. An event that does not apply
    to the case's state (the case was withdrawn meanwhile, a duplicate) changes nothing."""
    step = _EVENTS.get(event)
    if step is None:
        return False  # create-, notify-, forward-, delete-submission: no case state
    target, reason, outcome = step
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None:
        log.warning("delivery event for an unknown case", extra={"event": event})
        return False
    if not can_transition(CaseState(case.state), target):
        log.warning("delivery event does not apply", extra={"event": event, "state": case.state})
        return False
    if target == CaseState.SUBMITTED:
        case.submission_id = submission_id or case.submission_id
        case.fit_connect_case_id = fit_connect_case_id or case.fit_connect_case_id
        if payment_id is not None:
            case.payment_id = payment_id
        # the form now travels in the submission; the sealed draft is not kept (ADR 0004)
        session.execute(delete(Draft).where(Draft.case_id == case.id))
    transition(
        session,
        runtime,
        case,
        target,
        actor=None,
        reason=reason,
        outcome=outcome,
        actor_kind_override="delivery",
    )
    return True


def submission_event(session: Session, runtime: CasesRuntime, submission: Any, event: str) -> bool:
    """:func:`on_delivery_event` for a delivery submission row: the case and payment come
    from its manifest (no manifest: not one of our cases)."""
    manifest = getattr(submission, "manifest", None)
    parsed = parse_manifest(manifest) if manifest is not None else None
    if not isinstance(parsed, Manifest):
        return False
    return on_delivery_event(
        session,
        runtime,
        parsed.case_id,
        event,
        submission_id=submission.id,
        fit_connect_case_id=submission.case_id,
        payment_id=parsed.payment_id,
    )
