"""Per-request context that outlives no request: the request id.

The gateway sets it for every HTTP request; jobs and commands set their own. Logs and the
audit recorder read it so an entry can be tied to the request that caused it.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("ozg_request_id", default=None)

# An incoming X-Request-ID is accepted only in this shape, so it cannot carry personal data
# or log injection into our logs: 8-64 characters of [A-Za-z0-9._-].
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id() -> str:
    return secrets.token_hex(16)


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's well-formed request id (for tracing across services), else mint one."""
    if candidate and _REQUEST_ID_RE.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()
