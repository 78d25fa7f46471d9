"""The vault envelope's format, version 1 (specification: docs/envelope.md): the byte
layout, limits and key schedule, parsing of the header and the key operations on it.

:mod:`vault.envelope` streams bodies through this format (sealing and opening) and
re-exports its public names; the server's structural check needs only this module.
"""

from __future__ import annotations

import hmac
import io
import json
import os
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from commons.encoding import parse_json
from vault import recipients as rcpt
from vault.errors import InvalidEnvelope
from vault.recipients import PrivateKey, PublicKey, RandomBytes, Stanza

MAGIC = b"OZGV"
VERSION = 1
FIXED_LEN = 32  # magic 4 | version 1 | document id 16 | chunk size 4 | nonce prefix 7
MAC_LEN = 32
TAG_LEN = 16
NONCE_PREFIX_LEN = 7
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 4 * 1024
MAX_CHUNK_SIZE = 1024 * 1024
MAX_RECIPIENTS = 64
METADATA_LEN = 4096  # plaintext of the metadata record, padded
TRAILER_LEN = METADATA_LEN + TAG_LEN
DEFAULT_MAX_SIZE = 500_000_000  # FIT-Connect's per-attachment limit (500 MB)
MAX_FILENAME_CHARS = 255
MAX_PLAINTEXT = 2**32 * MAX_CHUNK_SIZE  # the format's own ceiling: the chunk index is a u32
MAX_STANZA_BODY = 1024  # an RSA-8192 wrap
# fixed | u16 n | n stanzas of u8 alg, u8 kid_len, kid, u16 body_len, body | mac
MAX_HEADER_LEN = FIXED_LEN + 2 + MAX_RECIPIENTS * (4 + 255 + MAX_STANZA_BODY) + MAC_LEN

_INFO_PAYLOAD = b"ozg-vault v1 payload"
_INFO_METADATA = b"ozg-vault v1 metadata"
_INFO_HEADER = b"ozg-vault v1 header"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: Any, /) -> int: ...


Source = Readable | bytes | Iterable[bytes]


