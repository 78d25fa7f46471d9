from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from gateway.cli import app

runner = CliRunner()


def _cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env["OZG_DATA_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["config", "show", "--json"],
        env={
            "OZG_DATA_DIR": str(tmp_path),
            "OZG_SECRET_KEY": "canary-secret-value-that-is-long-enough",
            "OZG_DATABASE_URL": "postgresql+psycopg://ozg:canary-db-password@db/ozg",
            "OZG_ACCOUNT_SMTP_PASSWORD": "canary-smtp-password",
        },
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["OZG_SECRET_KEY"] == "**********"
    assert "canary-secret-value" not in result.output
    assert "canary-db-password" not in result.output
    assert shown["OZG_DATABASE_URL"] == "postgresql+psycopg://ozg:**********@db/ozg"
    # every component's section is shown, its secrets masked as well
    assert shown["OZG_ACCOUNT_SMTP_PASSWORD"] == "**********"
    assert "canary-smtp-password" not in result.output
    assert shown["OZG_VAULT_QUOTA_BYTES"] == 2_000_000_000
    assert "OZG_COMPLIANCE_SIGNING_KEY" in shown


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate"], env={"OZG_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ozg-commons.sqlite3").exists()


def test_production_serve_without_configuration_exits_and_names_what_to_set(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=_cli_env(tmp_path, OZG_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    for name in (
        "OZG_DATABASE_URL",
        "OZG_IDENTITY_PROVIDER",
        "OZG_PAYMENTS_PROVIDERS",
        "OZG_SECRET_KEY",
    ):
        assert name in proc.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_serve_in_development_migrates_and_answers_healthz(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=_cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # generous margins: the first start generates the demo authorities' RSA-4096 keys,
        # and stopping waits up to 10 s for a sequencer pass; both take longer on a busy machine
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
        # the public URL is the one served (make run PORT=...): tokens, routes and the
        # portal's redirects name it, not the default port 8000
        discovery = (
            f"http://127.0.0.1:{port}/dev-idp/realms/ozg-dev/.well-known/openid-configuration"
        )
        assert httpx.get(discovery).json()["issuer"].startswith(f"http://127.0.0.1:{port}/")
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "request" and line["route"] == "/healthz" for line in lines)
    assert (tmp_path / "var" / "ozg-commons.sqlite3").exists()


def test_config_show_masks_passwords_in_the_database_url_query(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ozg@db/ozg?password=canary-pw-1&sslpassword=canary-pw-2"
    result = runner.invoke(
        app,
        ["config", "show", "--json"],
        env={"OZG_DATA_DIR": str(tmp_path), "OZG_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert "canary-pw" not in result.output
    shown = json.loads(result.stdout)
    assert shown["OZG_DATABASE_URL"] == (
        "postgresql+psycopg://ozg@db/ozg?password=**********&sslpassword=**********"
    )


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["audit", "sequence"]])
def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    port = _free_port()  # nothing listens there
    url = f"postgresql+psycopg://ozg:canary-db-password@127.0.0.1:{port}/ozg?sslpassword=x2"
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", *command],
        env=_cli_env(tmp_path, OZG_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if '"level"' not in line]
    assert lines == [
        f"error: cannot reach PostgreSQL at 127.0.0.1:{port}/ozg: connection refused"
    ], proc.stderr
    assert "canary-db-password" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
