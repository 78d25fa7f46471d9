"""Fuzz targets of the FIT-Connect formats: submission parts (JWE), security event tokens,
the decrypted metadata, and the routing service's destination signatures.

Mode byte (the input's first byte, odd or even) as described in :mod:`tests.fuzz.targets`.
"""

from __future__ import annotations

import base64
import io
import os
import zlib
from collections.abc import Mapping
from typing import Any, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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

# --------------------------------------------------------------------------- FIT-Connect JWE
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _jwe(plaintext: bytes, header: bytes, public: rsa.RSAPublicKey) -> bytes:
    header_b64 = b64(header)
    cek, iv = os.urandom(32), os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, header_b64.encode())
    parts = (header_b64, b64(public.encrypt(cek, _OAEP)), b64(iv))
    return ".".join((*parts, b64(sealed[:-16]), b64(sealed[-16:]))).encode()


def fitconnect_jwe() -> Target:
    from gateway.delivery.errors import InvalidAttachment
    from gateway.delivery.jose import inspect_stream, inspect_text
    from gateway.fitconnect.errors import InvalidJwe
    from gateway.fitconnect.jwe import decrypt, decrypt_stream, parse_protected_header

    private = rsa_key(2048)
    public = private.public_key()

    def run(data: bytes) -> str:
        raw = data[1:]
        if data[:1] and data[0] & 1:  # a sender that encrypts whatever header it likes
            header, plaintext = header_and_payload(raw)
            raw = _jwe(plaintext, header, public)
        compact = text(raw)
        refused(lambda: parse_protected_header(compact.split(".", 1)[0]), InvalidJwe)
        refused(lambda: inspect_text(compact, kid="k1", modulus_bytes=256), InvalidAttachment)
        refused(
            lambda: inspect_stream(io.BytesIO(raw), kid="k1", modulus_bytes=256), InvalidAttachment
        )
        if len(raw) % 2:  # one RSA decryption per input: streaming in tiny steps, or not
            out = io.BytesIO()
            stream = io.BytesIO(raw)
            return refused(
                lambda: decrypt_stream(stream, out, private, max_plaintext=4096, chunk_chars=8),
                InvalidJwe,
            )
        return refused(lambda: decrypt(compact, private, max_plaintext=4096), InvalidJwe)

    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k1", "cty": "application/json"}
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    zipped = deflate.compress(b'{"a":' + b"1" * 300 + b"}") + deflate.flush()
    seeds = [
        b"\x00" + _jwe(b'{"data":"x"}', json_bytes(header), public),
        b"\x00" + _jwe(zipped, json_bytes({**header, "zip": "DEF"}), public),
        b"\x00" + _jwe(b"", json_bytes(header), public),
        b"\x01" + json_bytes(header) + b"\n" + b'{"data":"x"}',
        b"\x01" + json_bytes({**header, "zip": "DEF"}) + b"\n" + zipped,
    ]
    return Target(
        "fitconnect-jwe",
        "gateway.fitconnect.jwe.decrypt/decrypt_stream/parse_protected_header, "
        "gateway.delivery.jose.inspect_text/inspect_stream",
        run,
        seeds,
        tokens=(b'"RSA-OAEP-256"', b'"A256GCM"', b'"zip"', b'"DEF"', b'"crit"', b'"cty"'),
        max_len=8192,
        short_runs=1500,
    )


# --------------------------------------------------------------------------- FIT-Connect SET
class _AnySignature:
    """A 4096-bit "key" whose every signature verifies: the re-signed mode of the SET target
    (a real PS512 signature per input would cost milliseconds)."""

    key_size = 4096

    def verify(self, *_args: object) -> None:
        return None


rsa.RSAPublicKey.register(_AnySignature)


def fitconnect_set() -> Target:
    from gateway.fitconnect import events
    from gateway.fitconnect.errors import InvalidEventToken, TagMismatch

    signing = rsa_key(4096)
    real = {"sig-1": signing.public_key()}
    anything = cast(Mapping[str, rsa.RSAPublicKey], {"sig-1": _AnySignature()})
    sub, case, att = (
        "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c001",
        "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c002",
        "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c003",
    )
    tag = b64(bytes(16))
    sent = events.AuthenticationTags(tag, tag, {att: tag})

    def run(data: bytes) -> str:
        if data[:1] and data[0] & 1:
            header, payload = header_and_payload(data[1:])
            token, keys = f"{b64(header)}.{b64(payload)}.{b64(b'sig')}", anything
        else:
            token, keys = text(data[1:]), real
        try:
            event = events.verify_event(token, keys, issuer="dest-1", now=NOW)
        except InvalidEventToken as exc:
            return type(exc).__name__
        assert isinstance(event.problems, list)
        event.authentication_tags  # noqa: B018  (a property that parses the payload)
        return refused(lambda: events.check_tags(event, sent), TagMismatch)

    def issue(name: str, **payload: Any) -> str:
        return events.issue_event(
            name,
            submission_id=sub,
            case_id=case,
            issuer="dest-1",
            signing_key=signing,
            kid="sig-1",
            now=NOW,
            payload=payload,
        )

    accept = issue("accept-submission", authenticationTags=sent.as_json())
    problem = events.problem("TechnicalError", detail="x")
    seeds = [
        b"\x00" + accept.encode(),
        b"\x00" + issue("reject-submission", problems=[problem]).encode(),
    ]
    for token in (accept, issue("create-submission"), issue("withdraw-submission")):
        header_b64, payload_b64, _ = token.split(".")
        header, payload = (
            base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in (header_b64, payload_b64)
        )
        seeds.append(b"\x01" + header + b"\n" + payload)
    return Target(
        "fitconnect-set",
        "gateway.fitconnect.events.verify_event and check_tags",
        run,
        seeds,
        tokens=(
            b'"PS512"',
            b'"secevent+jwt"',
            b'"events"',
            b'"authenticationTags"',
            b'"problems"',
            b'"submission:',
            b'"case:',
            b'"iat"',
            b'"jti"',
        ),
        max_len=16384,
    )


