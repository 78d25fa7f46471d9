"""Fixtures of the fault-injection suite (marker ``faults``, docs/security.md).

Ports: a free one from ``OZG_TEST_FAULTS_PORTS`` (``LOW-HIGH``) when it is set, else one the
kernel chooses. Every process a fixture starts is stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faults.proxy import FaultProxy


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    span = os.environ.get("OZG_TEST_FAULTS_PORTS", "")
    candidates = range(0, 1)
    if span:
        low, _, high = span.partition("-")
        candidates = range(int(low), int(high) + 1)
    for port in candidates:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
            return chosen
    raise RuntimeError(f"no free port in OZG_TEST_FAULTS_PORTS={span}")


@pytest.fixture(scope="module")
def s3_proxy() -> Iterator[FaultProxy]:
    """A fault proxy in front of the S3 server in OZG_TEST_S3_ENDPOINT."""
    endpoint = os.environ.get("OZG_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.skip("needs an S3 server: set OZG_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY")
    url = urlsplit(endpoint)
    proxy = FaultProxy((url.hostname or "127.0.0.1", url.port or 80), free_port()).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@contextlib.contextmanager
def small_disk(mount: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount``: a file system that really fills up (ENOSPC) and can
    be remounted read-only (EROFS). Needs the right to mount (root in CI's container)."""
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, how: str) -> None:
    """``how`` is ``"ro"`` or ``"rw"``."""
    subprocess.run(["mount", "-o", f"remount,{how}", str(mount)], check=True)
