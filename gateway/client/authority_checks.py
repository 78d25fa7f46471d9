"""What the authority's fetch checks of a submission before it accepts it
(:mod:`gateway.client.authority_fetch` downloads, calls these in order and writes the folder).

Checks, in order (the first failing group rejects the submission with FIT-Connect problems):

1. metadata: decrypts (``EncryptionIssue``), is JSON (``SyntaxViolation``), is valid for its
   FIT-Connect metadata version (``SchemaViolation``, ``UnsupportedMetadataSchema``);
2. data and attachments: present as announced (``MissingData``, ``MissingAttachments``,
   ``AttachmentsMismatch``), decrypt (``EncryptionIssue``), sha512 of each plaintext equals
   the metadata's hash (``HashMismatch``); attachments are streamed in constant memory;
3. the ozg-commons manifest, when there is one: authority, flow, every part with its
   document type and plaintext size (``AttachmentsMismatch``, ``SchemaViolation``);
4. the form: JSON (``SyntaxViolation``), valid for the flow's schema (``DataSchemaViolation``);
5. PDFs: re-checked with the vault's sanitizer; active content (JavaScript, actions, embedded
   files, XFA, media) rejects the submission (``SyntaxViolation``) and the PDF is kept in
   ``quarantine/`` for the authority's IT security; passive metadata is only reported.

Problem details name paths, ids and rules, never a form value or a file's content: the event
log lives on the server in plaintext.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from commons.encoding import parse_json
from gateway.client.flowdata import validate
from gateway.fitconnect import (
    InvalidJwe,
    InvalidMetadata,
    decrypt,
    decrypt_stream,
    problem,
    validate_metadata,
)
from vault import PASSIVE_FINDINGS, SanitizeError, detect_type, inspect_pdf

MANIFEST_RESERVED_TYPES = frozenset({"form", "summary", "fit-connect-metadata"})


@dataclass
class Part:
    """A decrypted attachment in the work folder."""

    attachment_id: str
    meta: dict[str, Any]
    path: Path
    size: int
    tag: str
    media: str | None


class Rejected(Exception):
    """The submission fails a check: reject it with these FIT-Connect problems."""

    def __init__(
        self, problems: list[dict[str, Any]], quarantine: list[Part] | None = None
    ) -> None:
        super().__init__(", ".join(p["type"].rsplit("/", 1)[-1] for p in problems))
        self.problems = problems
        self.quarantine = quarantine or []


def reject(kind: str, detail: str, instance: str | None = None) -> Rejected:
    return Rejected([problem(kind, detail=detail, instance=instance)])


# --------------------------------------------------------------------------- 1. metadata
def check_metadata(
    submission: dict[str, Any], key: rsa.RSAPrivateKey
) -> tuple[dict[str, Any], str, int]:
    """The decrypted, valid metadata, its JWE tag and its plaintext size."""
    compact = submission.get("encryptedMetadata")
    if not isinstance(compact, str):
        raise reject("SyntaxViolation", "the submission holds no encrypted metadata", "metadata")
    try:
        decrypted = decrypt(compact, key)
    except InvalidJwe:
        raise reject(
            "EncryptionIssue",
            "the metadata cannot be decrypted with the destination's key",
            "metadata",
        ) from None
    try:
        doc = parse_json(decrypted.plaintext)
    except ValueError:
        raise reject("SyntaxViolation", "the metadata is not JSON", "metadata") from None
    if not isinstance(doc, dict):
        raise reject("SyntaxViolation", "the metadata is not a JSON object", "metadata")
    try:
        validate_metadata(doc)
    except InvalidMetadata as exc:
        path = exc.extensions.get("path")
        raise reject(
            "SchemaViolation",
            "the metadata breaks the FIT-Connect metadata schema"
            + (f" at {path}" if path else " ($schema)"),
            "metadata",
        ) from None
    except ValueError:
        raise reject(
            "UnsupportedMetadataSchema",
            "the metadata names a version this destination does not support",
            "metadata",
        ) from None
    return doc, decrypted.tag, len(decrypted.plaintext)


# --------------------------------------------------------------------------- 2. data, attachments
def check_data(
    submission: dict[str, Any], metadata: dict[str, Any], key: rsa.RSAPrivateKey
) -> tuple[bytes | None, str | None]:
    """The form data's plaintext and tag (``None, None`` when none is announced)."""
    announced = metadata["contentStructure"].get("data")
    compact = submission.get("encryptedData")
    if announced is None:
        if compact is not None:
            raise reject(
                "MissingData", "encrypted data was sent but the metadata announces none", "data"
            )
        return None, None
    if not isinstance(compact, str):
        raise reject("MissingData", "the metadata announces data but none was sent", "data")
    try:
        decrypted = decrypt(compact, key)
    except InvalidJwe:
        raise reject(
            "EncryptionIssue", "the data cannot be decrypted with the destination's key", "data"
        ) from None
    if decrypted.plaintext_sha512 != announced["hash"]["content"].lower():
        raise reject("HashMismatch", "the sha512 of the data differs from the metadata's", "data")
    return decrypted.plaintext, decrypted.tag


