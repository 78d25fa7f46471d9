"""Fuzz targets of the signed and encrypted token formats: bearer tokens, receipts, FIT-Connect
JWEs and SETs, checkpoints and signed notes, payment notifications and FIT-Connect callbacks.

Mode byte (the input's first byte, odd or even) as described in :mod:`tests.fuzz.targets`.
"""

from __future__ import annotations

import base64
import json
from typing import cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from commons.clock import FixedClock
from tests.fuzz.targets import (
    NOW,
    Target,
    b64,
    header_and_payload,
    json_bytes,
    refused,
    rsa_key,
    text,
)

_ISS = "https://id.ozg.example/realms/ozg"
_AUD = "ozg-api"
_JOSE_TOKENS = (b'"alg"', b'"kid"', b'"typ"', b'"exp"', b'"iat"', b'"nbf"', b'"aud"', b'"iss"')


# --------------------------------------------------------------------------- bearer tokens
def bearer_token() -> Target:
    from jwcrypto import jwk

    from account.claims import ClaimsMapping, principal_from_claims
    from account.errors import InvalidToken, TokenNotPermitted
    from account.tokens import JwksCache, TokenVerifier

    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_private = rsa_key(2048)
    keys = []
    for kid, key in (("ec-1", ec_key.public_key()), ("rsa-1", rsa_private.public_key())):
        public = jwk.JWK.from_pyca(key).export_public(as_dict=True)
        keys.append({**public, "kid": kid, "use": "sig"})
    cache = JwksCache(lambda: {"keys": keys}, min_refresh_seconds=1e12, monotonic=lambda: 0.0)
    verifier = TokenVerifier(issuer=_ISS, audience=_AUD, keys=cache, clock=FixedClock(NOW))
    mapping = ClaimsMapping(_AUD)
    now = int(NOW.timestamp())

    def es256(header: bytes, payload: bytes) -> str:
        signing_input = f"{b64(header)}.{b64(payload)}"
        der = ec_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def run(data: bytes) -> str:
        token = es256(*header_and_payload(data[1:])) if data[:1] and data[0] & 1 else text(data[1:])
        try:
            claims = verifier.verify(token)
        except InvalidToken as exc:
            return type(exc).__name__ + ":" + exc.reason
        return refused(lambda: principal_from_claims(claims, mapping), TokenNotPermitted)

    header = {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}
    claims = {
        "iss": _ISS,
        "aud": [_AUD, "account"],
        "sub": "f:1:applicant",
        "exp": now + 300,
        "iat": now - 10,
        "nbf": now - 10,
        "auth_time": now - 20,
        "typ": "Bearer",
        "azp": "ozg-portal",
        "acr": "substantiell",
        "scope": "openid vault",
        "realm_access": {"roles": ["applicant"]},
        "resource_access": {_AUD: {"roles": ["caseworker", "authority:tf"]}},
        "given_name": "Erika",
    }
    seeds = [
        b"\x00" + es256(json_bytes(header), json_bytes(claims)).encode(),
        b"\x01" + json_bytes(header) + b"\n" + json_bytes(claims),
        b"\x01" + json_bytes(header) + b"\n" + json_bytes({**claims, "exp": now - 999}),
        b"\x01" + json_bytes({**header, "alg": "none"}) + b"\n" + json_bytes(claims),
    ]
    return Target(
        "bearer-token",
        "account.tokens.TokenVerifier.verify and account.claims.principal_from_claims",
        run,
        seeds,
        tokens=(*_JOSE_TOKENS, b'"ES256"', b'"RS256"', b'"roles"', b'"auth_time"'),
        max_len=20000,
    )


