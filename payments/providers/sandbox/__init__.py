"""The sandbox payment provider plug-in (UNSAFE, development and tests only).

:mod:`.provider` holds the provider (entry point ``sandbox``); :mod:`.pages` its hosted
payment page, a router that the payments component mounts only when the sandbox is enabled
in ``OZG_PAYMENTS_PROVIDERS``.
"""

from __future__ import annotations

from payments.providers.sandbox.provider import (
    TEST_CARDS,
    SandboxAction,
    SandboxPaymentProvider,
    SandboxSettings,
)

__all__ = ["TEST_CARDS", "SandboxAction", "SandboxPaymentProvider", "SandboxSettings"]
