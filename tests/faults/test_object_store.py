"""The object store (the real S3 server, behind a fault proxy) down, hung, answering errors
or cut off half-way, during upload, download and deletion.

Each time: the API answers 503 with a problem document and ``Retry-After``, nothing
half-written is visible (neither a document row nor an object in S3), what was acknowledged
before is still there byte for byte, and once the fault is gone the same app serves again.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from account.auth import current_principal
from gateway.app import create_app
from gateway.migrations import upgrade
from tests import factories, services
from tests.faults.proxy import FaultProxy, Mode
from tests.vault.helpers import random_doc, sealed
from vault.blobstore import S3BlobStore

pytestmark = [pytest.mark.faults, pytest.mark.s3]

OCTET = {"Content-Type": "application/octet-stream"}
RETRY_AFTER = 7
FAULTS: tuple[Mode, ...] = ("down", "stall", "error", "garbage")


@dataclass
class Rig:
    client: TestClient
    proxy: FaultProxy
    direct: S3BlobStore  # the same bucket, straight to S3 (not through the proxy)
    subject: list[str]

    def upload(self, envelope: bytes) -> Any:  # the test client's response
        return self.client.post("/v1/vault/documents", content=envelope, headers=OCTET)

    def documents(self) -> list[str]:
        r = self.client.get("/v1/vault/documents")
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()]

    def objects(self) -> list[str]:
        return sorted(info.key for info in self.direct.list())


@pytest.fixture(scope="module")
def module_rig(
    tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path, s3_proxy: FaultProxy
) -> Iterator[Rig]:
    """One app (its own SQLite database, S3 through the proxy) for the module: building one
    costs seconds, and every test is a fresh applicant with an empty bucket."""
    base = services.s3_settings("faults")
    data_dir = tmp_path_factory.mktemp("faults-s3") / "var"
    shutil.copytree(demo_data_dir, data_dir)
    settings = base.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": f"sqlite:///{data_dir / 'faults.sqlite3'}",
            "s3_endpoint": s3_proxy.url,
            "s3_connect_timeout_seconds": 0.5,
            "s3_read_timeout_seconds": 0.5,
            "retry_after_seconds": RETRY_AFTER,
        }
    )
    upgrade(settings.effective_database_url)
    app = create_app(settings)
    subject = ["nobody"]
    app.dependency_overrides[current_principal] = lambda: factories.applicant(subject[0])
    direct = S3BlobStore.from_settings(base)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Rig(client, s3_proxy, direct, subject)
    finally:
        _empty(direct)
        direct.client.remove_bucket(base.s3_bucket)


@pytest.fixture
def rig(module_rig: Rig) -> Iterator[Rig]:
    module_rig.subject[0] = f"faults-{uuid.uuid4()}"
    module_rig.proxy.set("pass")
    yield module_rig
    module_rig.proxy.set("pass")
    _empty(module_rig.direct)


def _empty(direct: S3BlobStore) -> None:
    for info in direct.list():
        direct.delete_listed(info.key)
    client = direct.client
    for upload in client._list_multipart_uploads(direct.bucket).uploads or ():
        client._abort_multipart_upload(direct.bucket, upload.object_name, upload.upload_id)


def assert_unavailable(response: Any, dependency: str = "object store") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"] == "urn:ozg-commons:problem:service-unavailable"
    assert problem["dependency"] == dependency
    assert "request_id" in problem


def envelope_of(size: int) -> bytes:
    return sealed(random_doc(size), ec.generate_private_key(ec.SECP256R1()))


@pytest.mark.parametrize("mode", FAULTS)
def test_an_upload_while_the_store_fails_is_503_leaves_nothing_and_recovers(
    rig: Rig, mode: Mode
) -> None:
    kept = envelope_of(50_000)
    assert rig.upload(kept).status_code == 201
    before = rig.objects()
    started = time.monotonic()
    with rig.proxy.fault(mode):
        assert_unavailable(rig.upload(envelope_of(200_000)))
        ready = rig.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.json()["checks"]["object_store"] == "unavailable"
        assert ready.headers["retry-after"] == str(RETRY_AFTER)
    assert time.monotonic() - started < 20  # a hung store costs the timeouts, not minutes
    assert len(rig.documents()) == 1  # no row of the failed upload
    assert rig.objects() == before  # and no object
    # the same app, no restart: ready, and an upload works
    assert rig.client.get("/readyz").status_code == 200
    again = envelope_of(200_000)
    created = rig.upload(again)
    assert created.status_code == 201, created.text
    content = rig.client.get(f"/v1/vault/documents/{created.json()['id']}/content")
    assert content.content == again
    assert len(rig.documents()) == 2


@pytest.mark.parametrize("size", [300_000, 20 * 1024 * 1024], ids=["single-put", "multipart"])
def test_an_upload_cut_off_half_way_leaves_no_object_and_no_row(rig: Rig, size: int) -> None:
    envelope = envelope_of(size)
    with rig.proxy.fault("cut", cut_after=size // 2 + size // 4):
        assert_unavailable(rig.upload(envelope))
    assert rig.documents() == []
    assert rig.objects() == []  # a broken-off multipart upload never becomes an object
    created = rig.upload(envelope_of(100_000))
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("mode", FAULTS)
def test_a_download_while_the_store_fails_is_503_then_gives_the_same_bytes(
    rig: Rig, mode: Mode
) -> None:
    envelope = envelope_of(300_000)
    doc_id = rig.upload(envelope).json()["id"]
    with rig.proxy.fault(mode):
        assert_unavailable(rig.client.get(f"/v1/vault/documents/{doc_id}/content"))
        ranged = rig.client.get(
            f"/v1/vault/documents/{doc_id}/content", headers={"Range": "bytes=10-99"}
        )
        assert_unavailable(ranged)
        # what needs only the database still answers
        assert rig.documents() == [doc_id]
    assert rig.client.get(f"/v1/vault/documents/{doc_id}/content").content == envelope


@pytest.mark.parametrize("mode", FAULTS)
def test_a_deletion_while_the_store_fails_is_503_and_keeps_the_document(
    rig: Rig, mode: Mode
) -> None:
    envelope = envelope_of(100_000)
    doc_id = rig.upload(envelope).json()["id"]
    objects = rig.objects()
    with rig.proxy.fault(mode):
        assert_unavailable(rig.client.delete(f"/v1/vault/documents/{doc_id}"))
    # not acknowledged, so not half done: the row, its key and the blob are all there
    assert rig.documents() == [doc_id]
    assert rig.objects() == objects
    assert rig.client.get(f"/v1/vault/documents/{doc_id}/content").content == envelope
    deleted = rig.client.delete(f"/v1/vault/documents/{doc_id}")
    assert deleted.status_code == 200, deleted.text
    assert rig.documents() == []
    assert rig.objects() == []
