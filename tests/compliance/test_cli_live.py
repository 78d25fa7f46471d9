"""``ozg-commons audit verify --url`` against a real server process (its sequencer running)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, update

from commons.db import Database
from compliance import record_access
from compliance.models import Checkpoint
from tests.compliance.conftest import event

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ozg-commons"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env.update(OZG_DATA_DIR=str(tmp_path / "var"), OZG_AUDIT_SEQUENCE_INTERVAL="0.05")
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/v1/audit/checkpoint").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        yield url, env, tmp_path / "var" / "ozg-commons.sqlite3"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_verify_against_a_running_server(
    server: tuple[str, dict[str, str], Path], tmp_path: Path
) -> None:
    url, env, db_file = server
    state = tmp_path / "state.json"
    cmd = [str(BIN), "audit", "verify", "--url", url, "--state", str(state)]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    # in development the log is named after the URL served (serve --port)
    origin = url.removeprefix("http://")
    assert ok.stdout.startswith(f"OK {origin}/ozg-commons/audit-log size=0")

    # An entry written by another process is sequenced by the server's background sequencer.
    database = Database.from_url(f"sqlite:///{db_file}")
    try:
        with database.transaction() as session:
            record_access(session, event())
        for _ in range(100):
            if httpx.get(url + "/v1/audit/checkpoint").json()["size"] == 1:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the entry was not sequenced")
        # Leaf data needs a DPO; without a token the verifier says so and fails.
        denied = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert denied.returncode == 1
        assert "/leaves answered HTTP 401" in denied.stderr
        assert "needs the token of a data-protection officer" in denied.stderr
        assert "OZG_AUDIT_TOKEN" in denied.stderr
        with database.transaction() as session:
            session.execute(
                update(Checkpoint).values(note=func.replace(Checkpoint.note, "\n1\n", "\n2\n"))
            )
    finally:
        database.dispose()
    bad = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1
    assert "signature does not verify" in bad.stderr


@pytest.mark.slow
def test_verify_keeps_its_state_in_the_client_directory(
    server: tuple[str, dict[str, str], Path], tmp_path: Path
) -> None:
    url, env, _ = server
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {**env, "OZG_CLIENT_DIR": str(tmp_path / "client")}
    ok = subprocess.run(
        [str(BIN), "audit", "verify", "--url", url],
        env=env, cwd=workdir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    pinned = list((tmp_path / "client" / "audit-verify").iterdir())
    assert [p.name for p in pinned] == [url.split("://")[1].replace(":", "_") + ".json"]
    assert str(pinned[0]) in ok.stderr  # says where it is
    assert list(workdir.iterdir()) == []  # nothing left in the current directory