# --------------------------------------------------------------------------- receipts
def receipt() -> Target:
    from commons.receipts import InvalidReceipt, ReceiptSigner, legacy, verify

    key = Ed25519PrivateKey.generate()
    signer = ReceiptSigner(key, "https://ozg.example", clock=FixedClock(NOW))
    jwks = signer.jwks()
    legacy_keys = [key.public_key()]

    def resign(header: bytes, payload: bytes) -> str:
        signing_input = f"{b64(header)}.{b64(payload)}"
        return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"

    def legacy_document(rest: bytes, sign: bool) -> str:
        try:
            document = json.loads(rest)
        except (ValueError, RecursionError):
            return "not-json"  # the CLI's own parsing, not the verifier's
        if not isinstance(document, dict):
            return "not-an-object"
        claims = document.get("receipt")
        if sign and isinstance(claims, dict):
            try:
                message = legacy._dump(
                    claims, ascii_only=claims.get("format") != legacy.ERASURE_FORMAT
                )
            except (ValueError, TypeError, RecursionError):
                return "unsignable"
            document["signature"] = b64(key.sign(message))
        return refused(lambda: legacy.verify_legacy(document, legacy_keys), InvalidReceipt)

    def run(data: bytes) -> str:
        mode, rest = (data[0] % 4 if data else 0), data[1:]
        if mode == 2 or mode == 3:
            return legacy_document(rest, sign=mode == 3)
        token = resign(*header_and_payload(rest)) if mode == 1 else text(rest)
        return refused(lambda: verify(token, jwks), InvalidReceipt)

    claims = {"account": "acc-1", "erased_at": "2026-12-01T12:00:00Z", "n": [1, 2.5, None]}
    token = signer.sign("erasure", claims)
    header_b64, payload_b64, _ = token.split(".")
    erasure = {
        "format": legacy.ERASURE_FORMAT,
        "erased_at": "2026-12-01T12:00:00+00:00",
        "issuer": "ozg",
    }
    erasure_doc = {
        "receipt": erasure,
        "signature": b64(key.sign(legacy._dump(erasure, ascii_only=False))),
    }
    seeds = [
        b"\x00" + token.encode(),
        b"\x00" + signer.sign("payment", {"amount_cents": 1000}).encode(),
        b"\x01"
        + base64.urlsafe_b64decode(header_b64 + "==")
        + b"\n"
        # the payload as canonical JSON: the receipt format insists on it
        + base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)),
        b"\x02" + json_bytes(erasure_doc),
        b"\x03" + json_bytes({"receipt": {**erasure, "format": legacy.ERASURE_FORMAT}}),
        b"\x03"
        + json_bytes(
            {"receipt": {"type": legacy.VAULT_TYPE, "deleted_at": "2026-12-01"}, "alg": "Ed25519"}
        ),
    ]
    return Target(
        "receipt",
        "commons.receipts.verify (v1) and commons.receipts.legacy.verify_legacy",
        run,
        seeds,
        tokens=(*_JOSE_TOKENS, b'"EdDSA"', b'"kind"', b'"v"', b'"receipt"', b'"signature"'),
    )


# --------------------------------------------------------------------------- checkpoints
def checkpoint() -> Target:
    from compliance import note
    from compliance.errors import InvalidNote

    signer = note.Signer.generate("ozg.example/log")
    verifier = note.Verifier.from_string(signer.verifier_key)
    witness_key = Ed25519PrivateKey.generate()
    witness_public = note._raw_public(witness_key.public_key())
    witness_hash = note.key_hash("witness", note.ALG_COSIGNATURE_V1, witness_public)
    witness = note.Verifier.from_string(
        "witness+"
        + witness_hash.hex()
        + "+"
        + base64.b64encode(bytes([note.ALG_COSIGNATURE_V1]) + witness_public).decode()
    )

    def run(data: bytes) -> str:
        rest = data[1:]
        if data[:1] and data[0] & 1:
            signature = signer.key_hash + signer.private_key.sign(rest)
            line = f"{note.DASH} {signer.name} {base64.b64encode(signature).decode()}\n"
            value = text(rest) + "\n" + line
        else:
            value = text(rest)
        refused(lambda: note.Verifier.from_string(value), ValueError)
        refused(lambda: note.Signer.from_string(value), ValueError)
        refused(lambda: note.parse_signature_line(value), InvalidNote)
        refused(lambda: note.Checkpoint.parse(value), InvalidNote)
        refused(lambda: note.open_note(value, witness), InvalidNote)
        return refused(
            lambda: note.verify_checkpoint(value, verifier, "ozg.example/log"), InvalidNote
        )

    cp = note.Checkpoint("ozg.example/log", 42, bytes(range(32))).text()
    signed = signer.sign(cp)
    stamp = (1_800_000_000).to_bytes(8, "big")
    cosig = witness_key.sign(b"cosignature/v1\ntime 1800000000\n" + cp.encode())
    line = f"{note.DASH} witness {base64.b64encode(witness_hash + stamp + cosig).decode()}\n"
    seeds = [
        b"\x00" + signed.encode(),
        b"\x00" + (signed + line).encode(),
        b"\x01" + cp.encode(),
        b"\x00" + signer.verifier_key.encode(),
        b"\x00" + signer.to_string().encode(),
    ]
    return Target(
        "checkpoint",
        "compliance.note: verify_checkpoint, open_note, Checkpoint.parse, parse_signature_line, "
        "Verifier/Signer.from_string",
        run,
        seeds,
        tokens=("\u2014 ".encode(), b"\n\n", b"+", b"PRIVATE+KEY+", b"cosignature/v1\n"),
        max_len=8192,
        short_runs=3000,
    )


