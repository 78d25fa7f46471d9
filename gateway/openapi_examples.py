"""Examples for every operation of the OpenAPI document, in one place, and checked.

Where an example comes from, first match wins:

1. an example the route or its schema declares itself (pydantic ``json_schema_extra``
   ``examples``, or ``responses=`` / ``openapi_extra`` on the route);
2. ``gateway.openapi_operations.OPERATIONS``, keyed by ``"METHOD /path"``: the bodies
   whose schema is free-form (``dict[str, Any]`` answers, FIT-Connect shapes, streamed
   bodies), and the media type a route really answers with where FastAPI guessed
   ``application/json``;
3. built from the schema (:func:`example_for`): each property's value from
   :data:`FIELD_EXAMPLES` by name, else from its enum, const, format or type; a nullable
   property without an entry is ``null``.

``tests/gateway/test_openapi_examples.py`` validates every example against its schema and
checks that each key of ``OPERATIONS`` names a real operation, so the tables cannot drift
from the routes unnoticed. Problem documents get their examples from the error classes that
produce them (:func:`problem_example`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from commons.errors import (
    Conflict,
    Forbidden,
    NotFound,
    OzgError,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    Unauthorized,
)

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
BINARY_SCHEMA: dict[str, Any] = {"type": "string", "format": "binary"}
REQUEST_ID = "0193c2a4-6e1f-7b4a-9c55-2f0e8d1a7b30"
CASE_ID = "0193c2a4-7a10-7c3e-8f21-5b9d0c4e6a11"
SUBMISSION_ID = "6f1c2d3e-4b5a-4c69-8d7e-0a1b2c3d4e5f"
FIT_CASE_ID = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
DESTINATION_ID = "83d7b4c3-1e3b-5370-8327-058135a4d6cb"
ATTACHMENT_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
PAYMENT_ID = "0193c2a5-0b2c-7d4e-9f60-718293a4b5c6"
QUOTE_ID = "0193c2a4-f001-7a2b-8c3d-4e5f60718293"
DOCUMENT_ID = "0193c2a3-1111-7e22-8a33-445566778899"
SUBJECT = "5d1e8c3a-2b7f-5e91-a4c6-3f0d9b8e7a12"
AT = "2026-12-01T09:30:00Z"
JWE = "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiR1RlTWJ1NX..."
JWS = "eyJhbGciOiJFZERTQSIsImtpZCI6InBfZ2tkZFV4UWxkWHpnMlAtVzFCOEMydmg1Zkoi...."
CHECKPOINT = "127.0.0.1:8000/ozg-commons/audit-log\n42\n47DEQpj8...=\n\n— ...\n"
SEALED = "T1pHVgEAAQIDBAUGBwgJCgsMDQ4PAAEAAAAAAAAAAAAAAQI"  # a vault envelope's start, base64url
ED25519_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "3XoLqxyT-z3ZLZFBfqJmAzlGBFkVFSPay2prZ2KFcj8",
    "kid": "p_gkddUxQldXzg2P-W1B8C2vh5fJHATj0gRPq_MWdfY",
    "alg": "EdDSA",
    "use": "sig",
}
RSA_SIG_JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "n": "urzWGkf2dS0s-32svQ4i7tdKuqwPVQtrXGY3TQHF5nwF-sY5g1gtCkfdJS86Ntr5Vo...",
    "kid": "C4fnfY7nPZxjM_FBR9mvbSIEC6fmJ_TokvIVxLYLkDI",
    "alg": "PS512",
    "use": "sig",
    "key_ops": ["verify"],
}
P256_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8TLjYrQq1y2Zk",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
TEXT_TF = {"de": "Landkreis Teltow-Fläming", "en": "Teltow-Fläming District"}
ADDRESS_TF = {
    "street": "Am Nuthefließ",
    "houseNumber": "2",
    "postalCode": "14943",
    "city": "Luckenwalde",
}

# --------------------------------------------------------------------------- by field name
FIELD_EXAMPLES: dict[str, Any] = {
    "id": CASE_ID,
    "case_id": CASE_ID,
    "case_ref": CASE_ID,
    "caseId": FIT_CASE_ID,
    "fit_connect_case_id": FIT_CASE_ID,
    "submission_id": SUBMISSION_ID,
    "destinationId": DESTINATION_ID,
    "attachmentId": ATTACHMENT_ID,
    "payment_id": PAYMENT_ID,
    "paymentId": PAYMENT_ID,
    "quote_id": QUOTE_ID,
    "refund_id": "0193c2b0-4d5e-7f60-8172-93a4b5c6d7e8",
    "document_id": DOCUMENT_ID,
    "message_id": "0193c2b1-aaaa-7bbb-8ccc-ddddeeeeffff",
    "account_id": SUBJECT,
    "subject": SUBJECT,
    "recipient_subject": SUBJECT,
    "data_subject": SUBJECT,
    "granted_by": SUBJECT,
    "request_id": REQUEST_ID,
    "authority": "tf",
    "recipient_authority": "tf",
    "sender_authority": "tf",
    "shared_with": ["tf"],
    "region": "12072",
    "flow_id": "employment",
    "flow": "employment",
    "flow_version": "1.0.0",
    "flow_client": "demo-flow",
    "allow_client": "demo-flow",
    "client_id": "demo-flow",
    "sender_client_id": None,
    "state": "draft",
    "from_state": None,
    "to_state": "draft",
    "actor_kind": "applicant",
    "reason": "created",
    "outcome": None,
    "document_type": "passport",
    "documentType": "passport",
    "document_types": ["health_insurance"],
    "kid": "p256:3Jc1kQm9W0bq8x2Yv7Zt4Rr6Nn5Ll1Hh0Gg9Ff8Ee7",
    "kind": "submission",
    "amount_cents": 10000,
    "amount_due_cents": 10000,
    "quoted_cents": 10000,
    "paid_cents": 10000,
    "refunded_cents": 5000,
    "rejection_fee_cents": 5000,
    "currency": "EUR",
    "kassenzeichen": "TF-2026-000123",
    "case_reference": CASE_ID,
    "payment_url": f"http://127.0.0.1:8000/v1/payments/sandbox/{PAYMENT_ID}",
    "return_url": "https://portal.example/cases/return",
    "payment_method": "sandbox-card",
    "provider": "sandbox",
    "procedure": "issue",
    "catalogue_version": "2026-01",
    "legal_basis": "§ 45 Nr. 1 AufenthV",
    "legal_reference": "§ 45 Nr. 1 AufenthV",
    "label": "Gebühr für die Erteilung einer Aufenthaltserlaubnis (bis 1 Jahr)",
    "purpose": "processing an application for a residence title",
    "nationality": "TUR",
    "applicant_age": 24,
    "permit_type": "residence_permit",
    "duration_months": 24,
    "title": "Neue Nachricht von Landkreis Teltow-Fläming / New message from Teltow-Fläming",
    "body": "Ihr Antrag ist eingegangen. / Your application was received.",
    "message": SEALED,
    "letter": SEALED,
    "case_hash": "9f2c" + "0" * 124,
    "origin": "127.0.0.1:8000/ozg-commons/audit-log",
    "verifier_key": "127.0.0.1:8000/ozg-commons/audit-log+1090b0b5+ASoo6xSoWUOpbjdnAJz1I7",
    "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "leaf": "MjAyNi0xMi0wMVQwOTozMDowMFogY2FzZXMuY2FzZS5jcmVhdGUK",
    "signature_line": "— witness.example/log 3Hh1JX2A9c0mVQ...",
    "name": "preferred_language",
    "value": "de",
    "text_version": "2026-12-01",
    "key_name": "passport",
    "wrapped_by_passphrase": "eyJhbGciOiJQQkVTMi1IUzUxMitBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIn0...",
    "wrapped_by_recovery": "eyJhbGciOiJQQkVTMi1IUzUxMitBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIn0...",
    "encryptedMetadata": JWE,
    "encryptedData": JWE,
    "receipt": JWS,
    "public_jwk": P256_JWK,
    "jwk": P256_JWK,
    "roles": ["applicant"],
    "failure_code": None,
    "review_reason": None,
    "identifier": "urn:de:fim:leika:leistung:99010003001000",
    "size": 48213,
    "envelope_size": 48731,
    "used_bytes": 48731,
    "quota_bytes": 524288000,
    "max_document_bytes": 20971520,
}  # fmt: skip
DATE_TIME = AT
DATE = "2026-12-01"


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_for(
    schema: dict[str, Any], components: dict[str, Any], name: str | None = None, depth: int = 0
) -> Any:
    """A value that validates against ``schema``: a declared example, else one built from
    :data:`FIELD_EXAMPLES` (by ``name``), the enum, const, format or type."""
    schema = resolve(schema, components)
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [b for b in schema[key] if resolve(b, components).get("type") != "null"]
            nullable = len(branches) < len(schema[key])
            if nullable and FIELD_EXAMPLES.get(name or "") is None:  # null unless it says so
                return None
            return example_for((branches or schema[key])[0], components, name, depth)
    if "allOf" in schema:
        return example_for(schema["allOf"][0], components, name, depth)
    if name is not None and FIELD_EXAMPLES.get(name) is not None:
        return FIELD_EXAMPLES[name]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        props = schema.get("properties", {})
        return {key: example_for(sub, components, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        item = example_for(schema.get("items", {}), components, _singular(name), depth + 1)
        return [item] * count
    if kind == "boolean":
        return False
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1.0)), 1.0)
    if kind == "string":
        return {"date-time": DATE_TIME, "date": DATE, "binary": "(binary)"}.get(
            schema.get("format", ""), "example"
        )
    return None


def _singular(name: str | None) -> str | None:
    return name[:-1] if name and name.endswith("s") else name


# --------------------------------------------------------------------------- problems
_PROBLEMS: dict[int, OzgError] = {
    401: Unauthorized("the access token has expired"),
    403: Forbidden("this operation needs one of the roles: applicant"),
    404: NotFound("no such case"),
    408: RequestTimeout("the request body did not arrive in time"),
    409: Conflict("the case was submitted; only a draft can be changed"),
    413: PayloadTooLarge("the request body exceeds the limit"),
    503: ServiceUnavailable(
        "the database is not available at the moment; retry later", dependency="database"
    ),
}


def problem_example(status: int) -> dict[str, Any]:
    """The problem document the gateway answers with for ``status``, as its handlers build
    it (``gateway.problems``) from the error classes that raise it."""
    if status == 422:
        return {
            "type": "urn:ozg-commons:problem:validation",
            "title": "Invalid request",
            "status": 422,
            "detail": "The request does not match what this endpoint accepts; see 'errors'.",
            "request_id": REQUEST_ID,
            "errors": [{"loc": ["body", "flow_id"], "msg": "Field required", "type": "missing"}],
        }
    if status == 400:  # FastAPI's own refusal of a body it cannot decode
        return {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "There was an error parsing the body",
            "request_id": REQUEST_ID,
        }
    error = _PROBLEMS.get(status)
    if error is None:  # 500 and anything else: the middleware's opaque problem
        return {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": "An unexpected error occurred; quote the request id.",
            "request_id": REQUEST_ID,
        }
    return {
        "type": error.type_uri,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "request_id": REQUEST_ID,
    }
