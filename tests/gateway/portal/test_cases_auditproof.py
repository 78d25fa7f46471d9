"""The browser's audit-log verifier (gateway/portal/static/js/auditproof.js) under Node 20,
against the vectors the Python side uses (RFC 6962 data, the leaf and checkpoint examples
of docs/audit-log.md) and a tree, checkpoint and access-log entries Python builds: what
Python proves the browser accepts, and every tampered variant it refuses."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from compliance import merkle
from compliance.leaf import LeafData, commitment, format_time
from compliance.note import Signer
from compliance.views import actor_name
from tests.gateway.portal.jsharness import NODE, ROOT, require_node

pytestmark = pytest.mark.node

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "auditproof.mjs"
VECTORS = ROOT / "tests" / "vectors"
RFC6962 = json.loads((VECTORS / "rfc6962.json").read_text())
LEAF = json.loads((VECTORS / "audit-leaf-v1.json").read_text())
# docs/audit-log.md §3: the 8-leaf test tree signed with the Go note package's example key.
PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_NOTE = (
    "PeterNeumann\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    "\u2014 PeterNeumann x08gozdSgLMzAnw63LH1RGViJhUfW60EUGKY7Kmr004fQNOSqfrcd1hIk3BCtdcLWIqvGt"
    "X67sL24VN+44uTlxMnbAA=\n"
)


def run(cases: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    require_node()
    request = tmp / "auditproof-request.json"
    request.write_text(json.dumps({"cases": cases}))
    proc = subprocess.run(
        [NODE, str(HARNESS), str(request)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)["results"]
    assert len(results) == len(cases)
    return results


def flip(hex_text: str, at: int = 0) -> str:
    raw = bytearray.fromhex(hex_text)
    raw[at] ^= 0x01
    return raw.hex()


# --------------------------------------------------------------------------- RFC 6962
def test_inclusion_proofs_of_the_published_vectors_verify(tmp_path: Path) -> None:
    leaves = [bytes.fromhex(x) for x in RFC6962["leaves"]]
    cases = [
        {
            "check": "inclusion",
            "index": v["index"],
            "size": v["size"],
            "leaf_hash": merkle.leaf_hash(leaves[v["index"]]).hex(),
            "proof": v["proof"],
            "root": RFC6962["roots"][v["size"] - 1],
        }
        for v in RFC6962["inclusion"]
    ]
    assert all(r["ok"] for r in run(cases, tmp_path))


def test_tampered_inclusion_proofs_are_refused(tmp_path: Path) -> None:
    leaves = [bytes.fromhex(x) for x in RFC6962["leaves"]]
    good = next(v for v in RFC6962["inclusion"] if v["index"] == 5 and v["size"] == 8)
    base = {
        "check": "inclusion",
        "index": 5,
        "size": 8,
        "leaf_hash": merkle.leaf_hash(leaves[5]).hex(),
        "proof": good["proof"],
        "root": RFC6962["roots"][7],
    }
    bad = [
        {**base, "index": 4},
        {**base, "index": 8},
        {**base, "index": -1},
        {**base, "size": 6},
        {**base, "leaf_hash": merkle.leaf_hash(leaves[4]).hex()},
        {**base, "proof": [flip(good["proof"][0]), *good["proof"][1:]]},
        {**base, "proof": good["proof"][:-1]},
        {**base, "proof": [*good["proof"], good["proof"][0]]},
        {**base, "proof": list(reversed(good["proof"]))},
        {**base, "root": flip(RFC6962["roots"][7], 31)},
    ]
    results = run([base, *bad], tmp_path)
    assert results[0]["ok"]
    assert [r["ok"] for r in results[1:]] == [False] * len(bad)
    assert {r["error"] for r in results[1:]} == {"the audit log entry does not verify"}


# --------------------------------------------------------------------------- leaf bytes
def test_the_documented_leaf_decodes_and_hashes_as_in_python(tmp_path: Path) -> None:
    leaf = LEAF["leaf"]
    marker = len(b"ozg-audit-leaf/v1\n")
    bad_leaves = [
        leaf[:-2],  # truncated
        leaf + "00",  # trailing byte
        flip(leaf, 0),  # not the marker
        leaf[: 2 * marker] + "02" + leaf[2 * marker + 2 :],  # a tag other than 0x00/0x01
    ]
    results = run(
        [
            {"check": "leafHash", "leaf": leaf},
            {"check": "decodeLeaf", "leaf": leaf},
            *({"check": "decodeLeaf", "leaf": b} for b in bad_leaves),
        ],
        tmp_path,
    )
    assert results[0]["value"] == LEAF["leaf_hash"]
    assert results[1]["value"] == {**LEAF["leaf_fields"], "commitment": LEAF["commitment"]}
    assert [r["ok"] for r in results[2:]] == [False] * len(bad_leaves)


# --------------------------------------------------------------------------- checkpoints
def test_the_documented_checkpoint_verifies_and_tampering_does_not(tmp_path: Path) -> None:
    other = Signer.generate("PeterNeumann").verifier_key  # same name, another key
    text, sig = PETER_NOTE.split("\n\n")
    forged_sig = sig[:-6] + ("A" if sig[-6] != "A" else "B") + sig[-5:]
    cases = [
        {"check": "checkpoint", "note": PETER_NOTE, "verifier_key": PETER},
        {"check": "checkpoint", "note": PETER_NOTE, "verifier_key": other},
        {
            "check": "checkpoint",
            "note": PETER_NOTE.replace("\n8\n", "\n9\n"),
            "verifier_key": PETER,
        },
        {"check": "checkpoint", "note": text + "\n\n" + forged_sig, "verifier_key": PETER},
        {"check": "checkpoint", "note": text + "\n", "verifier_key": PETER},  # unsigned
        {"check": "checkpoint", "note": PETER_NOTE, "verifier_key": PETER[:-2] + "AA"},
        {"check": "checkpoint", "note": PETER_NOTE, "verifier_key": "PeterNeumann+00000000+x"},
    ]
    results = run(cases, tmp_path)
    assert results[0] == {
        "ok": True,
        "value": {"origin": "PeterNeumann", "size": 8, "root": RFC6962["roots"][7]},
    }
    assert [r["ok"] for r in results[1:]] == [False] * (len(cases) - 1)


# --------------------------------------------------------------------------- entries
def _signer() -> Signer:
    """A log key whose base64 part contains a '+' (the key string's separator)."""
    while True:
        signer = Signer.generate("test.example/audit")
        if "+" in signer.verifier_key.split("+", 2)[2]:
            return signer


def _log(count: int = 11) -> tuple[Signer, str, list[dict[str, Any]]]:
    """A log of ``count`` entries about one applicant, its signed checkpoint and the
    entries as GET /v1/me/access-log shapes them (docs/audit-log.md §4)."""
    signer = _signer()
    start = datetime(2026, 11, 28, 12, tzinfo=UTC)
    leaves = []
    for i in range(count):
        leaves.append(
            LeafData(
                entry_id=str(uuid.uuid4()),
                at=start + timedelta(minutes=i),
                request_id=f"req-{i}",
                actor_role="caseworker" if i % 2 else "applicant",
                actor_authority="tf" if i % 2 else None,
                actor_client_id=None,
                action="vault.document.read",
                purpose="deciding the application",
                legal_basis="§ 86 AufenthG",
                outcome="success" if i != 3 else "denied",
                disclosed_after=None,
                commitment=commitment(bytes(32), "subject-1", "actor", f"doc-{i}"),
            )
        )
    tree = merkle.MemoryTree(leaf.encode() for leaf in leaves)
    note = signer.sign(f"{signer.name}\n{tree.size}\n{base64.b64encode(tree.root()).decode()}\n")
    entries = [
        {
            "at": format_time(leaf.at),
            "who": actor_name(leaf.actor_role, leaf.actor_authority, leaf.actor_client_id),
            "role": leaf.actor_role,
            "data_category": "documents",
            "what": {"en": "Your encrypted document was downloaded.", "de": "…"},
            "why": {"purpose": leaf.purpose, "legal_basis": leaf.legal_basis},
            "outcome": {"code": leaf.outcome, "en": "done", "de": "erfolgt"},
            "action": leaf.action,
            "document_id": f"doc-{i}",
            "leaf_index": i,
            "leaf": base64.b64encode(leaf.encode()).decode(),
            "inclusion_proof": [base64.b64encode(h).decode() for h in tree.inclusion_proof(i)],
        }
        for i, leaf in enumerate(leaves)
    ]
    return signer, note, entries


def _tampered(entry: dict[str, Any], others: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for path, value in (
        (("who",), "lk-other"),
        (("role",), "dpo"),
        (("at",), "2026-11-28T13:00:00.000000Z"),
        (("action",), "vault.document.delete"),
        (("outcome", "code"), "denied" if entry["outcome"]["code"] != "denied" else "success"),
        (("why", "purpose"), "curiosity"),
        (("why", "legal_basis"), "none"),
        (("leaf_index",), (entry["leaf_index"] + 1) % len(others)),
        (("inclusion_proof",), others[(entry["leaf_index"] + 1) % len(others)]["inclusion_proof"]),
        (("leaf",), others[(entry["leaf_index"] + 1) % len(others)]["leaf"]),
    ):
        changed = copy.deepcopy(entry)
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        out.append(changed)
    flipped = copy.deepcopy(entry)
    raw = bytearray(base64.b64decode(flipped["leaf"]))
    raw[-1] ^= 0x01  # the commitment: the displayed fields still match, the hash does not
    flipped["leaf"] = base64.b64encode(bytes(raw)).decode()
    out.append(flipped)
    return out


def test_entries_python_proves_verify_in_js_and_tampered_ones_do_not(tmp_path: Path) -> None:
    signer, note, entries = _log()
    vkey = signer.verifier_key
    good = [{"check": "entry", "note": note, "verifier_key": vkey, "entry": e} for e in entries]
    bad = [
        {"check": "entry", "note": note, "verifier_key": vkey, "entry": t}
        for e in (entries[0], entries[5], entries[10])
        for t in _tampered(e, entries)
    ]
    results = run(good + bad, tmp_path)
    assert all(r["ok"] for r in results[: len(good)])
    assert results[5]["value"]["actor_authority"] == "tf"
    assert results[5]["value"]["entry_id"]
    assert [r["ok"] for r in results[len(good) :]] == [False] * len(bad)


def test_an_entry_against_another_logs_checkpoint_is_refused(tmp_path: Path) -> None:
    _signer, _note, entries = _log()
    signer2, note2, _ = _log()
    results = run(
        [
            {
                "check": "entry",
                "note": note2,
                "verifier_key": signer2.verifier_key,
                "entry": entries[2],
            }
        ],
        tmp_path,
    )
    assert results == [{"ok": False, "error": "the audit log entry does not verify"}]
