"""Fixtures of the fault-injection suite (marker ``faults``, docs/security.md).

Ports: a free one from ``OZG_TEST_FAULTS_PORTS`` (``LOW-HIGH``) when it is set, else one the
kernel chooses. Every process a fixture starts is stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
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


# --------------------------------------------------------------------------- own PostgreSQL
class OwnPostgres:
    """A PostgreSQL instance of the suite's own: ``initdb`` into a temporary directory, its
    own port and socket directory; never the machine's shared server. Run as the
    ``postgres`` user when the suite runs as root (PostgreSQL refuses root)."""

    def __init__(self, root: Path, port: int) -> None:
        self.bin = _postgres_bin()
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self._as: list[str] = []
        self.sockets.mkdir()
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin / tool), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()}\n{tail}")

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"  # a crash of the server, not the kernel
        )
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """``mode="immediate"`` is a crash: no checkpoint, recovery from the WAL on start."""
        if self.pid is not None:
            self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    which = shutil.which("initdb")
    if which is None:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    return Path(which).parent


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    # not under pytest's tmp_path: its parents are private to the user running the suite,
    # and PostgreSQL runs as its own user
    root = Path(tempfile.mkdtemp(prefix="ozg-faults-pg-"))
    try:
        server = OwnPostgres(root, free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
