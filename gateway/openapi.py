"""The OpenAPI document documents every status and problem document a route can produce,
how each operation authenticates, and an example of every body.

:func:`install` wraps ``app.openapi``:

- each operation gets, as ``application/problem+json`` (schema ``Problem``), the problem
  statuses of its shape (:func:`generic_statuses`: by whether it authenticates, changes
  something, has parameters or a body), in this one place for every route. A route adds
  what only it answers with ``responses=commons.web.problem_responses(502, ...)`` or, for a
  route of a component, with ``"problems"`` in :data:`~gateway.openapi_operations.OPERATIONS`; a 422
  that FastAPI describes as ``application/json`` is replaced, since the gateway always
  answers problem details;
- the security schemes (:data:`SECURITY_SCHEMES`, Swagger UI's "Authorize") and, on each
  operation that authenticates, the ways it accepts: a bearer token of a person (pasted, or
  through OpenID Connect), the portal's session cookie (with the CSRF header when the method
  changes something), and for a route that names a scope (``account.require_scope``) a flow
  client's client-credentials token with that scope. Public operations declare none;
- a request example (where there is a body) and a response example for every documented
  response with a body (:mod:`gateway.openapi_examples`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import iter_route_contexts

from account import Scope, ScopeGuard
from commons.web import AUTHENTICATES_FIRST, problem_responses
from gateway import openapi_examples as examples
from gateway.openapi_operations import OPERATIONS

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; validation problems list 'errors' "
    "(loc, msg, type) and never echo the input. 'title' and 'detail' are in the language "
    "the request's Accept-Language asks for, if the service has it (German or English), "
    "else English; Content-Language names it. 'type' (urn:ozg-commons:problem:<code>), "
    "'status' and the other members never change with the language: branch on those, "
    "never on the text.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {
            "type": "string",
            "description": "What went wrong, stable across languages and releases "
            "(urn:ozg-commons:problem:<code>, or about:blank for a bare HTTP status).",
        },
        "title": {
            "type": "string",
            "description": "A short summary for people, in the language of Content-Language.",
        },
        "status": {"type": "integer"},
        "detail": {
            "type": "string",
            "description": "This occurrence explained for people, in the language of "
            "Content-Language; never parse it.",
        },
        "request_id": {"type": "string"},
        "dependency": {
            "type": "string",
            "description": "On a 503: the dependency that is not available "
            "(database, object store, storage); retry after Retry-After seconds.",
        },
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


SAFE_METHODS = frozenset({"get", "head", "options"})
CSRF_HEADER = "X-CSRF-Token"
DEV_ISSUER = "/dev-idp/realms/ozg-dev"  # without the account component: the default layout


def security_schemes(issuer: str) -> dict[str, Any]:
    """The ways to authenticate, for ``issuer`` (the identity provider's realm URL)."""
    return {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token of the identity provider (Keycloak; the "
            "development IdP under /dev-idp/ in development), pasted as it is.",
        },
        "openIdConnect": {
            "type": "openIdConnect",
            "openIdConnectUrl": f"{issuer}/.well-known/openid-configuration",
            "description": "People (applicants, caseworkers, DPOs, admins) sign in at the "
            "identity provider: authorization code with PKCE; their roles decide.",
        },
        "oauth2": {
            "type": "oauth2",
            "description": "Flow clients and FIT-Connect senders or subscribers: client "
            "credentials. A flow client's token needs the scope an operation names "
            "(docs/flows.md, section 9).",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": f"{issuer}/protocol/openid-connect/token",
                    "scopes": {s.value: _SCOPE_TEXT[s] for s in Scope},
                }
            },
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "ozg_session",
            "description": "The portal's session cookie (sign in at /login). A request "
            f"that changes something also needs the session's CSRF token in {CSRF_HEADER}.",
        },
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "The portal session's CSRF token; with the session cookie, "
            "required on every method but GET, HEAD and OPTIONS.",
        },
    }


