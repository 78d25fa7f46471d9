"""Keys for the FIT-Connect tests, generated once per session (RSA-4096 takes a while)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.fitconnect.demo import DemoAuthority, make_demo_authority
from vault.pki import make_ca

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AUTHORITY = "lk-teltow-flaeming"


@dataclass(frozen=True)
class Pki:
    ca_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    authority: DemoAuthority
    other_key: rsa.RSAPrivateKey  # a 4096-bit key nobody encrypted to


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca_key, ca_cert = make_ca("FIT-Connect test CA", NOW)
    authority = make_demo_authority(ca_key, ca_cert, AUTHORITY, NOW)
    other = rsa.generate_private_key(65537, 4096)
    return Pki(ca_key, ca_cert, authority, other)
