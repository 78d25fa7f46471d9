"""Payment provider plug-ins: the contract, discovery and the two built-ins."""

from payments.providers.base import (
    ENTRY_POINT_GROUP,
    BookingItem,
    PaymentProvider,
    PaymentRequest,
    ProviderContext,
    ProviderNotification,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    ProviderStatusCode,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "BookingItem",
    "PaymentProvider",
    "PaymentRequest",
    "ProviderContext",
    "ProviderNotification",
    "ProviderPayment",
    "ProviderRefund",
    "ProviderStatus",
    "ProviderStatusCode",
]
