"""The vault's device side: everything that runs on the applicant's (or authority's) device.

- :mod:`vault.client.sdk`: :class:`VaultClient`, the HTTP client that sanitizes, seals,
  uploads, downloads, opens and shares;
- :mod:`vault.client.keys`: the applicant key pair, wrapped under the passphrase and the
  recovery code;
- :mod:`vault.client.session`: the command line's login (browser with PKCE, device code,
  password), kept mode 0600 and renewed silently;
- :mod:`vault.client.cli`: the device commands of ``ozg-commons vault`` and ``ozg-commons
  login``.

It uses the envelope format, recipients, the sanitizer, PKI validation and the vault's
errors, and nothing of the server (no web framework, no database), so that it could ship on
its own; the server never imports it (both checked by import-linter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from commons.errors import OzgError
    from vault.client.sdk import VaultClient, open_sealed_metadata, sha256_file
    from vault.client.session import LoginError, LoginRequired, LoginStore
    from vault.errors import ClientError, InvalidEnvelope

__all__ = [
    "ClientError",
    "InvalidEnvelope",
    "LoginError",
    "LoginRequired",
    "LoginStore",
    "OzgError",
    "VaultClient",
    "open_sealed_metadata",
    "sha256_file",
]
__getattr__ = lazy_face(
    __name__,
    {
        "ClientError": "vault.errors",
        "InvalidEnvelope": "vault.errors",
        "LoginError": "vault.client.session",
        "LoginRequired": "vault.client.session",
        "LoginStore": "vault.client.session",
        "OzgError": "commons.errors",
        "VaultClient": "vault.client.sdk",
        "open_sealed_metadata": "vault.client.sdk",
        "sha256_file": "vault.client.sdk",
    },
)
