"""Security headers on every response, and the Content-Security-Policy of every HTML page.

The policy allows only what the gateway serves itself: no inline script or style, no
``unsafe-eval`` (``wasm-unsafe-eval`` is allowed for the Argon2 WebAssembly the vault key
needs), no framing. A route that needs an exception (the API docs' one initialising script,
ReDoc's generated styles) sets its own ``Content-Security-Policy`` header, which is kept.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "serial=(), xr-spatial-tracking=()"
)


def content_security_policy(
    *, form_action: Iterable[str] = (), script: Iterable[str] = (), style: Iterable[str] = ()
) -> str:
    """The portal's CSP; ``form_action`` adds origins a form may post or redirect to (the
    identity provider's login and logout), ``script``/``style`` add sources (hashes)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", *script],
        "style-src": ["'self'", *style],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", *dict.fromkeys(form_action)],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def sha256_source(text: str) -> str:
    """A CSP hash source for one inline script or style element's exact text."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


class SecurityHeadersMiddleware:
    """Adds the security headers; HTML responses also get the CSP (unless the route set its
    own) and ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``."""

    def __init__(self, app: ASGIApp, csp: str, hsts: bool = False) -> None:
        self.app = app
        self.csp = csp
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.csp)
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
