"""The vault envelope, format version 1 (specification: docs/envelope.md).

An envelope is ``header || body || metadata record``:

- the **header** names the format version, the document id, the chunk size, a random
  nonce prefix and the recipients (the document key wrapped for each), and ends with an
  HMAC over all of it under a key derived from the document key;
- the **body** is the plaintext in fixed-size chunks, each sealed with AES-256-GCM under a
  nonce made of the prefix, the chunk index and a final-chunk flag (the STREAM construction
  of Hoang et al., as in age), so truncation, reordering, duplication and splicing fail;
- the **metadata record** (filename, media type, plaintext size, optional content hash) is a
  fixed-size AES-256-GCM record at the end, so a stream of unknown length can be sealed in
  one pass and its length does not leak the filename's.

Safe API: :func:`seal` and :func:`open` (and the ``*_bytes`` / ``*_file`` helpers). The
low-level pieces (:func:`read_header`, :func:`unlock`, :func:`wrap_for`, :func:`rewrap`) are
for the client's sharing flow and the server's structural check. Every failure to read an
envelope raises :class:`~vault.errors.InvalidEnvelope` and nothing else.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import recipients as rcpt
from vault.envelope_format import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_SIZE,
    FIXED_LEN,
    MAC_LEN,
    MAGIC,
    MAX_CHUNK_SIZE,
    MAX_FILENAME_CHARS,
    MAX_HEADER_LEN,
    MAX_PLAINTEXT,
    MAX_RECIPIENTS,
    METADATA_LEN,
    MIN_CHUNK_SIZE,
    NONCE_PREFIX_LEN,
    TAG_LEN,
    TRAILER_LEN,
    VERSION,
    DocumentKey,
    Header,
    Metadata,
    Readable,
    Source,
    Writable,
    body_is_well_formed,
    chunk_nonce,
    header_of,
    max_chunks,
    metadata_aad,
    open_header_and_record,
    open_metadata,
    read_header,
    unlock,
    wrap_for,
)
from vault.errors import InvalidEnvelope
from vault.pipeline import WriteBehind
from vault.recipients import PrivateKey, PublicKey, RandomBytes, Stanza

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_SIZE",
    "FIXED_LEN",
    "MAC_LEN",
    "MAGIC",
    "MAX_CHUNK_SIZE",
    "MAX_FILENAME_CHARS",
    "MAX_HEADER_LEN",
    "MAX_PLAINTEXT",
    "MAX_RECIPIENTS",
    "METADATA_LEN",
    "MIN_CHUNK_SIZE",
    "NONCE_PREFIX_LEN",
    "TAG_LEN",
    "TRAILER_LEN",
    "VERSION",
    "DocumentKey",
    "Header",
    "Metadata",
    "SealResult",
    "SealingReader",
    "Source",
    "body_is_well_formed",
    "envelope_size",
    "header_of",
    "max_chunks",
    "open",
    "open_bytes",
    "open_file",
    "open_header_and_record",
    "open_metadata",
    "read_header",
    "rewrap",
    "seal",
    "seal_bytes",
    "unlock",
    "wrap_for",
]

_IO_BATCH = 1024 * 1024  # bytes per read, write and batch of chunks when sealing or piped
_OPEN_BATCH = 256 * 1024  # decrypting and writing in one thread (1 MiB was no faster)
_WRITE_BEHIND_DEPTH = 4  # buffers of _IO_BATCH in flight


class _Sink(Protocol):
    def acquire(self) -> bytearray: ...
    def submit(self, buf: bytearray, n: int, /) -> None: ...


class _DirectSink:
    """One buffer, written synchronously (the :class:`~vault.pipeline.WriteBehind` shape)."""

    def __init__(self, dest: Writable, size: int) -> None:
        self._dest = dest
        self._buf = bytearray(size)

    def acquire(self) -> bytearray:
        return self._buf

    def submit(self, buf: bytearray, n: int) -> None:
        _write_fully(self._dest, memoryview(buf)[:n])


def _write_fully(dest: Writable, data: memoryview) -> None:
    """``dest.write`` until all of ``data`` is written (a raw file may write less)."""
    while data:
        n = dest.write(data)
        if n is None or n >= len(data):  # buffered writers return None or everything
            return
        data = data[n:]


def _decrypt_body(
    src: Readable, sink: _Sink, header: Header, key: DocumentKey, max_size: int, batch: int
) -> Metadata:
    record = header.chunk_size + TAG_LEN
    limit = max_chunks(max_size, header.chunk_size)
    aead = AESGCM(key.payload_key)
    aad = header.fixed
    prefix = header.nonce_prefix
    need = record + TRAILER_LEN + 1  # a full chunk plus the trailer plus one byte: not final
    # Reads and writes go in batches of chunks: small writes cost more than the AES here.
    window = bytearray(batch * record + need)
    view = memoryview(window)
    out = sink.acquire()
    out_view = memoryview(out)
    readinto = getattr(src, "readinto", None)
    start = end = filled = 0
    eof = False
    index = written = 0
    while True:
        if not eof:
            window[: end - start] = window[start:end]
            start, end = 0, end - start
            while end < len(window):
                if readinto is not None:
                    n = readinto(view[end:])
                else:
                    data = src.read(len(window) - end)
                    n = len(data)
                    window[end : end + n] = data
                if not n:
                    eof = True
                    break
                end += n
        while True:
            final = end - start < need
            if final and not eof:
                break  # refill first
            length = end - start - TRAILER_LEN if final else record
            if index >= limit or length < TAG_LEN or (final and length == TAG_LEN and index > 0):
                raise InvalidEnvelope()
            plain = length - TAG_LEN
            if filled + plain > len(out):
                sink.submit(out, filled)
                out = sink.acquire()
                out_view = memoryview(out)
                filled = 0
            try:
                aead.decrypt_into(
                    chunk_nonce(prefix, index, final),
                    view[start : start + length],
                    aad,
                    out_view[filled : filled + plain],
                )
            except InvalidTag as exc:
                raise InvalidEnvelope() from exc
            written += plain
            if written > max_size:
                raise InvalidEnvelope()
            filled += plain
            start += length
            index += 1
            if final:
                break
        if final and eof:
            break
    sink.submit(out, filled)
    try:
        meta_plain = AESGCM(key.metadata_key).decrypt(
            bytes(12), bytes(view[start:end]), metadata_aad(aad, index)
        )
    except InvalidTag as exc:
        raise InvalidEnvelope() from exc
    meta = Metadata.decode(meta_plain)
    if meta.size != written:
        raise InvalidEnvelope()
    return meta


def open(
    src: Readable,
    dest: Writable,
    identity: PrivateKey,
    *,
    stanza: Stanza | bytes | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    write_behind: bool = False,
) -> Metadata:
    """Decrypt the envelope in ``src`` into ``dest``; return its metadata.

    Plaintext is written chunk by chunk as it is authenticated; if this raises, what was
    written to ``dest`` must be discarded (:func:`open_file` does that for you).
    ``write_behind`` writes to ``dest`` from a second thread while the next batch is
    decrypted (:mod:`vault.pipeline`); ``dest.write`` is then called from that thread, and
    every write has happened when this returns or raises.
    """
    try:
        header = read_header(src)
        if isinstance(stanza, bytes):
            stanza = Stanza.decode(stanza)
        key = unlock(header, identity, stanza)
        if not write_behind:
            batch = max(1, _OPEN_BATCH // header.chunk_size)
            sink = _DirectSink(dest, batch * header.chunk_size)
            return _decrypt_body(src, sink, header, key, max_size, batch)
        batch = max(1, _IO_BATCH // header.chunk_size)
        write = functools.partial(_write_fully, dest)
        size = batch * header.chunk_size
        with WriteBehind(write, buffer_size=size, depth=_WRITE_BEHIND_DEPTH) as pipe:
            return _decrypt_body(src, pipe, header, key, max_size, batch)
    except InvalidEnvelope:
        raise
    except (ValueError, TypeError, OverflowError, struct.error) as exc:
        raise InvalidEnvelope() from exc


def open_bytes(
    envelope: bytes, identity: PrivateKey, *, stanza: Stanza | bytes | None = None
) -> tuple[Metadata, bytes]:
    out = io.BytesIO()
    meta = open(io.BytesIO(envelope), out, identity, stanza=stanza, max_size=len(envelope))
    return meta, out.getvalue()


def open_file(
    src: Path,
    dest: Path,
    identity: PrivateKey,
    *,
    stanza: Stanza | bytes | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Metadata:
    """Decrypt ``src`` to ``dest`` atomically: ``dest`` appears only if all of it verified."""
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with src.open("rb", buffering=0) as fin, tmp.open("wb", buffering=0) as fout:
            meta = open(fin, fout, identity, stanza=stanza, max_size=max_size, write_behind=True)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return meta


# ------------------------------------------------------------------------------ writing
class _IterReader:
    """A ``readinto`` over an iterable of byte strings."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it: Iterator[bytes] = iter(chunks)
        self._pending = memoryview(b"")

    def readinto(self, buf: memoryview) -> int:
        while not self._pending:
            nxt = next(self._it, None)
            if nxt is None:
                return 0
            self._pending = memoryview(nxt)
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _as_reader(source: Source) -> Any:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    if hasattr(source, "readinto"):
        return source
    if hasattr(source, "read"):
        return io.BufferedReader(source)
    return _IterReader(source)


