"""Security Event Tokens (RFC 8417) of the FIT-Connect event log.

Each event is a compact JWS: header ``{"alg":"PS512","typ":"secevent+jwt","kid":…}``,
payload ``{"jti", "iss", "iat", "sub": "submission:<id>", "txn": "case:<id>",
"events": {<uri>: {…}}}`` with exactly one event. The event time is ``iat`` (Unix seconds);
there is no ``transactionTimestamp`` in events. PS512 is RSASSA-PSS with SHA-512, MGF1-SHA-512
and a 64-byte salt (RFC 7518 §3.5).

``accept-submission`` carries ``authenticationTags {metadata, data, attachments{<id>: tag}}``:
the JWE tags the receiver decrypted, which the sender compares with its own
(:func:`check_tags`). ``reject-submission`` carries ``problems``, RFC 7807 objects.

:func:`verify_event` is strict (PS512 only, ``typ``, a known ``kid``, exactly one known
event, the ``sub``/``txn`` shapes, the event's required members) and raises the one
:class:`~gateway.fitconnect.errors.InvalidEventToken`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from commons.encoding import b64url_decode, b64url_encode, parse_json
from gateway.fitconnect.errors import InvalidEventToken, TagMismatch

EVENT_BASE = "https://schema.fitko.de/fit-connect/events/"
EVENT_NAMES = (
    "create-submission",
    "submit-submission",
    "notify-submission",
    "forward-submission",
    "accept-submission",
    "reject-submission",
    "delete-submission",
)
EVENT_URIS = {name: EVENT_BASE + name for name in EVENT_NAMES}
CREATE, SUBMIT, NOTIFY, FORWARD, ACCEPT, REJECT, DELETE = (EVENT_URIS[n] for n in EVENT_NAMES)
# ozg-commons' extension events, issued by our delivery service only (FIT-Connect v1 has no
# withdrawal event): the applicant withdrew the case (docs/delivery.md).
OZG_EVENT_BASE = "urn:ozg-commons:events:"
OZG_EVENT_NAMES = ("withdraw-submission",)
OZG_EVENT_URIS = {name: OZG_EVENT_BASE + name for name in OZG_EVENT_NAMES}
WITHDRAW = OZG_EVENT_URIS["withdraw-submission"]
_ALL_URIS = {**EVENT_URIS, **OZG_EVENT_URIS}
_NAME_OF = {uri: name for name, uri in _ALL_URIS.items()}
ALG = "PS512"
TYP = "secevent+jwt"
MAX_TOKEN_CHARS = 256 * 1024
MAX_FUTURE_SECONDS = 300

# Problem types for reject-submission (and accept-submission's optional problems). The names
# follow FIT-Connect's problem classes (DataSchemaViolation, TechnicalError, ...); the URIs
# are FIT-Connect's event base plus ``problems/<name>``. See docs/fitconnect.md.
PROBLEM_BASE = EVENT_BASE + "problems/"
PROBLEM_TYPES = {
    "AttachmentsMismatch": "attachments-mismatch",
    "DataSchemaViolation": "data-schema-violation",
    "EncryptionIssue": "encryption-issue",
    "HashMismatch": "hash-mismatch",
    "IncorrectAuthenticationTag": "incorrect-authentication-tag",
    "InvalidEventLog": "invalid-event-log",
    "MissingAttachments": "missing-attachments",
    "MissingData": "missing-data",
    "SchemaViolation": "schema-violation",
    "SyntaxViolation": "syntax-violation",
    "TechnicalError": "technical-error",
    "UnsupportedMetadataSchema": "unsupported-metadata-schema",
}
DATA_SCHEMA_VIOLATION = PROBLEM_BASE + "data-schema-violation"
TECHNICAL_ERROR = PROBLEM_BASE + "technical-error"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


@dataclass(frozen=True, slots=True)
class AuthenticationTags:
    """The JWE tags (base64url) of a submission's metadata, data and attachments."""

    metadata: str
    data: str | None = None
    attachments: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"metadata": self.metadata}
        if self.data is not None:
            result["data"] = self.data
        result["attachments"] = dict(self.attachments)
        return result


