"""Settings for the real servers the integration tests use (CI exports OZG_TEST_*)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from commons.settings import Settings


def s3_settings(bucket_prefix: str = "ozg-test") -> Settings:
    """Settings for the S3 server in OZG_TEST_S3_*, with a fresh bucket name; else skip."""
    endpoint = os.environ.get("OZG_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.skip("needs an S3 server: set OZG_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY")
    return Settings(
        object_store="s3",
        s3_endpoint=endpoint,
        s3_access_key=os.environ.get("OZG_TEST_S3_ACCESS_KEY"),
        s3_secret_key=SecretStr(os.environ.get("OZG_TEST_S3_SECRET_KEY", "")),
        s3_region=os.environ.get("OZG_TEST_S3_REGION", "us-east-1"),
        s3_bucket=f"{bucket_prefix}-{secrets.token_hex(6)}",
    )


@contextmanager
def serving(app: Any, port: int, *, deadline: float = 120, **config: Any) -> Iterator[None]:
    """``app`` served by uvicorn in a thread on 127.0.0.1:``port`` while the block runs.

    The deadline for the start is generous: a loaded 2-core CI machine starts an app in
    seconds, but far more when two test workers and a browser share it."""
    import threading
    import time

    import uvicorn

    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until = time.monotonic() + deadline
    while not server.started:
        if time.monotonic() > until or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=15)
