"""JWE compact serialization as FIT-Connect uses it: RSA-OAEP-256 key wrap, A256GCM content.

Metadata, data and every attachment of a submission travel as one compact JWE each,
``BASE64URL(header).BASE64URL(wrapped key).BASE64URL(iv).BASE64URL(ciphertext).BASE64URL(tag)``
(RFC 7516 §7.1). We send the protected header ``{"alg":"RSA-OAEP-256","enc":"A256GCM",
"kid":…,"cty":…}`` and never ``zip``; on receipt we also accept ``zip: "DEF"`` (older senders
compress), inflating with a size cap. Any other ``alg``, ``enc`` or ``zip``, or any ``crit``,
is refused. The authentication tag (the fifth part) is kept: the receiver's
``accept-submission`` event echoes it, and the sender compares (:mod:`.events`).

Memory: :func:`encrypt` and :func:`decrypt` hold everything in memory and refuse more than
:data:`MAX_IN_MEMORY` bytes of plaintext. Attachments (up to 500 MB) use
:func:`encrypt_stream` and :func:`decrypt_stream`, which work in chunks of
:data:`CHUNK_SIZE` with constant memory: base64url is written in multiples of 3 bytes and
read in whole quanta of 4 characters (:func:`commons.encoding.b64url_decode_quanta`, SIMD
when ``pybase64`` is installed), and AES-GCM is incremental. :func:`decrypt_stream` reads
its source once, front to back, and checks the tag at the end (``finalize_with_tag``), so
an attachment is decrypted while it downloads; it hashes and writes the plaintext on a
second thread, so that SHA-512 (the dearest step) overlaps the download, the decoding and
the decryption. Both in-memory functions are the streaming ones run over ``io.BytesIO``,
so there is one parser.

:func:`decrypt_stream` writes plaintext to ``out`` *before* the tag at the end has been
checked (GCM cannot do otherwise without a second pass): when it raises, whatever it wrote
is unauthenticated and must be discarded. Write to a temporary file and keep it only when
the call returns.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from commons.encoding import (
    b64url_decode,
    b64url_decode_quanta,
    b64url_encode,
    b64url_encode_bulk,
    parse_json,
)
from gateway.fitconnect.errors import InvalidJwe
from gateway.fitconnect.keys import destination_public_key

ALG = "RSA-OAEP-256"
ENC = "A256GCM"
ZIP_ACCEPTED = "DEF"
CEK_LEN = 32
IV_LEN = 12
TAG_LEN = 16
CHUNK_SIZE = 3 * 256 * 1024  # bytes of plaintext per step; a multiple of 3
MAX_IN_MEMORY = 64 * 1024 * 1024
MAX_STREAM = 2 * 1024 * 1024 * 1024  # a whole FIT-Connect submission is at most 2 GB
MAX_HEADER_CHARS = 8192
MAX_KEY_CHARS = 1366  # 8192-bit RSA: 1024 bytes
_CTY = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}")
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@dataclass(frozen=True, slots=True)
class Encrypted:
    """A compact JWE and what the sender keeps of it."""

    compact: str
    tag: str  # base64url, the fifth part: what accept-submission echoes
    kid: str
    cty: str
    plaintext_sha512: str  # hex, for the metadata's hash fields


@dataclass(frozen=True, slots=True)
class EncryptedStream:
    """What :func:`encrypt_stream` wrote (the compact form went to ``out``)."""

    tag: str
    kid: str
    cty: str
    plaintext_length: int
    plaintext_sha512: str
    compact_length: int


@dataclass(frozen=True, slots=True)
class Decrypted:
    plaintext: bytes
    header: dict[str, Any]
    tag: str
    plaintext_sha512: str


@dataclass(frozen=True, slots=True)
class DecryptedStream:
    header: dict[str, Any]
    tag: str
    plaintext_length: int
    plaintext_sha512: str


# --------------------------------------------------------------------------- encrypt
def protected_header(kid: str, cty: str) -> dict[str, str]:
    if not _CTY.fullmatch(cty):
        raise ValueError("cty must be a MIME type such as application/json")
    if not kid or not isinstance(kid, str):
        raise ValueError("the destination key has no kid")
    return {"alg": ALG, "enc": ENC, "kid": kid, "cty": cty}


def encrypt(
    plaintext: bytes,
    key: Mapping[str, Any],
    cty: str,
    *,
    random: Callable[[int], bytes] = os.urandom,
) -> Encrypted:
    """Encrypt ``plaintext`` to the destination's public encryption JWK ``key``.

    ``key`` should have passed :func:`gateway.fitconnect.keys.validate_destination_key`;
    here only its shape (RSA, ≥ 4096 bits) is checked. Its ``kid`` goes into the header
    (the RFC 7638 thumbprint when the JWK has none).
    """
    if len(plaintext) > MAX_IN_MEMORY:
        raise ValueError(f"more than {MAX_IN_MEMORY} bytes: use encrypt_stream")
    out = io.BytesIO()
    result = encrypt_stream(io.BytesIO(plaintext), out, key, cty, random=random)
    return Encrypted(
        compact=out.getvalue().decode("ascii"),
        tag=result.tag,
        kid=result.kid,
        cty=cty,
        plaintext_sha512=result.plaintext_sha512,
    )


def encrypt_stream(
    source: BinaryIO,
    out: BinaryIO,
    key: Mapping[str, Any],
    cty: str,
    *,
    random: Callable[[int], bytes] = os.urandom,
    chunk_size: int = CHUNK_SIZE,
) -> EncryptedStream:
    """Read ``source`` to its end and write the compact JWE (ASCII bytes) to ``out``."""
    if chunk_size <= 0 or chunk_size % 3:
        raise ValueError("chunk_size must be a positive multiple of 3")
    public, kid = destination_public_key(key)
    header = protected_header(kid, cty)
    header_b64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    cek, iv = random(CEK_LEN), random(IV_LEN)
    wrapped = public.encrypt(cek, _OAEP)
    encryptor = Cipher(algorithms.AES(cek), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(header_b64.encode("ascii"))
    written = out.write(
        f"{header_b64}.{b64url_encode(wrapped)}.{b64url_encode(iv)}.".encode("ascii")
    )
    digest = hashlib.sha512()
    length = 0
    pending = b""
    while chunk := source.read(chunk_size):
        length += len(chunk)
        if length > MAX_STREAM:
            raise ValueError(f"more than {MAX_STREAM} bytes")
        digest.update(chunk)
        pending += encryptor.update(chunk)
        cut = len(pending) - len(pending) % 3
        written += out.write(b64url_encode_bulk(pending[:cut]))
        pending = pending[cut:]
    pending += encryptor.finalize()
    tag = b64url_encode(encryptor.tag)
    written += out.write(b64url_encode_bulk(pending) + b"." + tag.encode("ascii"))
    return EncryptedStream(
        tag=tag,
        kid=kid,
        cty=cty,
        plaintext_length=length,
        plaintext_sha512=digest.hexdigest(),
        compact_length=written,
    )


# --------------------------------------------------------------------------- decrypt
def decrypt(
    compact: str | bytes,
    private_key: rsa.RSAPrivateKey,
    *,
    max_plaintext: int = MAX_IN_MEMORY,
) -> Decrypted:
    """Decrypt a compact JWE made to ``private_key``; every failure is :class:`InvalidJwe`."""
    try:
        raw = compact.encode("ascii") if isinstance(compact, str) else bytes(compact)
    except UnicodeEncodeError:
        raise InvalidJwe() from None
    if len(raw) > max_plaintext * 4 // 3 + MAX_HEADER_CHARS + MAX_KEY_CHARS + 64:
        raise InvalidJwe()
    out = io.BytesIO()
    result = decrypt_stream(
        io.BytesIO(raw), out, private_key, max_plaintext=max_plaintext, background=False
    )
    return Decrypted(
        plaintext=out.getvalue(),
        header=result.header,
        tag=result.tag,
        plaintext_sha512=result.plaintext_sha512,
    )


def decrypt_stream(
    source: BinaryIO | Iterable[bytes],
    out: BinaryIO,
    private_key: rsa.RSAPrivateKey,
    *,
    max_plaintext: int = MAX_STREAM,
    chunk_chars: int = CHUNK_SIZE // 3 * 4,
    background: bool = True,
) -> DecryptedStream:
    """Decrypt the compact JWE read from ``source`` into ``out``, in one sequential pass.

    ``source`` is a binary file (read ``chunk_chars`` at a time, never seeked: a socket or
    a pipe will do) or an iterable of byte blocks of any size, such as an HTTP response's
    body as it arrives; blocks are gathered into steps of about ``chunk_chars``. Raises
    :class:`InvalidJwe` for every failure; then ``out`` holds unauthenticated bytes that
    must be discarded (see the module docstring).

    With ``background`` (the default) the plaintext is hashed and written to ``out`` on a
    second thread, in order, while this one receives, decodes and decrypts the next step:
    SHA-512 is the dearest of the primitives, and it, the file write and the base64url
    decoding release the GIL, so that on two cores they overlap. At most
    :data:`SINK_STEPS` steps wait between the two threads (constant memory). An error of
    ``out`` is raised here, as it is; :func:`decrypt` (in memory) runs inline.
    """
    if chunk_chars <= 0 or chunk_chars % 4:
        raise ValueError("chunk_chars must be a positive multiple of 4")
    if hasattr(source, "read"):
        reader = cast(BinaryIO, source)
        blocks: Iterator[bytes] = iter(lambda: reader.read(chunk_chars), b"")
    else:
        blocks = iter(source)
    sink = _BackgroundSink(out) if background else _Sink(out)
    try:
        return _decrypt_stream(blocks, sink, private_key, max_plaintext, chunk_chars)
    except InvalidJwe:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, zlib.error, InvalidTag) as exc:
        raise InvalidJwe() from exc
    finally:
        sink.stop()


SINK_STEPS = 4


class _Sink:
    """Hashes and writes the plaintext, in order, on the calling thread."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha512()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.out.write(data)

    def finish(self) -> str:
        """The hex SHA-512 of everything written, once it is all written."""
        return self.digest.hexdigest()

    def stop(self) -> None:
        """Let go of the sink (after :meth:`finish`, or after an error)."""


