"""Write-behind: overlap file writes with AES-GCM on a second core.

``cryptography``'s AESGCM holds the GIL while it encrypts (two threads calling
``encrypt_into`` on large buffers run no faster than one), but ``os.write``, ``os.fsync`` and
friends release it. So the thread that encrypts or decrypts fills buffers from a small pool
and hands them to one I/O thread, which writes them in order while the next buffer is being
sealed. Memory is ``depth * buffer_size``, independent of the document size.

An error in the I/O thread is raised in the producing thread at its next :meth:`acquire` or
:meth:`submit`, or at :meth:`close`; after an error nothing more is written. Leaving the
``with`` block with an exception stops the thread before the exception propagates, so the
caller can remove what was written without racing the thread.
"""

from __future__ import annotations

import ctypes
import os
import queue
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

Write = Callable[[memoryview], object]


class WriteBehind:
    """A bounded pool of buffers written, in order, by one background thread."""

    def __init__(self, write: Write, *, buffer_size: int, depth: int = 3) -> None:
        if depth < 1 or buffer_size < 1:
            raise ValueError("depth and buffer_size must be positive")
        self.buffer_size = buffer_size
        self._write = write
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(depth):
            self._free.put(bytearray(buffer_size))
        self._full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ozg-write-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._full.get()) is not None:
            buf, n = item
            if self._error is None:
                try:
                    self._write(memoryview(buf)[:n])
                except BaseException as exc:  # handed to the producer, which re-raises it
                    self._error = exc
            self._free.put(buf)  # even after an error, so acquire() never blocks for ever

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def acquire(self) -> bytearray:
        """A buffer to fill; blocks while all of them are queued for writing."""
        self._raise_if_failed()
        buf = self._free.get()
        self._raise_if_failed()
        return buf

    def submit(self, buf: bytearray, n: int) -> None:
        """Queue ``buf[:n]`` for writing; ``buf`` belongs to the pool again afterwards."""
        self._raise_if_failed()
        if n:
            self._full.put((buf, n))
        else:
            self._free.put(buf)

    def close(self) -> None:
        """Wait until everything queued is written; raise the I/O thread's error if any."""
        self._stop()
        self._raise_if_failed()

    def abort(self) -> None:
        """Stop without raising (used when the producer failed); queued writes may happen."""
        if self._error is None:
            self._error = _Aborted()
        self._stop()

    def _stop(self) -> None:
        if not self._closed:
            self._closed = True
            self._full.put(None)
        self._thread.join()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _Aborted(Exception):
    """Marks a pipeline stopped by its producer: pending writes are skipped."""


def write_all(fd: int) -> Write:
    """A writer of whole buffers to a file descriptor (``os.write`` may write less)."""

    def write(data: memoryview) -> None:
        while data:
            data = data[os.write(fd, data) :]

    return write


# ------------------------------------------------------------------------------ writeback
_SYNC_FILE_RANGE_WRITE = 2


def _load_sync_file_range() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range  # libc, already loaded
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load_sync_file_range() if sys.platform.startswith("linux") else None


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``length`` bytes at ``offset`` to disk, without
    waiting (Linux ``sync_file_range(SYNC_FILE_RANGE_WRITE)``), so that the final
    ``fsync`` finds little left to do. A no-op where that call does not exist; it never
    replaces the ``fsync``."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # errors: fsync reports


class WritebackWriter:
    """:func:`write_all` to ``fd`` plus :func:`start_writeback` every ``every`` bytes;
    ``offset``: where ``fd`` stands when the first write comes."""

    def __init__(self, fd: int, every: int = 8 * 1024 * 1024, *, offset: int = 0) -> None:
        self._fd = fd
        self._every = every
        self._write = write_all(fd)
        self._offset = offset
        self._synced = offset

    def __call__(self, data: memoryview) -> None:
        self._write(data)
        self._offset += len(data)
        if self._offset - self._synced >= self._every:
            start_writeback(self._fd, self._synced, self._offset - self._synced)
            self._synced = self._offset
