"""Adapter for FITKO's XBezahldienste REST interface (fronting ePayBL, pmPayment, ...).

- ``POST /paymenttransaction/{originatorId}/{endPointId}`` creates a transaction
  (requestId <= 36, currency EUR, grossAmount, purpose <= 27, description, redirectUrl,
  1-99 items with booking data) and answers with ``paymentInformation`` (transactionId,
  transactionRedirectUrl, status).
- ``GET /paymenttransaction/{originatorId}/{endPointId}/{transactionId}`` is the status
  query. Status: INITIAL, BOOKED, FAILED, CANCELED. The redirect back is not trusted: the
  status always comes from this GET.
- Errors carry a code such as PAYMENT_EXISTS, CALCULATION_ERROR, BOOKING_DATA_MISSING.

Notifications: XBezahldienste itself is poll-based. A platform (or a relay in front of it)
may push a trigger signed with the shared ``notification_secret`` (HMAC-SHA512 over
timestamp and body, as FIT-Connect callbacks); the adapter verifies it and then fetches the
status with the GET, so the pushed body is never the source of truth for a status.
The standard has no refund operation: refunds are recorded as ``manual`` and paid back by the
cash office.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator

from commons.encoding import parse_json
from compliance import ProcessingActivity
from payments import money, signing
from payments.errors import InvalidNotification, ProviderError
from payments.providers.base import (
    PaymentRequest,
    ProviderContext,
    ProviderNotification,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    ProviderStatusCode,
)

STATUSES: frozenset[str] = frozenset({"INITIAL", "BOOKED", "FAILED", "CANCELED"})


class XBezahldiensteSettings(BaseModel):
    base_url: str = Field(description="e.g. https://epay.example/xbezahldienste/api/v1")
    originator_id: str = Field(min_length=1, max_length=64)
    endpoint_id: str = Field(min_length=1, max_length=64)
    username: str | None = None
    password: SecretStr | None = None
    notification_secret: SecretStr
    timeout_seconds: int = Field(default=10, ge=1, le=120)

    @field_validator("base_url")
    @classmethod
    def _https_outside_loopback(cls, value: str) -> str:
        url = urlsplit(value)
        if url.scheme == "https" and url.hostname:
            return value
        if url.scheme == "http" and url.hostname and _loopback(url.hostname):
            return value
        raise ValueError("base_url must be an https URL (http only on loopback)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class XBezahldienstePaymentProvider:
    identifier: ClassVar[str] = "xbezahldienste"
    display_name: ClassVar[str] = "XBezahldienste (ePayBL, pmPayment, ...)"
    settings_schema: ClassVar[type[BaseModel]] = XBezahldiensteSettings
    processing: ClassVar[ProcessingActivity] = ProcessingActivity(
        id="payments.provider.xbezahldienste",
        name="Fee payment through an XBezahldienste platform",
        purpose="Collect the fee and have it booked by the authority's cash office.",
        data_categories=(
            "pseudonymous Kassenzeichen and purpose text",
            "amount",
            "payment data the applicant enters on the platform's own page",
        ),
        data_subjects=("applicants",),
        recipients=("the authority's payment platform (ePayBL, pmPayment, ...)",),
        legal_basis="Art. 6(1)(e) GDPR with § 69 AufenthG; platform as processor of the authority",
        retention="the platform keeps bookings under the budget law's retention; "
        "ozg-commons sends no name, no case reference, no permit type",
        name_de="Zahlung der Gebühr über eine XBezahldienste-Plattform",
        purpose_de="Die Gebühr einziehen und von der Kasse der Behörde buchen lassen.",
        data_categories_de=(
            "pseudonymes Kassenzeichen und Verwendungszweck",
            "Betrag",
            "Zahlungsdaten, die Sie auf der Seite der Plattform selbst eingeben",
        ),
        retention_de="die Plattform bewahrt Buchungen nach dem Haushaltsrecht auf; "
        "ozg-commons sendet keinen Namen, kein Aktenzeichen, keine Art des Aufenthaltstitels",
    )

    def __init__(self, settings: BaseModel, context: ProviderContext) -> None:
        if not isinstance(settings, XBezahldiensteSettings):
            raise TypeError("XBezahldienstePaymentProvider needs XBezahldiensteSettings")
        self.settings = settings
        self.context = context

    def _client(self) -> httpx.Client:
        auth: httpx.BasicAuth | None = None
        if self.settings.username and self.settings.password:
            auth = httpx.BasicAuth(
                self.settings.username, self.settings.password.get_secret_value()
            )
        return httpx.Client(
            base_url=self.settings.base_url.rstrip("/"),
            transport=self.context.http_transport,
            timeout=self.settings.timeout_seconds,
            auth=auth,
        )

    @property
    def _path(self) -> str:
        return f"/paymenttransaction/{self.settings.originator_id}/{self.settings.endpoint_id}"

    def _send(self, method: str, path: str, body: str | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._client() as client:
                response = client.request(method, path, content=body, headers=headers)
        except httpx.HTTPError:
            raise ProviderError("the payment platform cannot be reached") from None
        try:
            data = money.loads(response.content) if response.content else {}
        except ValueError:
            data = {}
        if response.status_code >= 400 or not isinstance(data, dict):
            code = data.get("errorCode") if isinstance(data, dict) else None
            raise ProviderError(
                f"the payment platform refused the request ({code or response.status_code})",
                provider_code=str(code) if code else None,
            )
        return data

    # ------------------------------------------------------------------ provider contract
    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        if not 1 <= len(request.items) <= 99:
            raise ProviderError("XBezahldienste needs 1 to 99 items")
        body = money.dumps(
            {
                "requestId": request.request_id,
                "requestTimestamp": self.context.clock.now().isoformat(),
                "currency": request.currency,
                "grossAmount": money.Euros(request.amount_cents),
                "purpose": request.purpose,
                "description": request.description,
                "redirectUrl": request.redirect_url,
                "items": [
                    {
                        "id": item.id,
                        "reference": request.kassenzeichen,
                        "description": item.description,
                        "quantity": 1,
                        "grossAmount": money.Euros(item.amount_cents),
                        "bookingData": dict(item.booking_data),
                    }
                    for item in request.items
                ],
            }
        )
        data = self._send("POST", self._path, body)
        info = self._information(data)
        return ProviderPayment(
            provider_reference=str(info["transactionId"]),
            payment_url=str(info.get("transactionRedirectUrl") or ""),
            status=_status(info.get("status")),
        )

    def query_status(self, provider_reference: str) -> ProviderStatus:
        data = self._send("GET", f"{self._path}/{provider_reference}")
        info = self._information(data)
        method = info.get("paymentMethod")
        return ProviderStatus(
            provider_reference=provider_reference,
            status=_status(info.get("status")),
            payment_method=str(method) if method else None,
        )

    def handle_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        secret = self.settings.notification_secret.get_secret_value().encode()
        signing.verify(secret, headers, body, now=self.context.clock.now())
        try:
            data = parse_json(body)
            event_id = str(data["eventId"])
            transaction_id = str(data["transactionId"])
        except (ValueError, KeyError, TypeError):
            raise InvalidNotification() from None
        # The trigger is authentic; the status still comes from the platform's GET.
        status = self.query_status(transaction_id)
        return ProviderNotification(
            event_id=event_id,
            provider_reference=transaction_id,
            kind="status",
            status=status.status,
            payment_method=status.payment_method,
        )

    def refund(
        self, provider_reference: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund:
        return ProviderRefund(provider_reference=None, status="manual")

    def shred(self, provider_reference: str) -> None:
        """Nothing to do here: the platform keeps its records under its own legal basis."""

    @staticmethod
    def _information(data: dict[str, Any]) -> dict[str, Any]:
        info = data.get("paymentInformation")
        if not isinstance(info, dict) or "transactionId" not in info:
            raise ProviderError("the payment platform sent an unexpected answer")
        return info


def _status(value: object) -> ProviderStatusCode:
    if value == "INITIAL":
        return "INITIAL"
    if value == "BOOKED":
        return "BOOKED"
    if value == "FAILED":
        return "FAILED"
    if value == "CANCELED":
        return "CANCELED"
    raise ProviderError("the payment platform sent an unknown status")
