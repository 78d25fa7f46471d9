"""The baselines of ``bench_api.py``: a bare FastAPI app and a bare Starlette upload.

- ``GET /bare`` returns a fixed JSON body about the size of ``GET /v1/me``'s, from a plain
  ``def`` handler (run in the thread pool, as ozg-commons' handlers are).
- ``PUT /upload`` streams the request body to a new file under ``OZG_BARE_UPLOAD_DIR`` and
  fsyncs it, as the vault's filesystem store does with an upload: the floor for an upload
  through the API.
- ``POST /vault/documents``, ``GET /vault/documents/{name}/content`` and
  ``DELETE /vault/documents/{name}``: the same write, streamed back and removed, under the
  vault's paths, so that the mixed scenario (``bench_mixed.py``) drives the bare app with the
  real client (``VaultClient``) unchanged.

Served by uvicorn with the options ``ozg-commons serve`` uses (no access log, no server
header), one worker, or as many as the second argument says.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

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


def _directory() -> Path:
    return Path(os.environ.get("OZG_BARE_UPLOAD_DIR", "."))


async def _receive(request: Request) -> tuple[str, int]:
    """The request body, streamed to a new file and fsynced: (its name, its size)."""
    name = secrets.token_hex(16)
    size = 0
    with (_directory() / f"bare-{name}.bin").open("wb") as handle:
        async for chunk in request.stream():
            handle.write(chunk)
            size += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return name, size


def _stored(name: str) -> Path:
    if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
        raise HTTPException(404)
    return _directory() / f"bare-{name}.bin"


@app.put("/upload")
async def upload(request: Request) -> JSONResponse:
    _, size = await _receive(request)
    return JSONResponse({"size": size}, status_code=201)


@app.post("/vault/documents")
async def upload_document(request: Request) -> JSONResponse:
    name, size = await _receive(request)
    return JSONResponse({"id": name, "envelope_size": size}, status_code=201)


@app.get("/vault/documents/{name}/content")
def download_document(name: str) -> StreamingResponse:
    path = _stored(name)

    def blocks() -> Iterator[bytes]:  # the blocks of the vault's filesystem store
        with path.open("rb", buffering=0) as handle:
            while block := handle.read(1024 * 1024):
                yield block

    size = str(path.stat().st_size)
    return StreamingResponse(blocks(), media_type="application/octet-stream",
                             headers={"Content-Length": size})  # fmt: skip


@app.delete("/vault/documents/{name}")
def delete_document(name: str) -> dict[str, Any]:
    _stored(name).unlink(missing_ok=True)
    return {}


if __name__ == "__main__":
    import sys

    import uvicorn

    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    uvicorn.run(
        "bare_app:app" if workers > 1 else app,
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=workers,
        access_log=False,
        log_config=None,
        server_header=False,
    )
