"""The sandbox's hosted payment page, served by ozg-commons itself (UNSAFE).

``GET /v1/sandbox-payments/{id}`` shows the page with its buttons and test cards;
``POST`` to the same address applies the chosen outcome and hands the sandbox's signed
notification straight to the notification handler (which verifies it as it verifies one
arriving over HTTP); ``POST .../notify`` delivers a held-back (``late``) notification.
The payments component mounts this router only when ``sandbox`` is in
``OZG_PAYMENTS_PROVIDERS`` (never in production, which refuses the sandbox).
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from commons.web import DbSession
from payments import notifications
from payments.api import Runtime
from payments.errors import PaymentNotFound
from payments.fees import format_cents
from payments.models import SandboxTransaction
from payments.providers.sandbox.provider import TEST_CARDS, SandboxAction, SandboxPaymentProvider
from payments.runtime import PaymentsRuntime
from payments.schemas import NotificationOut

router = APIRouter(tags=["payments"])


def _sandbox(
    session: Session, runtime: PaymentsRuntime, tx_id: str
) -> tuple[SandboxPaymentProvider, SandboxTransaction]:
    tx = session.get(SandboxTransaction, tx_id)
    if tx is None or "sandbox" not in runtime.providers:
        raise PaymentNotFound("no such sandbox transaction")
    provider = runtime.provider_named("sandbox", tx.authority, session)
    if not isinstance(provider, SandboxPaymentProvider):  # pragma: no cover
        raise PaymentNotFound()
    return provider, tx


@router.get("/sandbox-payments/{tx_id}", response_class=HTMLResponse, include_in_schema=False)
def sandbox_page(tx_id: str, session: DbSession, runtime: Runtime) -> HTMLResponse:
    """The sandbox's hosted payment page: test cards and buttons decide the outcome."""
    _provider, tx = _sandbox(session, runtime, tx_id)
    rows = "".join(
        f"<li><code>{html.escape(card)}</code>: {html.escape(outcome)}</li>"
        for card, outcome in TEST_CARDS.items()
    )
    buttons = "".join(
        f'<button name="action" value="{a}">{label}</button> '
        for a, label in (
            ("success", "Pay (success)"),
            ("failure", "Fail"),
            ("cancel", "Cancel"),
            ("late", "Pay, notify late"),
        )
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sandbox payment (UNSAFE)</title></head><body>
<p><strong>SANDBOX - no money moves. Development only.</strong></p>
<p>Amount: {format_cents(tx.amount_cents)} EUR &middot; {html.escape(tx.purpose)}
&middot; status {html.escape(tx.status)}</p>
<form method="post" action="/v1/sandbox-payments/{html.escape(tx.id)}">
<label>Test card <input name="card" value=""></label> {buttons}</form>
<p>Test cards:</p><ul>{rows}</ul></body></html>"""
    return HTMLResponse(page)


@router.post("/sandbox-payments/{tx_id}", include_in_schema=False)
def sandbox_act(
    tx_id: str,
    session: DbSession,
    runtime: Runtime,
    action: Annotated[str | None, Form()] = None,
    card: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    provider, tx = _sandbox(session, runtime, tx_id)
    chosen: SandboxAction | None = TEST_CARDS.get((card or "").strip()) if card else None
    if chosen is None:
        chosen = _sandbox_action(action)
    tx, signed = provider.act(tx.id, chosen)
    if signed is not None:
        headers, body = signed
        notifications.process_notification(session, runtime, "sandbox", tx.authority, headers, body)
    return RedirectResponse(tx.return_url, status_code=303)


@router.post("/sandbox-payments/{tx_id}/notify", include_in_schema=False)
def sandbox_notify(tx_id: str, session: DbSession, runtime: Runtime) -> NotificationOut:
    """Deliver the (late) signed status notification of a sandbox transaction now."""
    provider, tx = _sandbox(session, runtime, tx_id)
    headers, body = provider.signed_status_notification(tx)
    outcome = notifications.process_notification(
        session, runtime, "sandbox", tx.authority, headers, body
    )
    return NotificationOut(outcome=outcome)


def _sandbox_action(action: str | None) -> SandboxAction:
    if action == "success":
        return "success"
    if action == "failure":
        return "failure"
    if action == "cancel":
        return "cancel"
    if action == "late":
        return "late"
    raise PaymentNotFound("unknown sandbox action")
