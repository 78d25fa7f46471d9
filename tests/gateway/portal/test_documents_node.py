"""documents-authority.js under Node: before the browser shares a document, the authority
key's first x5c certificate must certify the key and name the authority (the check
``vault.pki.check_jwk_binding`` makes for the Python client)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.gateway.portal.jsharness import NODE, ROOT, require_node
from tests.vault.helpers import authority_key
from vault.errors import InvalidKey
from vault.pki import check_jwk_binding

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "documents.mjs"


def _check(cases: list[dict[str, Any]], tmp: Path) -> list[str | None]:
    require_node()
    request = tmp / "authority.json"
    request.write_text(json.dumps({"cases": cases}))
    proc = subprocess.run(
        [NODE, str(HARNESS), "authority", str(request)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[str | None] = json.loads(proc.stdout)["results"]
    return results


def test_the_authority_key_binding_matches_the_python_check(tmp_path: Path) -> None:
    _tf_key, tf = authority_key("tf")
    _ee_key, ee2 = authority_key("ee2")
    swapped = {**tf, "n": ee2["n"]}  # tf's certificate, another key
    no_chain = {k: v for k, v in tf.items() if k != "x5c"}
    garbage = {**tf, "x5c": ["AAAA"]}
    cases = [
        (tf, "tf"),
        (ee2, "ee2"),
        (tf, "ee2"),
        (ee2, "tf"),
        (swapped, "tf"),
        (no_chain, "tf"),
        (garbage, "tf"),
    ]
    results = _check([{"jwk": j, "authority": a} for j, a in cases], tmp_path)
    for (jwk, authority), result in zip(cases, results, strict=True):
        try:
            check_jwk_binding(jwk, authority)
            python_ok = True
        except (InvalidKey, ValueError, KeyError):
            python_ok = False
        assert (result is None) == python_ok, (authority, result)
    assert results[2] == "the certificate is not issued for authority 'ee2'"
    assert results[4] == "the first x5c certificate does not certify this key"
