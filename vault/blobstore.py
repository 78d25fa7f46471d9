"""Where ciphertext lives: one small interface, two backends.

:class:`FilesystemBlobStore` is the embedded default (``var/blobs``); :class:`S3BlobStore`
talks to MinIO or any S3 API through the ``minio`` client. Both pass the same contract tests
(tests/vault/test_blobstore.py). A blob becomes visible under its key only once it is
completely stored: the filesystem writes to a temporary file and renames it, S3 completes a
(multipart) upload atomically.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from commons.s3 import minio_client
from commons.settings import Settings
from vault.errors import BlobNotFound
from vault.pipeline import WritebackWriter, WriteBehind

READ_CHUNK = 1024 * 1024
_PUT_BUFFER = 1024 * 1024
_PUT_DEPTH = 4
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_S3_PART = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime


class BlobStore(Protocol):
    def put(self, key: str, src: IO[bytes], length: int) -> None:
        """Store ``length`` bytes from ``src`` under ``key``; visible only when complete."""
        ...

    def get(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The blob's bytes (``length`` of them from ``start``, or all), streamed; raises
        :class:`BlobNotFound`."""
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


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / ".partial"

    def _path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, src: IO[bytes], length: int) -> None:
        """Write to a temporary file, fsync, rename. Reading ``src`` (which may encrypt, see
        :class:`vault.envelope.SealingReader`) and writing overlap: one thread fills ~1 MiB
        buffers, another writes them and starts their writeback to disk as it goes, so
        the final fsync is short. Memory: ``_PUT_DEPTH`` buffers."""
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp / f"{key}.{uuid.uuid4().hex}"
        if self._adopt(src, length, tmp):
            self._name(tmp, final)
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
        try:
            try:
                with WriteBehind(
                    WritebackWriter(fd), buffer_size=_PUT_BUFFER, depth=_PUT_DEPTH
                ) as pipe:
                    _copy(src, pipe, length)
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._name(tmp, final)

    def spool(self) -> IO[bytes]:
        """An anonymous temporary file in the store's own directory, for an upload to be
        received into and checked before it is stored. It has no name (Linux
        ``O_TMPFILE``), so a crash leaves nothing behind; :meth:`put` of it, positioned at
        its start, gives it a name instead of copying it, so the upload is written once."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmpfile = getattr(os, "O_TMPFILE", 0)
        if tmpfile:
            try:  # without O_EXCL, unlike tempfile's: only then can it be linked
                fd = os.open(self._tmp, tmpfile | os.O_RDWR | _O_CLOEXEC, 0o600)
            except OSError:
                pass  # a file system without O_TMPFILE
            else:
                return os.fdopen(fd, "w+b")
        return tempfile.TemporaryFile(dir=self._tmp)

    def adopt(self, key: str, path: Path, length: int) -> bool:
        """Store the complete file at ``path`` under ``key`` without copying it: a second
        name (a hard link) for it, made visible by a rename as in :meth:`put`. The caller
        has fsynced the file, and never writes to it again (the blob would change with it);
        False if it cannot be linked (another file system, or not ``length`` bytes): then
        :meth:`put` copies it. Used for a finished chunked upload's spool file."""
        final = self._path(key)
        try:
            if os.stat(path).st_size != length:
                return False
            final.parent.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            tmp = self._tmp / f"{key}.{uuid.uuid4().hex}"
            os.link(path, tmp)
        except OSError:
            return False
        self._name(tmp, final)
        return True

    @staticmethod
    def _name(tmp: Path, final: Path) -> None:
        """Rename a complete, fsynced file into place, and make the rename durable."""
        try:
            os.replace(tmp, final)
            _fsync_dir(final.parent)  # the rename itself survives a crash, before the row
        finally:
            tmp.unlink(missing_ok=True)

    def _adopt(self, src: IO[bytes], length: int, tmp: Path) -> bool:
        """Link an anonymous spool of this store's file system at ``tmp`` (after fsync) if
        ``src`` is one holding exactly the ``length`` bytes to store; else False."""
        try:
            fd = src.fileno()
            info = os.fstat(fd)
            if (
                info.st_nlink != 0
                or info.st_size != length
                or src.tell() != 0
                or info.st_dev != os.stat(self._tmp).st_dev
            ):
                return False
            src.flush()
            os.fsync(fd)
            proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
            try:  # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N: names an O_TMPFILE file
                os.link(str(fd), tmp, src_dir_fd=proc, follow_symlinks=True)
            finally:
                os.close(proc)
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return False  # not a file, not anonymous, or no /proc: copy it
        return True

    def open(self, key: str) -> IO[bytes]:
        """The blob as an unbuffered binary file (the caller closes it)."""
        try:
            return self._path(key).open("rb", buffering=0)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def get(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        handle = self.open(key)
        if start:
            handle.seek(start)
        return _iter_file(handle, length)

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


def _copy(src: IO[bytes], pipe: WriteBehind, length: int) -> None:
    """Exactly ``length`` bytes from ``src`` into the pipeline's buffers."""
    readinto = getattr(src, "readinto", None)
    remaining = length
    while remaining > 0:
        buf = pipe.acquire()
        want = memoryview(buf)[: min(len(buf), remaining)]
        try:
            if readinto is None:
                raise NotImplementedError
            n = readinto(want) or 0
        except NotImplementedError:  # io.RawIOBase subclasses that only define read()
            readinto = None
            block = src.read(len(want))
            n = len(block)
            want[:n] = block
        if not n:
            pipe.submit(buf, 0)
            raise OSError("source ended before the announced length")
        pipe.submit(buf, n)
        remaining -= n


def _iter_file(handle: IO[bytes], length: int | None = None) -> Iterator[bytes]:
    left = length
    with handle:
        while left is None or left > 0:
            block = handle.read(READ_CHUNK if left is None else min(left, READ_CHUNK))
            if not block:
                return
            if left is not None:
                left -= len(block)
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

    def get(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        from minio.error import S3Error

        try:
            response = self.client.get_object(
                self.bucket, self.prefix + _check_key(key), offset=start, length=length or 0
            )
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


def store_file(store: BlobStore, key: str, path: Path, length: int) -> None:
    """Store the complete, fsynced file at ``path`` under ``key``: the filesystem store gives
    it a second name where it can (:meth:`FilesystemBlobStore.adopt`), every other store
    copies it. The caller never writes to ``path`` again."""
    if isinstance(store, FilesystemBlobStore) and store.adopt(key, path, length):
        return
    with path.open("rb") as handle:
        store.put(key, handle, length)


def spool_for(store: BlobStore) -> IO[bytes]:
    """A temporary file to receive an upload for ``store`` (its own spool if it has one)."""
    if isinstance(store, FilesystemBlobStore):
        return store.spool()
    return tempfile.TemporaryFile()


def store_from_settings(settings: Settings) -> FilesystemBlobStore | S3BlobStore:
    if settings.object_store == "s3":
        store = S3BlobStore.from_settings(settings)
        return store
    return FilesystemBlobStore(settings.blob_dir)
