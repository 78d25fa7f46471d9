"""Atomicity under a crash: kill the server process mid-upload; no row is visible, and
``ozg-commons vault gc`` removes the orphaned blob."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.vault.helpers import sealed

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.vault.serve_for_test", str(port), str(data_dir), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("OZG_")},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/healthz", timeout=0.5)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "ozg-commons.sqlite3") as conn:
        (count,) = conn.execute("SELECT count(*) FROM vault_document").fetchone()
    return int(count)


def _blobs(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _gc(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env["OZG_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ozg-commons"), "vault", "gc", "--grace-seconds", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr


def _slow_body(envelope: bytes, stop_after: int, proc: subprocess.Popen[str]) -> Iterator[bytes]:
    for i in range(0, len(envelope), 64 * 1024):
        if i >= stop_after:
            proc.send_signal(signal.SIGKILL)  # mid-upload
            proc.wait()
        yield envelope[i : i + 64 * 1024]


def test_kill_while_streaming_leaves_no_row_and_no_blob(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    envelope = sealed(os.urandom(3_000_000), ec.generate_private_key(ec.SECP256R1()))
    proc, url = _start(data_dir)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/v1/vault/documents").json() == []
            with pytest.raises(httpx.TransportError):
                client.post("/v1/vault/documents", content=_slow_body(envelope, 1_000_000, proc))
    finally:
        proc.kill()
        proc.wait()
    assert _rows(data_dir) == 0
    assert _blobs(data_dir) == []
    # a restarted server shows nothing either
    proc, url = _start(data_dir)
    try:
        assert httpx.get(url + "/v1/vault/documents").json() == []
    finally:
        proc.kill()
        proc.wait()


def test_kill_after_blob_before_row_leaves_an_orphan_that_gc_removes(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    envelope = sealed(os.urandom(500_000), ec.generate_private_key(ec.SECP256R1()))
    proc, url = _start(data_dir, "pause-after-put")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "serving"
        import threading

        def upload() -> None:
            try:
                httpx.post(url + "/v1/vault/documents", content=envelope, timeout=60)
            except httpx.TransportError:
                pass

        thread = threading.Thread(target=upload, daemon=True)
        thread.start()
        assert proc.stdout.readline().strip() == "blob-stored"
        proc.send_signal(signal.SIGKILL)
        thread.join(10)
    finally:
        proc.kill()
        proc.wait()
    assert _rows(data_dir) == 0
    assert len(_blobs(data_dir)) == 1  # the orphan
    assert "removed 1 orphaned blob" in _gc(data_dir)
    assert _blobs(data_dir) == []


def test_a_client_put_whose_file_changes_size_fails_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a real socket the sealer's error ends the streamed upload in the client: the
    server sees a body shorter than announced and stores neither a row nor a blob."""
    from vault.client import VaultClient

    data_dir = tmp_path / "var"
    src = tmp_path / "growing.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024))
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:  # the size seen before the file grew
        result = real_fstat(fd)
        return os.stat_result((*result[:6], result.st_size - 10, *result[7:]))

    proc, url = _start(data_dir)
    try:
        sdk = VaultClient(url, None)
        monkeypatch.setattr(os, "fstat", stale_fstat)
        with pytest.raises(ValueError, match="changed size"):
            sdk.put(src, ec.generate_private_key(ec.SECP256R1()), do_sanitize=False)
        monkeypatch.undo()
        assert sdk.ls() == []
    finally:
        proc.kill()
        proc.wait()
    assert _rows(data_dir) == 0
    assert _blobs(data_dir) == []
