"""The edge: what holds for every request before, and while, a route reads it.

One ASGI middleware, inside the request-context middleware (so every refusal carries the
request id and is logged and counted), decides for every route of every component:

- **URLs:** a path or query value with a control character is refused (422), since every
  value there is an identifier (``commons.text``).
- **Methods:** ``OPTIONS`` answers 204 with the path's ``Allow`` header; ``HEAD`` runs the
  ``GET`` route without sending its body; a 405 lists every method of the path in ``Allow``.
- **Bodies:** ``receive`` is wrapped. Before the first byte is pulled, the route's
  authenticating dependency (``commons.web.authenticates_first``) runs, so an
  unauthenticated caller costs no body read. The body limit is the route's declaration
  (``commons.web.body_limit`` / ``upload_body``) or ``OZG_MAX_JSON_BYTES``; a
  ``Content-Length`` above it, or the first chunk that passes it, is a 413 at once. Every
  wait for a chunk, and a whole non-upload body, is bounded by ``OZG_BODY_TIMEOUT_SECONDS``
  (408). A JSON body whose strings hold a control character other than tab, line feed and
  carriage return (or a lone surrogate) is refused with a 422 before the route parses it.
  Refusals close the connection, because the rest of the body was not read.

See docs/security.md, section "Bad input".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi.dependencies.models import Dependant
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commons.errors import OzgError, PayloadTooLarge, RequestTimeout
from commons.i18n import N_, Deferred
from commons.text import decimal_int, free_text_problem, identifier_problem
from commons.web import AUTHENTICATES_FIRST, BODY_KIND_KEY, BODY_LIMIT_KEY, resolve_dependency
from gateway.problems import EdgeProblem, problem_for, validation_problem

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_CLOSE = {"Connection": "close"}
# A JSON body needs the slow check only if it may hold a control character: an escaped C0
# control, DEL or C1 control, a surrogate escape, or a raw DEL or C1 control (UTF-8).
_MAYBE_CONTROL = re.compile(rb"\\u(?:00[01]|007[fF]|00[89]|[dD][89a-fA-F])|\x7f|\xc2[\x80-\x9f]")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_json_bytes: int, body_timeout_seconds: float) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.timeout = body_timeout_seconds
        self._probes: dict[int, tuple[Any, Callable[..., Any] | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _url_refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS" and not _matches(scope, "OPTIONS"):
            allowed = allowed_methods(scope)
            if allowed:
                await Response(status_code=204, headers={"Allow": ", ".join(allowed)})(
                    scope, receive, send
                )
                return
        as_head = method == "HEAD" and not _matches(scope, "HEAD") and _matches(scope, "GET")
        if _has_body(scope):
            receive = _BodyGuard(self, scope, receive)

        async def edge_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                MutableHeaders(scope=message)["Allow"] = ", ".join(allowed_methods(scope))
            if as_head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        if as_head:
            scope["method"] = "GET"
        try:
            await self.app(scope, receive, edge_send)
        finally:
            scope["method"] = method

    async def authenticate_first(self, scope: Scope) -> None:
        """Run the route's authenticating dependency (honouring overrides), if it has one."""
        route = scope.get("route")
        dependant = getattr(route, "dependant", None)
        if not isinstance(dependant, Dependant):
            return
        cached = self._probes.get(id(route))
        if cached is None or cached[0] is not route:
            cached = (route, authenticating_dependency(dependant))
            self._probes[id(route)] = cached
        authenticate = cached[1]
        if authenticate is None:
            return
        try:
            await resolve_dependency(Request(scope), authenticate)
        except OzgError as exc:
            raise EdgeProblem(problem_for(exc, _CLOSE)) from None

    def limit_of(self, scope: Scope) -> tuple[bool, int | None]:
        """(is an upload, the byte limit or ``None``) of the matched route."""
        extra = getattr(scope.get("route"), "openapi_extra", None) or {}
        if extra.get(BODY_KIND_KEY) == "upload":
            return True, None
        declared = extra.get(BODY_LIMIT_KEY)
        return False, declared if isinstance(declared, int) else self.max_json_bytes


