"""Issue 15: the README's share step works on a fresh ``make run``, from any directory.

The embedded default registers the demo authorities' encryption keys for vault sharing at
start-up, so ``ozg-commons vault share ID --with tf`` needs no admin step, and the demo CA
lives under the data directory only (never a second one in ``./var``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from account import Principal
from account.auth import current_principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from gateway.authorities.demo import key_paths
from gateway.cli import app as cli_app
from tests import factories
from vault.client import cli as vault_cli


@pytest.mark.slow
def test_readme_share_steps_on_a_fresh_data_dir_from_another_directory(
    tmp_path: Path, database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data_dir = tmp_path / "fresh" / "var"  # nothing generated yet: the first start
    app = create_app(Settings(data_dir=data_dir, database_url=database_url), database)
    who: dict[str, Principal] = {"p": factories.applicant()}
    app.dependency_overrides[current_principal] = lambda: who["p"]
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(vault_cli, "http_factory", lambda url: client)
        monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
        monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "a long vault passphrase")
        runner = CliRunner()

        def run(*args: str) -> str:
            result = runner.invoke(cli_app, list(args))
            assert result.exit_code == 0, (result.output, result.exception)
            return result.output

        pdf = pikepdf.new()
        pdf.add_blank_page()
        pdf.save(elsewhere / "reisepass.pdf")
        # the README's steps, as written
        run("login", "--token", "dev-token")
        run("vault", "keygen")
        output = run("vault", "put", "reisepass.pdf")
        doc_id = re.findall(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}", output)[-1]
        assert "shared with tf" in run("vault", "share", doc_id, "--with", "tf")

        # the demo authority (its private key is kept for the demo) can open it
        who["p"] = factories.caseworker("tf")
        _jwks, encryption_key, _signing = key_paths(app.state.settings, "tf")
        assert encryption_key.stat().st_mode & 0o777 == 0o600
        got = elsewhere / "theirs.pdf"
        run("vault", "get", doc_id, "-o", str(got), "--key-file", str(encryption_key))
        assert got.read_bytes().startswith(b"%PDF")

    assert not (elsewhere / "var").exists()  # no second demo CA in the current directory
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("demo-ca.pem")] == [
        Path("fresh/var/vault/demo-ca.pem")
    ]


def test_a_second_start_reads_the_keys_and_registers_nothing_twice(
    settings: Settings, database: Database
) -> None:
    from gateway.authorities.service import provision_vault_keys

    app = create_app(settings, database)
    with TestClient(app):
        pass  # the first start registered the three keys
    again = create_app(settings, database)
    assert provision_vault_keys(again.state.authorities, database) == []
    jwks, _e, _s = key_paths(settings, "tf")
    assert again.state.authorities.registry().get("tf").encryption_jwk["n"] in jwks.read_text()


def test_concurrent_first_starts_make_one_set_of_keys(tmp_path: Path) -> None:
    import threading

    from gateway.authorities.demo import ensure_demo_keys

    settings = Settings(data_dir=tmp_path / "var")
    results: list[dict[str, str]] = []

    def start() -> None:
        keys = ensure_demo_keys(settings)
        results.append({k: v.encryption_jwk["n"] for k, v in keys.items()})

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert results[0] == results[1]
    assert len(list((tmp_path / "var").rglob("demo-ca.pem"))) == 1