_SCOPE_TEXT: dict[Scope, str] = {
    Scope.MAILBOX_WRITE: "send a message to an applicant's mailbox",
    Scope.VAULT_READ: "documents visible to the caller, an authority's public key",
    Scope.FEES_READ: "read a fee quote",
    Scope.FEES_WRITE: "calculate a fee and store it as a quote",
    Scope.PAYMENTS_READ: "a payment, its refunds, receipt and FIT-Connect block",
    Scope.PAYMENTS_WRITE: "start a payment, ask the provider for its status",
    Scope.SUBMISSIONS_WRITE: "FIT-Connect sender: create, upload, submit",
    Scope.SUBMISSIONS_READ: "FIT-Connect: read own submissions, event logs",
    Scope.CASES_READ: "a case the applicant allowed the flow into: state, timeline, draft",
    Scope.CASES_WRITE: "within such a case: draft, authority, fee facts, payment",
}


@dataclass
class _Auth:
    """What an operation's dependencies say about who may call it."""

    authenticated: bool = False
    scopes: set[str] = field(default_factory=set)


def _auth_of(app: FastAPI, dependant: Dependant) -> _Auth:
    """Walk the dependency tree, with the app's overrides (compliance's routes depend on a
    caller the account replaces): the authenticating dependency and the scope guards."""
    auth, stack = _Auth(), [dependant]
    while stack:
        current = stack.pop()
        call = original = current.call
        override = app.dependency_overrides.get(call) if call is not None else None
        if override is not None:
            current, call = get_dependant(path="", call=override), override
        marked = [c for c in (original, call) if c is not None]
        if any(getattr(c, AUTHENTICATES_FIRST, False) for c in marked):
            auth.authenticated = True  # also under a test's override of the caller
        if isinstance(call, ScopeGuard):
            auth.scopes.add(call.scope.value)
        stack.extend(current.dependencies)
    return auth


def _operations_auth(app: FastAPI) -> dict[tuple[str, str], _Auth]:
    out: dict[tuple[str, str], _Auth] = {}
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        path = getattr(context, "path_format", None)
        if not isinstance(dependant, Dependant) or not isinstance(path, str):
            continue
        auth = _auth_of(app, dependant)
        for method in getattr(context, "methods", None) or ():
            out[(path, method.lower())] = auth
    return out


def _authenticated_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {op for op, auth in _operations_auth(app).items() if auth.authenticated}


def security_of(method: str, auth: _Auth) -> list[dict[str, list[str]]]:
    """The alternatives an operation accepts (OpenAPI: any one of the objects)."""
    if not auth.authenticated:
        return []
    cookie: dict[str, list[str]] = {"sessionCookie": []}
    if method not in SAFE_METHODS:  # the browser sends the cookie by itself: CSRF header too
        cookie["csrfToken"] = []
    ways: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"openIdConnect": []}, cookie]
    if auth.scopes:
        ways.append({"oauth2": sorted(auth.scopes)})
    return ways


def generic_statuses(method: str, path: str, operation: dict[str, Any], auth: _Auth) -> list[int]:
    """The problem statuses every operation of this shape can answer, whatever its route:

    - every operation: 422 (validation, control characters at the edge), 500, and 503 (a
      dependency is down, with ``Retry-After``: :func:`gateway.problems.unavailable_dependency`);
    - one that authenticates: 401, 403; 404,
      since what it acts on may be missing or another's (answered as missing); and, if it
      changes something, 409 (the resource's state does not allow it: a case already
      submitted, an upload already finished, a key already set);
    - one with a path or query parameter: 404;
    - one with a body: 400 (a body that cannot be decoded at all), 408 and 413.
    """
    statuses = {422, 500, 503}
    if auth.authenticated:
        statuses |= {401, 403, 404}
        if method not in SAFE_METHODS:
            statuses.add(409)
    if "{" in path or operation.get("parameters"):
        statuses.add(404)
    if method in _BODY_METHODS or "requestBody" in operation:
        statuses |= {400, 408, 413}
    return sorted(statuses)


_BOUNDS = {"ge": ("minimum", max), "le": ("maximum", min)}