@dataclass(frozen=True, slots=True)
class Event:
    """A verified event token."""

    uri: str
    name: str
    jti: str
    issuer: str
    issued_at: datetime
    submission_id: str
    case_id: str
    kid: str
    payload: dict[str, Any]  # the event's own object, events[uri]

    @property
    def authentication_tags(self) -> AuthenticationTags | None:
        tags = self.payload.get("authenticationTags")
        if tags is None:
            return None
        return AuthenticationTags(tags["metadata"], tags.get("data"), tags.get("attachments", {}))

    @property
    def problems(self) -> list[dict[str, Any]]:
        return list(self.payload.get("problems", []))


def problem(
    kind: str, *, title: str | None = None, detail: str | None = None, instance: str | None = None
) -> dict[str, Any]:
    """An RFC 7807 problem of one of :data:`PROBLEM_TYPES` (by class name or URI)."""
    slug = PROBLEM_TYPES.get(kind)
    uri = PROBLEM_BASE + slug if slug else kind
    if not uri.startswith(PROBLEM_BASE) or uri[len(PROBLEM_BASE) :] not in PROBLEM_TYPES.values():
        raise ValueError(f"unknown problem type {kind!r}")
    result: dict[str, Any] = {"type": uri, "title": title or uri[len(PROBLEM_BASE) :]}
    if detail is not None:
        result["detail"] = detail
    if instance is not None:
        result["instance"] = instance
    return result


