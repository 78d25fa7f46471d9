"""The applicant's submission client: everything that runs on the applicant's device.

httpx, the vault's device side (:mod:`vault.client`), the flow-data interpreters
(:mod:`gateway.client.flowdata`) and the FIT-Connect library (:mod:`gateway.fitconnect`);
no web framework, no database (an import-linter contract). The server never sees a form
value: the draft is sealed to the applicant's own vault key, the form, its PDF summary and
every document travel as JWE to the destination's key, validated here against the pinned
roots before anything is encrypted to it.

    client = ApplicantClient(base_url, token, anchors=anchors, crls=crls)
    key = client.vault.unlock(passphrase)
    case = client.start_case("employment")
    client.save_draft(case["id"], form, key)
    quote = client.declare_fee_facts(case["id"], flow, form)
    payment_id = client.pay_in_sandbox(case["id"], quote["id"])
    sent = client.submit(case["id"], flow, form, documents, key, payment_id=payment_id)
    client.verify_acceptance(sent)   # once the authority accepted: the tags match

See docs/flows.md ("Integrating an external flow over HTTP") and docs/delivery.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from commons.encoding import b64url_decode
from commons.i18n import accept_language
from gateway.client import flowdata
from gateway.fitconnect import (
    Attachment,
    AuthenticationTags,
    Event,
    build_metadata,
    check_tags,
    dumps_metadata,
    encrypt,
    encrypt_stream,
    validate_destination_key,
    verify_event,
)
from gateway.fitconnect.keys import destination_public_key
from gateway.fitconnect.receipt import jwe_sha512, submission_parts, submission_sha512
from vault import RevocationChecker, envelope
from vault.client import VaultClient

FIT_CONNECT = "/fit-connect/v1"
JOSE = "application/jose"
PDF = "application/pdf"
MANIFEST_FORMAT = "ozg-manifest/1"
IN_MEMORY_LIMIT = 64 * 1024 * 1024


class ApplicantError(Exception):
    """A step was refused: the step, the HTTP status and the problem document."""

    def __init__(self, step: str, status: int, problem: Any) -> None:
        self.step, self.status, self.problem = step, status, problem
        super().__init__(f"{step}: HTTP {status}: {problem}")


@dataclass(frozen=True, slots=True)
class Document:
    """A document to send: a vault document (decrypted here from the vault copy) and the
    flow's document type."""

    document_id: str
    document_type: str


@dataclass
class Sent:
    """What the client keeps of a submission: ids, its own tags and digests, the receipt."""

    case_id: str
    submission_id: str
    fit_connect_case_id: str
    destination_id: str
    authority: str
    tags: AuthenticationTags
    parts: list[dict[str, Any]]
    submission_sha512: str
    receipt: str | None
    attachment_names: dict[str, str] = field(default_factory=dict)


class ApplicantClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.Client | None = None,
        anchors: Sequence[x509.Certificate] = (),
        crls: Sequence[x509.CertificateRevocationList] = (),
        allow_self_signed: bool = False,
        timeout: float = 120.0,
        public_url: str | None = None,
    ) -> None:
        """``anchors``: the pinned roots a destination key's x5c chain must lead to (never
        a root shipped in x5c), ``crls`` the revocation lists checked on the way (fail
        closed). ``allow_self_signed`` is the test-only switch of FIT-Connect's rules.
        ``public_url``: the deployment's public base URL, which a route's
        ``destinationSignature`` names as issuer and submission host (default: the URL
        this client talks to; differs only for an in-process client)."""
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.public_url = httpx.URL(public_url) if public_url else None
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.headers.setdefault("Accept-Language", accept_language())
        self.anchors = list(anchors)
        self.revocation = RevocationChecker(crls=list(crls), anchors=self.anchors)
        self.allow_self_signed = allow_self_signed
        self.vault = VaultClient(base_url, token, http=self.http, trust_anchors=self.anchors)

    # ------------------------------------------------------------------ plumbing
    def _ok(self, step: str, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            response.read()
            try:
                problem: Any = response.json()
            except ValueError:
                problem = response.text[:500]
            raise ApplicantError(step, response.status_code, problem)
        return response

    def _json(self, step: str, response: httpx.Response) -> Any:
        return self._ok(step, response).json()

    # ------------------------------------------------------------------ flows and cases
    def flow(self, flow_id: str) -> dict[str, Any]:
        flow: dict[str, Any] = self._json("flow", self.http.get(f"/v1/flows/{flow_id}"))
        return flow

    def start_case(self, flow_id: str, allow_client: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"flow_id": flow_id}
        if allow_client:
            body["allow_client"] = allow_client
        case: dict[str, Any] = self._json("start", self.http.post("/v1/cases", json=body))
        return case

    def allow_flow(self, case_id: str, client_id: str) -> dict[str, Any]:
        """Let an external flow (its client id) act within the case (docs/flows.md, 9)."""
        case: dict[str, Any] = self._json(
            "allow flow",
            self.http.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": client_id}),
        )
        return case

    def revoke_flow(self, case_id: str) -> None:
        """Take the external flow's permission for the case back."""
        self._ok("revoke flow", self.http.delete(f"/v1/cases/{case_id}/flow-client"))

    def case(self, case_id: str) -> dict[str, Any]:
        """The case with its status timeline."""
        case: dict[str, Any] = self._json("case", self.http.get(f"/v1/cases/{case_id}"))
        return case

    def timeline(self, case_id: str) -> list[dict[str, Any]]:
        timeline: list[dict[str, Any]] = self.case(case_id)["timeline"]
        return timeline

    # ------------------------------------------------------------------ drafts
    @staticmethod
    def seal_draft(form: Mapping[str, Any], key: Any) -> bytes:
        """The form sealed to the applicant's own vault key (a vault envelope): what the
        server stores as the draft, and what an external flow may relay (docs/flows.md, 9)."""
        out = io.BytesIO()
        envelope.seal(
            json.dumps(form, ensure_ascii=False).encode("utf-8"),
            out,
            [key.public_key()],
            filename="draft.json",
            media_type="application/json",
        )
        return out.getvalue()

    def save_draft(self, case_id: str, form: Mapping[str, Any], key: Any) -> None:
        """Seal the form to the applicant's own vault key (vault envelope) and store it."""
        self._ok(
            "save draft",
            self.http.put(
                f"/v1/cases/{case_id}/draft",
                content=self.seal_draft(form, key),
                headers={"Content-Type": "application/octet-stream"},
            ),
        )

    def load_draft(self, case_id: str, key: Any) -> dict[str, Any]:
        """Resume on any device: fetch the sealed draft and open it with the vault key."""
        sealed = self._ok("load draft", self.http.get(f"/v1/cases/{case_id}/draft")).content
        form: dict[str, Any] = json.loads(envelope.open_bytes(sealed, key)[1])
        return form

    @staticmethod
    def validate(flow: Mapping[str, Any], form: Any, lang: str = "de") -> list[Any]:
        """The form against the flow's schema, here on the device: errors per field."""
        return list(flowdata.validate(flow, form, lang))

    # ------------------------------------------------------------------ fees
    @staticmethod
    def fee_facts(flow: Mapping[str, Any], form: Any, today: date | None = None) -> dict[str, Any]:
        """Exactly the facts the flow declares for the fee quote (show them before sending)."""
        facts = flowdata.fee_facts(flow, form, today or datetime.now(UTC).date())
        fixed = set(flow.get("fee", {}).get("fixed", {}))  # the server adds those itself
        return {name: value for name, value in facts.items() if name not in fixed}

    def declare_fee_facts(
        self, case_id: str, facts: Mapping[str, Any], *, waiver_requested: bool = False
    ) -> dict[str, Any]:
        """Send the declared facts; the answer holds the quote."""
        body = {"facts": dict(facts), "waiver_requested": waiver_requested}
        answer: dict[str, Any] = self._json(
            "fee facts", self.http.put(f"/v1/cases/{case_id}/fee-facts", json=body)
        )
        return answer

    def pay_in_sandbox(self, case_id: str, quote_id: str, action: str = "success") -> str:
        """Start the payment for the case's own quote (an applicant may pay their own, see
        docs/payments.md), act on the sandbox page and link the payment to the case."""
        payment = self._json(
            "payment",
            self.http.post(
                "/v1/payments",
                json={"quote_id": quote_id, "return_url": "http://127.0.0.1/return"},
                headers={"Idempotency-Key": f"case-{case_id}-{quote_id}"},
            ),
        )
        page = httpx.URL(payment["payment_url"])
        self._ok("sandbox page", self.http.get(page.path))
        done = self.http.post(page.path, data={"action": action}, follow_redirects=False)
        if done.status_code not in (200, 303):
            self._ok("sandbox payment", done)
        self._ok(
            "link payment",
            self.http.post(f"/v1/cases/{case_id}/payment", json={"payment_id": payment["id"]}),
        )
        payment_id: str = payment["id"]
        return payment_id

    # ------------------------------------------------------------------ routing
    def route(self, leika: str, ars: str) -> dict[str, Any]:
        """The responsible authority for the address's ARS, chosen here (the address
        stays sealed); its ``destinationSignature`` is verified when the deployment
        publishes routing keys."""
        routes = self._json(
            "route", self.http.get("/v1/routes", params={"leikaKey": leika.rsplit(":", 1)[-1],
                                                         "ars": ars})
        )["routes"]  # fmt: skip
        if not routes:
            raise ApplicantError("route", 404, f"no authority for {ars}")
        route: dict[str, Any] = routes[0]
        self._verify_route(route, leika, ars)
        return route

    def _verify_route(self, route: Mapping[str, Any], leika: str, ars: str) -> None:
        signature = route.get("destinationSignature")
        if not signature:
            return
        try:
            from gateway.authorities import (  # type: ignore[import-not-found, unused-ignore]
                verify_destination_signature,
            )
        except ImportError:  # pragma: no cover - the registry ships with the gateway
            return
        keys = self._json("routing keys", self.http.get("/v1/routes/keys"))["keys"]
        base = self.public_url or self.http.base_url
        host = base.host + (f":{base.port}" if base.port else "")
        verify_destination_signature(
            signature,
            keys,
            destination_id=route["destinationId"],
            leika=leika.rsplit(":", 1)[-1],
            ars=ars,
            submission_host=host,
            issuer=str(base).rstrip("/"),
        )

    def choose_authority(self, case_id: str, authority: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._json(
            "authority",
            self.http.put(f"/v1/cases/{case_id}/authority", json={"authority": authority}),
        )
        return answer

    # ------------------------------------------------------------------ destination
    def destination(
        self, destination_id: str, authority: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The destination and its encryption key, validated: RSA ≥ 4096, key_ops, alg,
        the x5c chain to a pinned root, CRLs, and the certificate naming ``authority``."""
        info = self._json(
            "destination", self.http.get(f"{FIT_CONNECT}/destinations/{destination_id}")
        )
        kid = info["encryptionKid"]
        jwk = self._json(
            "destination key",
            self.http.get(f"{FIT_CONNECT}/destinations/{destination_id}/keys/{kid}"),
        )
        validate_destination_key(
            jwk,
            authority=authority,
            anchors=self.anchors,
            revocation=self.revocation,
            now=datetime.now(UTC),
            expected_kid=kid,
            allow_self_signed=self.allow_self_signed,
        )
        return info, jwk

    # ------------------------------------------------------------------ submission
    def submit(
        self,
        case_id: str,
        flow: Mapping[str, Any],
        form: Mapping[str, Any],
        documents: Sequence[Document],
        key: Any,
        *,
        destination_id: str,
        authority: str,
        payment_id: str | None = None,
        lang: str = "de",
        reply_email: str | None = None,
    ) -> Sent:
        """Validate, build the summary and the metadata, encrypt everything to the
        destination key, announce with the manifest, upload, submit; keep the receipt."""
        errors = self.validate(flow, form, lang)
        if errors:
            raise ApplicantError("validate", 422, [str(e) for e in errors])
        info, jwk = self.destination(destination_id, authority)
        with tempfile.TemporaryDirectory(prefix="ozg-submit-") as tmp:
            plain: list[tuple[str, str, Path, str, str]] = []  # id, type, path, mime, name
            for doc in documents:
                path = Path(tmp) / doc.document_id
                meta = self.vault.get(doc.document_id, path, key)
                plain.append((str(uuid.uuid4()), doc.document_type, path, meta.media_type,
                              meta.filename))  # fmt: skip
            names = [(t, n) for _i, t, _p, _m, n in plain]
            summary = Path(tmp) / "summary.pdf"
            summary.write_bytes(flowdata.summary_pdf(flow, form, lang, names))
            plain.insert(0, (str(uuid.uuid4()), "summary", summary, PDF, "summary.pdf"))
            data = json.dumps(form, ensure_ascii=False, sort_keys=True).encode("utf-8")
            metadata = self._metadata(flow, info, data, plain, payment_id, reply_email, case_id)
            metadata_bytes = dumps_metadata(metadata)
            manifest = {
                "format": MANIFEST_FORMAT,
                "caseId": case_id,
                "flow": flow["id"],
                "authority": authority,
                "paymentId": payment_id,
                "parts": [
                    {"part": "data", "documentType": "form", "size": len(data)},
                    {"part": "metadata", "documentType": "fit-connect-metadata",
                     "size": len(metadata_bytes)},
                    *({"attachmentId": i, "documentType": t, "size": p.stat().st_size}
                      for i, t, p, _m, _n in plain),
                ],
            }  # fmt: skip
            created = self._json(
                "announce",
                self.http.post(
                    f"{FIT_CONNECT}/submissions",
                    json={
                        "destinationId": destination_id,
                        "announcedAttachments": [i for i, *_ in plain],
                        "publicService": {"name": _text(flow["title"], lang),
                                          "identifier": flow["leika"]},
                        "ozgManifest": manifest,
                    },
                ),
            )  # fmt: skip
            submission_id = created["submissionId"]
            attachment_tags: dict[str, str] = {}
            digests: list[tuple[str, str, str]] = []
            for attachment_id, _type, path, mime, _name in plain:
                jwe_path = Path(tmp) / f"{attachment_id}.jwe"
                with path.open("rb") as source, jwe_path.open("wb") as out:
                    result = encrypt_stream(source, out, jwk, mime)
                digest = hashlib.sha512()
                with jwe_path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        digest.update(block)
                attachment_tags[attachment_id] = result.tag
                digests.append((attachment_id, digest.hexdigest(), result.tag))
                with jwe_path.open("rb") as handle:
                    self._ok(
                        "upload",
                        self.http.put(
                            f"{FIT_CONNECT}/submissions/{submission_id}/attachments/{attachment_id}",
                            content=_blocks(handle),
                            headers={"Content-Type": JOSE,
                                     "Content-Length": str(jwe_path.stat().st_size)},
                        ),
                    )  # fmt: skip
            encrypted_metadata = encrypt(metadata_bytes, jwk, "application/json")
            encrypted_data = encrypt(data, jwk, "application/json")
            submitted = self._json(
                "submit",
                self.http.put(
                    f"{FIT_CONNECT}/submissions/{submission_id}",
                    json={"encryptedMetadata": encrypted_metadata.compact,
                          "encryptedData": encrypted_data.compact},
                ),
            )  # fmt: skip
        parts = submission_parts(encrypted_metadata.compact, encrypted_data.compact, digests)
        return Sent(
            case_id=case_id,
            submission_id=submission_id,
            fit_connect_case_id=created["caseId"],
            destination_id=destination_id,
            authority=authority,
            tags=AuthenticationTags(
                metadata=encrypted_metadata.tag,
                data=encrypted_data.tag,
                attachments=attachment_tags,
            ),
            parts=parts,
            submission_sha512=submission_sha512(parts),
            receipt=submitted.get("ozgReceipt"),
            attachment_names={i: n for i, _t, _p, _m, n in plain},
        )

    def _metadata(
        self,
        flow: Mapping[str, Any],
        destination: Mapping[str, Any],
        data: bytes,
        plain: Sequence[tuple[str, str, Path, str, str]],
        payment_id: str | None,
        reply_email: str | None,
        case_id: str,
    ) -> dict[str, Any]:
        versions = destination.get("metadataVersions") or ["1.0.0"]
        attachments = [
            Attachment(
                sha512=_sha512_file(path),
                attachment_id=attachment_id,
                mime_type=mime,
                purpose="report" if doc_type == "summary" else "attachment",
                filename=name,
                description=doc_type,
            )
            for attachment_id, doc_type, path, mime, name in plain
        ]
        payment = None
        if payment_id is not None:
            payment = self._json(
                "payment information", self.http.get(f"/v1/payments/{payment_id}/fit-connect")
            )
        reply = None
        if reply_email and "eMail" in destination.get("replyChannels", {}):
            reply = {"eMail": {"address": reply_email}}
        return build_metadata(
            versions[0],
            data_hash=hashlib.sha512(data).hexdigest(),
            data_schema_uri=str(flow.get("data_schema_uri") or flow["id"]),
            data_mime="application/json",
            attachments=attachments,
            public_service={"identifier": flow["leika"], "name": _text(flow["title"], "de")},
            payment_information=payment,
            reply_channel=reply,
            additional_reference_info={"senderReference": case_id},
        )

    # ------------------------------------------------------------------ after submit
    def receipt(self, case_id: str) -> dict[str, Any]:
        """The signed submission receipt, retrievable any time after the submit."""
        receipt: dict[str, Any] = self._json(
            "receipt", self.http.get(f"/v1/cases/{case_id}/receipt")
        )
        return receipt

    def check_receipt(self, sent: Sent, claims: Mapping[str, Any]) -> None:
        """The receipt attests exactly the ciphertexts this device sent."""
        if (
            claims.get("submission_sha512") != sent.submission_sha512
            or claims.get("parts") != sent.parts
        ):
            raise ApplicantError("receipt", 409, "the receipt does not attest what was sent")

    def events(self, sent: Sent) -> list[Event]:
        """The case's event log, every event verified: the delivery service's against its
        JWKS, the destination's against its (validated) signature key."""
        log = self._json(
            "events", self.http.get(f"{FIT_CONNECT}/cases/{sent.fit_connect_case_id}/events")
        )["eventLog"]
        delivery_keys = self._json("jwks", self.http.get("/fit-connect/.well-known/jwks.json"))
        keys: dict[str, Any] = {}
        for jwk in delivery_keys["keys"]:
            public, kid = destination_public_key(jwk)
            keys[kid] = public
        events = []
        for token in log:
            header = json.loads(b64url_decode(token.split(".")[0]))
            if header.get("kid") not in keys:
                keys[header["kid"]] = self._signature_key(sent, header["kid"])
            events.append(verify_event(token, keys))
        return events

    def _signature_key(self, sent: Sent, kid: str) -> Any:
        jwk = self._json(
            "signature key",
            self.http.get(f"{FIT_CONNECT}/destinations/{sent.destination_id}/keys/{kid}"),
        )
        validated = validate_destination_key(
            jwk,
            authority=sent.authority,
            anchors=self.anchors,
            revocation=self.revocation,
            now=datetime.now(UTC),
            purpose="verify",
            allow_self_signed=self.allow_self_signed,
        )
        return validated.public_key

    def verify_acceptance(self, sent: Sent) -> Event:
        """Find the authority's ``accept-submission`` and compare its echoed tags with the
        tags of what this device encrypted: on success, the authority decrypted exactly
        what was sent (else :class:`~gateway.fitconnect.TagMismatch`)."""
        for event in self.events(sent):
            if event.name == "accept-submission" and event.issuer == sent.destination_id:
                check_tags(event, sent.tags)
                return event
        raise ApplicantError("acceptance", 404, "the authority has not accepted yet")

    def withdraw(self, case_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._json(
            "withdraw", self.http.post(f"/v1/cases/{case_id}/withdraw")
        )
        return answer

    def answer_request(
        self, case_id: str, authority: str, files: Sequence[tuple[Path, str]], key: Any
    ) -> tuple[dict[str, Any], list[Any]]:
        """Answer a request for documents: each file sanitized, sealed and uploaded to the
        vault, shared with the case's authority, then linked to the case. Returns the case
        and the sanitizer reports."""
        linked, reports = [], []
        for path, document_type in files:
            doc_id, report = self.vault.put(path, key)
            self.vault.share(doc_id, authority, key)
            linked.append({"document_id": doc_id, "document_type": document_type})
            reports.append(report)
        case: dict[str, Any] = self._json(
            "documents",
            self.http.post(f"/v1/cases/{case_id}/documents", json={"documents": linked}),
        )
        return case, reports

    # ------------------------------------------------------------------ mailbox
    def messages(self) -> list[dict[str, Any]]:
        answer = self._json("messages", self.http.get("/v1/me/messages"))
        items: list[dict[str, Any]] = answer["messages"] if isinstance(answer, dict) else answer
        return items

    def open_message(self, message_id: str, key: ec.EllipticCurvePrivateKey) -> tuple[Any, bytes]:
        """A mailbox message's body: text as is, a sealed body (``ozg-envelope``) opened
        here with the applicant's vault key. Returns (envelope metadata or None, bytes)."""
        message = self._json("message", self.http.get(f"/v1/me/messages/{message_id}"))
        body = message["body"]
        if message.get("body_format") != "ozg-envelope":
            return None, body.encode("utf-8")
        meta, plaintext = envelope.open_bytes(b64url_decode(body), key)
        return meta, plaintext


def _text(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("de") or next(iter(value.values())))
    return str(value)


def _sha512_file(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _blocks(handle: Any, size: int = 1 << 20) -> Any:
    while block := handle.read(size):
        yield block


__all__ = ["ApplicantClient", "ApplicantError", "Document", "Sent", "jwe_sha512"]
