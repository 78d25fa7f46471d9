"""``ozg-commons authority fetch``: download the destination's new submissions, decrypt them
on the authority's machine, check them, write one folder per case and acknowledge each with
a signed ``accept-submission`` or ``reject-submission`` (docs/authority.md).

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

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from commons.encoding import parse_json
from gateway.client.authority import (
    AuthorityClient,
    AuthorityClientError,
    KeyFileError,
    ServerError,
    key_kid,
    write_private,
)
from gateway.client.flowdata import summary_pdf, validate, xauslaender
from gateway.fitconnect import (
    InvalidJwe,
    InvalidMetadata,
    decrypt,
    decrypt_stream,
    issue_event,
    problem,
    validate_metadata,
)
from vault import PASSIVE_FINDINGS, SanitizeError, detect_type, inspect_pdf

STATE_FILE = ".ozg-authority-state.json"
STATE_FORMAT = "ozg-authority-state/1"
FETCH_FORMAT = "ozg-authority-fetch/1"
RESERVED = frozenset(
    {"form.json", "metadata.json", "summary.pdf", "xauslaender.json", "fetch.json"}
)
MANIFEST_RESERVED_TYPES = frozenset({"form", "summary", "fit-connect-metadata"})
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/json": ".json",
    "application/xml": ".xml",
    "text/plain": ".txt",
}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
MAX_NAME = 120


class Rejected(Exception):
    """The submission fails a check: reject it with these FIT-Connect problems."""

    def __init__(
        self, problems: list[dict[str, Any]], quarantine: list[_Part] | None = None
    ) -> None:
        super().__init__(", ".join(p["type"].rsplit("/", 1)[-1] for p in problems))
        self.problems = problems
        self.quarantine = quarantine or []


def _reject(kind: str, detail: str, instance: str | None = None) -> Rejected:
    return Rejected([problem(kind, detail=detail, instance=instance)])


# --------------------------------------------------------------------------- file names
def safe_filename(name: str | None, fallback: str, mime_type: str | None = None) -> str:
    """A file name that stays in its folder: the last path segment only, no control or
    reserved characters, no leading dots, no Windows device names, at most 120 characters
    (the extension kept); ``fallback`` when nothing usable is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip()
    if not text or set(text) <= {"_", " ", "."}:
        text = fallback
    if _WINDOWS_RESERVED.match(text):
        text = "_" + text
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if not ext and mime_type in _EXTENSIONS:
        ext = _EXTENSIONS[mime_type][1:]
    ext = ext[:16]
    stem = stem[: MAX_NAME - len(ext) - 1] if ext else text[:MAX_NAME]
    return f"{stem}.{ext}" if ext else stem


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in used or candidate.lower() in RESERVED:
        n += 1
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
    used.add(candidate.lower())
    return candidate


