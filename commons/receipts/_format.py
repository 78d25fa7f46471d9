"""Receipt format v1: a JWS compact (EdDSA, Ed25519) over an RFC 8785 canonical payload.

Specified in docs/receipts.md. The header is exactly ``{"alg","kid","typ"}``; the payload
holds ``v``, ``kind``, ``iat``, ``iss`` and the kind's claims. Both are canonical JSON, so a
receipt has one byte form, and the verifier insists on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from commons.clock import Clock, ensure_utc, system_clock
from commons.encoding import b64url_decode, b64url_encode, canonical_json, parse_json
from commons.receipts.keys import ALG, parse_public_jwk, public_jwk, thumbprint

VERSION = 1
# Every kind of receipt ozg-commons issues; a new kind is one more name here (and its
# claims in docs/receipts.md).
KINDS: tuple[str, ...] = ("erasure", "vault-deletion", "payment", "submission")
ENVELOPE_CLAIMS = frozenset({"v", "kind", "iat", "iss"})
MAX_RECEIPT_CHARS = 256 * 1024


def typ_of(kind: str) -> str:
    """The JOSE ``typ`` of a kind: ``ozg-receipt-<kind>+jws``."""
    return f"ozg-receipt-{kind}+jws"


class InvalidReceipt(Exception):
    """A receipt does not verify. One fixed message for every reason (malformed, tampered,
    unknown key, wrong kind, other algorithm), so no caller learns which check failed."""

    MESSAGE = "the receipt does not verify"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a verified receipt attests: its kind's claims, who issued it when, under which key."""

    kind: str
    claims: Mapping[str, Any]
    kid: str
    issued_at: datetime
    issuer: str


class ReceiptSigner:
    """Signs receipts with the current key; publishes it and the retired ones as a JWKS."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        issuer: str,
        *,
        retired: Iterable[Ed25519PublicKey] = (),
        clock: Clock = system_clock,
    ) -> None:
        self._key = key
        self.issuer = issuer
        self.kid = thumbprint(key.public_key())
        self._retired = tuple(k for k in retired if thumbprint(k) != self.kid)
        self._clock = clock

    def sign(
        self, kind: str, claims: Mapping[str, Any], *, issued_at: datetime | None = None
    ) -> str:
        """The compact JWS of a ``kind`` receipt attesting ``claims`` (JSON values).

        ``issued_at`` defaults to the clock's now; a receipt that must come out byte for byte
        the same every time (the payment receipt) passes the time of the fact it attests.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown receipt kind {kind!r}; known: {', '.join(KINDS)}")
        reserved = ENVELOPE_CLAIMS & set(claims)
        if reserved:
            raise ValueError(f"claims may not use the envelope names {sorted(reserved)}")
        at = ensure_utc(issued_at or self._clock.now())
        payload = {
            **claims,
            "v": VERSION,
            "kind": kind,
            "iat": int(at.timestamp()),
            "iss": self.issuer,
        }
        header = {"alg": ALG, "kid": self.kid, "typ": typ_of(kind)}
        signing_input = (
            f"{b64url_encode(canonical_json(header))}.{b64url_encode(canonical_json(payload))}"
        )
        signature = self._key.sign(signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key set: the current key first, then every retired one."""
        keys = [self._key.public_key(), *self._retired]
        return {"keys": [public_jwk(k) for k in keys]}


def _keys_by_kid(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The usable receipt keys of a JWKS by thumbprint; other entries are skipped."""
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in jwks.get("keys", []):
        try:
            key = parse_public_jwk(entry)
        except ValueError:
            continue
        keys[thumbprint(key)] = key
    return keys


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _canonical_object(segment: str) -> dict[str, Any]:
    raw = b64url_decode(segment)
    value = parse_json(raw.decode("utf-8"), parse_constant=_reject_constant)
    if not isinstance(value, dict) or canonical_json(value) != raw:
        raise ValueError("not a canonical JSON object")
    return value


def verify(token: str, jwks: Mapping[str, Any]) -> Receipt:
    """The receipt ``token`` attests, if it is a v1 receipt signed by a key of ``jwks``.

    Raises :class:`InvalidReceipt` for everything else.
    """
    try:
        if not isinstance(token, str) or len(token) > MAX_RECEIPT_CHARS:
            raise ValueError("not a receipt")
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = _canonical_object(header_b64)
        if set(header) != {"alg", "kid", "typ"} or header["alg"] != ALG:
            raise ValueError("header")
        key = _keys_by_kid(jwks)[header["kid"]]
        key.verify(b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
        payload = _canonical_object(payload_b64)
        kind, iat, issuer = payload["kind"], payload["iat"], payload["iss"]
        if (
            payload["v"] != VERSION
            or kind not in KINDS
            or header["typ"] != typ_of(kind)
            or type(iat) is not int
            or iat < 0
            or not isinstance(issuer, str)
        ):
            raise ValueError("payload")
        claims = {k: v for k, v in payload.items() if k not in ENVELOPE_CLAIMS}
        return Receipt(
            kind=kind,
            claims=MappingProxyType(claims),
            kid=header["kid"],
            issued_at=datetime.fromtimestamp(iat, UTC),
            issuer=issuer,
        )
    except (ValueError, KeyError, TypeError, AttributeError, InvalidSignature, OverflowError):
        raise InvalidReceipt() from None
