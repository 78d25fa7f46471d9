"""The deployment's receipt signer: configured in production, generated in development."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from commons.clock import Clock, system_clock
from commons.errors import ConfigurationError
from commons.receipts._format import ReceiptSigner
from commons.receipts.keys import (
    MISSING_KEY,
    generate_private_jwk_text,
    parse_private_jwk,
    parse_public_jwk,
)

if TYPE_CHECKING:
    from commons.settings import Settings

log = logging.getLogger("ozg.receipts")

DEV_KEY_DIR = "receipts"
DEV_KEY_FILE = "signing-key.jwk"


def load_signer(settings: Settings, *, clock: Clock = system_clock) -> ReceiptSigner:
    """The signer for ``OZG_RECEIPT_SIGNING_KEY`` (and ``OZG_RECEIPT_RETIRED_KEYS``).

    Without a configured key, production refuses (:class:`ConfigurationError`); development
    uses a key generated once under ``data_dir/receipts`` (mode 0600).
    """
    if settings.receipt_signing_key is not None:
        key = parse_private_jwk(settings.receipt_signing_key.get_secret_value())
    elif settings.is_production:
        raise ConfigurationError([MISSING_KEY])
    else:
        key = _development_key(settings.data_dir / DEV_KEY_DIR / DEV_KEY_FILE)
    retired = [parse_public_jwk(text) for text in settings.receipt_retired_keys]
    return ReceiptSigner(key, settings.public_base_url, retired=retired, clock=clock)


def _development_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return parse_private_jwk(path.read_text())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = generate_private_jwk_text()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    log.warning("development receipt signing key generated; configure one in production")
    return parse_private_jwk(text)
