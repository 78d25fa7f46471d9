"""``ozg-commons authority fetch``: download the destination's new submissions, decrypt them
on the authority's machine, check them (:mod:`gateway.client.authority_checks`, in the
order given there), write one folder per case and acknowledge each with a signed
``accept-submission`` or ``reject-submission`` (docs/authority.md).
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from commons.i18n import _
from gateway.client.authority import (
    AuthorityClient,
    AuthorityClientError,
    KeyFileError,
    ServerError,
    key_kid,
    write_private,
)
from gateway.client.authority_checks import (
    Part,
    Rejected,
    announced_attachments,
    check_data,
    check_flow,
    check_form,
    check_manifest,
    check_metadata,
    check_pdfs,
    decrypt_attachment,
    reject,
)
from gateway.client.flowdata import summary_pdf, xauslaender
from gateway.fitconnect import issue_event

STATE_FILE = ".ozg-authority-state.json"
STATE_FORMAT = "ozg-authority-state/1"
FETCH_FORMAT = "ozg-authority-fetch/1"
RESERVED = frozenset(
    {"form.json", "metadata.json", "summary.pdf", "xauslaender.json", "fetch.json"}
)
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
            raise AuthorityClientError(
                _("the state file {path} is unreadable: {reason}", path=path, reason=exc)
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise AuthorityClientError(
                _("{path} is not an {format} state file", path=path, format=STATE_FORMAT)
            )
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
                _(
                    "the key file is not the encryption key of {authority}'s destination "
                    "(its kid is {ours}, the destination's {theirs})",
                    authority=self.authority,
                    ours=ours,
                    theirs=theirs,
                )
            )
        if not self.client.has_destination_key(destination_id, key_kid(self.signing_key)):
            raise KeyFileError(
                _(
                    "the signing key file is not {authority}'s event-signing key "
                    "(the destination has no key {kid})",
                    authority=self.authority,
                    kid=key_kid(self.signing_key),
                )
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
        parts: list[Part] = []
        findings: list[str] = []
        try:
            key = self.encryption_key
            metadata, tags["metadata"], metadata_size = check_metadata(submission, key)
            form_bytes, data_tag = check_data(submission, metadata, key)
            if data_tag is not None:
                tags["data"] = data_tag
            parts = self._attachments(submission, metadata, work)
            tags["attachments"] = {p.attachment_id: p.tag for p in parts}
            flow = self._flow_for(submission, metadata)
            manifest = submission.get("ozgManifest")
            check_manifest(manifest, self.authority, metadata_size, form_bytes, parts, flow)
            form = check_form(form_bytes, flow, self.lang)
            findings = check_pdfs(parts)
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

    def _attachments(
        self, submission: dict[str, Any], metadata: dict[str, Any], work: Path
    ) -> list[Part]:
        """Decrypt each announced attachment into ``work`` while it downloads, as many at
        a time as the client allows (:attr:`AuthorityClient.downloads`: one's request, key
        unwrap and last hashing overlap another's transfer); the parts in announced order,
        and the first failing one's rejection, in that order too, once every started
        download has ended."""
        sid = submission["submissionId"]

        def one(attachment_id: str, meta: dict[str, Any]) -> Part:
            plain = work / f"{attachment_id}.plain"
            with self.client.attachment(sid, attachment_id) as blocks:
                return decrypt_attachment(blocks, plain, self.encryption_key, attachment_id, meta)

        announced = announced_attachments(submission, metadata)
        with ThreadPoolExecutor(self.client.downloads, thread_name_prefix="fetch") as pool:
            futures = [pool.submit(one, a, meta) for a, meta in announced.items()]
            try:
                return [future.result() for future in futures]
            finally:
                for future in futures:
                    future.cancel()

    def _flow_for(self, submission: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        """The flow: the manifest's, else the one whose LeiKa key the metadata names."""
        manifest = submission.get("ozgManifest")
        service = metadata.get("publicServiceType", {}).get("identifier")
        if isinstance(manifest, dict) and isinstance(manifest.get("flow"), str):
            return check_flow(self._flow(manifest["flow"]), service)
        if self._catalogue is None:
            self._catalogue = self.client.flows()
        for entry in self._catalogue:
            if entry.get("leika") == service and (flow := self._flow(entry["id"])) is not None:
                return flow
        raise reject(
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

    # -- writing
    def _write_case(
        self,
        case_id: str,
        sid: str,
        submission: dict[str, Any],
        metadata: dict[str, Any],
        form: Any,
        flow: dict[str, Any],
        parts: list[Part],
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

    def _document_type(self, submission: dict[str, Any], part: Part) -> str | None:
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
