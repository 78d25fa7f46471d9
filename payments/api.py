"""HTTP routes of the payments domain: thin handlers over ``quotes.py``, ``service.py`` and
``refunds.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from account import CurrentPrincipal, Principal, Role, Scope, require_roles, require_scope
from commons.errors import PayloadTooLarge
from commons.settings import Settings
from commons.web import DbSession, body_limit
from payments import access, fitconnect, notifications, quotes, receipts, refunds, service
from payments.errors import ProviderError
from payments.models import Payment, Quote, Refund
from payments.runtime import PaymentsRuntime
from payments.schemas import (
    FeeLineOut,
    NotificationOut,
    PaymentOut,
    PaymentRequestIn,
    QuoteOut,
    QuoteRequest,
    RefundDecision,
    RefundOut,
    RefundRequest,
    WaiverOut,
    WaiverRequest,
)

router = APIRouter(tags=["payments"])

MAX_NOTIFICATION_BYTES = 64 * 1024


def configure(app: FastAPI, settings: Settings) -> None:
    """Discover the provider plug-ins and load the per-authority configuration."""
    app.state.payments = PaymentsRuntime.from_settings(settings)


def _runtime(request: Request) -> PaymentsRuntime:
    runtime: PaymentsRuntime = request.app.state.payments
    return runtime


Runtime = Annotated[PaymentsRuntime, Depends(_runtime)]
FlowPrincipal = Annotated[Principal, Depends(require_roles(Role.FLOW))]
CaseworkerPrincipal = Annotated[Principal, Depends(require_roles(Role.CASEWORKER))]
# Who may start a payment: a flow client for the quotes it created, an applicant for their
# own (access.visible_to with to_pay=True decides which quote).
PayerPrincipal = Annotated[Principal, Depends(require_roles(Role.FLOW, Role.APPLICANT))]
# What a flow client's token must carry for each route it may call (docs/account.md).
FeesRead = [Depends(require_scope(Scope.FEES_READ))]
FeesWrite = [Depends(require_scope(Scope.FEES_WRITE))]
PaymentsRead = [Depends(require_scope(Scope.PAYMENTS_READ))]
PaymentsWrite = [Depends(require_scope(Scope.PAYMENTS_WRITE))]
# 1-255 printable ASCII characters: a control character is a validation error (422).
IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[ -~]+$")
]


def quote_out(session: Session, quote: Quote) -> QuoteOut:
    explanation: dict[str, Any] = quote.explanation or {"lines": [], "applied": []}
    waiver = quotes.waiver_of(session, quote)
    lines = [FeeLineOut(**line) for line in explanation["lines"]]
    return QuoteOut(
        id=quote.id,
        authority=quote.authority,
        case_reference=quote.case_reference,
        quoted_cents=quote.quoted_cents,
        amount_due_cents=quotes.amount_due(session, quote),
        currency=quote.currency,
        catalogue_version=quote.catalogue_version,
        lines=lines,
        applied=list(explanation["applied"]),
        unconfirmed=any(line.unconfirmed for line in lines),
        waiver=None
        if waiver is None
        else WaiverOut(
            kind=waiver.kind,
            amount_due_cents=waiver.amount_due_cents,
            legal_basis=waiver.legal_basis,
            granted_by=waiver.granted_by,
            granted_at=waiver.granted_at,
        ),
        created_at=quote.created_at,
    )


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut.model_validate(payment, from_attributes=True)


def refund_out(refund: Refund) -> RefundOut:
    return RefundOut.model_validate(refund, from_attributes=True)


# --------------------------------------------------------------------------- fees
@router.post("/fees/quote", status_code=201, dependencies=FeesWrite)
def create_quote(
    body: QuoteRequest, session: DbSession, runtime: Runtime, principal: FlowPrincipal
) -> QuoteOut:
    """Calculate the fee for a case and store it as a quote bound to the case reference."""
    return quote_out(session, quotes.create_quote(session, runtime, principal, body))


@router.get("/fees/quotes/{quote_id}", dependencies=FeesRead)
def get_quote(
    quote_id: str, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> QuoteOut:
    quote = quotes.visible_quote(session, principal, quote_id)
    access.audit(
        session,
        runtime,
        principal,
        "payments.quote.read",
        quote.data_subject,
        f"payments/quote/{quote.id}",
        "show the fee calculation",
    )
    return quote_out(session, quote)


@router.post("/fees/quotes/{quote_id}/waiver", status_code=201)
def grant_waiver(
    quote_id: str,
    body: WaiverRequest,
    session: DbSession,
    runtime: Runtime,
    principal: CaseworkerPrincipal,
) -> QuoteOut:
    """Waive (exemption) or reduce (discretionary reduction) a quoted fee, with its basis."""
    quotes.grant_waiver(
        session,
        runtime,
        principal,
        quote_id,
        kind=body.kind,
        amount_due_cents=body.amount_due_cents,
        legal_basis=body.legal_basis,
        reason=body.reason,
    )
    return quote_out(session, quotes.visible_quote(session, principal, quote_id))


# --------------------------------------------------------------------------- payments
@router.post("/payments", status_code=201, dependencies=PaymentsWrite)
def create_payment(
    body: PaymentRequestIn,
    session: DbSession,
    runtime: Runtime,
    principal: PayerPrincipal,
    idempotency_key: IdempotencyKey,
) -> PaymentOut:
    """Start a payment attempt for a quote: a flow client for a quote it created, an
    applicant for their own; any other quote is 404. Send the applicant to ``payment_url``."""
    payment = service.create_payment(
        session,
        runtime,
        principal,
        quote_id=body.quote_id,
        return_url=body.return_url,
        idempotency_key=idempotency_key,
    )
    return payment_out(payment)


# The HMAC covers the body, so nothing authenticates before it: the limit applies first.
@router.post(
    "/payments/notifications/{provider}/{authority}",
    openapi_extra=body_limit(MAX_NOTIFICATION_BYTES),
)
async def notification(
    provider: str, authority: str, request: Request, runtime: Runtime
) -> NotificationOut:
    """Signed server-to-server notification from a payment provider."""
    body = await request.body()
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge("a notification is at most 64 KiB")
    database = request.app.state.database
    headers = dict(request.headers)

    def work() -> str:
        with database.transaction() as session:
            return notifications.process_notification(
                session, runtime, provider, authority, headers, body
            )

    return NotificationOut(outcome=await run_in_threadpool(work))


@router.get("/payments")
def list_payments_for_review(
    session: DbSession, runtime: Runtime, principal: CaseworkerPrincipal
) -> list[PaymentOut]:
    """Payments of the caseworker's authority that are flagged for a person to decide
    (a booking after cancellation, a second booked attempt, a provider-side refund)."""
    return [payment_out(p) for p in service.payments_for_review(session, runtime, principal)]


@router.get("/payments/{payment_id}/refunds", dependencies=PaymentsRead)
def list_refunds(
    payment_id: str, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> list[RefundOut]:
    payment = service.visible_payment(session, runtime, principal, payment_id)
    return [refund_out(r) for r in refunds.refunds_of(session, payment)]


@router.get("/payments/{payment_id}", dependencies=PaymentsRead)
def get_payment(
    payment_id: str, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> PaymentOut:
    return payment_out(service.visible_payment(session, runtime, principal, payment_id))


@router.post("/payments/{payment_id}/refresh", dependencies=PaymentsWrite)
def refresh_payment(
    payment_id: str, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> PaymentOut:
    """Ask the provider for the status now (server to server)."""
    payment = service.visible_payment(session, runtime, principal, payment_id, for_update=True)
    service.refresh_status(session, runtime, payment)
    return payment_out(payment)


@router.get("/payments/{payment_id}/return")
def payment_return(payment_id: str, session: DbSession, runtime: Runtime) -> RedirectResponse:
    """Where the payment page sends the browser back. The redirect proves nothing: the
    status is fetched from the provider, then the browser goes on to the flow."""
    payment = service.payment_for_return(session, payment_id)
    try:
        service.refresh_status(session, runtime, payment)
    except ProviderError:
        pass  # the flow asks again; a notification or the next query settles it
    return RedirectResponse(payment.return_url or "/", status_code=303)


@router.post("/payments/{payment_id}/refunds", status_code=201)
def create_refund(
    payment_id: str,
    body: RefundRequest,
    session: DbSession,
    runtime: Runtime,
    principal: CaseworkerPrincipal,
    idempotency_key: IdempotencyKey,
) -> RefundOut:
    refund = refunds.refund_payment(
        session,
        runtime,
        principal,
        payment_id,
        amount_cents=body.amount_cents,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return refund_out(refund)


@router.post("/payments/{payment_id}/refunds/{refund_id}/decision")
def decide_refund(
    payment_id: str,
    refund_id: str,
    body: RefundDecision,
    session: DbSession,
    runtime: Runtime,
    principal: CaseworkerPrincipal,
) -> RefundOut:
    """Accept or reject a refund the provider reported (flagged for review)."""
    refund = refunds.decide_provider_refund(
        session, runtime, principal, payment_id, refund_id, accept=body.accept
    )
    return refund_out(refund)


@router.get("/payments/{payment_id}/receipt", dependencies=PaymentsRead)
def get_receipt(
    payment_id: str,
    request: Request,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> Response:
    """The PDF receipt of a booked payment; it embeds its signed receipt (``receipt.jws``)."""
    payment = service.visible_payment(
        session, runtime, principal, payment_id, audit_action="payments.receipt.read"
    )
    issued = receipts.issue(payment, request.app.state.receipt_signer)
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{payment.id}.pdf"'},
    )


@router.get("/payments/{payment_id}/receipt.jws", dependencies=PaymentsRead)
def get_receipt_jws(
    payment_id: str,
    request: Request,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> Response:
    """The signed receipt alone (the same JWS the PDF embeds)."""
    payment = service.visible_payment(
        session, runtime, principal, payment_id, audit_action="payments.receipt.read"
    )
    issued = receipts.issue(payment, request.app.state.receipt_signer)
    return Response(issued.jws, media_type=receipts.MEDIA_TYPE)


@router.get("/payments/{payment_id}/fit-connect", dependencies=PaymentsRead)
def get_payment_information(
    payment_id: str, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> Response:
    """FIT-Connect's ``paymentInformation`` block for the submission metadata."""
    payment = service.visible_payment(session, runtime, principal, payment_id)
    return Response(fitconnect.dumps(payment), media_type="application/json")