# --------------------------------------------------------------------------- issue
def issue_event(
    event: str,
    *,
    submission_id: str,
    case_id: str,
    issuer: str,
    signing_key: rsa.RSAPrivateKey,
    kid: str,
    now: datetime,
    payload: Mapping[str, Any] | None = None,
    jti: str | None = None,
) -> str:
    """Sign one event (a name from :data:`EVENT_NAMES` or :data:`OZG_EVENT_NAMES`, or its
    URI) as a compact SET."""
    uri = _ALL_URIS.get(event, event)
    if uri not in _NAME_OF:
        raise ValueError(f"unknown event {event!r}")
    if not issuer or not kid:
        raise ValueError("issuer and kid are required")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if signing_key.key_size < 4096:
        raise ValueError("event signing keys have at least 4096 bits")
    body = dict(payload or {})
    _check_event_payload(uri, body, error=ValueError)
    claims = {
        "jti": jti or str(uuid.uuid4()),
        "iss": issuer,
        "iat": int(now.timestamp()),
        "sub": "submission:" + _uuid(submission_id, ValueError),
        "txn": "case:" + _uuid(case_id, ValueError),
        "events": {uri: body},
    }
    header = {"alg": ALG, "typ": TYP, "kid": kid}
    signing_input = f"{_encode(header)}.{_encode(claims)}".encode("ascii")
    signature = signing_key.sign(signing_input, _PSS, hashes.SHA512())
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def _encode(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# --------------------------------------------------------------------------- verify
def verify_event(
    token: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    issuer: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Verify a SET against the issuer's signature keys (by ``kid``) and return its event.

    ``issuer``, if given, must equal ``iss``; ``now``, if given, bounds ``iat`` from above
    (:data:`MAX_FUTURE_SECONDS` of clock skew).
    """
    try:
        return _verify(token, keys, issuer, now)
    except InvalidEventToken:
        raise
    # OverflowError: an ``iat`` past what ``datetime`` can represent
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
        InvalidSignature,
    ) as exc:
        raise InvalidEventToken() from exc


def _verify(
    token: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    issuer: str | None,
    now: datetime | None,
) -> Event:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise InvalidEventToken()
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidEventToken()
    header = _decode(parts[0])
    if set(header) - {"alg", "typ", "kid"} or header.get("alg") != ALG:
        raise InvalidEventToken()
    if header.get("typ") != TYP or not isinstance(header.get("kid"), str):
        raise InvalidEventToken()
    key = keys.get(header["kid"])
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 4096:
        raise InvalidEventToken()
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    key.verify(b64url_decode(parts[2]), signing_input, _PSS, hashes.SHA512())
    claims = _decode(parts[1])
    jti, iss, iat = claims.get("jti"), claims.get("iss"), claims.get("iat")
    if not isinstance(jti, str) or not jti or not isinstance(iss, str) or not iss:
        raise InvalidEventToken()
    if type(iat) is not int or iat < 0:
        raise InvalidEventToken()
    if issuer is not None and iss != issuer:
        raise InvalidEventToken()
    if now is not None and iat > now.timestamp() + MAX_FUTURE_SECONDS:
        raise InvalidEventToken()
    submission_id = _prefixed(claims.get("sub"), "submission:")
    case_id = _prefixed(claims.get("txn"), "case:")
    events = claims.get("events")
    if not isinstance(events, dict) or len(events) != 1:
        raise InvalidEventToken()
    ((uri, body),) = events.items()
    if uri not in _NAME_OF or not isinstance(body, dict):
        raise InvalidEventToken()
    _check_event_payload(uri, body, error=InvalidEventToken)
    return Event(
        uri=uri,
        name=_NAME_OF[uri],
        jti=jti,
        issuer=iss,
        issued_at=datetime.fromtimestamp(iat, UTC),
        submission_id=submission_id,
        case_id=case_id,
        kid=header["kid"],
        payload=body,
    )


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate member")
        result[name] = value
    return result


def _decode(part: str) -> dict[str, Any]:
    value = parse_json(b64url_decode(part), object_pairs_hook=_unique_object)
    if not isinstance(value, dict):
        raise InvalidEventToken()
    return value


def _uuid(value: str, error: type[Exception]) -> str:
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise error("not a UUID") from None
    if str(parsed) != value:
        raise error("not a canonical lower-case UUID")
    return value


def _prefixed(value: Any, prefix: str) -> str:
    if not isinstance(value, str) or not value.startswith(prefix):
        raise InvalidEventToken()
    return _uuid(value[len(prefix) :], InvalidEventToken)


def _is_tag(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(b64url_decode(value)) == 16
    except ValueError:
        return False


def _check_event_payload(uri: str, body: dict[str, Any], *, error: type[Exception]) -> None:
    """The members an event must carry: tags on accept, problems on reject."""
    if "authenticationTags" in body or uri == ACCEPT:
        tags = body.get("authenticationTags")
        if not isinstance(tags, dict) or set(tags) - {"metadata", "data", "attachments"}:
            raise error("authenticationTags must be an object of metadata, data, attachments")
        if not _is_tag(tags.get("metadata")):
            raise error("authenticationTags.metadata must be a JWE tag")
        if "data" in tags and not _is_tag(tags["data"]):
            raise error("authenticationTags.data must be a JWE tag")
        attachments = tags.get("attachments", {})
        if not isinstance(attachments, dict):
            raise error("authenticationTags.attachments must be an object")
        for attachment_id, tag in attachments.items():
            _uuid(attachment_id, error)
            if not _is_tag(tag):
                raise error("authenticationTags.attachments values must be JWE tags")
    if "problems" in body or uri == REJECT:
        problems = body.get("problems")
        if not isinstance(problems, list) or (uri == REJECT and not problems):
            raise error("problems must be a non-empty list")
        for item in problems:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise error("each problem is an RFC 7807 object with a type")
            for name in ("title", "detail", "instance"):
                if name in item and not isinstance(item[name], str):
                    raise error(f"a problem's {name} must be a string")


# --------------------------------------------------------------------------- tags
def check_tags(event: Event, sent: AuthenticationTags) -> None:
    """Raise :class:`TagMismatch` unless ``event`` accepts exactly what was sent.

    ``event`` must be an ``accept-submission``; its tags must equal ``sent`` member for
    member, with the same set of attachment ids.
    """
    echoed = event.authentication_tags
    if event.uri != ACCEPT or echoed is None:
        raise TagMismatch("the event is not an accept-submission with authentication tags")
    if echoed.metadata != sent.metadata:
        raise TagMismatch("the metadata tag differs")
    if echoed.data != sent.data:
        raise TagMismatch("the data tag differs")
    if dict(echoed.attachments) != dict(sent.attachments):
        raise TagMismatch("the attachment tags differ")