# --------------------------------------------------------------------------- webhooks
def webhook() -> Target:
    from pydantic import SecretStr
    from sqlalchemy.orm import Session

    from commons import timestamped_hmac
    from commons.text import identifier_problem
    from gateway.fitconnect.callbacks import verify_callback
    from gateway.fitconnect.errors import InvalidCallback
    from payments.errors import InvalidNotification
    from payments.providers.base import ProviderContext
    from payments.providers.sandbox import SandboxPaymentProvider, SandboxSettings
    from payments.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

    secret = "s" * 32
    settings = SandboxSettings(notification_secret=SecretStr(secret))
    context = ProviderContext("tf", "http://127.0.0.1", FixedClock(NOW), cast(Session, object()))
    provider = SandboxPaymentProvider(settings, context)
    now = str(int(NOW.timestamp()))

    def run(data: bytes) -> str:
        stamp_raw, signature_raw, body = (*data[1:].split(b"\n", 2), b"", b"")[:3]
        stamp, signature = text(stamp_raw), text(signature_raw)
        if data[:1] and data[0] & 1:
            parsed = timestamped_hmac.parse_timestamp(stamp)
            if parsed is not None:
                signature = timestamped_hmac.signature(secret.encode(), parsed, body)
        headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature}
        callback = {"callback-timestamp": stamp, "callback-authentication": signature}
        refused(lambda: verify_callback(callback, body, secret, NOW), InvalidCallback)
        try:
            notification = provider.handle_notification(headers, body)
        except InvalidNotification as exc:
            return type(exc).__name__
        # The contract of ProviderNotification, which process_notification relies on.
        assert isinstance(notification.event_id, str)
        assert isinstance(notification.provider_reference, str)
        assert notification.kind in ("status", "refund")
        assert notification.status in (None, "INITIAL", "BOOKED", "FAILED", "CANCELED")
        assert notification.payment_method is None or isinstance(notification.payment_method, str)
        cents = notification.refund_cents
        assert cents is None or (type(cents) is int and cents > 0)
        identifier_problem(notification.event_id)
        identifier_problem(notification.provider_reference)
        return "accepted"

    status = {
        "kind": "status",
        "event_id": "evt-1",
        "transaction_id": "tx-1",
        "status": "BOOKED",
        "payment_method": "card",
    }
    refund = {"kind": "refund", "event_id": "evt-2", "transaction_id": "tx-1", "refund_cents": 500}
    seeds = [
        b"\x01" + now.encode() + b"\n\n" + json_bytes(status),
        b"\x01" + now.encode() + b"\n\n" + json_bytes(refund),
        b"\x00"
        + now.encode()
        + b"\n"
        + timestamped_hmac.signature(secret.encode(), int(now), json_bytes(status)).encode()
        + b"\n"
        + json_bytes(status),
    ]
    return Target(
        "webhook",
        "payments.signing.verify through SandboxPaymentProvider.handle_notification, and "
        "gateway.fitconnect.callbacks.verify_callback",
        run,
        seeds,
        tokens=(b'"kind"', b'"status"', b'"refund"', b'"refund_cents"', b'"payment_method"'),
        max_len=4096,
        short_runs=3000,
    )
