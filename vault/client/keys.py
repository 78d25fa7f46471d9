"""The applicant's key pair, made and unwrapped on the applicant's device only.

The private key (P-256, PKCS#8 DER) is wrapped twice, and only the wrapped forms go to the
server:

- under a key derived from the vault passphrase with **Argon2id** (RFC 9106); defaults
  m = 64 MiB, t = 3, p = 1, above the OWASP minimum (m = 19 MiB, t = 2, p = 1), which
  :func:`unwrap_private_key` enforces as a floor so a server cannot downgrade them;
- under a random 160-bit **recovery code**, shown once; being high-entropy it needs no slow
  KDF, HKDF-SHA-256 suffices.

Wrapped form (JSON): ``{"v": 1, "kdf": "argon2id"|"hkdf-sha256", "m", "t", "p", "salt",
"nonce", "ct"}``, AES-256-GCM with the key id as associated data. A passphrase change or a
recovery re-wraps the same private key; documents are untouched. The server
(``vault.applicant_keys``) checks only the shape of a wrapped form, never opens it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from commons.i18n import _
from vault.errors import WrongSecret
from vault.recipients import key_id, public_jwk

ARGON2_DEFAULT = {"m": 65536, "t": 3, "p": 1}
ARGON2_MINIMUM = {"m": 19456, "t": 2, "p": 1}  # OWASP password storage cheat sheet


@dataclass(frozen=True, slots=True)
class NewKeyPair:
    private_key: ec.EllipticCurvePrivateKey
    kid: str
    public_jwk: dict[str, str]
    wrapped_by_passphrase: str
    wrapped_by_recovery: str
    recovery_code: str  # show once, never store


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _recovery_bytes(code: str) -> bytes:
    try:
        return base64.b32decode(code.replace("-", "").replace(" ", "").upper())
    except ValueError as exc:
        raise WrongSecret(_("malformed recovery code")) from exc


def _kek(kdf: str, secret: bytes, salt: bytes, params: dict[str, int]) -> bytes:
    if kdf == "argon2id":
        return hash_secret_raw(
            secret,
            salt,
            time_cost=params["t"],
            memory_cost=params["m"],
            parallelism=params["p"],
            hash_len=32,
            type=Type.ID,
        )
    return HKDF(hashes.SHA256(), 32, salt=salt, info=b"ozg-vault recovery v1").derive(secret)


def _wrap(
    private: bytes,
    kid: str,
    kdf: str,
    secret: bytes,
    params: dict[str, int],
    random: Callable[[int], bytes] = os.urandom,
) -> str:
    salt, nonce = random(16), random(12)
    ct = AESGCM(_kek(kdf, secret, salt, params)).encrypt(nonce, private, kid.encode())
    doc: dict[str, Any] = {"v": 1, "kdf": kdf, **params, "salt": _b64(salt)}
    doc.update(nonce=_b64(nonce), ct=_b64(ct))
    return json.dumps(doc, sort_keys=True)


def _der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def wrap_with_passphrase(
    key: ec.EllipticCurvePrivateKey,
    passphrase: str,
    params: dict[str, int] | None = None,
    *,
    random: Callable[[int], bytes] = os.urandom,
) -> str:
    """``random`` draws the salt (16 bytes) and then the nonce (12); tests pin it."""
    kid = key_id(key.public_key())
    secret = passphrase.encode()
    return _wrap(_der(key), kid, "argon2id", secret, params or ARGON2_DEFAULT, random)


def wrap_with_recovery_code(
    key: ec.EllipticCurvePrivateKey, code: str, *, random: Callable[[int], bytes] = os.urandom
) -> str:
    kid = key_id(key.public_key())
    return _wrap(_der(key), kid, "hkdf-sha256", _recovery_bytes(code), {}, random)


def generate(passphrase: str, params: dict[str, int] | None = None) -> NewKeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    code = new_recovery_code()
    return NewKeyPair(
        private_key=key,
        kid=key_id(key.public_key()),
        public_jwk=public_jwk(key.public_key()),
        wrapped_by_passphrase=wrap_with_passphrase(key, passphrase, params),
        wrapped_by_recovery=wrap_with_recovery_code(key, code),
        recovery_code=code,
    )


def unwrap_private_key(
    wrapped: str, kid: str, *, passphrase: str | None = None, recovery_code: str | None = None
) -> ec.EllipticCurvePrivateKey:
    """Unwrap with the passphrase or the recovery code; raises :class:`WrongSecret`."""
    try:
        doc = json.loads(wrapped)
        kdf = doc["kdf"]
        salt, nonce, ct = (base64.b64decode(doc[k]) for k in ("salt", "nonce", "ct"))
        if kdf == "argon2id" and passphrase is not None:
            params = {k: int(doc[k]) for k in ("m", "t", "p")}
            if params["m"] < ARGON2_MINIMUM["m"] or params["t"] < ARGON2_MINIMUM["t"]:
                raise WrongSecret(_("Argon2id parameters below the minimum; refusing"))
            kek = _kek(kdf, passphrase.encode(), salt, params)
        elif kdf == "hkdf-sha256" and recovery_code is not None:
            kek = _kek(kdf, _recovery_bytes(recovery_code), salt, {})
        else:
            raise WrongSecret(_("this wrapped key needs the other secret"))
        der = AESGCM(kek).decrypt(nonce, ct, kid.encode())
        key = serialization.load_der_private_key(der, password=None)
    except (KeyError, ValueError, TypeError, InvalidTag) as exc:
        if isinstance(exc, WrongSecret):
            raise
        raise WrongSecret(_("wrong passphrase or recovery code")) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key_id(key.public_key()) != kid:
        raise WrongSecret(_("the wrapped key does not match its key id"))
    return key
