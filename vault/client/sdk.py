"""The vault client SDK: everything that happens on the applicant's (or authority's) device.

It unlocks the applicant key, sanitizes, encrypts, streams uploads, downloads, decrypts and
shares. The server only ever sees envelopes, wrapped keys and stanzas. Authentication is a
bearer token (``OZG_TOKEN`` or ``ozg-commons login``); the client never sees a password
unless ``login`` runs a password grant against the identity provider itself.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from commons.cli_safety import move_without_replacing
from commons.errors import OzgError
from commons.i18n import accept_language
from vault import envelope, sanitize
from vault.client import keys
from vault.envelope import Metadata
from vault.errors import ClientError, DocumentTooLarge, InvalidEnvelope, InvalidKey
from vault.pki import check_jwk_binding, validate_authority_jwk
from vault.recipients import PrivateKey, Stanza, key_id
from vault.revocation import RevocationChecker

Progress = Callable[[int], None]
_BLOCK = 256 * 1024
#: Envelopes larger than this go through the chunked, resumable upload API (docs/vault.md).
CHUNKED_ABOVE = 64 * 1024 * 1024
_PIECE = 16 * 1024 * 1024  # bytes per PUT of a chunked upload (at most the server's piece_bytes)
_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # waits before re-sending a piece
_METADATA_PAGE = 100  # documents per page of the metadata-only read (the server's most)
METADATA_FORMAT = "ozg-vault metadata v1"


class _ResponseReader(io.RawIOBase):
    """A file-like view of a streamed response body (for parsing without buffering);
    ``progress`` is told the bytes as they arrive."""

    def __init__(self, response: httpx.Response, progress: Progress | None = None) -> None:
        self._it = response.iter_bytes(_BLOCK)
        self._buf = memoryview(b"")
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            nxt = next(self._it, None)
            if nxt is None:
                return 0
            self._buf = memoryview(nxt)
            if self._progress is not None:
                self._progress(len(nxt))
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class VaultClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
        trust_anchors: list[x509.Certificate] | None = None,
        crls: list[x509.CertificateRevocationList] | None = None,
        chunked_above: int = CHUNKED_ABOVE,
    ) -> None:
        """``trust_anchors``: CA certificates the client itself checks an authority key's
        x5c chain against before wrapping a document key to it, so that not even a
        compromised server can slip in its own key. Without them the client relies on the
        server's check at registration. ``crls`` (with anchors): the chain is also checked
        for revocation against them, failing closed like the server."""
        self.trust_anchors = trust_anchors
        self.crls = crls
        self.chunked_above = chunked_above
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.http.headers.update(headers)
        # The server's problem details in the device's language (LANG), English as fallback.
        self.http.headers.setdefault("Accept-Language", accept_language())
        self.api = "/v1/vault"

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            response.read()
            try:
                detail = response.json().get("detail", response.reason_phrase)
            except ValueError:
                detail = response.reason_phrase
            raise ClientError(response.status_code, str(detail))
        return response

    # ------------------------------------------------------------------ keys
    def keygen(self, passphrase: str, params: dict[str, int] | None = None) -> keys.NewKeyPair:
        """Make the applicant key pair here; send only its wrapped forms. Show the
        returned ``recovery_code`` once."""
        pair = keys.generate(passphrase, params)
        self._check(
            self.http.put(
                f"{self.api}/keys/me",
                json={
                    "public_jwk": pair.public_jwk,
                    "wrapped_by_passphrase": pair.wrapped_by_passphrase,
                    "wrapped_by_recovery": pair.wrapped_by_recovery,
                },
            )
        )
        return pair

    def unlock(self, passphrase: str | None = None, recovery_code: str | None = None) -> PrivateKey:
        stored = self._check(self.http.get(f"{self.api}/keys/me")).json()
        wrapped = stored["wrapped_by_passphrase" if passphrase else "wrapped_by_recovery"]
        return keys.unwrap_private_key(
            wrapped, stored["kid"], passphrase=passphrase, recovery_code=recovery_code
        )

    def change_passphrase(
        self, key: PrivateKey, new_passphrase: str, params: dict[str, int] | None = None
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("applicant keys are P-256 keys")
        wrapped = keys.wrap_with_passphrase(key, new_passphrase, params)
        self._check(
            self.http.patch(
                f"{self.api}/keys/me",
                json={
                    "kid": key_id(key.public_key()),
                    "wrapped_by_passphrase": wrapped,
                },
            )
        )

    # ------------------------------------------------------------------ documents
    def put(
        self,
        path: Path,
        key: PrivateKey,
        *,
        do_sanitize: bool = True,
        progress: Progress | None = None,
        total: Progress | None = None,
        max_size: int = envelope.DEFAULT_MAX_SIZE,
    ) -> tuple[str, sanitize.Report | None]:
        """Sanitize (PDF, JPEG, PNG), encrypt to the applicant's own key and upload.

        ``total`` is told the number of bytes to send once it is known (after sanitizing),
        ``progress`` each part of them as it is sealed. A file over ``max_size`` raises
        :class:`DocumentTooLarge` naming the limit before anything is sent."""
        report: sanitize.Report | None = None
        with tempfile.TemporaryDirectory(prefix="ozg-vault-") as tmp:
            source = path
            if do_sanitize:
                source = Path(tmp) / "clean"
                report = sanitize.sanitize_file(path, source)
            media_type = report.media_type if report else "application/octet-stream"
            content_hash = report.content_hash if report else None
            # Sealed while it is sent: no envelope file, memory a few MiB at any size. The
            # length is known in advance; a file that changes size meanwhile fails the put.
            with source.open("rb", buffering=0) as fin:
                size = os.fstat(fin.fileno()).st_size
                if size > max_size:
                    raise DocumentTooLarge(max_size)
                if total is not None:
                    total(size)
                reader = envelope.SealingReader(
                    fin,
                    [key.public_key()],
                    filename=path.name[-255:],
                    media_type=media_type,
                    content_hash=content_hash,
                    size=size,
                    max_size=max_size,
                    progress=progress,
                )
                doc_id = self._upload(reader)
        return doc_id, report

    def _upload(self, reader: envelope.SealingReader) -> str:
        size = reader.envelope_size or 0
        if size > self.chunked_above:
            return self._upload_chunked(reader, size)
        response = self.http.post(
            f"{self.api}/documents",
            content=reader.blocks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        doc_id: str = self._check(response).json()["id"]
        return doc_id

    def _upload_chunked(self, reader: envelope.SealingReader, size: int) -> str:
        """The envelope in pieces (POST /uploads, PUT each at its offset, finish); a piece
        that fails on the way is sent again from where the server says it stands."""
        upload = self._check(self.http.post(f"{self.api}/uploads", json={"size": size})).json()
        url = f"{self.api}/uploads/{upload['id']}"
        piece = min(_PIECE, int(upload["piece_bytes"]))
        offset = 0
        # The next piece is sealed in a second thread while this one is sent (the reader
        # fills a whole piece, short only at the end): the socket's send releases the GIL,
        # so sealing and sending overlap. Memory: two pieces.
        with ThreadPoolExecutor(1, thread_name_prefix="ozg-seal") as sealer:
            try:
                ahead = sealer.submit(reader.read, piece)
                while offset < size:
                    data = ahead.result()
                    if not data:
                        raise ClientError(409, "the envelope ended before its announced size")
                    if offset + len(data) < size:
                        ahead = sealer.submit(reader.read, piece)
                    offset = self._send_piece(url, data, offset)
                doc_id: str = self._check(self.http.post(f"{url}/finish")).json()["id"]
            except BaseException:
                try:
                    self.http.delete(url)
                except httpx.HTTPError:
                    pass
                raise
        return doc_id

    def _send_piece(self, url: str, data: bytes, offset: int) -> int:
        headers = {"Content-Type": "application/octet-stream", "Upload-Offset": str(offset)}
        for wait in (*_RETRY_SECONDS, None):
            try:
                response = self.http.put(url, content=data, headers=headers)
                if response.status_code != 409:
                    new_offset: int = self._check(response).json()["offset"]
                    return new_offset
            except httpx.TransportError:
                if wait is None:
                    raise
            if wait is None:
                break
            time.sleep(wait)
            stands = int(self._check(self.http.get(url)).json()["offset"])
            if stands == offset + len(data):
                return stands  # it did arrive; only the answer was lost
            if stands != offset:
                raise ClientError(409, f"the upload stands at {stands}, not at {offset}")
        raise ClientError(409, "the upload is busy with another request")

    def register_authority_key(self, authority: str, jwk: dict[str, Any]) -> dict[str, Any]:
        """Admin: register ``jwk`` (public, with x5c) as ``authority``'s active key."""
        registered: dict[str, Any] = self._check(
            self.http.post(f"{self.api}/authorities/{authority}/keys", json={"jwk": jwk})
        ).json()
        return registered

    def ls(self) -> list[dict[str, Any]]:
        """The documents as the server knows them: ids, envelope sizes, dates, shares."""
        docs: list[dict[str, Any]] = self._check(self.http.get(f"{self.api}/documents")).json()
        return docs

    def sealed_metadata(self) -> dict[str, dict[str, Any]]:
        """The header and metadata record of every listed document, by id, from the
        metadata-only read (docs/envelope.md §13), page by page; the server records one
        ``vault.document.metadata_read`` per document and sends nothing of the content."""
        found: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"limit": _METADATA_PAGE}
        while True:
            page = self._check(self.http.get(f"{self.api}/documents/metadata", params=params))
            body = page.json()
            for item in body["documents"]:
                found[item["id"]] = item
            if not body.get("next_cursor"):
                return found
            params["cursor"] = body["next_cursor"]

    def metadata(self, doc_id: str, key: PrivateKey) -> Metadata:
        """The name, media type and size of ``doc_id``, decrypted here from the metadata-only
        read of that one document (its header and metadata record; never the body)."""
        item = self._check(self.http.get(f"{self.api}/documents/{doc_id}/metadata")).json()
        return open_sealed_metadata(item, key)

    def stanza(self, doc_id: str) -> bytes:
        """The caseworker's authority's wrapped key of ``doc_id`` (a detached stanza)."""
        wrapped = self._check(self.http.get(f"{self.api}/documents/{doc_id}/key")).json()
        return base64.b64decode(wrapped["stanza"])

    def get(
        self,
        doc_id: str,
        out: Path,
        key: PrivateKey,
        *,
        as_authority: bool = False,
        overwrite: bool = False,
        progress: Progress | None = None,
        total: Progress | None = None,
    ) -> Metadata:
        """Download and decrypt; ``out`` appears only if everything verified. An authority
        (``as_authority``) fetches its detached stanza and re-validates PDFs.

        An existing ``out`` is never replaced unless ``overwrite`` (:class:`FileExistsError`,
        before anything is downloaded, and again at the end if it appeared meanwhile): the
        plaintext goes to a temporary file beside it, renamed into place once verified.
        ``total`` is told the envelope's size, ``progress`` the bytes as they arrive."""
        if out.exists() and not overwrite:
            raise FileExistsError(errno.EEXIST, "the file exists", str(out))
        stanza = self.stanza(doc_id) if as_authority else None
        if stanza is not None and Stanza.decode(stanza).kid != key_id(key.public_key()):
            raise InvalidKey("this key is not the one the document was shared with")
        fd, name = tempfile.mkstemp(prefix=f".{out.name[:200]}.", suffix=".partial",
                                    dir=out.parent)  # fmt: skip
        partial = Path(name)
        try:
            with self.http.stream("GET", f"{self.api}/documents/{doc_id}/content") as response:
                self._check(response)
                length = response.headers.get("content-length", "")
                if total is not None and length.isdigit():
                    total(int(length))
                reader = _ResponseReader(response, progress)
                with os.fdopen(fd, "wb") as fout:
                    fd = -1
                    # No write-behind here: with httpx reading the socket in this thread, a
                    # writer thread gained nothing consistent over a loopback download.
                    meta = envelope.open(reader, fout, key, stanza=stanza, max_size=2**62)
            if as_authority and meta.media_type == "application/pdf":
                sanitize.revalidate_pdf(partial)
            # The same last step as commons.cli_safety.write_new_file, which cannot serve
            # here: it takes the whole file as bytes, and this plaintext is streamed.
            if overwrite:
                partial.replace(out)
            else:
                move_without_replacing(partial, out)
        finally:
            if fd >= 0:
                os.close(fd)
            partial.unlink(missing_ok=True)
        return meta

    def share(self, doc_id: str, authority: str, key: PrivateKey) -> dict[str, Any]:
        """Unwrap the DEK here and wrap it to the authority's active key."""
        active = self._check(self.http.get(f"{self.api}/authorities/{authority}/key")).json()
        if self.trust_anchors is not None:
            now = datetime.now(UTC)
            validated = validate_authority_jwk(
                active["jwk"], self.trust_anchors, now, authority=authority
            )
            if self.crls is not None:
                RevocationChecker(self.crls, self.trust_anchors).check_chain(validated.chain, now)
            recipient: Any = validated.public_key
        else:
            # Without anchors the chain is the server's word, but the certificate must still
            # name this authority: a key registered for another one is never wrapped to.
            recipient = check_jwk_binding(active["jwk"], authority)
        item = self._check(self.http.get(f"{self.api}/documents/{doc_id}/metadata")).json()
        doc_key = _document_key(item, key)  # the header only, never the content
        stanza = envelope.wrap_for(doc_key, recipient)
        body = {"stanza": base64.b64encode(stanza.encode()).decode()}
        result: dict[str, Any] = self._check(
            self.http.put(f"{self.api}/documents/{doc_id}/shares/{authority}", json=body)
        ).json()
        return result

    def unshare(self, doc_id: str, authority: str) -> None:
        self._check(self.http.delete(f"{self.api}/documents/{doc_id}/shares/{authority}"))

    def rm(self, doc_id: str) -> dict[str, Any]:
        receipt: dict[str, Any] = self._check(
            self.http.delete(f"{self.api}/documents/{doc_id}")
        ).json()
        return receipt


