"""Where ciphertext lives: one small interface, two backends.

:class:`FilesystemBlobStore` is the embedded default (``var/blobs``); :class:`S3BlobStore`
talks to MinIO or any S3 API through the ``minio`` client. Both pass the same contract tests
(tests/vault/test_blobstore.py). A blob becomes visible under its key only once it is
completely stored: the filesystem writes to a temporary file and renames it, S3 completes a
(multipart) upload atomically.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from commons.s3 import minio_client
from commons.settings import Settings

READ_CHUNK = 256 * 1024
_S3_PART = 16 * 1024 * 1024


class BlobNotFound(KeyError):
    pass


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime


class BlobStore(Protocol):
    def put(self, key: str, src: IO[bytes], length: int) -> None:
        """Store ``length`` bytes from ``src`` under ``key``; visible only when complete."""
        ...

    def get(self, key: str) -> Iterator[bytes]:
        """The blob's bytes, streamed; raises :class:`BlobNotFound`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error."""
        ...

    def list(self) -> Iterator[BlobInfo]:
        """Every stored blob, including debris of interrupted uploads (for gc)."""
        ...

    def ping(self) -> None:
        """Raise if the store cannot be reached (readiness check)."""
        ...

    def delete_listed(self, key: str) -> None:
        """Delete a key exactly as :meth:`list` reported it (upload debris included)."""
        ...


def _check_key(key: str) -> str:
    uuid.UUID(key)  # keys are document ids; anything else is refused
    return key


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / ".partial"

    def _path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, src: IO[bytes], length: int) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp / f"{key}.{uuid.uuid4().hex}"
        try:
            remaining = length
            with tmp.open("wb") as out:
                while remaining > 0:
                    block = src.read(min(READ_CHUNK, remaining))
                    if not block:
                        raise OSError("source ended before the announced length")
                    out.write(block)
                    remaining -= len(block)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return _iter_file(handle)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self) -> Iterator[BlobInfo]:
        if not self.root.is_dir():
            return
        for directory in sorted(self.root.iterdir()):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                stat = path.stat()
                key = path.name if directory != self._tmp else f".partial/{path.name}"
                yield BlobInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def delete_listed(self, key: str) -> None:
        """Delete a key as :meth:`list` reported it (including upload debris)."""
        if key.startswith(".partial/"):
            (self._tmp / key.removeprefix(".partial/")).unlink(missing_ok=True)
        else:
            self.delete(key)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError("blob directory is not writable")


def _iter_file(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while block := handle.read(READ_CHUNK):
            yield block


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str = "vault/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        return cls(minio_client(settings), settings.s3_bucket)

    def ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket)

    def put(self, key: str, src: IO[bytes], length: int) -> None:
        self.client.put_object(
            self.bucket,
            self.prefix + _check_key(key),
            src,
            length,
            content_type="application/octet-stream",
            part_size=_S3_PART,
        )

    def get(self, key: str) -> Iterator[bytes]:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, self.prefix + _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise BlobNotFound(key) from None
            raise
        return _iter_response(response)

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, self.prefix + _check_key(key))

    def list(self) -> Iterator[BlobInfo]:
        for obj in self.client.list_objects(self.bucket, prefix=self.prefix, recursive=True):
            yield BlobInfo(
                obj.object_name.removeprefix(self.prefix),
                obj.size or 0,
                obj.last_modified or datetime.now(UTC),
            )

    def delete_listed(self, key: str) -> None:
        self.client.remove_object(self.bucket, self.prefix + key)

    def ping(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            raise OSError("bucket does not exist")


def _iter_response(response: Any) -> Iterator[bytes]:
    try:
        yield from response.stream(READ_CHUNK)
    finally:
        response.close()
        response.release_conn()


def store_from_settings(settings: Settings) -> FilesystemBlobStore | S3BlobStore:
    if settings.object_store == "s3":
        store = S3BlobStore.from_settings(settings)
        return store
    return FilesystemBlobStore(settings.blob_dir)
