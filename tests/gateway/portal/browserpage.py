"""Serves the crypto test page (gateway/portal/js-tests/browser-page.html) and the modules
from 127.0.0.1 behind the portal's Content-Security-Policy (no inline script, no eval; only
'wasm-unsafe-eval' for Argon2), and opens it in Debian's Chromium through Playwright."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3] / "gateway" / "portal"
CHROMIUM = os.environ.get("OZG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; "
    "style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class's own instance attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve() -> Iterator[str]:
    handler = functools.partial(_Handler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/js-tests/browser-page.html"
    finally:
        server.shutdown()
        server.server_close()


def chromium_available() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def open_page(extra_args: tuple[str, ...] = ()) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with serve() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--enable-precise-memory-info", *extra_args],
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "console",
                lambda msg: errors.append(msg.text) if msg.type == "error" else None,
            )
            page.goto(url)
            page.wait_for_function("window.ozgTest !== undefined", timeout=30_000)
            page.errors = errors  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


class HeapSampler:
    """The page's and its workers' JS heap through the DevTools protocol (workers attached
    with Target.setAutoAttach, asked through Target.sendMessageToTarget)."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.peak = 0
        self.workers: dict[str, int] = {}  # session id -> its last heap
        self.cdp.on("Target.attachedToTarget", self._attached)
        self.cdp.on("Target.detachedFromTarget", lambda e: self.workers.pop(e["sessionId"], None))
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        self.cdp.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False},
        )

    def _attached(self, event: dict[str, Any]) -> None:
        if event["targetInfo"]["type"] == "worker":
            self.workers[event["sessionId"]] = 0

    def _message(self, event: dict[str, Any]) -> None:
        reply = json.loads(event["message"])
        if event["sessionId"] in self.workers and "usedSize" in reply.get("result", {}):
            self.workers[event["sessionId"]] = _heap(reply["result"])

    def sample(self) -> int:
        """Ask every worker for its heap (the answers arrive as events) and the page for its
        own; returns the page's plus the workers' latest answers, and keeps the peak."""
        request = json.dumps({"id": 1, "method": "Runtime.getHeapUsage"})
        for session in list(self.workers):
            try:
                self.cdp.send(
                    "Target.sendMessageToTarget", {"sessionId": session, "message": request}
                )
            except Exception:  # the worker ended meanwhile
                self.workers.pop(session, None)
        page = _heap(self.cdp.send("Runtime.getHeapUsage"))
        total = page + sum(self.workers.values())
        self.peak = max(self.peak, total)
        return total


def _heap(usage: dict[str, Any]) -> int:
    return int(usage["usedSize"] + usage.get("backingStorageSize", 0))
