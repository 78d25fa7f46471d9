"""A real server process for the crash tests and the memory benchmark.

    python -m tests.vault.serve_for_test PORT DATA_DIR [pause-after-put]

Serves the app on 127.0.0.1:PORT with SQLite and blobs under DATA_DIR, every request as one
fixed applicant (the token path is the account domain's). ``pause-after-put`` makes the
upload wait after its blob is stored and before its row is committed: the worst moment to
be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

import uvicorn

from account.auth import current_principal
from account.principal import Principal, Role
from commons.settings import Settings
from gateway.app import create_app
from gateway.migrations import upgrade
from vault.blobstore import FilesystemBlobStore

SUBJECT = "crash-test-applicant"


class PausingStore(FilesystemBlobStore):
    def put(self, key: str, src: IO[bytes], length: int) -> None:
        super().put(key, src, length)
        print("blob-stored", flush=True)
        time.sleep(600)


def main() -> None:
    port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
    pause = len(sys.argv) > 3 and sys.argv[3] == "pause-after-put"
    settings = Settings(
        data_dir=data_dir,
        sections={"vault": {"max_document_bytes": 2**40, "quota_bytes": 2**41}},
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    app = create_app(settings)
    if pause:
        from vault import api

        api.configure(app, settings, PausingStore(settings.blob_dir))
    principal = Principal(subject=SUBJECT, roles=frozenset({Role.APPLICANT}))
    app.dependency_overrides[current_principal] = lambda: principal
    print("serving", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