def _fill(reader: Any, view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = reader.readinto(view[got:])
        if not n:
            break
        got += n
    return got


@dataclass(frozen=True, slots=True)
class SealResult:
    document_id: uuid.UUID
    size: int
    envelope_size: int
    header: Header = field(repr=False)


def envelope_size(header_len: int, size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """The length of an envelope with a header of ``header_len`` bytes and ``size`` bytes of
    plaintext (what an upload announces as its Content-Length before sealing)."""
    chunks = max(1, -(-size // chunk_size))
    return header_len + size + chunks * TAG_LEN + TRAILER_LEN


class SealingReader(io.RawIOBase):
    """The envelope of ``source`` as a readable stream, produced as it is read.

    Reading it seals the next chunks of the source (in batches of ~1 MiB: fewer Python calls
    per byte); when the caller's buffer holds whole records, AES-GCM writes straight into it,
    so a blob store or an HTTP body can take the envelope without an intermediate file or
    copy. Memory is a few batches, independent of the size.

    With ``size`` (the plaintext length, e.g. from ``stat``) :attr:`envelope_size` is known
    in advance, and a source that turns out longer or shorter raises :class:`ValueError`
    instead of producing an envelope of another length than announced.
    """

    def __init__(
        self,
        source: Source,
        recipients: Sequence[PublicKey],
        *,
        filename: str,
        media_type: str,
        size: int | None = None,
        content_hash: str | None = None,
        document_id: uuid.UUID | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_size: int = DEFAULT_MAX_SIZE,
        random: RandomBytes = os.urandom,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        if not 1 <= len(recipients) <= MAX_RECIPIENTS:
            raise ValueError(f"an envelope needs 1..{MAX_RECIPIENTS} recipients")
        if chunk_size & (chunk_size - 1) or not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError("chunk size must be a power of two in 4 KiB..1 MiB")
        if not filename or len(filename) > MAX_FILENAME_CHARS:
            raise ValueError(f"filename must have 1..{MAX_FILENAME_CHARS} characters")
        if size is not None and not 0 <= size <= max_size:
            raise ValueError(f"document larger than the limit of {max_size} bytes")
        Metadata(filename, media_type, max_size, content_hash).encode()  # fail early if too long
        dek = random(rcpt.DEK_LEN)
        doc_id = document_id or uuid.UUID(bytes=random(16), version=4)
        prefix = random(NONCE_PREFIX_LEN)
        header = Header(doc_id, chunk_size, prefix, ())
        key = DocumentKey(dek, header.fixed)
        stanzas = tuple(key.wrap(r, random) for r in recipients)
        if len({s.kid for s in stanzas}) != len(stanzas):
            raise ValueError("duplicate recipient")
        header = Header(doc_id, chunk_size, prefix, stanzas)
        self.header = Header(doc_id, chunk_size, prefix, stanzas, key.mac(header.unsigned()))
        head = self.header.encode()
        self.document_id = doc_id
        self.expected_size = size
        self.envelope_size = None if size is None else envelope_size(len(head), size, chunk_size)
        self.size = 0  # plaintext bytes sealed so far
        self._meta = (filename, media_type, content_hash)
        self._metadata_key = key.metadata_key
        self._aead = AESGCM(key.payload_key)
        self._aad = header.fixed
        self._prefix = prefix
        self._chunk = chunk_size
        self._record = chunk_size + TAG_LEN
        self._max_size = max_size
        self._limit = max_chunks(max_size, chunk_size)
        self._progress = progress
        self._reader = _as_reader(source)
        self._block = max(1, _IO_BATCH // chunk_size) * chunk_size
        self._in = [bytearray(self._block), bytearray(self._block)]
        self._in_views = [memoryview(b) for b in self._in]
        self._spare = bytearray(self._record)  # for callers reading less than a record
        self._pending = memoryview(head)  # produced, not yet read
        self._cur = self._have = self._pos = self._ahead = 0
        self._started = self._last_block = self._body_done = self._done = False
        self._index = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        got = 0
        while got < len(view):
            if self._pending:
                n = min(len(view) - got, len(self._pending))
                view[got : got + n] = self._pending[:n]
                self._pending = self._pending[n:]
                got += n
            elif self._done:
                break
            elif self._body_done:
                self._pending = memoryview(self._trailer())
                self._done = True
            elif len(view) - got >= self._record:
                got += self._seal_into(view[got:])
            else:
                n = self._seal_into(memoryview(self._spare))
                self._pending = memoryview(self._spare)[:n]
        return got

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            return self.readall()
        buf = bytearray(size)
        n = self.readinto(buf)
        del buf[n:]
        return bytes(buf)

    def blocks(self, block_size: int = _IO_BATCH + TRAILER_LEN) -> Iterator[bytes]:
        """The envelope as byte strings of up to ``block_size`` (an HTTP request body)."""
        buf = bytearray(max(block_size, self._record))
        while n := self.readinto(buf):
            yield bytes(memoryview(buf)[:n])

    def _next_block(self) -> None:
        """Make the next input block current; read one more ahead to find the last one."""
        if not self._started:
            self._started = True
            self._have = _fill(self._reader, self._in_views[0])
        else:
            self._cur, self._have = 1 - self._cur, self._ahead
        self._pos = 0
        self._ahead = (
            _fill(self._reader, self._in_views[1 - self._cur]) if (self._have == self._block) else 0
        )
        self._last_block = self._ahead == 0
        size = self.size + self._have
        chunks = self._index + max(1, -(-self._have // self._chunk))
        if size > self._max_size or chunks > self._limit:
            raise ValueError(f"document larger than the limit of {self._max_size} bytes")
        if self.expected_size is not None and (
            size > self.expected_size or (self._last_block and size != self.expected_size)
        ):
            raise ValueError("the source changed size while it was being sealed")
        self.size = size
        if self._progress is not None and self._have:
            self._progress(self._have)

    def _seal_into(self, out: memoryview) -> int:
        """Seal whole chunks of the current input block into ``out``; return the bytes."""
        if not self._started or (self._pos >= self._have and not self._last_block):
            self._next_block()
        have, chunk, record = self._have, self._chunk, self._record
        src = self._in_views[self._cur]
        aead, aad, prefix = self._aead, self._aad, self._prefix
        o = 0
        while o + record <= len(out):  # the caller's buffer holds at least one record
            length = min(chunk, have - self._pos)
            final = self._last_block and self._pos + length == have
            aead.encrypt_into(
                chunk_nonce(prefix, self._index, final),
                src[self._pos : self._pos + length],
                aad,
                out[o : o + length + TAG_LEN],
            )
            self._pos += length
            o += length + TAG_LEN
            self._index += 1
            if final:
                self._body_done = True
                break
            if self._pos >= have:
                break
        return o

    def _trailer(self) -> bytes:
        filename, media_type, content_hash = self._meta
        meta = Metadata(filename, media_type, self.size, content_hash)
        return AESGCM(self._metadata_key).encrypt(
            bytes(12), meta.encode(), metadata_aad(self._aad, self._index)
        )


def seal(
    source: Source,
    dest: Writable,
    recipients: Sequence[PublicKey],
    *,
    filename: str,
    media_type: str,
    content_hash: str | None = None,
    document_id: uuid.UUID | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    random: RandomBytes = os.urandom,
    progress: Callable[[int], None] | None = None,
) -> SealResult:
    """Encrypt ``source`` (file object, bytes or iterable of bytes) to ``dest`` for
    ``recipients``, in one pass with memory independent of the size.

    ``content_hash`` (for example ``"sha-256:<hex>"``, computed once by the client where it
    already reads the file) travels in the encrypted metadata; the envelope itself does not
    hash the plaintext, which keeps slow hashes off the hot path.
    """
    reader = SealingReader(
        source,
        recipients,
        filename=filename,
        media_type=media_type,
        content_hash=content_hash,
        document_id=document_id,
        chunk_size=chunk_size,
        max_size=max_size,
        random=random,
        progress=progress,
    )
    buf = bytearray(max(1, _IO_BATCH // chunk_size) * (chunk_size + TAG_LEN) + TRAILER_LEN)
    view = memoryview(buf)
    total = 0
    while n := reader.readinto(view):
        dest.write(view[:n])
        total += n
    return SealResult(reader.document_id, reader.size, total, reader.header)


def seal_bytes(
    data: bytes, recipients: Sequence[PublicKey], *, filename: str, media_type: str, **kw: Any
) -> bytes:
    out = io.BytesIO()
    seal(data, out, recipients, filename=filename, media_type=media_type, **kw)
    return out.getvalue()


def rewrap(
    src: IO[bytes],
    dest: Writable,
    identity: PrivateKey,
    *,
    add: Sequence[PublicKey] = (),
    remove: Sequence[str] = (),
    random: RandomBytes = os.urandom,
) -> Header:
    """Add recipients or remove them by key id. Only the header changes: the body and the
    metadata record are copied byte for byte, without being decrypted."""
    header = read_header(src)
    key = unlock(header, identity)
    kept = [s for s in header.stanzas if s.kid not in set(remove)]
    kept.extend(key.wrap(r, random) for r in add)
    if not 1 <= len(kept) <= MAX_RECIPIENTS or len({s.kid for s in kept}) != len(kept):
        raise ValueError("an envelope needs 1..64 distinct recipients")
    new = Header(header.document_id, header.chunk_size, header.nonce_prefix, tuple(kept))
    new = Header(
        new.document_id, new.chunk_size, new.nonce_prefix, new.stanzas, key.mac(new.unsigned())
    )
    dest.write(new.encode())
    while block := src.read(1024 * 1024):
        dest.write(block)
    return new
