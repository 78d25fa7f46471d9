"""``ozg-commons demo``: the whole story, step by step, over HTTP only.

:func:`run_story` drives an ``httpx.Client`` (a running server's URL, or an in-process
``TestClient``, which is one) as the applicant, the Teltow-Fläming caseworker and the DPO,
with tokens from the development identity provider. The automated end-to-end test runs the
same function. :func:`accept_as_authority` is the minimal fetch-decrypt-accept of the
authority's client, in one place, so that it can be swapped for
``gateway.client.authority`` when that lands.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commons.encoding import b64url_encode
from commons.i18n import N_, _, ngettext
from compliance import HttpLog, verify_server
from gateway.client.applicant import ApplicantClient, Document, Sent
from gateway.fitconnect import decrypt, issue_event
from vault import envelope
from vault.client import keys as vault_keys

TOKEN_PATH = "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"  # noqa: S105
FIT_CONNECT = "/fit-connect/v1"
LEIKA_EMPLOYMENT = "urn:de:fim:leika:leistung:99010003001000"
PASSPHRASE = "demo passphrase, not a secret"  # noqa: S105
CHECKPOINT_WAIT = 15.0

Say = Callable[[str], None]
#: The employment flow's other required documents (type, file name, text), sent with the
#: passport; the caseworker then asks for one more (:data:`EXTRA_DOCUMENT`).
OTHER_DOCUMENTS = (
    ("biometric_photo", "foto.pdf", "biometric photo (demo)"),
    ("employment_contract", "arbeitsvertrag.pdf", "Arbeitsvertrag / employment contract (demo)"),
    ("qualification_recognition", "anerkennung.pdf", "Anerkennung / recognition (demo)"),
    ("health_insurance", "krankenversicherung.pdf", "Krankenversicherung / health insurance"),
    ("rental_contract", "mietvertrag.pdf", "Mietvertrag / rental contract (demo)"),
)
EXTRA_DOCUMENT = "payslip"
EXTRA_TEXT = "Gehaltsnachweis / payslip (demo)"


class StepFailed(Exception):
    def __init__(self, step: int, what: str, cause: BaseException) -> None:
        self.step = step
        super().__init__(
            _("step {step} ({what}) failed: {cause}", step=step, what=what, cause=cause)
        )


@dataclass(frozen=True, slots=True)
class AuthorityKeys:
    """What the authority's own client holds: its id, destination and private keys."""

    authority: str
    destination_id: str
    encryption_key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey
    signing_kid: str


def demo_authority_keys(
    http: httpx.Client, data_dir: Path, authority: str = "tf"
) -> tuple[AuthorityKeys, list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """A demo authority's own keys as the embedded default stores them under
    ``data_dir/authorities/demo/`` (``<id>.json`` with both public JWKs,
    ``<id>-encryption.key.pem`` and ``<id>-signing.key.pem``, PKCS#8; see
    docs/authorities.md), its destination id from ``GET /v1/authorities/{id}``, and the
    demo CA (``data_dir/vault/demo-ca.pem`` and its CRL) as the pinned trust anchor."""
    directory = data_dir / "authorities" / "demo"
    public = json.loads((directory / f"{authority}.json").read_text("utf-8"))
    encryption = _private_key(directory / f"{authority}-encryption.key.pem")
    signing = _private_key(directory / f"{authority}-signing.key.pem")
    info = http.get(f"/v1/authorities/{authority}")
    info.raise_for_status()
    keys = AuthorityKeys(
        authority, info.json()["destinationId"], encryption, signing,
        public["signing_jwk"]["kid"],
    )  # fmt: skip
    vault_dir = data_dir / "vault"
    anchors = [x509.load_pem_x509_certificate((vault_dir / "demo-ca.pem").read_bytes())]
    crl_path = vault_dir / "demo-ca.crl"
    crls = [x509.load_pem_x509_crl(crl_path.read_bytes())] if crl_path.exists() else []
    return keys, anchors, crls


def _private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path.name} is not an RSA private key")
    return key


