"""The independent verifier behind ``ozg-commons audit verify``.

It trusts nothing the server says without checking it: the checkpoint's signature under the
log's verifier key, consistency with the last checkpoint it accepted (kept in a state file),
every leaf's encoding, the tree head recomputed from all leaves, and the inclusion proof of
every leaf (or a sample) against the signed root. The first failure stops it with a message
naming what failed.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from commons import cli_messages as msg
from commons.cli_messages import unreachable
from commons.i18n import _, ngettext
from compliance import leaf as leaf_format
from compliance import merkle, note
from compliance.errors import InvalidNote, InvalidProof, VerificationFailed


@dataclass(slots=True)
class Report:
    origin: str = ""
    size: int = 0
    leaves_checked: int = 0
    proofs_checked: int = 0
    consistent_with: int | None = None
    cosignatures: list[str] = field(default_factory=list)


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailed(f"{what} is not base64") from None


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise VerificationFailed(f"{what} is not a list")
    return [_b64(v, what) for v in values]


class _Response(Protocol):
    status_code: int

    def json(self) -> Any: ...


class _Client(Protocol):
    def get(self, url: str, *, params: Any = ..., headers: Any = ...) -> Any: ...


class HttpLog:
    """Reads a running server's audit endpoints (any httpx-like client)."""

    def __init__(self, client: _Client, base_url: str = "", token: str | None = None) -> None:
        self.client = client
        self.base = base_url.rstrip("/") + "/v1/audit"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: int) -> Any:
        try:
            response: _Response = self.client.get(
                self.base + path, params=params, headers=self.headers
            )
        except httpx.HTTPError as exc:
            raise VerificationFailed(
                _("cannot fetch {path}: {reason}", path=path, reason=unreachable(exc))
            ) from None
        if response.status_code in (401, 403):
            raise VerificationFailed(
                _(msg.DPO_TOKEN_NEEDED, path=path, status=response.status_code)
            )
        if response.status_code != 200:
            raise VerificationFailed(f"GET {path} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise VerificationFailed(f"GET {path} did not answer JSON") from None


def verify_server(
    log: HttpLog,
    *,
    verifier_key: str | None,
    state_file: Path | None,
    sample: int | None = None,
    witnesses: tuple[str, ...] = (),
    progress: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Verify a running log. ``verifier_key`` None: trust on first use, remembered in state."""
    state: dict[str, Any] = {}
    if state_file is not None and state_file.exists():
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            raise VerificationFailed(f"state file {state_file} is not JSON") from None
    key = verifier_key or state.get("verifier_key") or log.get("/log-key").get("verifier_key")
    try:
        verifier = note.Verifier.from_string(str(key))
    except ValueError:
        raise VerificationFailed("the log's verifier key is malformed") from None
    if state.get("verifier_key") and state["verifier_key"] != verifier.to_string():
        raise VerificationFailed("the log's key differs from the one in the state file")

    latest = log.get("/checkpoint")
    try:
        checkpoint = note.verify_checkpoint(str(latest.get("checkpoint")), verifier)
    except InvalidNote:
        raise VerificationFailed("the latest checkpoint's signature does not verify") from None
    report = Report(origin=checkpoint.origin, size=checkpoint.size)
    if state.get("origin") and state["origin"] != checkpoint.origin:
        raise VerificationFailed("the checkpoint's origin differs from the state file's")
    progress(
        _(
            "checkpoint {origin} size {size}: signature ok",
            origin=checkpoint.origin,
            size=checkpoint.size,
        )
    )
    report.cosignatures = [str(c.get("key_name")) for c in latest.get("cosignatures", [])]
    _check_witnesses(latest, checkpoint, witnesses)

    if "size" in state:
        old_size, old_root = int(state["size"]), _b64(state["root"], "state root")
        if old_size > checkpoint.size:
            raise VerificationFailed(
                f"the log shrank from {old_size} to {checkpoint.size} leaves (rollback or fork)"
            )
        proof = log.get("/proofs/consistency", size1=old_size, size2=checkpoint.size)
        try:
            merkle.verify_consistency(
                old_size,
                checkpoint.size,
                old_root,
                checkpoint.root,
                _hashes(proof.get("proof"), "consistency proof"),
            )
        except InvalidProof:
            raise VerificationFailed(
                f"checkpoint {checkpoint.size} is not consistent with the previously seen "
                f"checkpoint {old_size} (fork or rewritten history)"
            ) from None
        report.consistent_with = old_size
        progress(_("consistent with previously seen size {size}", size=old_size))

    leaves = _fetch_leaves(log, checkpoint.size)
    _check_leaves(leaves, checkpoint, report)
    indexes = list(range(checkpoint.size))
    if sample is not None and sample < len(indexes):
        indexes = sorted(random.SystemRandom().sample(indexes, sample))
    for i in indexes:
        proof = log.get("/proofs/inclusion", index=i, size=checkpoint.size)
        try:
            merkle.verify_inclusion(
                i,
                checkpoint.size,
                merkle.leaf_hash(leaves[i]),
                _hashes(proof.get("proof"), "inclusion proof"),
                checkpoint.root,
            )
        except InvalidProof:
            raise VerificationFailed(
                f"the inclusion proof of leaf {i} at size {checkpoint.size} does not verify"
            ) from None
        report.proofs_checked += 1
    n = report.proofs_checked
    progress(ngettext("{n} inclusion proof ok", "{n} inclusion proofs ok", n))

    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        state_file.write_text(
            json.dumps(
                {
                    "origin": checkpoint.origin,
                    "verifier_key": verifier.to_string(),
                    "size": checkpoint.size,
                    "root": base64.b64encode(checkpoint.root).decode(),
                },
                indent=1,
            )
        )
    return report


def _check_witnesses(latest: Any, checkpoint: note.Checkpoint, witnesses: tuple[str, ...]) -> None:
    """Every served cosignature by a witness the caller trusts must verify."""
    try:
        keys = {v.name: v for v in (note.Verifier.from_string(w) for w in witnesses)}
    except ValueError:
        raise VerificationFailed("a --witness key is malformed") from None
    for cosig in latest.get("cosignatures", []):
        verifier = keys.get(str(cosig.get("key_name")))
        if verifier is None:
            continue
        try:
            line = note.parse_signature_line(str(cosig.get("line")))
        except InvalidNote:
            raise VerificationFailed(f"the cosignature of {verifier.name} is malformed") from None
        if line.key_hash != verifier.key_hash or not verifier.verifies(
            checkpoint.text(), line.signature
        ):
            raise VerificationFailed(f"the cosignature of {verifier.name} does not verify")


def _fetch_leaves(log: HttpLog, size: int, page: int = 1000) -> list[bytes]:
    leaves: list[bytes] = []
    for start in range(0, size, page):
        end = min(size, start + page)
        body = log.get("/leaves", start=start, end=end)
        for expected, item in enumerate(body.get("leaves", []), start=start):
            if item.get("index") != expected:
                raise VerificationFailed(f"leaf {expected} is missing from the served range")
            leaves.append(_b64(item.get("leaf"), f"leaf {expected}"))
        if len(leaves) != end:
            raise VerificationFailed(f"the server served {len(leaves)} of {end} leaves")
    return leaves


def _check_leaves(leaves: list[bytes], checkpoint: note.Checkpoint, report: Report) -> None:
    tree = merkle.MemoryTree()
    for i, raw in enumerate(leaves):
        try:
            leaf_format.decode(raw)
        except ValueError:
            raise VerificationFailed(f"leaf {i} is not a well-formed version-1 leaf") from None
        tree.append_hash(merkle.leaf_hash(raw))
    if tree.size != checkpoint.size or tree.root() != checkpoint.root:
        raise VerificationFailed(
            f"the tree head recomputed from all {len(leaves)} leaves differs from the signed "
            "checkpoint (a leaf was changed, added or removed)"
        )
    report.leaves_checked = len(leaves)


def verify_export(document: dict[str, Any], *, verifier_key: str | None) -> Report:
    """Verify a DPO JSON export: its checkpoint and the inclusion proof of every entry."""
    if document.get("format") != "ozg-audit-export/v1":
        raise VerificationFailed("not an ozg-audit-export/v1 document")
    key = verifier_key or document.get("verifier_key")
    try:
        verifier = note.Verifier.from_string(str(key))
        checkpoint = note.verify_checkpoint(str(document.get("checkpoint")), verifier)
    except (ValueError, InvalidNote):
        raise VerificationFailed("the export's checkpoint signature does not verify") from None
    report = Report(origin=checkpoint.origin, size=checkpoint.size)
    for n, entry in enumerate(document.get("entries", [])):
        index, raw = entry.get("leaf_index"), _b64(entry.get("leaf"), f"entry {n} leaf")
        if index is None or entry.get("inclusion_proof") is None:
            continue  # recorded after the checkpoint; nothing to prove yet
        fields = _decoded(raw, n)
        for name in ("action", "purpose", "legal_basis", "outcome", "actor_role"):
            if fields.get(name) != entry.get(name):
                raise VerificationFailed(f"entry {n}: '{name}' differs from its leaf")
        if fields.get("entry_id") != entry.get("id"):
            raise VerificationFailed(f"entry {n}: the id differs from its leaf")
        if entry.get("salt"):
            c = leaf_format.commitment(
                bytes.fromhex(entry["salt"]),
                entry.get("data_subject"),
                str(entry.get("actor_subject")),
                str(entry.get("resource")),
            )
            if c.hex() != fields.get("commitment"):
                raise VerificationFailed(f"entry {n}: personal fields do not match the commitment")
        try:
            merkle.verify_inclusion(
                int(index),
                checkpoint.size,
                merkle.leaf_hash(raw),
                _hashes(entry["inclusion_proof"], "inclusion proof"),
                checkpoint.root,
            )
        except InvalidProof:
            raise VerificationFailed(f"entry {n} (leaf {index}) is not in the checkpoint") from None
        report.leaves_checked += 1
        report.proofs_checked += 1
    return report


def _decoded(raw: bytes, n: int) -> dict[str, str | None]:
    try:
        return leaf_format.decode(raw)
    except ValueError:
        raise VerificationFailed(f"entry {n}: the leaf is malformed") from None
