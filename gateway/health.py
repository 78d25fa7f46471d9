"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from gateway.problems import problem_response

log = logging.getLogger("ozg.health")
router = APIRouter(tags=["operations"])

ReadinessCheck = Callable[[], None]


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The process can serve: database (and, once configured, object store) reachable",
    responses={503: {"description": "A dependency is unreachable"}},
)
async def readyz(request: Request) -> Any:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await run_in_threadpool(check)
            results[name] = "ok"
        except Exception:
            log.warning("readiness check failed", extra={"check": name}, exc_info=True)
            results[name] = "unavailable"
    if all(v == "ok" for v in results.values()):
        return JSONResponse({"status": "ready", "checks": results})
    retry_after = str(request.app.state.settings.retry_after_seconds)
    return problem_response(
        503,
        detail="A dependency is not reachable.",
        headers={"Retry-After": retry_after},
        checks=results,
    )
