"""A small TCP fault proxy between the app and a real server (the S3 server in CI).

It runs its own asyncio loop in a thread and forwards bytes both ways while ``mode`` is
``"pass"``. The other modes are the faults the suite injects; each applies to connections
made after the switch, and :meth:`FaultProxy.set` closes the open ones, so a client's pooled
keep-alive connection cannot slip past a fault:

- ``"down"``: the listening socket is closed; a connection is refused, as by a stopped
  server (the port stays reserved for ``"pass"`` again);
- ``"stall"``: a connection is accepted and the request read, but nothing ever comes back
  (a hung server: the client's read timeout must end it);
- ``"error"``: every request is answered ``503 Slow Down`` with an S3 XML error document, as
  S3 does when overloaded;
- ``"garbage"``: every request is answered ``502`` with an HTML page, as a load balancer in
  front of a dead S3 would;
- ``"cut"``: requests are forwarded, but a connection is reset once ``cut_after`` bytes
  went upstream on it (an upload broken off half-way).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Literal

Mode = Literal["pass", "down", "stall", "error", "garbage", "cut"]

_S3_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><Resource>/</Resource>"
    b"<RequestId>fault</RequestId></Error>"
)
_HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], port: int) -> None:
        self.upstream = upstream
        self.port = port
        self.mode: Mode = "pass"
        self.cut_after = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._close(listening=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def set(self, mode: Mode, *, cut_after: int = 0) -> None:
        """Switch to ``mode``; open connections are closed."""
        self._call(self._switch(mode, cut_after))

    @contextlib.contextmanager
    def fault(self, mode: Mode, *, cut_after: int = 0) -> Iterator[None]:
        """``mode`` inside the block, ``"pass"`` again after it."""
        self.set(mode, cut_after=cut_after)
        try:
            yield
        finally:
            self.set("pass")

    # ----------------------------------------------------------------- on the proxy's loop
    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )

    async def _close(self, *, listening: bool) -> None:
        if listening and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _switch(self, mode: Mode, cut_after: int) -> None:
        self.mode, self.cut_after = mode, cut_after
        await self._close(listening=mode == "down")
        if mode != "down":
            await self._listen()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        mode = self.mode
        try:
            if mode == "pass" or mode == "cut":
                await self._forward(reader, writer, mode)
            elif mode == "stall":
                while await reader.read(65536):
                    pass  # swallow the request, never answer
            else:
                await reader.readuntil(b"\r\n\r\n")
                if mode == "error":
                    writer.write(_response("503 Slow Down", "application/xml", _S3_SLOW_DOWN))
                else:
                    writer.write(_response("502 Bad Gateway", "text/html", _HTML_502))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: Mode
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.add(up_writer)
        budget = self.cut_after if mode == "cut" else -1

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            nonlocal budget
            try:
                while block := await src.read(65536):
                    if up and budget >= 0:
                        if len(block) >= budget:
                            _reset(writer)
                            _reset(up_writer)
                            return
                        budget -= len(block)
                    dst.write(block)
                    await dst.drain()
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.close()

        try:
            await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))
        finally:
            self._writers.discard(up_writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a crashed peer does (not an orderly FIN)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