@dataclass
class StoryResult:
    case_id: str = ""
    sent: Sent | None = None
    receipt: dict[str, Any] = field(default_factory=dict)
    decision: bytes = b""
    folder: dict[str, bytes] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)


def token(http: httpx.Client, user: str) -> str:
    """A development IdP token (password grant, the public client ``ozg-cli``)."""
    response = http.post(
        TOKEN_PATH,
        data={"grant_type": "password", "client_id": "ozg-cli", "username": user,
              "password": user},
    )  # fmt: skip
    response.raise_for_status()
    access: str = response.json()["access_token"]
    return access


def example_form() -> dict[str, Any]:
    """The demo's employment form (package data)."""
    data = resources.files("gateway.client").joinpath("demo_employment.json").read_text("utf-8")
    form: dict[str, Any] = json.loads(data)
    return form


def minimal_pdf(text: str) -> bytes:
    """A small valid one-page PDF showing ``text`` (ASCII)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())  # fmt: skip
    return out.getvalue()


# --------------------------------------------------------------------------- the authority
def accept_as_authority(
    http: httpx.Client, caseworker_token: str, keys: AuthorityKeys
) -> dict[str, dict[str, bytes]]:
    """Fetch every new submission of the destination, decrypt it here, check every hash
    against the metadata, and acknowledge it with a signed ``accept-submission`` echoing
    the tags. Returns per FIT-Connect case id the decrypted folder (form.json,
    metadata.json and each attachment under its original name)."""
    headers = {"Authorization": f"Bearer {caseworker_token}"}
    listed = http.get(
        f"{FIT_CONNECT}/submissions", params={"destinationId": keys.destination_id},
        headers=headers,
    )  # fmt: skip
    listed.raise_for_status()
    folders: dict[str, dict[str, bytes]] = {}
    for item in listed.json()["submissions"]:
        sub = http.get(f"{FIT_CONNECT}/submissions/{item['submissionId']}", headers=headers)
        sub.raise_for_status()
        body = sub.json()
        metadata_jwe = decrypt(body["encryptedMetadata"], keys.encryption_key)
        data_jwe = decrypt(body["encryptedData"], keys.encryption_key)
        metadata = json.loads(metadata_jwe.plaintext)
        structure = metadata["contentStructure"]
        if structure["data"]["hash"]["content"] != hashlib.sha512(data_jwe.plaintext).hexdigest():
            raise ValueError(_("the form data does not match its hash in the metadata"))
        folder = {"form.json": data_jwe.plaintext, "metadata.json": metadata_jwe.plaintext}
        tags: dict[str, str] = {}
        for described in structure["attachments"]:
            attachment_id = described["attachmentId"]
            blob = http.get(
                f"{FIT_CONNECT}/submissions/{item['submissionId']}/attachments/{attachment_id}",
                headers=headers,
            )
            blob.raise_for_status()
            opened = decrypt(blob.content, keys.encryption_key)
            if opened.plaintext_sha512 != described["hash"]["content"]:
                raise ValueError(_("an attachment does not match its hash in the metadata"))
            folder[described.get("filename") or attachment_id] = opened.plaintext
            tags[attachment_id] = opened.tag
        event = issue_event(
            "accept-submission",
            submission_id=item["submissionId"],
            case_id=item["caseId"],
            issuer=keys.destination_id,
            signing_key=keys.signing_key,
            kid=keys.signing_kid,
            now=datetime.now(UTC),
            payload={"authenticationTags": {"metadata": metadata_jwe.tag,
                                            "data": data_jwe.tag, "attachments": tags}},
        )  # fmt: skip
        posted = http.post(
            f"{FIT_CONNECT}/cases/{item['caseId']}/events",
            content=event,
            headers={**headers, "Content-Type": "application/jose"},
        )
        posted.raise_for_status()
        folders[item["caseId"]] = folder
    return folders


def seal_for_applicant(http: httpx.Client, caseworker_token: str, subject_kid_jwk: Any,
                       data: bytes, name: str, media_type: str) -> str:  # fmt: skip
    """Seal a message body to the applicant's vault public key (base64url, no padding)."""
    del http, caseworker_token
    from vault import public_key_from_jwk

    out = io.BytesIO()
    envelope.seal(data, out, [public_key_from_jwk(subject_kid_jwk)], filename=name,
                  media_type=media_type)  # fmt: skip
    return b64url_encode(out.getvalue())


