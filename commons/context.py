"""Per-request context that outlives no request: the request id, and the language the
caller reads (``Accept-Language``), in which the problem documents' texts are said.

The gateway sets it for every HTTP request; jobs and commands set their own. Logs and the
audit recorder read it so an entry can be tied to the request that caused it.

The request id is always the server's own: a client-sent ``X-Request-ID`` is ignored, since
whatever a client sends could be personal data (``Max-Mustermann-geb-1990-01-01``), and the
request id goes into the audit log, which erasure cannot rewrite, and into the server log. A
client that wants to correlate its own traces may send an ``X-Correlation-ID``: it is echoed
back on the response (if well-formed), and never stored or logged.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

from commons.i18n import negotiate

request_id_var: ContextVar[str | None] = ContextVar("ozg_request_id", default=None)
# The caller's Accept-Language as sent; negotiated only when a problem document is said.
accept_language_var: ContextVar[str | None] = ContextVar("ozg_accept_language", default=None)

# A client's correlation id is echoed back only in this shape (no header or log injection):
# 1-64 characters of [A-Za-z0-9._-]. It is never stored or logged.
_CORRELATION_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_request_id() -> str:
    """A fresh server-side request id: 32 hex digits, random, carrying no client input."""
    return secrets.token_hex(16)


def echoable_correlation_id(candidate: str | None) -> str | None:
    """A client's correlation id if it is safe to echo back in a header, else ``None``."""
    if candidate and _CORRELATION_ID_RE.fullmatch(candidate):
        return candidate
    return None


def current_request_id() -> str | None:
    return request_id_var.get()


def current_language() -> str:
    """The language of the request's problem documents (``commons.i18n.negotiate``), worked
    out when one is said, not for every request."""
    return negotiate(accept_language_var.get())