# --------------------------------------------------------------------------- FIT-Connect metadata
def fitconnect_metadata() -> Target:
    """The authority's client reads a submission's decrypted metadata: JSON, then the
    FIT-Connect metadata schema (gateway.client.authority_fetch)."""
    from commons.encoding import parse_json
    from gateway.fitconnect import metadata
    from gateway.fitconnect.errors import InvalidMetadata

    def run(data: bytes) -> str:
        try:
            doc = parse_json(data)
        except ValueError:
            return "not-json"
        if not isinstance(doc, dict):
            return "not-an-object"
        # ValueError: a version this destination does not support (UnsupportedMetadataSchema)
        return refused(lambda: metadata.validate_metadata(doc), InvalidMetadata, ValueError)

    attachment = metadata.Attachment(
        attachment_id="0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c003",
        sha512="0" * 128,
        mime_type="application/pdf",
        purpose="attachment",
        filename="Reisepass.pdf",
    )
    doc = metadata.build_metadata(
        "1.0.0",
        data_hash="0" * 128,
        data_schema_uri="https://schema.fim.fitko.net/schema/S1234",
        data_mime="application/json",
        attachments=[attachment],
        public_service={"identifier": "urn:de:fim:leika:leistung:99010003001006", "name": "AE"},
        reply_channel={"eMail": {"address": "ada@example.org"}},
    )
    return Target(
        "fitconnect-metadata",
        "gateway.fitconnect.metadata.validate_metadata of parsed JSON (the authority's client)",
        run,
        [metadata.dumps_metadata(doc), metadata.dumps_metadata({**doc, "$schema": "x"})],
        tokens=(b'"contentStructure"', b'"attachments"', b'"hash"', b'"$schema"', b'"sha512"'),
        max_len=16384,
        short_runs=800,
    )


# --------------------------------------------------------------------------- routing
def destination_signature() -> Target:
    """The applicant's client checks a route's ``destinationSignature`` (a PS512 JWS of the
    routing service) against the published JWKS (gateway.authorities.routing)."""
    from gateway.authorities import InvalidDestinationSignature, verify_destination_signature
    from gateway.authorities.routing import RoutingKey, sign
    from vault import key_id

    private = rsa_key(4096)
    key = RoutingKey(private, key_id(private.public_key()))
    jwks = [key.public_jwk()]
    destination = "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c004"
    leika = "urn:de:fim:leika:leistung:99010003001006"

    def run(data: bytes) -> str:
        if data[:1] and data[0] & 1:  # signed by the routing key: 4096-bit PSS, slow
            header, claims = header_and_payload(data[1:])
            signing_input = f"{b64(header)}.{b64(claims)}"
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
            signature = private.sign(signing_input.encode(), pss, hashes.SHA512())
            token = f"{signing_input}.{b64(signature)}"
        else:
            token = text(data[1:])
        return refused(
            lambda: verify_destination_signature(
                token, jwks, destination_id=destination, leika=leika, ars="120720000000"
            ),
            InvalidDestinationSignature,
        )

    claims = {
        "submissionHost": "ozg.example",
        "iss": "https://ozg.example",
        "services": [
            {
                "gebietIDs": ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:12072"],
                "leistungIDs": [leika],
            }
        ],
        "destinationId": destination,
        "iat": int(NOW.timestamp()),
        "jti": "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c005",
    }
    token = sign(claims, key)
    header = json_bytes({"alg": "PS512", "typ": "jwt", "kid": key.kid})
    return Target(
        "destination-signature",
        "gateway.authorities.verify_destination_signature (the applicant's client)",
        run,
        [b"\x00" + token.encode(), b"\x01" + header + b"\n" + json_bytes(claims)],
        tokens=(b'"services"', b'"gebietIDs"', b'"leistungIDs"', b'"destinationId"', b'"PS512"'),
        max_len=8192,
        short_runs=300,
    )
