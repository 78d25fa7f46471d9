"""The filesystem store on a disk that fills up, and on one that turns read-only.

The store's directory (``OZG_DATA_DIR/blobs``) is a 4 MiB tmpfs: a real file system that
answers ENOSPC and, remounted, EROFS. The API answers 503 with a problem document, nothing
half-written is left (no row, no file, no debris in ``.partial``), what was stored before
reads back byte for byte, and once there is room (or the disk is writable) again the same
app serves as before.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from account.auth import current_principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests import factories
from tests.faults.conftest import remount, small_disk
from tests.vault.helpers import random_doc, sealed

pytestmark = pytest.mark.faults

OCTET = {"Content-Type": "application/octet-stream"}
MB = 1_000_000


@dataclass
class Disk:
    client: TestClient
    root: Path

    def upload(self, envelope: bytes) -> Any:
        return self.client.post("/v1/vault/documents", content=envelope, headers=OCTET)

    def documents(self) -> list[str]:
        r = self.client.get("/v1/vault/documents")
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()]

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())


@pytest.fixture
def disk(
    tmp_path: Path, database_url: str, database: Database, demo_data_dir: Path
) -> Iterator[Disk]:
    data_dir = tmp_path / "var"
    shutil.copytree(demo_data_dir, data_dir)
    settings = Settings(data_dir=data_dir, database_url=database_url, retry_after_seconds=3)
    with small_disk(settings.blob_dir) as root:
        app = create_app(settings, database)
        app.dependency_overrides[current_principal] = lambda: factories.applicant("disk-owner")
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Disk(client, root)


def envelope_of(size: int) -> bytes:
    return sealed(random_doc(size), ec.generate_private_key(ec.SECP256R1()))


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "3"
    assert response.json()["dependency"] == "storage"


def test_a_full_disk_is_503_leaves_no_debris_and_recovers_when_there_is_room(disk: Disk) -> None:
    first = envelope_of(2 * MB)
    created = disk.upload(first)
    assert created.status_code == 201, created.text
    first_id = created.json()["id"]
    stored = disk.files()
    assert len(stored) == 1

    too_big = envelope_of(3 * MB)  # 2 + 3 MB do not fit on 4 MiB
    assert_unavailable(disk.upload(too_big))
    assert disk.documents() == [first_id]
    assert disk.files() == stored  # the spool had no name: nothing left in .partial
    assert shutil.disk_usage(disk.root).used < 2.5 * MB  # and its blocks are free again
    assert disk.client.get(f"/v1/vault/documents/{first_id}/content").content == first

    small = envelope_of(MB // 2)  # what fits is stored, without a restart
    assert disk.upload(small).status_code == 201
    assert disk.client.delete(f"/v1/vault/documents/{first_id}").status_code == 200
    created = disk.upload(too_big)  # there is room now
    assert created.status_code == 201, created.text
    assert disk.client.get(f"/v1/vault/documents/{created.json()['id']}/content").content == (
        too_big
    )
    assert len(disk.documents()) == 2


def test_a_read_only_disk_is_503_for_writes_still_serves_reads_and_recovers(disk: Disk) -> None:
    envelope = envelope_of(MB // 2)
    doc_id = disk.upload(envelope).json()["id"]
    stored = disk.files()
    remount(disk.root, "ro")
    try:
        assert_unavailable(disk.upload(envelope_of(MB // 4)))
        assert_unavailable(disk.client.delete(f"/v1/vault/documents/{doc_id}"))
        ready = disk.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["object_store"] == "unavailable"
        # reads need no writing: the stored document is still served
        assert disk.client.get(f"/v1/vault/documents/{doc_id}/content").content == envelope
    finally:
        remount(disk.root, "rw")
    assert disk.documents() == [doc_id]  # the refused deletion deleted nothing
    assert disk.files() == stored
    assert disk.client.get("/readyz").status_code == 200
    assert disk.upload(envelope_of(MB // 4)).status_code == 201
    assert disk.client.delete(f"/v1/vault/documents/{doc_id}").status_code == 200
    assert not os.path.exists(stored[0])
