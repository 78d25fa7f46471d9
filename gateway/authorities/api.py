"""HTTP routes of the authorities component: public, read-only, thin over the registry.

- ``GET /v1/authorities``, ``GET /v1/authorities/{id}``: the deployment's authorities.
- ``GET /v1/routes?leikaKey=…&ars=…`` (or ``ags``): FIT-Connect Routing API shape.
- ``GET /v1/routes/keys``: the JWKS that verifies ``destinationSignature``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from commons.settings import Settings
from commons.text import decimal_int
from gateway.authorities.errors import InvalidRouteQuery
from gateway.authorities.registry import ARS_LEVELS, AuthorityRegistry
from gateway.authorities.routing import route_json
from gateway.authorities.runtime import AuthoritiesState

router = APIRouter(tags=["authorities"])

_LEIKA = re.compile(r"^99\d{12}$")
_AGS_LEVELS = (2, 3, 5, 8)
MAX_LIMIT = 500


def configure(app: FastAPI, settings: Settings) -> None:
    state = app.state.authorities = AuthoritiesState(settings)
    payments = getattr(app.state, "payments", None)
    if payments is not None:  # quotes and reconciliation refuse authorities it doesn't know
        payments.known_authorities = lambda: state.registry().ids()


def authorities_state(request: Request) -> AuthoritiesState:
    state: AuthoritiesState = request.app.state.authorities
    return state


def authorities(request: Request) -> AuthorityRegistry:
    """The app's :class:`AuthorityRegistry` (a FastAPI dependency)."""
    return authorities_state(request).registry()


Registry = Annotated[AuthorityRegistry, Depends(authorities)]


@router.get("/authorities", summary="The deployment's authorities (public)")
def list_authorities(registry: Registry) -> dict[str, Any]:
    return {"authorities": [a.public_json() for a in registry.all()]}


@router.get("/authorities/{authority_id}", summary="One authority (404 names the known ones)")
def get_authority(authority_id: str, registry: Registry) -> dict[str, Any]:
    return registry.get(authority_id).public_json()


@router.get("/routes/keys", summary="JWKS of the key that signs destinationSignature")
def routing_keys(request: Request) -> dict[str, Any]:
    return {"keys": [authorities_state(request).routing_key().public_jwk()]}


def _digits(name: str, value: str, levels: tuple[int, ...]) -> str:
    if not (value.isascii() and value.isdigit() and len(value) in levels):
        raise InvalidRouteQuery(
            f"{name} must have {', '.join(map(str, levels[:-1]))} or {levels[-1]} digits",
            parameter=name,
        )
    return value


@router.get(
    "/routes",
    summary="Who serves a LeiKa service in a region (FIT-Connect Routing API shape)",
)
def routes(
    request: Request,
    registry: Registry,
    leika_key: Annotated[str | None, Query(alias="leikaKey")] = None,
    ars: str | None = None,
    ags: str | None = None,
    area_id: Annotated[str | None, Query(alias="areaId")] = None,
    offset: str = "0",
    limit: str = "100",
) -> dict[str, Any]:
    if leika_key is None or not _LEIKA.match(leika_key):
        raise InvalidRouteQuery(
            "leikaKey is required: 99 and 12 more digits (a LeiKa service key)",
            parameter="leikaKey",
        )
    given = [n for n, v in (("ars", ars), ("ags", ags), ("areaId", area_id)) if v is not None]
    if len(given) != 1:
        raise InvalidRouteQuery(
            "name the region with exactly one of ars, ags and areaId"
            + (f" (got {', '.join(given)})" if given else ""),
            parameter="ars",
        )
    if area_id is not None:
        raise InvalidRouteQuery(
            "areaId is not supported by this deployment; use ars or ags", parameter="areaId"
        )
    if ars is not None:
        _digits("ars", ars, ARS_LEVELS)
    if ags is not None:
        _digits("ags", ags, _AGS_LEVELS)
    start, count = _number("offset", offset, 0, None), _number("limit", limit, 1, MAX_LIMIT)
    state = authorities_state(request)
    found = registry.route(leika_key, ars=ars, ags=ags)
    page = found[start : start + count]
    out: list[dict[str, Any]] = []
    if page:  # the signing key is loaded (in development: made) only when a route is signed
        key, now = state.routing_key(), state.clock.now()
        out = [route_json(registry, r, key, state.settings, now) for r in page]
    return {"count": len(out), "offset": start, "totalCount": len(found), "routes": out}


def _number(name: str, value: str, low: int, high: int | None) -> int:
    number = decimal_int(value)
    if number is None or number < low or (high is not None and number > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidRouteQuery(f"{name} must be a whole number {bound}", parameter=name)
    return number