def announced_attachments(
    submission: dict[str, Any], metadata: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The metadata's attachments by (lower-case) id, once they match the uploaded ones."""
    announced = {
        a["attachmentId"].lower(): a for a in metadata["contentStructure"].get("attachments", [])
    }
    uploaded = {a.lower() for a in submission.get("attachments", [])}
    problems = [
        problem(
            "MissingAttachments",
            detail="the metadata announces this attachment but it was not sent",
            instance=f"attachment:{a}",
        )
        for a in sorted(set(announced) - uploaded)
    ]
    problems += [
        problem(
            "AttachmentsMismatch",
            detail="this attachment was sent but the metadata does not announce it",
            instance=f"attachment:{a}",
        )
        for a in sorted(uploaded - set(announced))
    ]
    if problems:
        raise Rejected(problems)
    return announced


def decrypt_attachment(
    blocks: Iterable[bytes],
    plain: Path,
    key: rsa.RSAPrivateKey,
    attachment_id: str,
    meta: dict[str, Any],
) -> Part:
    """Decrypt the JWE arriving in ``blocks`` into the file ``plain`` on the way (one
    pass, constant memory) and check its sha512; ``plain`` is removed unless the checks
    pass."""
    try:
        with plain.open("wb") as out:
            result = decrypt_stream(blocks, out, key)
    except InvalidJwe:
        plain.unlink(missing_ok=True)  # unauthenticated bytes: discard
        raise reject(
            "EncryptionIssue",
            "the attachment cannot be decrypted with the destination's key",
            f"attachment:{attachment_id}",
        ) from None
    if result.plaintext_sha512 != meta["hash"]["content"].lower():
        plain.unlink(missing_ok=True)
        raise reject(
            "HashMismatch",
            "the sha512 of the attachment differs from the metadata's",
            f"attachment:{attachment_id}",
        )
    with plain.open("rb") as handle:
        media = detect_type(handle.read(1024))
    return Part(attachment_id, meta, plain, result.plaintext_length, result.tag, media)


# --------------------------------------------------------------------------- 3. manifest
def check_flow(flow: dict[str, Any] | None, service: str | None) -> dict[str, Any]:
    """The flow the manifest names exists and serves the metadata's public service."""
    if flow is None:
        raise reject(
            "SchemaViolation",
            "the manifest names a flow this deployment does not offer",
            "ozgManifest/flow",
        )
    if service != flow.get("leika"):
        raise reject(
            "SchemaViolation",
            "publicServiceType.identifier is not the LeiKa key of the manifest's flow",
            "metadata",
        )
    return flow


def check_manifest(
    manifest: dict[str, Any] | None,
    authority: str,
    metadata_size: int,
    form_bytes: bytes | None,
    parts: list[Part],
    flow: dict[str, Any],
) -> None:
    """The manifest (when there is one) names this authority and exactly the parts that
    came, each with its plaintext size and one of the flow's document types."""
    if manifest is None:
        return
    if manifest.get("authority") != authority:
        raise reject(
            "SchemaViolation", "the manifest names another authority", "ozgManifest/authority"
        )
    types = {d["type"].replace("_", "-") for d in flow.get("documents", [])}
    sizes = {p.attachment_id: p for p in parts}
    problems = []
    seen: set[str] = set()
    for item in manifest.get("parts", []):
        key = item.get("attachmentId") or item.get("part")
        seen.add(str(key))
        kind = str(item.get("documentType", ""))
        if key == "data":
            actual: int | None = None if form_bytes is None else len(form_bytes)
        elif key == "metadata":
            actual = metadata_size
        elif key in sizes:
            actual = sizes[key].size
        else:
            problems.append(_mismatch(key, "the manifest names a part the metadata does not"))
            continue
        if actual != item.get("size"):
            problems.append(_mismatch(key, "the plaintext size differs from the manifest's"))
        if key in sizes and kind.replace("_", "-") not in types | MANIFEST_RESERVED_TYPES:
            problems.append(_mismatch(key, f"document type {kind!r} is not one of the flow's"))
    missing = set(sizes) - seen
    if form_bytes is not None and "data" not in seen:
        missing.add("data")
    problems += [_mismatch(m, "this part is missing from the manifest") for m in sorted(missing)]
    if problems:
        raise Rejected(problems)


def _mismatch(key: Any, detail: str) -> dict[str, Any]:
    return problem("AttachmentsMismatch", detail=detail, instance=f"ozgManifest:{key}")


# --------------------------------------------------------------------------- 4. form, 5. PDFs
def check_form(form_bytes: bytes | None, flow: dict[str, Any], lang: str) -> Any:
    """The form, parsed and valid for the flow's schema."""
    if form_bytes is None:
        raise reject("MissingData", "the submission carries no form data", "data")
    try:
        form = parse_json(form_bytes)
    except ValueError:
        raise reject("SyntaxViolation", "the form data is not JSON", "data") from None
    errors = validate(flow, form, lang)
    if errors:
        raise Rejected(
            [
                problem("DataSchemaViolation", detail=e.message, instance=f"data:{e.pointer}")
                for e in errors[:50]
            ]
        )
    return form


def check_pdfs(parts: list[Part]) -> list[str]:
    """Re-check every PDF with the sanitizer: active content rejects (the PDFs are
    quarantined), passive metadata is reported (the returned findings)."""
    problems, quarantined, findings = [], [], []
    for part in parts:
        declared = part.meta.get("mimeType")
        if part.media != "application/pdf" and declared != "application/pdf":
            continue
        try:
            report = inspect_pdf(part.path)
        except SanitizeError as exc:
            problems.append(
                problem(
                    "SyntaxViolation",
                    detail=f"the PDF is refused: {exc}",
                    instance=f"attachment:{part.attachment_id}",
                )
            )
            quarantined.append(part)
            continue
        active = sorted(k for k in report.removed if k not in PASSIVE_FINDINGS)
        passive = sorted(k for k in report.removed if k in PASSIVE_FINDINGS)
        findings += [f"attachment:{part.attachment_id}: {k}" for k in passive]
        if active:
            problems.append(
                problem(
                    "SyntaxViolation",
                    detail="the PDF carries active content: " + ", ".join(active),
                    instance=f"attachment:{part.attachment_id}",
                )
            )
            quarantined.append(part)
    if problems:
        raise Rejected(problems, quarantined)
    return findings
