"""The embedded sandbox provider: a payment platform simulated inside ozg-commons.

UNSAFE: it takes no money and anyone who can reach the page decides the outcome. It exists
so that development and tests need no payment platform. It behaves like a real provider
where it matters: it keeps its own record of each transaction, answers status queries and
signs its notifications (HMAC-SHA512 over timestamp and body). Production refuses it.
Its hosted payment page is in :mod:`payments.providers.sandbox.pages`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, SecretStr

from commons.encoding import parse_json
from commons.ids import new_id_str
from compliance import ProcessingActivity
from payments import signing
from payments.errors import InvalidNotification, PaymentNotFound, ProviderError
from payments.models import SandboxTransaction
from payments.providers.base import (
    PaymentRequest,
    ProviderContext,
    ProviderNotification,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    ProviderStatusCode,
)

log = logging.getLogger("ozg.payments.sandbox")

SandboxAction = Literal["success", "failure", "cancel", "late"]

TEST_CARDS: dict[str, SandboxAction] = {
    "4000 0000 0000 0002": "success",
    "4000 0000 0000 0119": "failure",
    "4000 0000 0000 0127": "cancel",
    "4000 0000 0000 0259": "late",
}
"""Test card numbers shown on the sandbox page and the outcome each produces."""

_OUTCOME: dict[SandboxAction, ProviderStatusCode] = {
    "success": "BOOKED",
    "failure": "FAILED",
    "cancel": "CANCELED",
    "late": "BOOKED",
}


class SandboxSettings(BaseModel):
    notification_secret: SecretStr
    """The HMAC key the sandbox signs its notifications with."""


class SandboxPaymentProvider:
    """UNSAFE development provider; see the module docstring."""

    identifier: ClassVar[str] = "sandbox"
    display_name: ClassVar[str] = "Sandbox (UNSAFE, development only)"
    settings_schema: ClassVar[type[BaseModel]] = SandboxSettings
    processing: ClassVar[ProcessingActivity] = ProcessingActivity(
        id="payments.provider.sandbox",
        name="Sandbox payment provider (development only)",
        purpose="Simulate a payment platform in development and tests.",
        data_categories=("Kassenzeichen-based purpose text", "amount", "status"),
        data_subjects=("test applicants",),
        recipients=("none: the sandbox runs inside ozg-commons",),
        legal_basis="none needed: no real personal data (development only)",
        retention="until the payment's data is shredded (its shred deletes the row)",
        name_de="Test-Zahlungsanbieter (nur in der Entwicklung)",
        purpose_de="Eine Zahlungsplattform in Entwicklung und Tests nachbilden.",
        data_categories_de=("Verwendungszweck mit Kassenzeichen", "Betrag", "Stand"),
        retention_de="bis die Daten der Zahlung gelöscht werden",
    )
    _warned: ClassVar[set[str]] = set()

    def __init__(self, settings: BaseModel, context: ProviderContext) -> None:
        if not isinstance(settings, SandboxSettings):
            raise TypeError("SandboxPaymentProvider needs SandboxSettings")
        if context.session is None:
            raise TypeError("SandboxPaymentProvider needs a database session")
        self.settings = settings
        self.context = context
        self.session = context.session
        if context.authority not in SandboxPaymentProvider._warned:
            SandboxPaymentProvider._warned.add(context.authority)
            log.warning(
                "SandboxPaymentProvider in use: UNSAFE, takes no money, development only",
                extra={"authority": context.authority},
            )

    @property
    def _secret(self) -> bytes:
        return self.settings.notification_secret.get_secret_value().encode()

    def _transaction(self, reference: str) -> SandboxTransaction:
        tx = self.session.get(SandboxTransaction, reference)
        if tx is None or tx.authority != self.context.authority:
            raise PaymentNotFound("no such sandbox transaction")
        return tx

    # ------------------------------------------------------------------ provider contract
    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        if len(request.purpose) > 27 or len(request.request_id) > 36:
            raise ProviderError("purpose or request id too long", provider_code="INVALID")
        if sum(item.amount_cents for item in request.items) != request.amount_cents:
            raise ProviderError("items do not add up", provider_code="CALCULATION_ERROR")
        tx = SandboxTransaction(
            id=new_id_str(self.context.clock),
            authority=self.context.authority,
            request_id=request.request_id,
            amount_cents=request.amount_cents,
            refunded_cents=0,
            purpose=request.purpose,
            status="INITIAL",
            return_url=request.redirect_url,
            created_at=self.context.clock.now(),
        )
        self.session.add(tx)
        self.session.flush()
        url = f"{self.context.public_base_url.rstrip('/')}/v1/sandbox-payments/{tx.id}"
        return ProviderPayment(provider_reference=tx.id, payment_url=url, status="INITIAL")

    def query_status(self, provider_reference: str) -> ProviderStatus:
        tx = self._transaction(provider_reference)
        return ProviderStatus(
            provider_reference=tx.id,
            status=_status(tx.status),
            payment_method="sandbox-card" if tx.status == "BOOKED" else None,
            refunded_cents=tx.refunded_cents,
        )

    def handle_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        signing.verify(self._secret, headers, body, now=self.context.clock.now())
        try:
            data = parse_json(body)
            kind = data["kind"]
            if kind == "status":
                method = data.get("payment_method")
                if method is not None and not isinstance(method, str):
                    raise ValueError("payment_method is a string")
                return ProviderNotification(
                    event_id=str(data["event_id"]),
                    provider_reference=str(data["transaction_id"]),
                    kind="status",
                    status=_status(data["status"]),
                    payment_method=method,
                )
            if kind == "refund":
                cents = data["refund_cents"]
                if not isinstance(cents, int) or isinstance(cents, bool) or cents <= 0:
                    raise ValueError("bad refund amount")
                return ProviderNotification(
                    event_id=str(data["event_id"]),
                    provider_reference=str(data["transaction_id"]),
                    kind="refund",
                    refund_cents=cents,
                )
        except (ValueError, KeyError, TypeError):
            raise InvalidNotification() from None
        raise InvalidNotification()

    def refund(
        self, provider_reference: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund:
        tx = self._transaction(provider_reference)
        if tx.status != "BOOKED" or tx.refunded_cents + amount_cents > tx.amount_cents:
            raise ProviderError("refund refused by the sandbox", provider_code="REFUND_REFUSED")
        tx.refunded_cents += amount_cents
        return ProviderRefund(provider_reference=f"{tx.id}:{idempotency_key}", status="succeeded")

    def shred(self, provider_reference: str) -> None:
        tx = self.session.get(SandboxTransaction, provider_reference)
        if tx is not None:
            self.session.delete(tx)

    # ------------------------------------------------------------------ sandbox page
    def act(
        self, provider_reference: str, action: SandboxAction
    ) -> tuple[SandboxTransaction, tuple[dict[str, str], bytes] | None]:
        """Apply a button of the payment page. Returns the signed notification to deliver,
        or ``None`` for ``late`` (booked, but the notification is held back)."""
        tx = self._transaction(provider_reference)
        if tx.status == "INITIAL":
            tx.status = _OUTCOME[action]
        if action == "late":
            return tx, None
        return tx, self.signed_status_notification(tx)

    def signed_status_notification(self, tx: SandboxTransaction) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "kind": "status",
                "event_id": new_id_str(self.context.clock),
                "transaction_id": tx.id,
                "status": tx.status,
                "payment_method": "sandbox-card",
            }
        ).encode()
        return self.sign(body), body

    def sign(self, body: bytes) -> dict[str, str]:
        now = int(self.context.clock.now().timestamp())
        return signing.signed_headers(self._secret, now, body)


def _status(value: object) -> ProviderStatusCode:
    if value == "INITIAL":
        return "INITIAL"
    if value == "BOOKED":
        return "BOOKED"
    if value == "FAILED":
        return "FAILED"
    if value == "CANCELED":
        return "CANCELED"
    raise ValueError("unknown status")
