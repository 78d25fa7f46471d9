"""The device side stands apart from the server: it could ship on its own, and its commands
start without loading the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "alembic")
SERVER_MODULES = (
    "vault.api",
    "vault.models",
    "vault.service",
    "vault.uploads",
    "vault.sharing",
    "vault.deletion",
    "vault.applicant_keys",
    "vault.authority_keys",
    "vault.gc",
    "vault.personal_data",
    "vault.runtime",
    "vault.blobstore",
    "vault.declarations",
    "account",
    "compliance",
    "payments",
    "gateway",
)


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def test_the_client_imports_nothing_of_the_server() -> None:
    loaded = _modules_after(
        "import vault.client, vault.client.sdk, vault.client.keys, vault.client.cli\n"
        "from vault.client import VaultClient, ClientError"
    )
    assert "vault.client.sdk" in loaded  # the import did happen
    assert not {m for m in loaded if m.split(".")[0] in SERVER_LIBRARIES}
    assert not loaded & set(SERVER_MODULES)


def test_the_vault_commands_import_nothing_heavy_at_module_level() -> None:
    loaded = _modules_after("import vault.cli, vault.client.cli")
    for heavy in ("httpx", "cryptography", "rich.console", "pikepdf", "sqlalchemy", "fastapi"):
        assert heavy not in loaded, heavy