class _BodyGuard:
    """``receive`` with authentication first, a byte limit, timeouts and a text check."""

    def __init__(self, edge: EdgeMiddleware, scope: Scope, receive: Receive) -> None:
        self.edge = edge
        self.scope = scope
        self.receive = receive
        self.started = False
        self.done = False
        self.size = 0
        self.upload = False
        self.limit: int | None = None
        self.deadline: float | None = None
        self.json_parts: list[bytes] | None = None

    async def __call__(self) -> Message:
        if self.done:  # after the body: waiting for a disconnect is not bounded
            return await self.receive()
        if not self.started:
            await self._start()
        timeout = self.edge.timeout
        if self.deadline is not None:
            timeout = min(timeout, max(self.deadline - anyio.current_time(), 0))
        with anyio.move_on_after(timeout) as waited:
            message = await self.receive()
        if waited.cancelled_caught:
            raise EdgeProblem(
                problem_for(
                    RequestTimeout(N_("the request body did not arrive in time; send it again")),
                    _CLOSE,
                )
            )
        if message["type"] != "http.request":
            self.done = True
            return message
        chunk: bytes = message.get("body", b"")
        self.size += len(chunk)
        self._check_size(self.size)
        if self.json_parts is not None:
            self.json_parts.append(chunk)
        if not message.get("more_body", False):
            self.done = True
            if self.json_parts is not None:
                _check_json_text(b"".join(self.json_parts))
        return message

    async def _start(self) -> None:
        self.started = True
        await self.edge.authenticate_first(self.scope)
        self.upload, self.limit = self.edge.limit_of(self.scope)
        declared = _content_length(self.scope)
        if declared is not None:
            self._check_size(declared)
        if not self.upload:
            self.deadline = anyio.current_time() + self.edge.timeout
            if _is_json(self.scope):
                self.json_parts = []

    def _check_size(self, size: int) -> None:
        if self.limit is not None and size > self.limit:
            raise EdgeProblem(
                problem_for(
                    PayloadTooLarge(
                        Deferred(
                            N_(
                                "the request body is larger than this endpoint accepts "
                                "({limit} bytes)"
                            ),
                            limit=self.limit,
                        ),
                        max_bytes=self.limit,
                    ),
                    _CLOSE,
                )
            )


# --------------------------------------------------------------------------- helpers
def authenticating_dependency(dependant: Dependant) -> Callable[..., Any] | None:
    """The dependency marked ``authenticates_first`` anywhere in ``dependant``'s tree."""
    stack = [dependant]
    while stack:
        current = stack.pop()
        call = current.call
        if call is not None and getattr(call, AUTHENTICATES_FIRST, False):
            return call
        stack.extend(reversed(current.dependencies))
    return None


def _matches(scope: Scope, method: str) -> bool:
    app = scope.get("app")
    router = getattr(app, "router", None)
    probe = {**scope, "method": method}
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(probe)
        if match is Match.FULL:
            return True
    return False


def allowed_methods(scope: Scope) -> list[str]:
    """Every method the request's path answers (``HEAD`` with ``GET``, ``OPTIONS`` with
    anything), in a fixed order; empty if no route has the path."""
    allowed = {m for m in METHODS if m not in ("HEAD", "OPTIONS") and _matches(scope, m)}
    if not allowed:
        return []
    allowed.add("OPTIONS")
    if "GET" in allowed or _matches(scope, "HEAD"):
        allowed.add("HEAD")
    return [m for m in METHODS if m in allowed]


def _has_body(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    if "transfer-encoding" in headers:
        return True
    return headers.get("content-length", "0").strip() not in ("", "0")


def _content_length(scope: Scope) -> int | None:
    return decimal_int(Headers(scope=scope).get("content-length", ""))


def _is_json(scope: Scope) -> bool:
    media = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _url_refusal(scope: Scope) -> Response | None:
    errors: list[dict[str, Any]] = []
    path = scope.get("path", "")
    problem = identifier_problem(path)
    if problem:
        errors.append({"loc": ["path"], "msg": problem, "type": "control_character"})
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        problem = identifier_problem(name) or identifier_problem(value)
        if problem:
            loc = ["query", name] if not identifier_problem(name) else ["query"]
            errors.append({"loc": loc, "msg": problem, "type": "control_character"})
            break
    return validation_problem(errors) if errors else None


def _check_json_text(raw: bytes) -> None:
    """Refuse a JSON body with a string (key or value) that is no acceptable free text."""
    if not _MAYBE_CONTROL.search(raw):
        return
    try:
        document = json.loads(raw)
    except RecursionError:
        raise EdgeProblem(
            validation_problem(
                [{"loc": ["body"], "msg": "the JSON is nested too deeply", "type": "json_depth"}]
            )
        ) from None
    except ValueError:
        return  # not JSON: the route's own parsing refuses it
    stack: list[tuple[list[str | int], Any]] = [([], document)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            problem = free_text_problem(value)
        elif isinstance(value, dict):
            problem = next((free_text_problem(k) for k in value if free_text_problem(k)), None)
            stack.extend(([*loc, k], v) for k, v in value.items())
        elif isinstance(value, list):
            problem = None
            stack.extend(([*loc, i], v) for i, v in enumerate(value))
        else:
            problem = None
        if problem:
            raise EdgeProblem(
                validation_problem(
                    [{"loc": ["body", *loc], "msg": problem, "type": "control_character"}]
                )
            )
