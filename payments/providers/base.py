"""The payment provider plug-in contract.

A provider is a class registered under the entry-point group
``ozg_commons.payment_providers``. ozg-commons instantiates it per authority and per unit of
work as ``cls(settings, context)``, with ``settings`` validated against the class's
``settings_schema``. See docs/payments.md for the full contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel
from sqlalchemy.orm import Session

from commons.clock import Clock
from compliance import ProcessingActivity

ENTRY_POINT_GROUP = "ozg_commons.payment_providers"

ProviderStatusCode = Literal["INITIAL", "BOOKED", "FAILED", "CANCELED"]
"""The XBezahldienste status vocabulary, which every provider maps onto."""


@dataclass(frozen=True, slots=True)
class BookingItem:
    """One position of a payment with the cash office's booking data (Buchungsdaten)."""

    id: str
    description: str
    amount_cents: int
    booking_data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    request_id: str
    """Our payment id (36 characters); providers must treat a repeat as the same request."""
    kassenzeichen: str
    amount_cents: int
    currency: str
    purpose: str
    """At most 27 characters, no personal data."""
    description: str
    redirect_url: str
    """Where the provider sends the browser back. Never trusted for the status."""
    notification_url: str
    items: tuple[BookingItem, ...]


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    provider_reference: str
    payment_url: str
    status: ProviderStatusCode = "INITIAL"


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider_reference: str
    status: ProviderStatusCode
    payment_method: str | None = None
    refunded_cents: int = 0


@dataclass(frozen=True, slots=True)
class ProviderNotification:
    """A verified notification. ``kind="status"`` reports a status; ``kind="refund"`` a refund
    made on the provider's side (recorded and flagged for a person to decide)."""

    event_id: str
    provider_reference: str
    kind: Literal["status", "refund"]
    status: ProviderStatusCode | None = None
    payment_method: str | None = None
    refund_cents: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    provider_reference: str | None
    status: Literal["succeeded", "manual"]
    """``manual``: the platform has no refund operation; the cash office pays back."""


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What ozg-commons hands a provider for one unit of work."""

    authority: str
    public_base_url: str
    clock: Clock
    session: Session | None = None
    """Only for providers embedded in ozg-commons (the sandbox keeps its side in a table)."""
    http_transport: httpx.BaseTransport | None = None
    """Tests inject a fake server here; ``None`` means real network."""
    extras: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    identifier: ClassVar[str]
    display_name: ClassVar[str]
    settings_schema: ClassVar[type[BaseModel]]
    processing: ClassVar[ProcessingActivity]
    """What personal data the platform receives, why, on which basis, for how long, and how
    it is shredded (an entry of the GDPR Art. 30 record)."""

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """Start a payment; return the provider's reference and the payment page URL.
        Raise :class:`~payments.errors.ProviderError` when the platform refuses."""
        ...

    def query_status(self, provider_reference: str) -> ProviderStatus:
        """Ask the platform, server to server, for the payment's status."""
        ...

    def handle_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        """Verify a notification (raise :class:`~payments.errors.InvalidNotification` for any
        defect) and say what it reports. Must not change any state itself."""
        ...

    def refund(
        self, provider_reference: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund:
        """Refund ``amount_cents`` of a booked payment; repeat-safe by ``idempotency_key``.

        The key is the platform's keyed hash of the client's key (64 hex digits), never the
        key as the client sent it, so a provider may store it."""
        ...

    def shred(self, provider_reference: str) -> None:
        """Erase what the provider holds on this payment beyond its legal retention."""
        ...