def _json_schema_bounds(schema: dict[str, Any]) -> None:
    """``Query(ge=1, le=500)`` on a :data:`commons.text.Int64` (whose validator reads the
    URL's text) lands behind that validator, and pydantic then writes the bound under its
    keyword (``ge``) where JSON Schema says ``minimum``: named so here, the tighter bound
    kept."""
    for branch in (schema, *schema.get("anyOf", ())):
        for keyword, (name, tighter) in _BOUNDS.items():
            if keyword in branch:
                bound = branch.pop(keyword)
                branch[name] = tighter(bound, branch.get(name, bound))


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        operations_auth = _operations_auth(app)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", ()):
                    _json_schema_bounds(parameter["schema"])
                auth = operations_auth.get((path, method), _Auth())
                statuses = generic_statuses(method, path, operation, auth)
                statuses += OPERATIONS.get(f"{method.upper()} {path}", {}).get("problems", ())
                responses = operation.setdefault("responses", {})
                for status, response in problem_responses(*sorted(set(statuses))).items():
                    existing = responses.get(str(status))
                    if existing is None:
                        responses[str(status)] = response
                    else:
                        existing["content"] = response["content"]
                security = security_of(method, auth)
                if security:
                    operation["security"] = security
                else:
                    operation.pop("security", None)
        components = schema.setdefault("components", {})
        issuer = getattr(app.state, "oidc_issuer", None) or DEV_ISSUER
        components["securitySchemes"] = security_schemes(issuer)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for unused in ("HTTPValidationError", "ValidationError"):
            if not _referenced(schema, f"#/components/schemas/{unused}"):
                schemas.pop(unused, None)
        _attach_examples(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _referenced(schema: dict[str, Any], ref: str) -> bool:
    import json

    return f'"{ref}"' in json.dumps(schema)


# --------------------------------------------------------------------------- examples
def _media_schema(media: str) -> dict[str, Any]:
    if "json" in media:
        return {}
    if media == "application/jose":
        return {"type": "string", "description": "a JWE or JWS in compact serialization"}
    if media.startswith("text/"):
        return {"type": "string"}
    return dict(examples.BINARY_SCHEMA)


def _set_content(target: dict[str, Any], media: str, example: Any) -> None:
    """Give ``target`` (a response or request body) ``media`` with ``example``; a media type
    the route really uses replaces a guessed ``application/json`` without a schema, and
    keeps the media types given before it (a route answering JSON or CSV)."""
    content = target.setdefault("content", {})
    if media not in content:
        kept = {
            m: c
            for m, c in content.items()
            if "example" in c or (c.get("schema") and "json" in m and "json" in media)
        }
        content.clear()
        content.update(kept)
        content.setdefault(media, {"schema": _media_schema(media)})
    content[media]["example"] = example


def _fill(target: dict[str, Any], components: dict[str, Any], status: str | None) -> None:
    for media, content in (target.get("content") or {}).items():
        if "example" in content or "examples" in content:
            continue
        if media == examples.PROBLEM_JSON and status is not None:
            content["example"] = examples.problem_example(int(status))
        else:
            content.setdefault("schema", _media_schema(media))
            content["example"] = examples.example_for(content["schema"], components)


def _nullable(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    return any(
        examples.resolve(b, components).get("type") == "null" for b in schema.get("anyOf", ())
    )


def _restore_nulls(example: Any, schema: dict[str, Any], components: dict[str, Any]) -> None:
    """FastAPI writes the document with ``exclude_none``, which also drops the ``null``
    values of declared examples; a required nullable property gets its ``null`` back."""
    schema = examples.resolve(schema, components)
    if isinstance(example, list):
        for item in example:
            _restore_nulls(item, schema.get("items", {}), components)
        return
    if not isinstance(example, dict):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if key in example:
            branches = sub.get("anyOf", [sub])
            for branch in branches:
                _restore_nulls(example[key], branch, components)
        elif key in schema.get("required", ()) and _nullable(sub, components):
            example[key] = None


def _attach_examples(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for component in components.values():
        for example in component.get("examples", ()):
            _restore_nulls(example, component, components)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            entry = OPERATIONS.get(f"{method.upper()} {path}", {})
            responses = operation.setdefault("responses", {})
            for status in entry.get("drop", ()):
                responses.pop(status, None)
            for status, bodies in entry.get("responses", {}).items():
                if bodies is None:  # a response without a body (a redirect)
                    responses[status] = {"description": HTTPStatus(int(status)).phrase}
                    continue
                response = responses.setdefault(
                    status, {"description": HTTPStatus(int(status)).phrase}
                )
                for media, example in bodies.items():
                    _set_content(response, media, example)
            for media, example in entry.get("request", {}).items():
                _set_content(
                    operation.setdefault("requestBody", {"required": True}), media, example
                )
            if "requestBody" in operation:
                _fill(operation["requestBody"], components, None)
            for status, response in responses.items():
                _fill(response, components, status)
