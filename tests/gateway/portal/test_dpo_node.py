"""static/js/auditlog.js under Node 20: RFC 9162 consistency proofs (the RFC 6962 vectors and
every pair of sizes up to 33 from compliance.merkle), tampered proofs rejected, the C2SP
example checkpoint of docs/audit-log.md, and a co-signature made by the browser module that
the server's verifier (compliance.note) accepts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from compliance import merkle, note
from tests.gateway.portal.jsharness import NODE, ROOT, require_node

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "auditlog.mjs"
VECTORS = ROOT / "tests" / "vectors" / "rfc6962.json"
EXAMPLE_NOTE = (
    "PeterNeumann\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    "\u2014 PeterNeumann x08gozdSgLMzAnw63LH1RGViJhUfW60EUGKY7Kmr004fQNOSqfrcd1hIk3BCtdcL"
    "WIqvGtX67sL24VN+44uTlxMnbAA=\n"
)
EXAMPLE_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"


def _generated(n: int) -> list[dict[str, object]]:
    tree = merkle.MemoryTree([bytes([i]) * (i % 5) for i in range(n)])
    return [
        {
            "size1": m,
            "size2": k,
            "root1": tree.root(m).hex(),
            "root2": tree.root(k).hex(),
            "proof": [h.hex() for h in tree.consistency_proof(m, k)],
        }
        for k in range(1, n + 1)
        for m in range(1, k)
    ]


def test_auditlog_js_verifies_what_the_python_log_serves(tmp_path: Path) -> None:
    require_node()
    generated = _generated(33)
    request = {
        "vectors": json.loads(VECTORS.read_text()),
        "generated": generated,
        "note": EXAMPLE_NOTE,
        "verifier_key": EXAMPLE_KEY,
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    proc = subprocess.run(
        [NODE, str(HARNESS), str(path)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["consistency"] == len(request["vectors"]["consistency"]) + len(generated)
    assert out["tampered"] > 500
    assert out["tampered_rejected"] == out["tampered"]
    assert out["checkpoint_size"] == 8
    assert out["checkpoint_root_matches"]
    assert out["wrong_origin_rejected"]
    assert out["tampered_note_rejected"]
    assert out["bad_key_rejected"]
    assert out["cosignature_valid"]
    assert not out["cosignature_other_text"]
    # what the browser signs, the server's verifier accepts (compliance/cosign.py uses it)
    verifier = note.Verifier.from_string(out["cosign_verifier_key"])
    line = note.parse_signature_line(out["cosign_line"])
    assert line.name == verifier.name == "dpo.example/jane"
    assert verifier.verifies(out["cosign_text"], line.signature)
    assert not verifier.verifies(out["cosign_text"].replace("8", "9"), line.signature)
