"""Signed notes and checkpoints in the C2SP formats (c2sp.org/signed-note, tlog-checkpoint,
tlog-cosignature).

A checkpoint is the text ``<origin>\\n<tree size>\\n<base64 root hash>\\n``. As a signed note
it is followed by a blank line and one line per signature,
``\\u2014 <key name> <base64(key hash (4 bytes) || signature)>``. Keys:

- the log's own key and plain Ed25519 witnesses use algorithm 0x01 (Ed25519 over the note
  text); key hash = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key);
- witnesses following tlog-cosignature use algorithm 0x04 (``cosignature/v1``): the
  signature covers ``cosignature/v1\\ntime <unix seconds>\\n`` + the checkpoint text and
  carries the 8-byte big-endian timestamp before the 64-byte signature.

Verifier keys are strings ``<name>+<hex key hash>+<base64(alg || public key)>``; signer keys
``PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || seed)>``, as Go's ``note`` package.
Every failure raises :class:`~compliance.errors.InvalidNote`, without saying which check failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from compliance.errors import InvalidNote

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
DASH = "\u2014"
CHECKPOINT_VERSION = 1  # of our leaf format and API; the checkpoint text itself is C2SP's
MAX_TREE_SIZE = 2**64 - 1  # C2SP tlog-checkpoint: the tree size is a decimal uint64


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_hash(name: str, alg: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Signer:
    """The log's Ed25519 note signer."""

    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not _valid_name(name):
            raise ValueError("a key name must be non-empty, without '+' or spaces")
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_string(cls, skey: str) -> Signer:
        try:
            prefix1, prefix2, name, hash_hex, b64 = skey.strip().split("+", 4)
            raw = base64.b64decode(b64, validate=True)
            if (prefix1, prefix2) != ("PRIVATE", "KEY") or len(raw) != 33 or raw[0] != 1:
                raise ValueError
            signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
            if signer.key_hash.hex() != hash_hex.lower() or not _valid_name(name):
                raise ValueError
        except (ValueError, binascii.Error):
            raise ValueError("not a signer key of the form PRIVATE+KEY+name+hash+key") from None
        return signer

    def to_string(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        b64 = base64.b64encode(b"\x01" + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{b64}"

    @property
    def public_key(self) -> bytes:
        return _raw_public(self.private_key.public_key())

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, ALG_ED25519, self.public_key)

    @property
    def verifier_key(self) -> str:
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{b64}"

    def sign_line(self, text: str) -> str:
        signature = self.private_key.sign(text.encode())
        return f"{DASH} {self.name} {base64.b64encode(self.key_hash + signature).decode()}\n"

    def sign(self, text: str) -> str:
        """``text`` as a signed note."""
        _check_text(text)
        return text + "\n" + self.sign_line(text)


@dataclass(frozen=True, slots=True)
class Verifier:
    name: str
    alg: int
    public_key: Ed25519PublicKey
    key_hash: bytes

    @classmethod
    def from_string(cls, vkey: str) -> Verifier:
        try:
            name, hash_hex, b64 = vkey.strip().split("+", 2)
            raw = base64.b64decode(b64, validate=True)
            if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
                raise ValueError
            public = Ed25519PublicKey.from_public_bytes(raw[1:])
            kh = key_hash(name, raw[0], raw[1:])
            if kh.hex() != hash_hex.lower() or not _valid_name(name):
                raise ValueError
        except (ValueError, binascii.Error):
            raise ValueError("not a verifier key of the form name+hash+key") from None
        return cls(name, raw[0], public, kh)

    def to_string(self) -> str:
        b64 = base64.b64encode(bytes([self.alg]) + _raw_public(self.public_key)).decode()
        return f"{self.name}+{self.key_hash.hex()}+{b64}"

    def verifies(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (without the 4-byte key hash) is this key's over ``text``."""
        message = text.encode()
        if self.alg == ALG_COSIGNATURE_V1:
            if len(signature) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + message
            signature = signature[8:]
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SignatureLine:
    name: str
    key_hash: bytes
    signature: bytes

    @property
    def line(self) -> str:
        b64 = base64.b64encode(self.key_hash + self.signature).decode()
        return f"{DASH} {self.name} {b64}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or "\r" in text:
        raise InvalidNote()
    try:  # a note is UTF-8: a str from JSON may hold a lone surrogate, which has no bytes
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidNote() from None


def parse_signature_line(line: str) -> SignatureLine:
    try:
        dash, name, b64 = line.rstrip("\n").split(" ")
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidNote() from None
    if dash != DASH or not _valid_name(name) or len(raw) < 5 or "\n" in line.rstrip("\n"):
        raise InvalidNote()
    return SignatureLine(name, raw[:4], raw[4:])


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """The signed text and the signature lines of ``note`` (nothing verified yet)."""
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise InvalidNote()
    text += "\n"
    _check_text(text)
    return text, [parse_signature_line(line) for line in sigs.splitlines()]


def open_note(note: str, verifier: Verifier) -> tuple[str, list[SignatureLine]]:
    """Check ``note`` carries a valid signature by ``verifier``; return text and all lines."""
    text, lines = split_note(note)
    for sig in lines:
        if (
            sig.name == verifier.name
            and hmac.compare_digest(sig.key_hash, verifier.key_hash)
            and verifier.verifies(text, sig.signature)
        ):
            return text, lines
    raise InvalidNote()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        try:
            origin, size_s, root_b64 = lines[0], lines[1], lines[2]
            root_ = base64.b64decode(root_b64, validate=True)
        except (IndexError, ValueError, binascii.Error):
            raise InvalidNote() from None
        # ASCII digits only: str.isdigit also accepts "²" (which int() refuses) and "٣"
        # (which it reads as 3), and a uint64 has at most 20 of them.
        if not origin or not size_s.isascii() or not size_s.isdigit() or len(size_s) > 20:
            raise InvalidNote()
        if (size_s != "0" and size_s.startswith("0")) or int(size_s) > MAX_TREE_SIZE:
            raise InvalidNote()
        if len(root_) != 32 or not text.endswith("\n"):
            raise InvalidNote()
        return cls(origin, int(size_s), root_)


def verify_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """The checkpoint in ``note`` if the log's key signed it (and its origin matches)."""
    text, _ = open_note(note, verifier)
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise InvalidNote()
    return checkpoint
