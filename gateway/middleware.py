"""The outermost layer every HTTP request passes: request id, access log, metrics, and a
problem-details 500 for anything unexpected (with the request id still attached).

It is also the one place where an error that says a dependency is down (the database, the
object store, a full disk: :func:`gateway.problems.unavailable_dependency`) becomes a 503
with ``Retry-After``, wherever it was raised: in a handler, a dependency, or the edge's
authentication before the body. Nothing is cached about it, so the next request after
recovery is served as usual.

The request id is the server's own (a client's ``X-Request-ID`` is ignored); a client's
``X-Correlation-ID`` is echoed back if well-formed, and never logged or stored."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commons.context import (
    accept_language_var,
    echoable_correlation_id,
    new_request_id,
    request_id_var,
)
from commons.i18n import N_
from commons.web import route_template
from gateway.metrics import UNMATCHED_ROUTE, HttpMetrics
from gateway.problems import problem_response, unavailable_dependency, unavailable_problem

log = logging.getLogger("ozg.http")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, retry_after: int = 5) -> None:
        self.app = app
        self.metrics = metrics
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        headers = Headers(scope=scope)
        correlation_id = echoable_correlation_id(headers.get("x-correlation-id"))
        token = request_id_var.set(request_id)
        language = accept_language_var.set(headers.get("accept-language"))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", request_id)
                if correlation_id is not None:
                    headers.append("X-Correlation-ID", correlation_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            dependency = unavailable_dependency(exc)
            if dependency is None:
                log.exception("unhandled error")
                response = problem_response(
                    500, detail=N_("An unexpected error occurred; quote the request id.")
                )
            else:  # the error's class only: a driver's message may quote parameters
                log.warning(
                    "dependency unavailable",
                    extra={"dependency": dependency, "error": type(exc).__name__},
                )
                response = unavailable_problem(dependency, self.retry_after)
            if not response_started:
                await response(scope, receive, send_with_id)
        finally:
            route = route_template(scope) or UNMATCHED_ROUTE
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)
            accept_language_var.reset(language)
