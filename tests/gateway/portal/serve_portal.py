"""A real portal server for the browser tests and the page benchmark.

    python -m tests.gateway.portal.serve_portal PORT DATA_DIR

Serves the embedded default (SQLite under DATA_DIR, the development IdP) on 127.0.0.1:PORT,
with ``public_base_url`` set to that address so the OIDC redirects come back to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from commons.settings import Settings
from gateway.app import create_app
from gateway.migrations import upgrade


def main() -> None:
    port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, public_base_url=f"http://127.0.0.1:{port}")
    upgrade(settings.effective_database_url)
    app = create_app(settings)
    print("serving", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
