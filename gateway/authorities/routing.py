"""Routes in the shape of the FIT-Connect Routing API, with a signed ``destinationSignature``.

A route's ``destinationSignature`` is a compact JWS, header exactly
``{"alg":"PS512","typ":"jwt","kid":<kid>}``, over the claims

``{"submissionHost": <host of OZG_PUBLIC_BASE_URL>, "iss": <OZG_PUBLIC_BASE_URL>,
"services": [{"gebietIDs": ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:<ARS>"…],
"leistungIDs": ["urn:de:fim:leika:leistung:<key>"…]}], "destinationId": <uuid>,
"iat": <Unix seconds>, "jti": <uuid4>}``

signed with the deployment's routing key (RSA ≥ 4096, PS512 = RSASSA-PSS, SHA-512,
MGF1-SHA-512, salt 64 bytes), published at ``GET /v1/routes/keys``. A client verifies it with
:func:`verify_destination_signature` before it encrypts anything to the destination.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from commons.encoding import b64url_decode, b64url_encode, parse_json
from commons.errors import OzgError
from commons.flows import LEIKA_PREFIX
from commons.i18n import N_
from commons.settings import Settings
from gateway.authorities.registry import (
    ARS_URN_PREFIX,
    AuthorityRegistry,
    Route,
    significant_ars,
)
from vault import key_id, public_jwk, public_key_from_jwk

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
MIN_BITS = 4096


class RoutingKeyError(ValueError):
    """The routing signing key is malformed (the message never holds key material)."""


class InvalidDestinationSignature(OzgError):
    """Every way a ``destinationSignature`` can fail verification: one fixed message."""

    status = 422
    code = "invalid-destination-signature"
    title = N_("The destination signature is not valid")

    def __init__(self) -> None:
        super().__init__("the destination signature is not valid")


@dataclass(frozen=True, slots=True)
class RoutingKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    def public_jwk(self) -> dict[str, Any]:
        return {
            **public_jwk(self.private_key.public_key()),
            "kid": self.kid,
            "alg": "PS512",
            "use": "sig",
            "key_ops": ["verify"],
        }


def _from_private(key: Any) -> RoutingKey:
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_BITS:
        raise RoutingKeyError(f"an RSA private key of at least {MIN_BITS} bits is required")
    if key.public_key().public_numbers().e != 65537:
        raise RoutingKeyError("the public exponent must be 65537 (AQAB)")
    return RoutingKey(key, key_id(key.public_key()))


def parse_routing_key(text: str) -> RoutingKey:
    """A private RSA JWK (JSON) as a :class:`RoutingKey`."""
    from jwcrypto import jwk as jwcrypto_jwk

    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("kty") != "RSA" or "d" not in data:
            raise ValueError
        pem = jwcrypto_jwk.JWK(**data).export_to_pem(private_key=True, password=None)
        key = serialization.load_pem_private_key(pem, password=None)
    except Exception:  # jwcrypto raises several types; the text may hold key material
        raise RoutingKeyError("not a private RSA JWK (JSON with kty RSA and d)") from None
    return _from_private(key)


def private_jwk_text(key: rsa.RSAPrivateKey) -> str:
    """``key`` as a private JWK (JSON), the format of OZG_AUTHORITIES_ROUTING_SIGNING_KEY."""
    from jwcrypto import jwk as jwcrypto_jwk

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    exported = jwcrypto_jwk.JWK.from_pem(pem).export_private(as_dict=True)
    exported.update(kid=key_id(key.public_key()), alg="PS512")
    return json.dumps(exported, sort_keys=True)


def generate_routing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, MIN_BITS)


def load_routing_key(settings: Settings) -> RoutingKey:
    """The configured key, or in development one generated once in
    ``data_dir/authorities/routing-signing-key.json`` (mode 0600)."""
    from gateway.authorities import demo
    from gateway.authorities.runtime import AuthoritiesSettings

    configured = settings.section(AuthoritiesSettings).routing_signing_key
    if configured is not None:
        return parse_routing_key(configured.get_secret_value())
    if settings.is_production:
        raise RoutingKeyError("OZG_AUTHORITIES_ROUTING_SIGNING_KEY is not set")
    directory = settings.data_dir / "authorities"
    path = directory / "routing-signing-key.json"
    with demo.locked(directory):
        if not path.exists():
            demo.write_atomic(path, private_jwk_text(generate_routing_key()).encode(), 0o600)
        return parse_routing_key(path.read_text())


def submission_host(settings: Settings) -> str:
    return urlsplit(settings.public_base_url).netloc


def route_claims(
    registry: AuthorityRegistry, route: Route, settings: Settings, now: datetime
) -> dict[str, Any]:
    authority = route.authority
    leika = sorted({LEIKA_PREFIX + k for k in registry.services(authority).values()})
    return {
        "submissionHost": submission_host(settings),
        "iss": settings.public_base_url.rstrip("/"),
        "services": [
            {
                "gebietIDs": [ARS_URN_PREFIX + code for code in authority.ars + authority.ags],
                "leistungIDs": leika,
            }
        ],
        "destinationId": authority.destination_id,
        "iat": int(now.timestamp()),
        "jti": str(uuid.uuid4()),
    }


def sign(claims: Mapping[str, Any], key: RoutingKey) -> str:
    header = {"alg": "PS512", "typ": "jwt", "kid": key.kid}
    encoded = [
        b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    ]
    signing_input = ".".join(encoded).encode("ascii")
    signature = key.private_key.sign(signing_input, _PSS, hashes.SHA512())
    return ".".join([*encoded, b64url_encode(signature)])


def route_json(
    registry: AuthorityRegistry, route: Route, key: RoutingKey, settings: Settings, now: datetime
) -> dict[str, Any]:
    """One route as the FIT-Connect Routing API writes it (plus ``authorityId``)."""
    a, p = route.authority, route.authority.portal
    out: dict[str, Any] = {
        "destinationId": a.destination_id,
        "destinationSignature": sign(route_claims(registry, route, settings, now), key),
        "destinationName": a.name.de,
        "destinationShortName": p.short_name,
        "address": p.address.as_json(),
        "privacyPolicyUrl": p.privacy_policy_url,
        "accessibilityUrl": p.accessibility_url,
        "imprintUrl": p.imprint_url,
        "furtherInformation": p.further_information.as_json(),
        "requiredDocuments": p.required_documents.as_json(),
        "processingDuration": p.processing_duration.as_json(),
        "customParameters": {"authorityId": a.id, "flow": route.flow, "demo": p.demo},
        "origin": "ozg-commons",
    }
    if p.email:
        out["contactPersons"] = [{"email": p.email, **({"phone": p.phone} if p.phone else {})}]
    return out


def _within(ars: str, region: str) -> bool:
    if len(region) == 8:  # an AGS: Land, Regierungsbezirk, Kreis, Gemeinde
        return len(ars) == 12 and ars[:5] + ars[9:] == region
    return ars.startswith(significant_ars(region))


def verify_destination_signature(
    token: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    destination_id: str,
    leika: str,
    ars: str | None = None,
    submission_host: str | None = None,
    issuer: str | None = None,
) -> dict[str, Any]:
    """Check a route's ``destinationSignature`` against the published JWKS ``keys``: the
    signature, that it names ``destination_id``, that ``leika`` is among its services and
    ``ars`` (if given) within one of its regions, and the host/issuer (if given). Returns the
    claims; raises :class:`InvalidDestinationSignature` (one message) on any failure."""
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        header = parse_json(b64url_decode(head_b64))
        claims = parse_json(b64url_decode(claims_b64))
        if set(header) != {"alg", "typ", "kid"} or header["alg"] != "PS512":
            raise ValueError
        jwk = next(k for k in keys if k.get("kid") == header["kid"])
        public = public_key_from_jwk(dict(jwk))
        if not isinstance(public, rsa.RSAPublicKey) or public.key_size < MIN_BITS:
            raise ValueError
        public.verify(
            b64url_decode(sig_b64), f"{head_b64}.{claims_b64}".encode(), _PSS, hashes.SHA512()
        )
        if claims.get("destinationId") != destination_id:
            raise ValueError
        if submission_host is not None and claims.get("submissionHost") != submission_host:
            raise ValueError
        if issuer is not None and claims.get("iss") != issuer:
            raise ValueError
        want = leika if leika.startswith(LEIKA_PREFIX) else LEIKA_PREFIX + leika
        services = claims["services"]
        ok = False
        for service in services:
            regions = [g.removeprefix(ARS_URN_PREFIX) for g in service["gebietIDs"]]
            region_ok = ars is None or any(_within(ars, r) for r in regions)
            ok = ok or (want in service["leistungIDs"] and region_ok)
        if not ok:
            raise ValueError
    # AttributeError: a signed region or service that is no string (``1 .removeprefix``)
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration, InvalidSignature):
        raise InvalidDestinationSignature() from None
    return dict(claims)
