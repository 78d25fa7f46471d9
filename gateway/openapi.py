"""The OpenAPI document documents every status and problem document a route can produce.

:func:`install` wraps ``app.openapi``: each operation gets, as ``application/problem+json``
(schema ``Problem``), 422 and 500; 401 and 403 if it authenticates; 404 if its path has a
parameter; 408 and 413 if it takes a body. A route adds its own with
``responses=commons.web.problem_responses(409, ...)``; a 422 that FastAPI describes as
``application/json`` is replaced, since the gateway always answers problem details.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from commons.web import problem_responses
from gateway.edge import authenticating_dependency

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; validation problems list 'errors' "
    "(loc, msg, type) and never echo the input.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_BODY_METHODS = frozenset({"post", "put", "patch"})


def _authenticated_operations(app: FastAPI) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        path = getattr(context, "path_format", None)
        if not isinstance(dependant, Dependant) or not isinstance(path, str):
            continue
        if authenticating_dependency(dependant) is not None:
            for method in getattr(context, "methods", None) or ():
                out.add((path, method.lower()))
    return out


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        authenticated = _authenticated_operations(app)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                statuses = [422, 500]
                if (path, method) in authenticated:
                    statuses += [401, 403]
                if "{" in path:
                    statuses.append(404)
                if method in _BODY_METHODS or "requestBody" in operation:
                    statuses += [408, 413]
                responses = operation.setdefault("responses", {})
                for status, response in problem_responses(*sorted(statuses)).items():
                    existing = responses.get(str(status))
                    if existing is None:
                        responses[str(status)] = response
                    else:
                        existing["content"] = response["content"]
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for unused in ("HTTPValidationError", "ValidationError"):
            if not _referenced(schema, f"#/components/schemas/{unused}"):
                schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _referenced(schema: dict[str, Any], ref: str) -> bool:
    import json

    return f'"{ref}"' in json.dumps(schema)
