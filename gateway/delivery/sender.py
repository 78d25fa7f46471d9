"""The FIT-Connect sender adapter: deliver a submission to any FIT-Connect delivery service.

For authorities reachable only through FITKO's delivery service (or any other one, ours
included), given its base URL (``https://submission-api-testing.fit-connect.fitko.dev``, or
``https://ozg.example/fit-connect``), its token URL and OAuth client credentials. Device and
server neutral: httpx and :mod:`gateway.fitconnect` only, no web framework, no database (an
import-linter contract checks this).

What :meth:`FitConnectSender.send` does, in FIT-Connect's order:

1. an access token (OAuth 2.0 client credentials, ``client_secret_post``), reused until
   shortly before it expires;
2. ``GET /v1/destinations/{id}``, then ``GET /v1/destinations/{id}/keys/{encryptionKid}``,
   and the key checked with :func:`gateway.fitconnect.validate_destination_key` (pinned
   anchors, revocation, the authority binding; ``allow_self_signed`` only for FIT-Connect's
   test environment);
3. ``POST /v1/submissions`` announcing the attachment ids;
4. each attachment encrypted (JWE, no ``zip``) and ``PUT`` as ``application/jose``;
5. metadata and data encrypted and ``PUT /v1/submissions/{id}``.

It returns the ids and the authentication tags it produced. :meth:`events` reads the case's
event log and verifies every token: ``iss`` = the delivery service (its JWKS at
``<base>/.well-known/jwks.json``) or the destination id (the destination's signature key,
checked like the encryption key, with ``purpose="verify"``). Anything else is refused.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from commons.clock import Clock, system_clock
from gateway.fitconnect import (
    AuthenticationTags,
    Event,
    InvalidEventToken,
    encrypt,
    encrypt_stream,
    validate_destination_key,
    verify_event,
)
from gateway.fitconnect.keys import destination_public_key
from vault import RevocationChecker

TOKEN_MARGIN_SECONDS = 30
FINAL_EVENTS = frozenset({"accept-submission", "reject-submission", "delete-submission"})


class SenderError(Exception):
    """The delivery service or the token endpoint refused a step; ``problem`` is its
    problem document when it sent one."""

    def __init__(self, step: str, status: int, problem: Mapping[str, Any] | None = None):
        detail = (problem or {}).get("detail") or (problem or {}).get("title") or ""
        super().__init__(f"{step}: HTTP {status} {detail}".strip())
        self.step = step
        self.status = status
        self.problem = dict(problem or {})


@dataclass(frozen=True, slots=True)
class OutgoingAttachment:
    """One attachment: its id (a UUID the sender chooses), its MIME type, and the plaintext
    (bytes, or a file encrypted streaming)."""

    attachment_id: str
    media_type: str
    content: bytes | Path


@dataclass(frozen=True, slots=True)
class Sent:
    submission_id: str
    case_id: str
    destination_id: str
    tags: AuthenticationTags


@dataclass
class FitConnectSender:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    anchors: Sequence[x509.Certificate] = ()
    revocation: RevocationChecker | None = None
    allow_self_signed: bool = False
    scope: str | None = None
    issuer: str | None = None  # the delivery service's iss; default: base_url
    clock: Clock = system_clock
    transport: httpx.BaseTransport | None = None
    timeout: float = 60.0
    _token: tuple[str, float] | None = field(default=None, repr=False)

    # ----------------------------------------------------------------------- plumbing
    def _client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, timeout=self.timeout)

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def access_token(self) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        with self._client() as client:
            response = client.post(self.token_url, data=form)
        if response.status_code != 200:
            raise SenderError("token", response.status_code, _json_or_none(response))
        body = response.json()
        token = body.get("access_token")
        if not isinstance(token, str):
            raise SenderError("token", response.status_code, {"detail": "no access_token"})
        lifetime = float(body.get("expires_in", 60))
        self._token = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 1))
        return token

    def _request(self, step: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.access_token()}", **kwargs.pop("headers", {})}
        with self._client() as client:
            response = client.request(method, self._url(path), headers=headers, **kwargs)
        if response.status_code >= 400:
            raise SenderError(step, response.status_code, _json_or_none(response))
        return response

    def _revocation(self) -> RevocationChecker:
        return self.revocation or RevocationChecker(crls=(), anchors=list(self.anchors))

    # ----------------------------------------------------------------------- destination
    def destination(self, destination_id: str) -> dict[str, Any]:
        info: dict[str, Any] = self._request(
            "destination", "GET", f"/v1/destinations/{destination_id}"
        ).json()
        return info

    def destination_key(
        self, destination_id: str, kid: str, *, authority: str, purpose: str = "wrapKey"
    ) -> dict[str, Any]:
        """The destination's key ``kid``, validated (raises ``InvalidDestinationKey``)."""
        jwk = self._request(
            "destination key", "GET", f"/v1/destinations/{destination_id}/keys/{kid}"
        ).json()
        checked = validate_destination_key(
            jwk,
            authority=authority,
            anchors=list(self.anchors),
            revocation=self._revocation(),
            now=self.clock.now(),
            purpose="verify" if purpose == "verify" else "wrapKey",
            expected_kid=kid,
            allow_self_signed=self.allow_self_signed,
        )
        return checked.jwk

    # ----------------------------------------------------------------------- send
    def send(
        self,
        destination_id: str,
        *,
        authority: str,
        public_service: Mapping[str, str],
        metadata: bytes,
        data: bytes | None = None,
        data_media_type: str = "application/json",
        attachments: Sequence[OutgoingAttachment] = (),
        manifest: Mapping[str, Any] | None = None,
    ) -> Sent:
        """Deliver one submission (module text); ``manifest`` adds the ozg-commons
        extension for delivery services that understand it (ours)."""
        info = self.destination(destination_id)
        key = self.destination_key(destination_id, info["encryptionKid"], authority=authority)
        announce: dict[str, Any] = {
            "destinationId": destination_id,
            "announcedAttachments": [a.attachment_id for a in attachments],
            "publicService": dict(public_service),
        }
        if manifest is not None:
            announce["ozgManifest"] = dict(manifest)
        created = self._request("create", "POST", "/v1/submissions", json=announce).json()
        submission_id, case_id = created["submissionId"], created["caseId"]
        tags: dict[str, str] = {}
        for attachment in attachments:
            tags[attachment.attachment_id] = self._upload(submission_id, attachment, key)
        sealed_metadata = encrypt(metadata, key, "application/json")
        body = {"encryptedMetadata": sealed_metadata.compact}
        data_tag = None
        if data is not None:
            sealed_data = encrypt(data, key, data_media_type)
            body["encryptedData"] = sealed_data.compact
            data_tag = sealed_data.tag
        self._request("submit", "PUT", f"/v1/submissions/{submission_id}", json=body)
        return Sent(
            submission_id,
            case_id,
            destination_id,
            AuthenticationTags(sealed_metadata.tag, data_tag, tags),
        )

    def _upload(
        self, submission_id: str, attachment: OutgoingAttachment, key: Mapping[str, Any]
    ) -> str:
        path = f"/v1/submissions/{submission_id}/attachments/{attachment.attachment_id}"
        headers = {"Content-Type": "application/jose"}
        if isinstance(attachment.content, bytes):
            sealed = encrypt(attachment.content, key, attachment.media_type)
            self._request("upload", "PUT", path, content=sealed.compact.encode(), headers=headers)
            return sealed.tag
        with attachment.content.open("rb") as source, tempfile.TemporaryFile() as out:
            result = encrypt_stream(source, out, key, attachment.media_type)
            out.seek(0)
            headers["Content-Length"] = str(result.compact_length)
            self._request("upload", "PUT", path, content=_chunks(out), headers=headers)
        return result.tag

    # ----------------------------------------------------------------------- events
    def events(self, case_id: str, *, authority: str, destination_id: str) -> list[Event]:
        """The case's event log, every token verified against its issuer's key."""
        log = self._request("events", "GET", f"/v1/cases/{case_id}/events").json()["eventLog"]
        service_keys = self._service_keys()
        destination_keys: dict[str, Any] = {}
        verified: list[Event] = []
        for token in log:
            kid = _header(token).get("kid")
            if not isinstance(kid, str):
                raise InvalidEventToken()
            if kid in service_keys:
                event = verify_event(
                    token, service_keys, issuer=self.issuer or self.base_url, now=self.clock.now()
                )
            else:
                if kid not in destination_keys:
                    jwk = self.destination_key(
                        destination_id, kid, authority=authority, purpose="verify"
                    )
                    destination_keys[kid] = destination_public_key(jwk)[0]
                event = verify_event(
                    token, destination_keys, issuer=destination_id, now=self.clock.now()
                )
            if event.case_id != case_id:
                raise InvalidEventToken()
            verified.append(event)
        return verified

    def _service_keys(self) -> dict[str, Any]:
        with self._client() as client:
            response = client.get(self._url("/.well-known/jwks.json"))
        if response.status_code != 200:
            raise SenderError("jwks", response.status_code, _json_or_none(response))
        keys: dict[str, Any] = {}
        for jwk in response.json().get("keys", []):
            if jwk.get("alg") == "PS512" and isinstance(jwk.get("kid"), str):
                keys[jwk["kid"]] = destination_public_key(jwk)[0]
        return keys

    def wait_for_decision(
        self,
        case_id: str,
        *,
        authority: str,
        destination_id: str,
        timeout: float = 300.0,
        interval: float = 5.0,
    ) -> Event:
        """Poll the event log until it holds an accept-, reject- or delete-submission."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events(case_id, authority=authority, destination_id=destination_id):
                if event.name in FINAL_EVENTS:
                    return event
            if time.monotonic() >= deadline:
                raise TimeoutError("no decision on the submission yet")
            time.sleep(interval)


def _chunks(handle: Any, size: int = 1024 * 1024) -> Any:
    while block := handle.read(size):
        yield block


def _header(token: str) -> dict[str, Any]:
    from commons.encoding import b64url_decode, parse_json

    try:
        value = parse_json(b64url_decode(token.split(".", 1)[0]))
    except (ValueError, AttributeError):
        raise InvalidEventToken() from None
    if not isinstance(value, dict):
        raise InvalidEventToken()
    return value


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


__all__ = ["FitConnectSender", "OutgoingAttachment", "SenderError", "Sent"]
