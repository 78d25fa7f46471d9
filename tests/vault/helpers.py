"""Shared helpers for the vault tests: keys, a demo PKI, envelopes."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from commons.settings import Settings
from vault import envelope
from vault.pki import issue_authority_key, make_ca, make_crl

NOW = datetime.now(UTC)
_CA: dict[str, Any] = {}


def ca() -> tuple[rsa.RSAPrivateKey, Any]:
    if not _CA:
        _CA["key"], _CA["cert"] = make_ca("test CA", NOW)
    return _CA["key"], _CA["cert"]


def write_anchors(path: Path) -> Path:
    _key, cert = ca()
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def write_crl(path: Path, revoked: list[int] | None = None, now: datetime = NOW) -> Path:
    """The test CA's CRL (listing ``revoked`` serials), current from ``now`` for a week."""
    key, cert = ca()
    path.write_bytes(
        make_crl(key, cert, revoked or [], now).public_bytes(serialization.Encoding.PEM)
    )
    return path


def pki_settings(tmp_path: Path, database_url: str, **vault: Any) -> Settings:
    """Settings whose vault trusts the test CA and has its current (empty) CRL; ``vault``
    holds further values of the vault's settings section."""
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        sections={
            "vault": {
                "trust_anchors": write_anchors(tmp_path / "anchors.pem"),
                "crl_files": [write_crl(tmp_path / "ca.crl")],
                **vault,
            }
        },
    )


_AUTH_KEYS: dict[str, tuple[rsa.RSAPrivateKey, dict[str, Any]]] = {}


def authority_key(authority: str = "tf") -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    if authority not in _AUTH_KEYS:
        key, cert = ca()
        _AUTH_KEYS[authority] = issue_authority_key(key, cert, authority, NOW, bits=3072)
    return _AUTH_KEYS[authority]


def sealed(data: bytes, key: ec.EllipticCurvePrivateKey, name: str = "pass.pdf") -> bytes:
    out = io.BytesIO()
    envelope.seal(data, out, [key.public_key()], filename=name, media_type="application/pdf")
    return out.getvalue()


def random_doc(size: int = 100_000) -> bytes:
    return os.urandom(size)