class _BackgroundSink(_Sink):
    """:class:`_Sink` on a thread of its own, fed through a queue of at most
    :data:`SINK_STEPS` steps; the first error of ``out`` is raised by the next
    :meth:`write` or by :meth:`finish`."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(out)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=SINK_STEPS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="jwe-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    super().write(data)
                except BaseException as exc:  # raised on the caller's thread
                    self._error = exc

    def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def finish(self) -> str:
        self.stop()
        if self._error is not None:
            raise self._error
        return super().finish()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


_HEAD_LIMIT = MAX_HEADER_CHARS + MAX_KEY_CHARS + 32 + 3


def _decrypt_stream(
    blocks: Iterator[bytes],
    sink: _Sink,
    private_key: rsa.RSAPrivateKey,
    max_plaintext: int,
    step: int,
) -> DecryptedStream:
    head = b""
    while head.count(b".") < 3:  # header.key.iv.
        if len(head) > _HEAD_LIMIT:
            raise InvalidJwe()
        block = next(blocks, b"")
        if not block:
            raise InvalidJwe()
        head += block
    header_part, ek_part, iv_part, block = head.split(b".", 3)
    header_b64, ek_b64, iv_b64 = (p.decode("ascii") for p in (header_part, ek_part, iv_part))
    if len(header_b64) > MAX_HEADER_CHARS or len(ek_b64) > MAX_KEY_CHARS:
        raise InvalidJwe()
    header = _parse_header(header_b64)
    wrapped, iv = b64url_decode(ek_b64), b64url_decode(iv_b64)
    if len(iv) != IV_LEN or len(wrapped) != (private_key.key_size + 7) // 8:
        raise InvalidJwe()

    # RFC 7516 §11.5: on a failed unwrap go on with a random key, so that a wrong key and a
    # tampered ciphertext fail the same way, at the same point (the tag check).
    try:
        cek = private_key.decrypt(wrapped, _OAEP)
    except ValueError:
        cek = os.urandom(CEK_LEN)
    if len(cek) != CEK_LEN:
        cek = os.urandom(CEK_LEN)
    decryptor = Cipher(algorithms.AES(cek), modes.GCM(iv)).decryptor()
    decryptor.authenticate_additional_data(header_b64.encode("ascii"))
    inflater = zlib.decompressobj(-15) if header.get("zip") == ZIP_ACCEPTED else None
    written = body_chars = 0

    def emit(data: bytes) -> None:
        nonlocal written
        if inflater is not None:
            data = _inflate(inflater, data, max_plaintext - written)
        written += len(data)
        if written > max_plaintext:
            raise InvalidJwe()
        if data:
            sink.write(data)

    def body(text: bytes, *, last: bool) -> None:
        nonlocal body_chars
        body_chars += len(text)
        if body_chars * 3 // 4 > max_plaintext + 8:
            raise InvalidJwe()
        emit(decryptor.update(_decode_body(text, last=last)))

    # The ciphertext runs to the fourth dot (base64url has none). Until it shows, blocks
    # are gathered into steps of about ``step`` characters, and each step's whole quanta
    # are decoded and decrypted at once (one join, one decode, one AES-GCM call per step,
    # whatever the size of the blocks); at most 3 characters wait for the next step.
    tag_text: bytes | None = None
    pieces: list[bytes] = []
    gathered = 0
    while True:
        if tag_text is not None:
            tag_text += block
        elif (dot := block.find(b".")) >= 0:
            pieces.append(block[:dot])
            tag_text = block[dot + 1 :]
            text = b"".join(pieces)
            whole = len(text) - len(text) % 4
            if whole:
                body(text[:whole], last=False)
            body(text[whole:], last=True)
        else:
            pieces.append(block)
            gathered += len(block)
            if gathered >= step:
                text = b"".join(pieces)
                whole = len(text) - len(text) % 4
                body(text[:whole], last=False)
                pieces = [text[whole:]]
                gathered = len(pieces[0])
        if tag_text is not None and len(tag_text) > 32:
            raise InvalidJwe()
        block = next(blocks, b"")
        if not block:
            break
    if tag_text is None:
        raise InvalidJwe()
    tag = b64url_decode(tag_text.decode("ascii"))
    if len(tag) != TAG_LEN:
        raise InvalidJwe()
    emit(decryptor.finalize_with_tag(tag))
    if inflater is not None:
        if not inflater.eof or inflater.unused_data:
            raise InvalidJwe()
    return DecryptedStream(
        header=header,
        tag=b64url_encode(tag),
        plaintext_length=written,
        plaintext_sha512=sink.finish(),
    )


def _inflate(inflater: Any, data: bytes, budget: int) -> bytes:
    """Inflate ``data`` without ever producing more than ``budget`` + 1 bytes."""
    produced = b""
    pending = data
    while True:
        chunk: bytes = inflater.decompress(pending, max(budget - len(produced), 0) + 1)
        produced += chunk
        if len(produced) > budget:
            raise InvalidJwe()
        pending = bytes(inflater.unconsumed_tail)
        if not pending:
            return produced


def _decode_body(text: bytes, *, last: bool) -> bytes:
    """Base64url of one step of the ciphertext. A step before the last is a whole number of
    quanta (canonical by construction once it holds only the alphabet); the last, which
    may end in a partial quantum, also needs the re-encoding check."""
    try:
        if not last:
            return b64url_decode_quanta(text)
        return b64url_decode(text.decode("ascii"))
    except ValueError:
        raise InvalidJwe() from None


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate member")
        result[name] = value
    return result


def parse_protected_header(header_b64: str) -> dict[str, Any]:
    """The protected header (first part) of a compact JWE as received, with every rule of
    :func:`decrypt_stream` on it (``alg``, ``enc``, ``zip``, ``crit``, member types,
    duplicates); :class:`InvalidJwe` otherwise. For a delivery service, which checks what
    it stores without being able to decrypt it."""
    if not isinstance(header_b64, str) or len(header_b64) > MAX_HEADER_CHARS:
        raise InvalidJwe()
    try:
        return _parse_header(header_b64)
    except InvalidJwe:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidJwe() from exc


def _parse_header(header_b64: str) -> dict[str, Any]:
    header = parse_json(b64url_decode(header_b64), object_pairs_hook=_unique_object)
    if not isinstance(header, dict):
        raise InvalidJwe()
    if header.get("alg") != ALG or header.get("enc") != ENC:
        raise InvalidJwe()
    if "zip" in header and header["zip"] != ZIP_ACCEPTED:
        raise InvalidJwe()
    if "crit" in header:
        raise InvalidJwe()
    for name in ("kid", "cty"):
        if name in header and not isinstance(header[name], str):
            raise InvalidJwe()
    return header
