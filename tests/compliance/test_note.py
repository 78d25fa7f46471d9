"""C2SP signed notes and checkpoints, against the Go sumdb/note reference vector."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from compliance import note
from compliance.errors import InvalidNote

# golang.org/x/mod/sumdb/note: the documented example key and signed note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_signing_reproduces_the_go_reference_note() -> None:
    signer = note.Signer.from_string(GO_SKEY)
    assert signer.verifier_key == GO_VKEY
    assert signer.to_string() == GO_SKEY
    assert signer.sign(GO_TEXT) == GO_NOTE
    text, lines = note.open_note(GO_NOTE, note.Verifier.from_string(GO_VKEY))
    assert text == GO_TEXT
    assert lines[0].name == "PeterNeumann"


@pytest.mark.parametrize(
    "bad",
    [
        GO_NOTE.replace("problem,", "problem;"),
        GO_NOTE.replace("x08go", "x18go"),
        GO_NOTE.replace("PeterNeumann x", "PeterNeuman x"),
        GO_NOTE.replace("\n\n", "\n"),
        GO_NOTE.replace("\u2014", "-"),
        GO_NOTE[:-1],
        "",
    ],
)
def test_tampered_notes_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidNote):
        note.open_note(bad, note.Verifier.from_string(GO_VKEY))


def test_malformed_keys_are_refused() -> None:
    for bad in (GO_VKEY.replace("c74f", "c75f"), GO_VKEY + "x", "a+b", GO_VKEY[:-4]):
        with pytest.raises(ValueError, match="verifier key"):
            note.Verifier.from_string(bad)
    with pytest.raises(ValueError, match="signer key"):
        note.Signer.from_string(GO_SKEY.replace("c74f20a3", "00000000"))


@given(size=st.integers(0, 2**63), root=st.binary(min_size=32, max_size=32))
def test_checkpoints_round_trip(size: int, root: bytes) -> None:
    cp = note.Checkpoint("example.org/log", size, root)
    assert note.Checkpoint.parse(cp.text()) == cp
    assert cp.text() == f"example.org/log\n{size}\n{base64.b64encode(root).decode()}\n"


def test_checkpoint_signature_and_origin_are_checked() -> None:
    signer = note.Signer.generate("example.org/log")
    cp = note.Checkpoint("example.org/log", 5, bytes(32))
    signed = signer.sign(cp.text())
    verifier = note.Verifier.from_string(signer.verifier_key)
    assert note.verify_checkpoint(signed, verifier, "example.org/log") == cp
    with pytest.raises(InvalidNote):
        note.verify_checkpoint(signed, verifier, "other.org/log")
    with pytest.raises(InvalidNote):
        note.verify_checkpoint(signed.replace("\n5\n", "\n6\n"), verifier)
    other = note.Verifier.from_string(note.Signer.generate("example.org/log").verifier_key)
    with pytest.raises(InvalidNote):
        note.verify_checkpoint(signed, other)


def test_cosignature_v1_witness_signatures_verify() -> None:
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = "witness.example"
    kh = note.key_hash(name, note.ALG_COSIGNATURE_V1, public)
    vkey = f"{name}+{kh.hex()}+{base64.b64encode(bytes([4]) + public).decode()}"
    verifier = note.Verifier.from_string(vkey)
    text = note.Checkpoint("example.org/log", 3, bytes(32)).text()
    ts = 1_764_331_200
    sig = key.sign(f"cosignature/v1\ntime {ts}\n".encode() + text.encode())
    assert verifier.verifies(text, struct.pack(">Q", ts) + sig)
    assert not verifier.verifies(text, struct.pack(">Q", ts + 1) + sig)


@pytest.mark.parametrize("size", ["\u00b2", "\u0663", "1" * 21, str(2**64)])
def test_a_tree_size_is_ascii_digits_within_uint64(size: str) -> None:
    """Found by fuzzing (tests/fuzz): ``str.isdigit`` let "²" through to int(), a
    ValueError, and read "٣" as 3."""
    root = base64.b64encode(bytes(32)).decode()
    with pytest.raises(InvalidNote):
        note.Checkpoint.parse(f"log\n{size}\n{root}\n")
    assert note.Checkpoint.parse(f"log\n{2**64 - 1}\n{root}\n").size == 2**64 - 1


def test_a_note_text_with_a_lone_surrogate_is_an_invalid_note() -> None:
    """Found by fuzzing: a str note (from JSON) with a lone surrogate whose signature line
    names the log's key raised UnicodeEncodeError in the signature check."""
    signer = note.Signer.generate("log")
    signed = signer.sign(note.Checkpoint("log", 1, bytes(32)).text())
    tampered = "log\ud800" + signed[3:]
    with pytest.raises(InvalidNote):
        note.verify_checkpoint(tampered, note.Verifier.from_string(signer.verifier_key))