# --------------------------------------------------------------------------- the story
def run_story(
    http: httpx.Client,
    authority_keys: AuthorityKeys,
    *,
    say: Say = print,
    form: Mapping[str, Any] | None = None,
    document_name: str = "reisepass.pdf",
    document_text: str = "Reisepass / passport (demo)",
    extra_name: str = "gehaltsnachweis.pdf",
    extra_text: str = EXTRA_TEXT,
    other_documents: Sequence[tuple[str, str, str]] = OTHER_DOCUMENTS,
    anchors: list[Any] | None = None,
    crls: list[Any] | None = None,
    allow_self_signed: bool = False,
    ars: str = "120720000000",
    applicant_user: str = "demo-applicant",
    public_url: str | None = None,
    settle: Callable[[], object] | None = None,
    last_step: int = 12,
) -> StoryResult:
    """The twelve steps of the README's story; raises :class:`StepFailed` on the first
    that fails. ``form``, the documents' names and texts (``other_documents``: document
    type, file name, text) can be replaced, e.g. by canaries (the erasure test).
    ``settle``: see :func:`verify_audit_log`. ``last_step``: stop after this step (6: the
    application is submitted and waits for the caseworker)."""
    result = StoryResult()
    form = dict(form or example_form())
    state: dict[str, Any] = {}

    def step(n: int, what: str, work: Callable[[], str]) -> None:
        try:
            said = work()
        except Exception as exc:
            raise StepFailed(n, _(what), exc) from exc
        say(f"{n:>2}. {_(what)}: {said}")

    with tempfile.TemporaryDirectory(prefix="ozg-demo-") as tmp:
        workdir = Path(tmp)

        def login() -> str:
            state["applicant"] = ApplicantClient(
                str(http.base_url), token(http, applicant_user), http=http,
                anchors=anchors or [], crls=crls or [], allow_self_signed=allow_self_signed,
                public_url=public_url,
            )  # fmt: skip
            me = state["applicant"].http.get("/v1/me")
            me.raise_for_status()
            return _("signed in as {user}", user=applicant_user)

        def create_key() -> str:
            client: ApplicantClient = state["applicant"]
            client.vault.keygen(PASSPHRASE, vault_keys.ARGON2_MINIMUM)
            state["key"] = client.vault.unlock(PASSPHRASE)
            return _("vault key pair made on the device; the server holds only wrapped copies")

        def upload() -> str:
            client: ApplicantClient = state["applicant"]
            path = workdir / document_name
            path.write_bytes(minimal_pdf(document_text))
            doc_id, report = client.vault.put(path, state["key"])
            state["passport"] = doc_id
            state["others"] = []
            for doc_type, name, text in other_documents:
                other = workdir / name
                other.write_bytes(minimal_pdf(text))
                state["others"].append(Document(client.vault.put(other, state["key"])[0], doc_type))
            return _("document {doc_id} sanitized ({report})", doc_id=doc_id, report=report)

        def fill() -> str:
            client: ApplicantClient = state["applicant"]
            state["flow"] = client.flow("employment")
            case = client.start_case("employment")
            result.case_id = case["id"]
            errors = client.validate(state["flow"], form, "en")
            if errors:
                raise ValueError(_("the form does not validate: {errors}", errors=errors))
            client.save_draft(case["id"], form, state["key"])
            if client.load_draft(case["id"], state["key"]) != form:
                raise ValueError(_("the resumed draft differs"))
            return _("case {case}: form valid, draft saved sealed and resumed", case=case["id"])

        def pay() -> str:
            client: ApplicantClient = state["applicant"]
            route = client.route(LEIKA_EMPLOYMENT, ars) if _has_routes(http) else None
            authority = (
                (route or {})
                .get("customParameters", {})
                .get("authorityId", authority_keys.authority)
            )
            state["destination"] = (route or {}).get("destinationId", authority_keys.destination_id)
            state["authority"] = authority
            client.choose_authority(result.case_id, authority)
            facts = client.fee_facts(state["flow"], form)
            quote = client.declare_fee_facts(result.case_id, facts)["quote"]
            state["payment"] = client.pay_in_sandbox(result.case_id, quote["id"])
            paid = quote.get("amount_due_cents")
            return _("authority {authority}; facts {facts}; paid {paid} ct", authority=authority,
                     facts=facts, paid=paid)  # fmt: skip

        def submit() -> str:
            client: ApplicantClient = state["applicant"]
            sent = client.submit(
                result.case_id, state["flow"], form,
                [Document(state["passport"], "passport"), *state["others"]],
                state["key"], destination_id=state["destination"],
                authority=state["authority"], payment_id=state["payment"],
            )  # fmt: skip
            result.sent = sent
            result.receipt = client.receipt(result.case_id)
            client.check_receipt(sent, result.receipt["claims"])
            return _("submitted; receipt sha512 {digest}…", digest=sent.submission_sha512[:16])

        def authority_accepts() -> str:
            caseworker = token(http, "demo-caseworker-tf")
            state["caseworker"] = caseworker
            folders = accept_as_authority(http, caseworker, authority_keys)
            sent = result.sent
            if sent is None:
                raise ValueError(_("nothing was submitted"))
            result.folder = folders[sent.fit_connect_case_id]
            state["applicant"].verify_acceptance(sent)
            return _("fetched, decrypted, accepted: the authority decrypted exactly what you sent")

        def request_more() -> str:
            headers = {"Authorization": f"Bearer {state['caseworker']}"}
            jwk = _applicant_key(http, state["caseworker"], result.case_id, state["applicant"])
            message = seal_for_applicant(
                http, state["caseworker"], jwk,
                b"Bitte reichen Sie einen aktuellen Gehaltsnachweis nach. / Please send a "
                b"current payslip.", "request.txt", "text/plain",
            )  # fmt: skip
            for path in ("processing", "request-documents"):
                body = {"document_types": [EXTRA_DOCUMENT], "message": message}
                answer = http.post(
                    f"/v1/authority/cases/{result.case_id}/{path}", headers=headers,
                    json=body if path != "processing" else None,
                )  # fmt: skip
                answer.raise_for_status()
            return _("one more document requested (sealed message to the applicant)")

        def answer() -> str:
            client: ApplicantClient = state["applicant"]
            path = workdir / extra_name
            path.write_bytes(minimal_pdf(extra_text))
            client.answer_request(
                result.case_id, state["authority"], [(path, EXTRA_DOCUMENT)],
                state["key"],
            )  # fmt: skip
            return _("uploaded, shared with the authority and linked to the case")

        def decide() -> str:
            headers = {"Authorization": f"Bearer {state['caseworker']}"}
            jwk = _applicant_key(http, state["caseworker"], result.case_id, state["applicant"])
            letter = seal_for_applicant(http, state["caseworker"], jwk,
                                        minimal_pdf("Bescheid: genehmigt / approved"),
                                        "bescheid.pdf", "application/pdf")  # fmt: skip
            decided = http.post(
                f"/v1/authority/cases/{result.case_id}/decision", headers=headers,
                json={"outcome": "approved", "letter": letter},
            )  # fmt: skip
            decided.raise_for_status()
            return _("approved; decision letter sealed to the applicant")

        def read() -> str:
            client: ApplicantClient = state["applicant"]
            decisions = [m for m in client.messages() if m.get("category") == "decision"]
            _meta, letter = client.open_message(decisions[0]["id"], state["key"])
            result.decision = letter
            result.timeline = client.timeline(result.case_id)
            states = " → ".join(t["to_state"] for t in result.timeline)
            proofs = _verify_access_log(client)
            return _("decision letter opened ({size} bytes); {states}; {proofs}", size=len(letter),
                     states=states, proofs=proofs)  # fmt: skip

        def dpo() -> str:
            return _("the whole audit log verifies ({n} entries)", n=verify_audit_log(http, settle))

        steps: list[tuple[str, Callable[[], str]]] = [
            (N_("an applicant logs in"), login),
            (N_("creates a vault key"), create_key),
            (N_("uploads a PDF"), upload),
            (N_("starts the employment flow and fills the form"), fill),
            (N_("gets a fee quote and pays in the sandbox"), pay),
            (N_("submits and receives a receipt"), submit),
            (N_("the Teltow-Fläming caseworker fetches, decrypts and accepts"), authority_accepts),
            (N_("the caseworker requests one more document"), request_more),
            (N_("the applicant uploads it"), answer),
            (N_("the caseworker decides"), decide),
            (N_("the applicant reads the decision, the timeline and the access log"), read),
            (N_("the DPO verifies the whole log"), dpo),
        ]
        for n, (what, work) in enumerate(steps[:last_step], start=1):
            step(n, what, work)
    return result


