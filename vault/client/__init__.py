"""The vault's device side: everything that runs on the applicant's (or authority's) device.

- :mod:`vault.client.sdk`: :class:`VaultClient`, the HTTP client that sanitizes, seals,
  uploads, downloads, opens and shares;
- :mod:`vault.client.keys`: the applicant key pair, wrapped under the passphrase and the
  recovery code;
- :mod:`vault.client.cli`: the device commands of ``ozg-commons vault`` and ``ozg-commons
  login``.

It uses the envelope format, recipients, the sanitizer, PKI validation and the vault's
errors, and nothing of the server (no web framework, no database), so that it could ship on
its own; the server never imports it (both checked by import-linter).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commons.errors import OzgError
    from vault.client.sdk import VaultClient, sha256_file
    from vault.errors import ClientError, InvalidEnvelope

# Loaded on first use, so that the device commands' ``--help`` does not import httpx or the
# crypto libraries.
_EXPORTS = {
    "ClientError": "vault.errors",
    "InvalidEnvelope": "vault.errors",
    "OzgError": "commons.errors",
    "VaultClient": "vault.client.sdk",
    "sha256_file": "vault.client.sdk",
}

__all__ = ["ClientError", "InvalidEnvelope", "OzgError", "VaultClient", "sha256_file"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
