"""The delivery service's settings section (``OZG_DELIVERY_*``) and its per-app state.

The event-signing key is the delivery service's own PS512 key (RSA ≥ 4096 bits). Production
reads it from ``OZG_DELIVERY_SIGNING_KEY`` (PEM, PKCS#8) and refuses to start without it; in
development it is generated on first use and kept in ``OZG_DATA_DIR/delivery/signing-key.pem``
(mode 0600). Generating a 4096-bit key takes a moment, so it happens when the first event is
signed or the JWKS is asked for, not when the app is built.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.clock import Clock, system_clock
from commons.settings import Settings
from gateway.delivery.destinations import Destinations, InMemoryDestinations, from_authorities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gateway.delivery.checks import Problem
    from gateway.delivery.models import Submission
    from vault import BlobStore

log = logging.getLogger("ozg.delivery")

MB = 1000 * 1000
SIGNING_KEY_BITS = 4096

SubmitCheck = Callable[["Session", "Submission"], "list[Problem]"]
"""A check run before a submission is accepted as submitted (the cases component registers
one for the manifest rules); each :class:`~gateway.delivery.service.Problem` it returns
refuses the submit."""

EventHook = Callable[["Session", "Submission", str], None]
"""Called in the transaction that recorded an event that moves a submission:
``submit-submission``, ``accept-submission``, ``reject-submission`` (the destination's or the
14-day timer's); the cases component registers one to move the case and tell the applicant."""

RejectionHook = Callable[["Session", "Submission"], None]
"""Called in the transaction in which the delivery service rejects a submission itself (the
14-day timer), e.g. to tell the applicant."""


class DeliverySettings(BaseSettings):
    """The delivery service's signing key, limits and timers."""

    model_config = SettingsConfigDict(env_prefix="OZG_DELIVERY_", extra="ignore", frozen=True)

    signing_key: SecretStr | None = Field(
        default=None,
        description="The PS512 event-signing key (RSA >= 4096 bits, PEM PKCS#8). Required in "
        "production; development default: generated under data_dir/delivery.",
    )
    issuer: str | None = Field(
        default=None,
        description="The delivery service URL (iss of its events). Default: "
        "<OZG_PUBLIC_BASE_URL>/fit-connect.",
    )
    max_attachment_bytes: int = Field(default=500 * MB, gt=0)
    max_submission_bytes: int = Field(default=2000 * MB, gt=0)
    max_attachments: int = Field(default=100, gt=0, le=10_000)
    max_metadata_chars: int = Field(
        default=64 * MB, gt=0, description="Upper bound of encryptedMetadata + encryptedData."
    )
    incomplete_hours: float = Field(default=24, gt=0, description="Incomplete -> deleted.")
    warn_unfetched_days: float = Field(default=3, gt=0)
    reject_unfetched_days: float = Field(default=14, gt=0)
    callback_timeout_seconds: float = Field(default=10, gt=0, le=120)
    callback_retry_minutes: float = Field(default=5, gt=0)
    callback_max_attempts: int = Field(default=20, gt=0)


def load_signing_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("OZG_DELIVERY_SIGNING_KEY is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < SIGNING_KEY_BITS:
        raise ValueError(
            f"OZG_DELIVERY_SIGNING_KEY must be an RSA key of at least {SIGNING_KEY_BITS} bits"
        )
    return key


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def config_problems(settings: Settings) -> list[str]:
    config = settings.section(DeliverySettings)
    problems: list[str] = []
    if config.signing_key is None:
        if settings.is_production:
            problems.append(
                "OZG_DELIVERY_SIGNING_KEY is not set; create an RSA-4096 key "
                "(`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096`) and set its PEM"
            )
    else:
        try:
            load_signing_key(config.signing_key.get_secret_value())
        except ValueError as exc:
            problems.append(str(exc))
    return problems


@dataclass
class SigningIdentity:
    key: rsa.RSAPrivateKey
    kid: str
    jwk: dict[str, Any]


@dataclass
class DeliveryRuntime:
    settings: Settings
    config: DeliverySettings
    store: BlobStore
    app_state: Any = None
    clock: Clock = system_clock
    directory: Destinations | None = None
    submit_checks: list[SubmitCheck] = field(default_factory=list)
    rejection_hooks: list[RejectionHook] = field(default_factory=list)
    event_hooks: list[EventHook] = field(default_factory=list)
    http_transport: httpx.BaseTransport | None = None
    _identity: SigningIdentity | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return self.config.issuer or self.settings.public_base_url.rstrip("/") + "/fit-connect"

    def destinations(self) -> Destinations:
        """The explicit directory, else the authorities registry on ``app.state``, else none."""
        if self.directory is not None:
            return self.directory
        registry: Any = getattr(self.app_state, "authorities", None)
        if callable(getattr(registry, "registry", None)):  # the authorities component's state
            registry = registry.registry()
        if registry is not None:
            return from_authorities(registry)
        return InMemoryDestinations()

    def signing(self) -> SigningIdentity:
        with self._lock:
            if self._identity is None:
                self._identity = _identity(self._load_key())
            return self._identity

    def _load_key(self) -> rsa.RSAPrivateKey:
        if self.config.signing_key is not None:
            return load_signing_key(self.config.signing_key.get_secret_value())
        if self.settings.is_production:  # pragma: no cover - refused at startup
            raise RuntimeError("OZG_DELIVERY_SIGNING_KEY is not set")
        path = self.settings.data_dir / "delivery" / "signing-key.pem"
        if path.exists():
            return load_signing_key(path.read_text(encoding="ascii"))
        key = rsa.generate_private_key(65537, SIGNING_KEY_BITS)
        _write_private(path, pem_of(key))
        log.warning("generated a development event-signing key for the delivery service")
        return key


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _identity(key: rsa.RSAPrivateKey) -> SigningIdentity:
    from gateway.fitconnect import kid_for
    from vault import public_jwk

    jwk: dict[str, Any] = {**public_jwk(key.public_key()), "alg": "PS512", "use": "sig"}
    jwk["key_ops"] = ["verify"]
    kid = kid_for(jwk)
    jwk["kid"] = kid
    return SigningIdentity(key, kid, jwk)


def delivery_store(settings: Settings) -> BlobStore:
    """The object store for attachments: the vault's backend, in a namespace of its own
    (``data_dir/delivery/blobs``, or the ``delivery/`` prefix in the S3 bucket), so that the
    vault's garbage collector, which removes blobs without a vault document, never sees them."""
    from vault import FilesystemBlobStore, S3BlobStore

    if settings.object_store == "s3":
        from commons.s3 import minio_client

        return S3BlobStore(minio_client(settings), settings.s3_bucket, prefix="delivery/")
    return FilesystemBlobStore(settings.data_dir / "delivery" / "blobs")