# --------------------------------------------------------------------------- state
@dataclass
class State:
    """What this out dir already handled: ``submissions[<id>]`` with ``status``
    (accepted|rejected), ``case_id``, ``folder``, ``event`` (the signed SET) and
    ``acknowledged``."""

    path: Path
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, out_dir: Path) -> State:
        path = out_dir / STATE_FILE
        if not path.exists():
            return cls(path)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise AuthorityClientError(f"the state file {path} is unreadable: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise AuthorityClientError(f"{path} is not an {STATE_FORMAT} state file")
        return cls(path, dict(doc.get("submissions", {})))

    def save(self) -> None:
        doc = {"format": STATE_FORMAT, "submissions": self.submissions}
        tmp = self.path.with_suffix(".tmp")
        write_private(tmp, json.dumps(doc, indent=2, sort_keys=True).encode("utf-8"))
        tmp.replace(self.path)


# --------------------------------------------------------------------------- results
@dataclass
class CaseResult:
    submission_id: str
    case_id: str
    status: str  # accepted | rejected | acknowledged-again
    folder: Path | None
    problems: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


@dataclass
class FetchReport:
    results: list[CaseResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == "accepted"]

    @property
    def rejected(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == "rejected"]


@dataclass
class _Part:
    """A decrypted attachment in the work folder."""

    attachment_id: str
    meta: dict[str, Any]
    path: Path
    size: int
    tag: str
    media: str | None


# --------------------------------------------------------------------------- the fetcher
@dataclass
class Fetcher:
    client: AuthorityClient
    authority: str
    encryption_key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey
    out_dir: Path
    lang: str = "en"
    progress: Callable[[str], None] = lambda _line: None
    _flows: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _catalogue: list[dict[str, Any]] | None = None

    def check_keys(self, destination_id: str) -> None:
        """The key files belong to the destination: its encryption kid is the thumbprint of
        our key, and its signature key with our signing kid exists."""
        destination = self.client.destination(destination_id)
        ours, theirs = key_kid(self.encryption_key), destination.get("encryptionKid")
        if ours != theirs:
            raise KeyFileError(
                f"the key file is not the encryption key of {self.authority}'s destination "
                f"(its kid is {ours}, the destination's {theirs})"
            )
        if not self.client.has_destination_key(destination_id, key_kid(self.signing_key)):
            raise KeyFileError(
                f"the signing key file is not {self.authority}'s event-signing key "
                f"(the destination has no key {key_kid(self.signing_key)})"
            )

    def run(self, destination_ids: Iterable[str]) -> FetchReport:
        self.out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        state = State.load(self.out_dir)
        work_root = self.out_dir / ".work"
        shutil.rmtree(work_root, ignore_errors=True)  # what an interrupted run left
        report = FetchReport()
        for destination_id in destination_ids:
            self.check_keys(destination_id)
            for listed in self.client.submissions(destination_id):
                sid, case_id = listed["submissionId"], listed["caseId"]
                known = state.submissions.get(sid)
                if known is not None:
                    if not known.get("acknowledged"):
                        self._acknowledge(state, sid, case_id)
                        report.results.append(CaseResult(sid, case_id, "acknowledged-again", None))
                    else:
                        report.skipped.append(sid)
                    continue
                work = work_root / sid
                work.mkdir(parents=True, mode=0o700)
                try:
                    result = self._one(destination_id, sid, case_id, work, state)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                report.results.append(result)
        shutil.rmtree(work_root, ignore_errors=True)
        return report

    # -- one submission
    def _one(
        self, destination_id: str, sid: str, case_id: str, work: Path, state: State
    ) -> CaseResult:
        self.progress(f"submission {sid} (case {case_id})")
        submission = self.client.submission(sid)
        tags: dict[str, Any] = {}
        parts: list[_Part] = []
        findings: list[str] = []
        try:
            metadata, tags["metadata"], metadata_size = self._metadata(submission)
            form_bytes, data_tag = self._data(submission, metadata)
            if data_tag is not None:
                tags["data"] = data_tag
            parts = self._attachments(submission, metadata, work)
            tags["attachments"] = {p.attachment_id: p.tag for p in parts}
            flow = self._flow_for(submission, metadata)
            self._manifest(submission, metadata_size, form_bytes, parts, flow)
            form = self._form(form_bytes, flow)
            findings = self._pdfs(parts)
        except Rejected as rejection:
            folder = self._write_rejected(case_id, sid, rejection)
            token = self._event(
                "reject-submission", destination_id, sid, case_id, {"problems": rejection.problems}
            )
            state.submissions[sid] = {
                "status": "rejected",
                "case_id": case_id,
                "folder": str(folder),
                "event": token,
                "acknowledged": False,
            }
            state.save()
            self._acknowledge(state, sid, case_id)
            return CaseResult(sid, case_id, "rejected", folder, rejection.problems, findings)
        folder = self._write_case(
            case_id, sid, submission, metadata, form, flow, parts, tags, findings
        )
        token = self._event(
            "accept-submission", destination_id, sid, case_id, {"authenticationTags": tags}
        )
        state.submissions[sid] = {
            "status": "accepted",
            "case_id": case_id,
            "folder": str(folder),
            "event": token,
            "acknowledged": False,
        }
        state.save()
        self._acknowledge(state, sid, case_id)
        return CaseResult(sid, case_id, "accepted", folder, [], findings)

    def _metadata(self, submission: dict[str, Any]) -> tuple[dict[str, Any], str, int]:
        compact = submission.get("encryptedMetadata")
        if not isinstance(compact, str):
            raise _reject(
                "SyntaxViolation", "the submission holds no encrypted metadata", "metadata"
            )
        try:
            decrypted = decrypt(compact, self.encryption_key)
        except InvalidJwe:
            raise _reject(
                "EncryptionIssue",
                "the metadata cannot be decrypted with the destination's key",
                "metadata",
            ) from None
        try:
            doc = parse_json(decrypted.plaintext)
        except ValueError:
            raise _reject("SyntaxViolation", "the metadata is not JSON", "metadata") from None
        if not isinstance(doc, dict):
            raise _reject("SyntaxViolation", "the metadata is not a JSON object", "metadata")
        try:
            validate_metadata(doc)
        except InvalidMetadata as exc:
            path = exc.extensions.get("path")
            raise _reject(
                "SchemaViolation",
                "the metadata breaks the FIT-Connect metadata schema"
                + (f" at {path}" if path else " ($schema)"),
                "metadata",
            ) from None
        except ValueError:
            raise _reject(
                "UnsupportedMetadataSchema",
                "the metadata names a version this destination does not support",
                "metadata",
            ) from None
        return doc, decrypted.tag, len(decrypted.plaintext)

    def _data(
        self, submission: dict[str, Any], metadata: dict[str, Any]
    ) -> tuple[bytes | None, str | None]:
        announced = metadata["contentStructure"].get("data")
        compact = submission.get("encryptedData")
        if announced is None:
            if compact is not None:
                raise _reject(
                    "MissingData", "encrypted data was sent but the metadata announces none", "data"
                )
            return None, None
        if not isinstance(compact, str):
            raise _reject("MissingData", "the metadata announces data but none was sent", "data")
        try:
            decrypted = decrypt(compact, self.encryption_key)
        except InvalidJwe:
            raise _reject(
                "EncryptionIssue", "the data cannot be decrypted with the destination's key", "data"
            ) from None
        if decrypted.plaintext_sha512 != announced["hash"]["content"].lower():
            raise _reject(
                "HashMismatch", "the sha512 of the data differs from the metadata's", "data"
            )
        return decrypted.plaintext, decrypted.tag

    def _attachments(
        self, submission: dict[str, Any], metadata: dict[str, Any], work: Path
    ) -> list[_Part]:
        announced = {
            a["attachmentId"].lower(): a
            for a in metadata["contentStructure"].get("attachments", [])
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
        parts = []
        for attachment_id, meta in announced.items():
            cipher = work / f"{attachment_id}.jwe"
            plain = work / f"{attachment_id}.plain"
            self.client.download_attachment(submission["submissionId"], attachment_id, cipher)
            try:
                with cipher.open("rb") as source, plain.open("wb") as out:
                    result = decrypt_stream(source, out, self.encryption_key)
            except InvalidJwe:
                plain.unlink(missing_ok=True)  # unauthenticated bytes: discard
                raise _reject(
                    "EncryptionIssue",
                    "the attachment cannot be decrypted with the destination's key",
                    f"attachment:{attachment_id}",
                ) from None
            finally:
                cipher.unlink(missing_ok=True)
            if result.plaintext_sha512 != meta["hash"]["content"].lower():
                plain.unlink(missing_ok=True)
                raise _reject(
                    "HashMismatch",
                    "the sha512 of the attachment differs from the metadata's",
                    f"attachment:{attachment_id}",
                )
            with plain.open("rb") as handle:
                media = detect_type(handle.read(1024))
            parts.append(
                _Part(attachment_id, meta, plain, result.plaintext_length, result.tag, media)
            )
        return parts

    def _flow_for(self, submission: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        """The flow: the manifest's, else the one whose LeiKa key the metadata names."""
        manifest = submission.get("ozgManifest")
        service = metadata.get("publicServiceType", {}).get("identifier")
        if isinstance(manifest, dict) and isinstance(manifest.get("flow"), str):
            flow = self._flow(manifest["flow"])
            if flow is None:
                raise _reject(
                    "SchemaViolation",
                    "the manifest names a flow this deployment does not offer",
                    "ozgManifest/flow",
                )
            if service != flow.get("leika"):
                raise _reject(
                    "SchemaViolation",
                    "publicServiceType.identifier is not the LeiKa key of the manifest's flow",
                    "metadata",
                )
            return flow
        if self._catalogue is None:
            self._catalogue = self.client.flows()
        for entry in self._catalogue:
            if entry.get("leika") == service and (flow := self._flow(entry["id"])) is not None:
                return flow
        raise _reject(
            "DataSchemaViolation",
            "no flow of this destination serves the public service the metadata names",
            "metadata",
        )

    def _flow(self, flow_id: str) -> dict[str, Any] | None:
        """``GET /v1/flows/{id}`` once per run; ``None`` for a flow the server lacks."""
        if flow_id not in self._flows:
            try:
                self._flows[flow_id] = self.client.flow(flow_id)
            except ServerError as exc:
                if exc.status_code != 404:
                    raise
                self._flows[flow_id] = None
        return self._flows[flow_id]

    def _manifest(
        self,
        submission: dict[str, Any],
        metadata_size: int,
        form_bytes: bytes | None,
        parts: list[_Part],
        flow: dict[str, Any],
    ) -> None:
        manifest = submission.get("ozgManifest")
        if manifest is None:
            return
        if manifest.get("authority") != self.authority:
            raise _reject(
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
                problems.append(
                    problem(
                        "AttachmentsMismatch",
                        detail="the manifest names a part the metadata does not",
                        instance=f"ozgManifest:{key}",
                    )
                )
                continue
            if actual != item.get("size"):
                problems.append(
                    problem(
                        "AttachmentsMismatch",
                        detail="the plaintext size differs from the manifest's",
                        instance=f"ozgManifest:{key}",
                    )
                )
            if key in sizes and kind.replace("_", "-") not in types | MANIFEST_RESERVED_TYPES:
                problems.append(
                    problem(
                        "AttachmentsMismatch",
                        detail=f"document type {kind!r} is not one of the flow's",
                        instance=f"ozgManifest:{key}",
                    )
                )
        missing = set(sizes) - seen
        if form_bytes is not None and "data" not in seen:
            missing.add("data")
        problems += [
            problem(
                "AttachmentsMismatch",
                detail="this part is missing from the manifest",
                instance=f"ozgManifest:{m}",
            )
            for m in sorted(missing)
        ]
        if problems:
            raise Rejected(problems)

    def _form(self, form_bytes: bytes | None, flow: dict[str, Any]) -> Any:
        if form_bytes is None:
            raise _reject("MissingData", "the submission carries no form data", "data")
        try:
            form = parse_json(form_bytes)
        except ValueError:
            raise _reject("SyntaxViolation", "the form data is not JSON", "data") from None
        errors = validate(flow, form, self.lang)
        if errors:
            raise Rejected(
                [
                    problem("DataSchemaViolation", detail=e.message, instance=f"data:{e.pointer}")
                    for e in errors[:50]
                ]
            )
        return form

    def _pdfs(self, parts: list[_Part]) -> list[str]:
        """Re-check every PDF with the sanitizer: active content rejects (the PDFs are
        quarantined), passive metadata is reported."""
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

    # -- writing
    def _write_case(
        self,
        case_id: str,
        sid: str,
        submission: dict[str, Any],
        metadata: dict[str, Any],
        form: Any,
        flow: dict[str, Any],
        parts: list[_Part],
        tags: dict[str, Any],
        findings: list[str],
    ) -> Path:
        staging = Path(tempfile.mkdtemp(prefix=".case-", dir=self.out_dir))
        used: set[str] = set()
        documents, summary = [], None
        for part in parts:
            mime = part.meta.get("mimeType")
            if (
                summary is None
                and part.meta.get("purpose") == "form"
                and part.media == mime == "application/pdf"
            ):
                summary = part
                part.path.replace(staging / "summary.pdf")
                continue
            name = _unique(
                safe_filename(
                    part.meta.get("filename"), f"attachment-{part.attachment_id[:8]}", mime
                ),
                used,
            )
            part.path.replace(staging / name)
            documents.append(
                {
                    "attachmentId": part.attachment_id,
                    "file": name,
                    "mimeType": mime,
                    "size": part.size,
                    "documentType": self._document_type(submission, part),
                }
            )
        if summary is None:
            listed = [(str(d["documentType"] or "attachment"), str(d["file"])) for d in documents]
            write_private(staging / "summary.pdf", summary_pdf(flow, form, self.lang, listed))
        dump = _dump
        write_private(staging / "form.json", dump(form))
        write_private(staging / "metadata.json", dump(metadata))
        write_private(staging / "xauslaender.json", dump(xauslaender(flow, form)))
        write_private(
            staging / "fetch.json",
            dump(
                {
                    "format": FETCH_FORMAT,
                    "status": "accepted",
                    "authority": self.authority,
                    "submissionId": sid,
                    "caseId": case_id,
                    "flow": flow["id"],
                    "flowVersion": flow.get("version"),
                    "summary": "sent" if summary else "made on receipt from form.json",
                    "documents": documents,
                    "findings": findings,
                    "authenticationTags": tags,
                    "sha512": {"form.json": hashlib.sha512(dump(form)).hexdigest()},
                }
            ),
        )
        final = self.out_dir / case_id
        if final.exists():
            shutil.rmtree(final)
        staging.replace(final)
        final.chmod(0o700)
        return final

    def _document_type(self, submission: dict[str, Any], part: _Part) -> str | None:
        manifest = submission.get("ozgManifest") or {}
        for item in manifest.get("parts", []):
            if item.get("attachmentId") == part.attachment_id:
                return str(item.get("documentType"))
        return None

    def _write_rejected(self, case_id: str, sid: str, rejection: Rejected) -> Path:
        """``rejected/<case>/fetch.json`` with the problems; a refused PDF goes to
        ``quarantine/<case>/`` (renamed, so that no viewer opens it by a double click);
        everything else decrypted is discarded with the work folder."""
        folder = self.out_dir / "rejected" / case_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        problems = rejection.problems
        kept = []
        if rejection.quarantine:
            qdir = self.out_dir / "quarantine" / case_id
            qdir.mkdir(parents=True, exist_ok=True, mode=0o700)
            for part in rejection.quarantine:
                name = f"{part.attachment_id}.pdf.quarantined"
                with contextlib.suppress(FileNotFoundError):
                    part.path.replace(qdir / name)
                    kept.append(str(Path("quarantine") / case_id / name))
        write_private(
            folder / "fetch.json",
            _dump(
                {
                    "format": FETCH_FORMAT,
                    "status": "rejected",
                    "authority": self.authority,
                    "submissionId": sid,
                    "caseId": case_id,
                    "problems": problems,
                    "quarantined": kept,
                }
            ),
        )
        return folder

    # -- acknowledging
    def _event(
        self, name: str, destination_id: str, sid: str, case_id: str, payload: dict[str, Any]
    ) -> str:
        return issue_event(
            name,
            submission_id=sid,
            case_id=case_id,
            issuer=destination_id,
            signing_key=self.signing_key,
            kid=key_kid(self.signing_key),
            now=self.client.clock.now(),
            payload=payload,
        )

    def _acknowledge(self, state: State, sid: str, case_id: str) -> None:
        entry = state.submissions[sid]
        self.client.post_event(case_id, entry["event"])  # 409: acknowledged before
        entry["acknowledged"] = True
        state.save()


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def fetch(
    client: AuthorityClient,
    *,
    authority: str,
    encryption_key: rsa.RSAPrivateKey,
    signing_key: rsa.RSAPrivateKey,
    out_dir: Path,
    destinations: Iterable[str] | None = None,
    lang: str = "en",
    progress: Callable[[str], None] | None = None,
) -> FetchReport:
    """Fetch, check, write and acknowledge every new submission of ``authority``'s
    destination(s) (default: the one ``GET /v1/authorities/{id}`` names)."""
    chosen = list(destinations or [client.destination_of(authority)])
    fetcher = Fetcher(
        client,
        authority,
        encryption_key,
        signing_key,
        out_dir,
        lang,
        progress or (lambda _line: None),
    )
    return fetcher.run(chosen)
