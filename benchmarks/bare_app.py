"""The baselines of ``bench_api.py``: a bare FastAPI app and a bare Starlette upload.

- ``GET /bare`` returns a fixed JSON body about the size of ``GET /v1/me``'s, from a plain
  ``def`` handler (run in the thread pool, as ozg-commons' handlers are).
- ``PUT /upload`` streams the request body to a new file under ``OZG_BARE_UPLOAD_DIR`` and
  fsyncs it, as the vault's filesystem store does with an upload: the floor for an upload
  through the API.

Served by uvicorn with the options ``ozg-commons serve`` uses (no access log, no server
header), one worker.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

BODY: dict[str, Any] = {
    "subject": "5c3e8a3b-2f0d-5c1e-9d64-0b9f6c3a7e21",
    "roles": ["applicant"],
    "authority": None,
    "acr": "STORK-QAA-Level-1",
    "trust_level": "basis",
    "created_at": "2026-12-01T12:00:00Z",
    "last_seen_at": "2026-12-01T12:00:00Z",
    "attributes": {"given_name": "Demo", "family_name": "User"},
    "logins": [{"provider": "keycloak", "last_login_at": "2026-12-01T12:00:00Z"}],
}

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, Any]:
    return BODY


@app.put("/upload")
async def upload(request: Request) -> JSONResponse:
    directory = Path(os.environ.get("OZG_BARE_UPLOAD_DIR", "."))
    path = directory / f"bare-{secrets.token_hex(8)}.bin"
    size = 0
    with path.open("wb") as handle:
        async for chunk in request.stream():
            handle.write(chunk)
            size += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return JSONResponse({"size": size}, status_code=201)


if __name__ == "__main__":
    import sys

    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=False,
        log_config=None,
        server_header=False,
    )