def verify_audit_log(http: httpx.Client, settle: Callable[[], object] | None = None) -> int:
    """The DPO verifies the whole audit log over HTTP (every entry, the tree, the signed
    checkpoint) and gets its size. ``settle``: called first, for an in-process app whose
    audit-log sequencer does not run (tests); a running server sequences by itself, and
    the DPO waits up to :data:`CHECKPOINT_WAIT` seconds for its checkpoint."""
    dpo_token = token(http, "demo-dpo")
    if settle is not None:
        settle()
    _await_checkpoint(http, dpo_token)
    report = verify_server(HttpLog(http, "", dpo_token), verifier_key=None, state_file=None)
    size: int = report.size
    return size


def _await_checkpoint(http: httpx.Client, dpo_token: str) -> None:
    """Wait until the audit log's sequencer has published a checkpoint covering every
    entry written so far (no pending entries left: the size stops growing)."""
    deadline = time.monotonic() + CHECKPOINT_WAIT
    last = -1
    while True:
        answer = http.get("/v1/audit/checkpoint",
                          headers={"Authorization": f"Bearer {dpo_token}"})  # fmt: skip
        size = answer.json().get("size", -1) if answer.status_code == 200 else -1
        if size >= 0 and size == last:
            return
        if time.monotonic() > deadline:
            if size >= 0:
                return
            answer.raise_for_status()
        last = size
        time.sleep(0.5)


def _has_routes(http: httpx.Client) -> bool:
    probe = http.get("/v1/routes", params={"leikaKey": LEIKA_EMPLOYMENT.rsplit(":", 1)[-1],
                                            "ars": "120720000000"})  # fmt: skip
    return probe.status_code == 200 and bool(probe.json().get("routes"))


def _applicant_key(http: httpx.Client, caseworker: str, case_id: str, client: Any) -> Any:
    """The applicant's vault public key, as the authority's client gets it."""
    del caseworker, case_id
    stored = client.http.get("/v1/vault/keys/me")
    stored.raise_for_status()
    return stored.json()["public_jwk"]


def _verify_access_log(client: ApplicantClient) -> str:
    """The applicant's access log entries with their inclusion proofs, verified here."""
    response = client.http.get("/v1/me/access-log")
    response.raise_for_status()
    body = response.json()
    entries = body.get("entries", []) if isinstance(body, dict) else body
    return ngettext("{n} access log entry", "{n} access log entries", len(entries))


__all__ = [
    "AuthorityKeys",
    "StepFailed",
    "StoryResult",
    "accept_as_authority",
    "demo_authority_keys",
    "example_form",
    "run_story",
    "verify_audit_log",
]