@dataclass(frozen=True, slots=True)
class Metadata:
    """What travels encrypted with the document; the server never sees it."""

    filename: str
    media_type: str
    size: int
    content_hash: str | None = None

    def encode(self) -> bytes:
        doc = json.dumps(
            {
                "content_hash": self.content_hash,
                "filename": self.filename,
                "media_type": self.media_type,
                "size": self.size,
            },
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")
        if len(doc) > METADATA_LEN - 2:
            raise ValueError("metadata too long (filename or media type)")
        return struct.pack(">H", len(doc)) + doc + bytes(METADATA_LEN - 2 - len(doc))

    @classmethod
    def decode(cls, data: bytes) -> Metadata:
        try:
            (length,) = struct.unpack_from(">H", data, 0)
            if length > METADATA_LEN - 2 or any(data[2 + length :]):
                raise InvalidEnvelope()
            doc = parse_json(bytes(data[2 : 2 + length]).decode("utf-8"))
            meta = cls(
                filename=doc["filename"],
                media_type=doc["media_type"],
                size=doc["size"],
                content_hash=doc["content_hash"],
            )
        except (struct.error, ValueError, KeyError, TypeError) as exc:
            raise InvalidEnvelope() from exc
        if not (
            isinstance(meta.filename, str)
            and isinstance(meta.media_type, str)
            and isinstance(meta.size, int)
            and meta.size >= 0
            and (meta.content_hash is None or isinstance(meta.content_hash, str))
        ):
            raise InvalidEnvelope()
        return meta


@dataclass(frozen=True, slots=True)
class Header:
    document_id: uuid.UUID
    chunk_size: int
    nonce_prefix: bytes
    stanzas: tuple[Stanza, ...]
    mac: bytes = b""
    version: int = VERSION

    @property
    def fixed(self) -> bytes:
        return (
            MAGIC
            + bytes([self.version])
            + self.document_id.bytes
            + struct.pack(">I", self.chunk_size)
            + self.nonce_prefix
        )

    def unsigned(self) -> bytes:
        parts = [self.fixed, struct.pack(">H", len(self.stanzas))]
        parts.extend(s.encode() for s in self.stanzas)
        return b"".join(parts)

    def encode(self) -> bytes:
        return self.unsigned() + self.mac

    def stanza_for(self, kid: str) -> Stanza | None:
        return next((s for s in self.stanzas if s.kid == kid), None)


class DocumentKey:
    """A document's DEK with the keys derived from it; proves nothing until :func:`unlock`."""

    __slots__ = ("_dek", "_header_key", "fixed", "metadata_key", "payload_key")

    def __init__(self, dek: bytes, fixed: bytes) -> None:
        self._dek = dek
        self.fixed = fixed
        self.payload_key = _hkdf(dek, fixed, _INFO_PAYLOAD)
        self.metadata_key = _hkdf(dek, fixed, _INFO_METADATA)
        self._header_key = _hkdf(dek, fixed, _INFO_HEADER)

    def wrap(self, recipient: PublicKey, random: RandomBytes = os.urandom) -> Stanza:
        return rcpt.wrap(self._dek, recipient, random)

    def mac(self, unsigned_header: bytes) -> bytes:
        return hmac.new(self._header_key, unsigned_header, sha256).digest()


def _hkdf(dek: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(dek)


def chunk_nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if final else 0)


def metadata_aad(fixed: bytes, chunks: int) -> bytes:
    return fixed + struct.pack(">Q", chunks)


def max_chunks(max_size: int, chunk_size: int) -> int:
    """Chunks a document of ``max_size`` bytes may have (the index is a u32 in the nonce)."""
    return min(2**32, max(1, -(-max_size // chunk_size)))


# ------------------------------------------------------------------------------ reading
def _read_exact(src: Readable, n: int) -> bytes:
    data = src.read(n)
    while len(data) < n:
        more = src.read(n - len(data))
        if not more:
            raise InvalidEnvelope()
        data += more
    return data


def read_header(src: Readable) -> Header:
    """Parse (but do not authenticate) the header at the start of ``src``.

    Used by the server, which can check structure but never holds a key.
    """
    fixed = _read_exact(src, FIXED_LEN)
    if fixed[:4] != MAGIC or fixed[4] != VERSION:
        raise InvalidEnvelope()
    (chunk_size,) = struct.unpack_from(">I", fixed, 21)
    if chunk_size & (chunk_size - 1) or not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise InvalidEnvelope()
    (count,) = struct.unpack(">H", _read_exact(src, 2))
    if not 1 <= count <= MAX_RECIPIENTS:
        raise InvalidEnvelope()
    stanzas = []
    for _ in range(count):
        head = _read_exact(src, 2)
        kid = _read_exact(src, head[1]) if head[1] else b""
        body_len = _read_exact(src, 2)
        body = _read_exact(src, struct.unpack(">H", body_len)[0])
        stanzas.append(Stanza.decode(head + kid + body_len + body))
    if len({s.kid for s in stanzas}) != len(stanzas):
        raise InvalidEnvelope()
    mac = _read_exact(src, MAC_LEN)
    return Header(uuid.UUID(bytes=fixed[5:21]), chunk_size, fixed[25:32], tuple(stanzas), mac)


def body_is_well_formed(header: Header, rest_len: int, max_size: int) -> bool:
    """Whether ``rest_len`` bytes after the header can be a body plus metadata record."""
    body = rest_len - TRAILER_LEN
    record = header.chunk_size + TAG_LEN
    if body < TAG_LEN:
        return False
    full, last = divmod(body, record)
    if last == 0:
        full, last = full - 1, record
    if last < TAG_LEN or (last == TAG_LEN and full > 0):
        return False
    return body - (full + 1) * TAG_LEN <= max_size  # exactly the plaintext size


def unlock(header: Header, identity: PrivateKey, stanza: Stanza | None = None) -> DocumentKey:
    """Unwrap the DEK for ``identity`` and authenticate the header with it.

    ``stanza`` is a detached stanza (a share the server stores outside the blob); otherwise
    the identity's own stanza in the header is used.
    """
    try:
        kid = rcpt.key_id(identity.public_key())
    except ValueError as exc:
        raise InvalidEnvelope() from exc
    if stanza is None:
        stanza = header.stanza_for(kid)
    if stanza is None or stanza.kid != kid:
        raise InvalidEnvelope()
    key = DocumentKey(rcpt.unwrap(stanza, identity), header.fixed)
    if not hmac.compare_digest(key.mac(header.unsigned()), header.mac):
        raise InvalidEnvelope()
    return key


def wrap_for(key: DocumentKey, recipient: PublicKey, random: RandomBytes = os.urandom) -> Stanza:
    """A detached stanza giving ``recipient`` access (sharing); the envelope is unchanged."""
    return key.wrap(recipient, random)


def open_metadata(header: Header, key: DocumentKey, trailer: bytes, envelope_size: int) -> Metadata:
    """Decrypt the metadata record (the envelope's last :data:`TRAILER_LEN` bytes) without
    the body: a listing reads the header and the trailer only (docs/envelope.md §6).

    The record is bound to the header and to the number of chunks, which follows from
    ``envelope_size``; a size with another number of chunks, a trailer of another envelope
    or a changed byte raise :class:`InvalidEnvelope` (the plaintext size is the record's own
    ``size``, authenticated with it). The body is not authenticated by this: opening the document
    still checks every chunk and that the size matches.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header_len = len(header.encode())
    rest = envelope_size - header_len
    if len(trailer) != TRAILER_LEN or not body_is_well_formed(header, rest, MAX_PLAINTEXT):
        raise InvalidEnvelope()
    chunks = -(-(rest - TRAILER_LEN) // (header.chunk_size + TAG_LEN))
    try:
        plain = AESGCM(key.metadata_key).decrypt(
            bytes(12), trailer, metadata_aad(header.fixed, chunks)
        )
    except InvalidTag as exc:
        raise InvalidEnvelope() from exc
    return Metadata.decode(plain)


def header_of(document_id: str, header_bytes: bytes) -> Header:
    """Parse ``header_bytes`` as exactly one header (nothing before or after it) of
    document ``document_id``, not yet authenticated; :class:`InvalidEnvelope` otherwise.

    A reader given a header apart from its envelope (the metadata-only read,
    docs/envelope.md §13) checks the document id: a server could otherwise hand out another
    document's header and record, whose MAC and tag would verify."""
    try:
        expected = uuid.UUID(document_id)
    except ValueError:
        raise InvalidEnvelope() from None
    reader = io.BytesIO(header_bytes)
    header = read_header(reader)
    if reader.tell() != len(header_bytes) or header.document_id != expected:
        raise InvalidEnvelope()
    return header


def open_header_and_record(
    document_id: str,
    header_bytes: bytes,
    record: bytes,
    envelope_size: int,
    identity: PrivateKey,
    stanza: Stanza | None = None,
) -> Metadata:
    """The metadata of document ``document_id`` from its header (:func:`header_of`) and
    metadata record alone, with ``identity``'s stanza in the header or the detached
    ``stanza``. Every failure is :class:`InvalidEnvelope`."""
    header = header_of(document_id, header_bytes)
    return open_metadata(header, unlock(header, identity, stanza), record, envelope_size)