@dataclass(frozen=True, slots=True)
class _SealedItem:
    document_id: str
    envelope_size: int
    header: bytes
    record: bytes
    stanza: Stanza | None


def _sealed_item(item: Mapping[str, Any]) -> _SealedItem:
    """One item of the metadata-only read (``ozg-vault metadata v1``, docs/envelope.md
    §13), decoded; :class:`InvalidEnvelope` for anything else."""
    try:
        if item["format"] != METADATA_FORMAT:
            raise InvalidEnvelope()
        size, doc_id, raw_stanza = item["envelope_size"], item["id"], item["stanza"]
        if type(size) is not int or not isinstance(doc_id, str):
            raise InvalidEnvelope()
        return _SealedItem(
            doc_id,
            size,
            base64.b64decode(item["header"], validate=True),
            base64.b64decode(item["metadata_record"], validate=True),
            Stanza.decode(base64.b64decode(raw_stanza, validate=True))
            if raw_stanza is not None
            else None,
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidEnvelope() from None


def open_sealed_metadata(item: Mapping[str, Any], key: PrivateKey) -> Metadata:
    """Decrypt the metadata of one item of the metadata-only read with the applicant's key,
    or an authority's key and the item's detached stanza. Every way the item can be wrong,
    a header of another document included, is :class:`InvalidEnvelope`."""
    sealed = _sealed_item(item)
    return envelope.open_header_and_record(
        sealed.document_id, sealed.header, sealed.record, sealed.envelope_size, key, sealed.stanza
    )


def _document_key(item: Mapping[str, Any], key: PrivateKey) -> envelope.DocumentKey:
    """The document key from an item's header (to wrap it for a share)."""
    sealed = _sealed_item(item)
    header = envelope.header_of(sealed.document_id, sealed.header)
    return envelope.unlock(header, key, sealed.stanza)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return "sha-256:" + digest.hexdigest()


__all__ = ["ClientError", "InvalidEnvelope", "OzgError", "VaultClient", "sha256_file"]
