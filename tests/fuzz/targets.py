"""The fuzz targets: each parser that reads bytes from outside, with the one error (or the few
errors) it documents.

A target turns the fuzzer's bytes into a call of the parser and returns the outcome: the name
of the documented error it refused the input with, or ``"accepted"``. Anything else it raises
(``IndexError``, ``RecursionError``, ``UnicodeError``, ``OverflowError``, an ``AssertionError``
of a target's own check on what was accepted, ...) is a bug in the parser.

Signed formats are fuzzed twice over, chosen by the first input byte: as the bytes arrive
(an attacker without the key: the pre-signature parsing) and **re-signed** (the rest of the
input is the header and payload JSON, which the target signs with its test key: the parsing
after the signature, which a buggy or hostile issuer reaches). The targets are built once
per process (``build``); keys and seeds are made then.

This module imports no ozg-commons code at its top (the targets import what they fuzz when
they are built), so that atheris can instrument it. Used by ``tests/fuzz/test_parsers.py``
(short runs in the suite) and ``benchmarks/fuzz_parsers.py`` (``make fuzz``: atheris, 10^6
executions each).
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WORKDIRS: list[Path] = []
"""Scratch directories of the targets (the sanitizers write files), removed by :func:`cleanup`."""


@atexit.register
def cleanup() -> None:
    while WORKDIRS:
        shutil.rmtree(WORKDIRS.pop(), ignore_errors=True)


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    run: Callable[[bytes], str]
    """Parse one input; the outcome (``"accepted"`` or the documented error's class name)."""
    seeds: Sequence[bytes]
    tokens: Sequence[bytes] = ()
    """Byte strings the mutator and libFuzzer's dictionary insert (format keywords)."""
    max_len: int = 16384
    short_runs: int = 2000
    """Executions of the run in the test suite (the whole suite's share stays < 60 s)."""


def refused(call: Callable[[], object], *errors: type[Exception]) -> str:
    """Run ``call``; the name of the documented error it raised, or ``"accepted"``."""
    try:
        call()
    except errors as exc:
        return type(exc).__name__
    return "accepted"


def text(data: bytes) -> str:
    """The input as a ``str`` that may hold anything a ``str`` from JSON or HTTP can: every
    code point, and lone surrogates (``surrogateescape`` maps undecodable bytes to them)."""
    return data.decode("utf-8", "surrogateescape")


def b64(raw: bytes) -> str:
    # Imported here: the runner imports this module before atheris instruments ozg-commons.
    from commons.encoding import b64url_encode

    return b64url_encode(raw)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def header_and_payload(rest: bytes) -> tuple[bytes, bytes]:
    """The re-signed modes' input: header JSON, a line feed, payload JSON."""
    header, _, payload = rest.partition(b"\n")
    return header, payload


@functools.cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


def _builders() -> dict[str, Callable[[], Target]]:
    from tests.fuzz import files, fitconnect, signed

    return {
        "envelope": files.envelope,
        "bearer-token": signed.bearer_token,
        "receipt": signed.receipt,
        "fitconnect-jwe": fitconnect.fitconnect_jwe,
        "fitconnect-set": fitconnect.fitconnect_set,
        "fitconnect-metadata": fitconnect.fitconnect_metadata,
        "destination-signature": fitconnect.destination_signature,
        "checkpoint": signed.checkpoint,
        "pdf": files.pdf,
        "image": files.image,
        "webhook": signed.webhook,
    }


NAMES: tuple[str, ...] = (
    "envelope",
    "bearer-token",
    "receipt",
    "fitconnect-jwe",
    "fitconnect-set",
    "fitconnect-metadata",
    "destination-signature",
    "checkpoint",
    "pdf",
    "image",
    "webhook",
)


@functools.cache
def build(name: str) -> Target:
    """The target ``name`` (keys and seeds made on first use, then cached)."""
    return _builders()[name]()
