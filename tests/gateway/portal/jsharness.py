"""Runs the portal's device-side JavaScript (gateway/portal/static/js) under Node 20 through
the harness gateway/portal/js-tests/interop.mjs: one command, a JSON request file, a JSON
answer on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[3]
HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "interop.mjs"
STATIC = ROOT / "gateway" / "portal" / "static"
NODE = shutil.which("node") or "/usr/bin/node"


def node_version() -> tuple[int, ...] | None:
    try:
        out = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tuple(int(p) for p in out.stdout.strip().lstrip("v").split("."))


def require_node() -> None:
    version = node_version()
    if version is None or version < (20,):
        pytest.skip(f"Node >= 20 is needed at {NODE} (found {version})")


def run_js(command: str, request: dict[str, Any], tmp: Path) -> dict[str, Any]:
    require_node()
    req = tmp / f"{command}-request.json"
    req.write_text(json.dumps(request))
    proc = subprocess.run(
        [NODE, str(HARNESS), command, str(req)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer: dict[str, Any] = json.loads(proc.stdout)
    assert answer.pop("ok"), answer
    return answer


def pkcs8_hex(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).hex()
