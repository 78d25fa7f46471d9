"""One contract, two backends: the filesystem (default) and S3 (marked ``s3``)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from commons.clock import FixedClock, system_clock
from commons.db import Database
from commons.s3 import minio_client
from commons.settings import Settings
from tests import services
from vault.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore, store_file
from vault.errors import BlobNotFound
from vault.gc import collect_garbage
from vault.models import Document


def s3_settings() -> Settings:
    return services.s3_settings("vault-test")


@pytest.fixture(params=["filesystem", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "filesystem":
        yield FilesystemBlobStore(tmp_path / "blobs")
        return
    settings = s3_settings()
    s3 = S3BlobStore(minio_client(settings), settings.s3_bucket)
    s3.ensure_bucket()
    yield s3
    for blob in list(s3.list()):
        s3.delete_listed(blob.key)
    s3.client.remove_bucket(settings.s3_bucket)


def _key() -> str:
    return str(uuid.uuid4())


def test_put_get_delete(store: BlobStore) -> None:
    key, data = _key(), os.urandom(300_000)
    store.put(key, io.BytesIO(data), len(data))
    assert b"".join(store.get(key)) == data
    assert [(b.key, b.size) for b in store.list()] == [(key, len(data))]
    store.delete(key)
    store.delete(key)  # idempotent
    with pytest.raises(BlobNotFound):
        b"".join(store.get(key))
    assert list(store.list()) == []


def test_empty_blob_and_overwrite(store: BlobStore) -> None:
    key = _key()
    store.put(key, io.BytesIO(b""), 0)
    assert b"".join(store.get(key)) == b""
    store.put(key, io.BytesIO(b"second"), 6)
    assert b"".join(store.get(key)) == b"second"
    store.delete(key)


def test_a_failing_source_leaves_no_visible_blob(store: BlobStore) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.sent > 100_000:
                raise OSError("connection reset")
            self.sent += 50_000
            return b"x" * 50_000

    key = _key()
    with pytest.raises(OSError, match="connection reset"):
        store.put(key, Broken(), 1_000_000)  # type: ignore[arg-type]
    with pytest.raises(BlobNotFound):
        b"".join(store.get(key))
    assert [b for b in store.list() if b.key == key] == []


def test_keys_must_be_document_ids(store: BlobStore) -> None:
    with pytest.raises(ValueError, match=r"UUID|hexadecimal"):
        store.put("../../etc/passwd", io.BytesIO(b"x"), 1)


def test_ping(store: BlobStore) -> None:
    store.ping()


def test_gc_removes_orphans_but_keeps_documents_and_fresh_blobs(
    store: BlobStore, database: Database
) -> None:
    kept, orphan = _key(), _key()
    for key in (kept, orphan):
        store.put(key, io.BytesIO(b"ciphertext"), 10)
    with database.transaction() as session:
        session.add(
            Document(
                id=_key(),
                blob_key=kept,
                owner_subject="s",
                envelope_size=10,
                created_at=system_clock.now(),
            )
        )
        session.flush()
        assert collect_garbage(session, store, timedelta(hours=1)) == []  # too fresh
        later = FixedClock(system_clock.now() + timedelta(hours=2))
        assert collect_garbage(session, store, timedelta(hours=1), later) == [orphan]
    assert sorted(b.key for b in store.list()) == [kept]
    store.delete(kept)


def test_store_file_stores_a_complete_file_that_outlives_its_name(
    store: BlobStore, tmp_path: Path
) -> None:
    key, data = _key(), os.urandom(300_000)
    spool = tmp_path / "upload.part"
    spool.write_bytes(data)
    store_file(store, key, spool, len(data))
    spool.unlink()  # what a finished chunked upload does with its spool file
    assert b"".join(store.get(key)) == data
    store.delete(key)


def test_the_filesystem_store_adopts_a_file_instead_of_copying_it(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    key, data = _key(), os.urandom(100_000)
    spool = tmp_path / "upload.part"
    spool.write_bytes(data)
    assert store.adopt(key, spool, len(data))
    final = store.root / key[:2] / key
    assert os.stat(final).st_ino == os.stat(spool).st_ino  # one copy on disk
    assert not list((store.root / ".partial").iterdir())
    # a file of another length is not adopted (the caller copies, and the copy says why)
    other = _key()
    assert not store.adopt(other, spool, len(data) + 1)
    assert not (store.root / other[:2] / other).exists()


@pytest.mark.parametrize("spooled", [False, True])
def test_filesystem_put_makes_file_and_name_durable_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spooled: bool
) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    key, data = _key(), os.urandom(300_000)
    if spooled:
        src = store.spool()
        src.write(data)
        src.seek(0)
    else:
        src = io.BytesIO(data)
    store.put(key, src, len(data))
    final = store.root / key[:2] / key
    assert final.read_bytes() == data
    # the content is synced before the rename, the directory holding the new name after it
    assert synced[-1] == str(final.parent)
    assert len(synced) >= 2
    assert synced[-2] != str(final.parent)
