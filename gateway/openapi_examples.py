"""Examples for every operation of the OpenAPI document, in one place, and checked.

Where an example comes from, first match wins:

1. an example the route or its schema declares itself (pydantic ``json_schema_extra``
   ``examples``, or ``responses=`` / ``openapi_extra`` on the route);
2. :data:`OPERATIONS`, keyed by ``"METHOD /path"``: the bodies whose schema is free-form
   (``dict[str, Any]`` answers, FIT-Connect shapes, streamed bodies), and the media type a
   route really answers with where FastAPI guessed ``application/json``;
3. built from the schema (:func:`example_for`): each property's value from
   :data:`FIELD_EXAMPLES` by name, else from its enum, const, format or type; a nullable
   property without an entry is ``null``.

``tests/gateway/test_openapi_examples.py`` validates every example against its schema and
checks that each key of :data:`OPERATIONS` names a real operation, so the tables cannot drift
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
            if nullable and FIELD_EXAMPLES.get(name) is None:  # absent unless it says so
                return None
            return example_for((branches or schema[key])[0], components, name, depth)
    if "allOf" in schema:
        return example_for(schema["allOf"][0], components, name, depth)
    if name in FIELD_EXAMPLES and FIELD_EXAMPLES[name] is not None:
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
    503: ServiceUnavailable("the identity provider cannot be reached"),
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


# --------------------------------------------------------------------------- by operation
def _fit_created() -> dict[str, str]:
    return {"destinationId": DESTINATION_ID, "submissionId": SUBMISSION_ID, "caseId": FIT_CASE_ID}


_FLOW_SUMMARY: dict[str, Any] = {
    "id": "employment",
    "version": "1.0.0",
    "leika": "urn:de:fim:leika:leistung:99010003001000",
    "title": {
        "de": "Aufenthaltserlaubnis zur Beschäftigung als Fachkraft",
        "en": "Residence permit for employment as a skilled worker",
    },
    "summary": {"de": "Für Fachkräfte mit einer Stelle in Deutschland (§§ 18a, 18b AufenthG).",
                "en": "For skilled workers with a job in Germany (§§ 18a, 18b AufenthG)."},
    "audience": {"de": "Menschen aus Staaten außerhalb der EU.",
                 "en": "People from outside the EU."},
    "legal_basis": "§§ 18a, 18b AufenthG",
    "trust_levels": {"start": "basis", "submit": "substantiell"},
    "documents": [{"type": "passport", "title": {"de": "Pass", "en": "Passport"},
                   "description": None, "media_types": ["application/pdf", "image/jpeg"],
                   "required": True}],
    "fee": {"procedure": "issue", "express_available": True,
            "fixed": {"permit_type": "residence_permit"},
            "facts": {"nationality": {"from": "/applicant/nationality"}}},
}  # fmt: skip
_AUTHORITY: dict[str, Any] = {
    "id": "tf",
    "name": TEXT_TF,
    "destinationId": DESTINATION_ID,
    "ars": ["120720000000"],
    "ags": ["12072"],
    "flows": ["employment", "extension", "settlement", "family", "training"],
    "metadataVersions": ["1.0.0"],
    "replyChannels": ["eMail"],
    "encryptionKid": "GTeMbu5pPpJDnCnc0cU1LCnEvTDSRO9brRCuiNILgZE",
    "portal": {"shortName": "Ausländerbehörde Teltow-Fläming", "address": ADDRESS_TF,
               "email": "auslaenderbehoerde@teltow-flaeming.de",
               "privacyPolicyUrl": "https://www.teltow-flaeming.de/datenschutz"},
}  # fmt: skip
_ENCRYPTION_JWK: dict[str, Any] = {
    "kty": "RSA",
    "kid": "GTeMbu5pPpJDnCnc0cU1LCnEvTDSRO9brRCuiNILgZE",
    "alg": "RSA-OAEP-256",
    "key_ops": ["wrapKey"],
    "e": "AQAB",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF...",
    "x5c": ["MIIFazCCA1OgAwIBAgIU...(the leaf certificate, then the chain)"],
}
_SIGNED_RECEIPT = {
    "receipt": JWS,
    "kind": "submission",
    "claims": {"kind": "submission", "case_id": CASE_ID, "authority": "tf",
               "flow": "employment", "submitted_at": AT, "submission_sha512": "3a7f..."},
}  # fmt: skip
_AUDIT_ENTRY = {
    "id": "0193c2a4-7a11-7000-8000-000000000001",
    "at": AT,
    "request_id": REQUEST_ID,
    "actor_role": "applicant",
    "actor_authority": None,
    "actor_client_id": None,
    "action": "cases.case.create",
    "purpose": "processing an application for a residence title",
    "legal_basis": "§ 81 AufenthG; Art. 6(1)(e) GDPR",
    "outcome": "success",
    "disclosed_after": None,
    "commitment": "5be1c0...",
    "leaf_index": 41,
    "leaf": FIELD_EXAMPLES["leaf"],
    "inclusion_proof": None,
    "shredded": False,
    "data_subject": SUBJECT,
    "actor_subject": SUBJECT,
    "resource": f"cases/case/{CASE_ID}",
    "salt": "a1b2c3...",
}
_SET = (
    "eyJhbGciOiJQUzUxMiIsInR5cCI6InNlY2V2ZW50K2p3dCIsImtpZCI6IkxWUDBZbjFwYVpyWjV3MGR1dnBFWlRnIn0"
    ".eyJzdWIiOiJzdWJtaXNzaW9uOjZmMWMyZDNlLi4uIiwidHhuIjoiY2FzZToyYTNiNGM1ZC4uLiJ9.c2lnbmF0dXJl"
)

#: "METHOD /path" -> {"request"?: {media type: example}, "responses"?: {status: {media type:
#: example}}}. A media type other than the documented one replaces it (the route really
#: answers with it); a body no route declares (a streamed upload) is added with its example.
OPERATIONS: dict[str, dict[str, Any]] = {
    "GET /healthz": {"responses": {"200": {JSON: {"status": "ok"}}}},
    "GET /readyz": {
        "responses": {
            "200": {JSON: {"status": "ready", "checks": {"database": "ok", "object_store": "ok"}}}
        }
    },
    "GET /v1/receipts/keys": {"responses": {"200": {JSON: {"keys": [ED25519_JWK]}}}},
    "GET /v1/account/erasure-receipt-key": {"responses": {"200": {JSON: {"keys": [ED25519_JWK]}}}},
    "GET /v1/vault/receipt-key": {"responses": {"200": {JSON: {"keys": [ED25519_JWK]}}}},
    "GET /v1/flows": {"responses": {"200": {JSON: {"flows": [_FLOW_SUMMARY]}}}},
    "GET /v1/flows/{flow_id}": {
        "responses": {
            "200": {
                JSON: {
                    **_FLOW_SUMMARY,
                    "draft_retention_days": 90,
                    "processing": {
                        "purpose": "application for a residence permit for employment",
                        "legal_basis": "§§ 18a, 18b, 81 AufenthG",
                        "retention": "drafts: 90 days",
                        "data_categories": ["identity"],
                        "data_subjects": ["applicants"],
                        "recipients": ["the authority"],
                    },
                    "data_schema_uri": "urn:ozg-commons:flow:employment:1.0.0",
                    "unconfirmed": ["the LeiKa key is a placeholder"],
                    "schema": {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": {},
                    },
                    "summary_layout": {"format": "ozg-flow-summary/1", "sections": []},
                    "xauslaender": {"format": "ozg-flow-xauslaender/1", "mappings": []},
                }
            }
        }
    },
    "GET /v1/authorities": {"responses": {"200": {JSON: {"authorities": [_AUTHORITY]}}}},
    "GET /v1/authorities/{authority_id}": {"responses": {"200": {JSON: _AUTHORITY}}},
    "GET /v1/routes/keys": {"responses": {"200": {JSON: {"keys": [RSA_SIG_JWK]}}}},
    "GET /v1/routes": {
        "responses": {
            "200": {
                JSON: {
                    "count": 1,
                    "offset": 0,
                    "totalCount": 1,
                    "routes": [
                        {
                            "destinationId": DESTINATION_ID,
                            "destinationSignature": "eyJhbGciOiJQUzUxMiIsInR5cCI6Imp3dCJ9...",
                            "destinationName": "Landkreis Teltow-Fläming",
                            "destinationShortName": "Ausländerbehörde Teltow-Fläming",
                            "address": ADDRESS_TF,
                            "privacyPolicyUrl": "https://www.teltow-flaeming.de/datenschutz",
                            "accessibilityUrl": "https://www.teltow-flaeming.de/barrierefreiheit",
                            "requiredDocuments": {
                                "de": "<p>Gültiger Reisepass, ...</p>",
                                "en": "<p>Valid passport, ...</p>",
                            },
                            "processingDuration": {"min": 4, "max": 12, "unit": "weeks"},
                            "customParameters": {"authorityId": "tf", "flow": "employment"},
                        }
                    ],
                }
            }
        }
    },
    "GET /v1/cases/{case_id}/receipt": {"responses": {"200": {JSON: _SIGNED_RECEIPT}}},
    "GET /v1/cases/{case_id}/draft": {
        "responses": {"200": {"application/octet-stream": "(the sealed draft, binary)"}}
    },
    "PUT /v1/cases/{case_id}/draft": {
        "request": {"application/octet-stream": "(a vault envelope, binary)"}
    },
    # ---------------------------------------------------------------- FIT-Connect
    "GET /fit-connect/.well-known/jwks.json": {
        "responses": {
            "200": {
                JSON: {
                    "keys": [{**RSA_SIG_JWK, "kid": "LVP0Yn1paZrZ5w0duvPEZTg-xhOK3zvV2eM15g27KwM"}]
                }
            }
        }
    },
    "GET /fit-connect/v1/destinations/{destination_id}": {
        "responses": {
            "200": {
                JSON: {
                    "destinationId": DESTINATION_ID,
                    "status": "active",
                    "services": [
                        {
                            "identifier": "urn:de:fim:leika:leistung:99010003001000",
                            "submissionSchemas": [
                                {
                                    "schemaUri": "urn:ozg-commons:flow:employment:1.0.0",
                                    "mimeType": "application/json",
                                }
                            ],
                            "regions": [
                                "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:120720000000"
                            ],
                        }
                    ],
                    "encryptionKid": _ENCRYPTION_JWK["kid"],
                    "metadataVersions": ["1.0.0"],
                    "replyChannels": {"eMail": {"usePgp": False}},
                }
            }
        }
    },
    "GET /fit-connect/v1/destinations/{destination_id}/keys/{kid}": {
        "responses": {"200": {JSON: _ENCRYPTION_JWK}}
    },
    "POST /fit-connect/v1/submissions": {"responses": {"201": {JSON: _fit_created()}}},
    "GET /fit-connect/v1/submissions": {
        "responses": {
            "200": {
                JSON: {"count": 1, "offset": 0, "totalCount": 1, "submissions": [_fit_created()]}
            }
        }
    },
    "PUT /fit-connect/v1/submissions/{submission_id}/attachments/{attachment_id}": {
        "request": {"application/jose": JWE}
    },
    "GET /fit-connect/v1/submissions/{submission_id}/attachments/{attachment_id}": {
        "responses": {"200": {"application/jose": JWE}}
    },
    "PUT /fit-connect/v1/submissions/{submission_id}": {
        "responses": {"202": {JSON: {**_fit_created(), "ozgReceipt": JWS}}}
    },
    "GET /fit-connect/v1/submissions/{submission_id}": {
        "responses": {
            "200": {
                JSON: {
                    **_fit_created(),
                    "attachments": [ATTACHMENT_ID],
                    "publicService": {
                        "name": "Aufenthaltserlaubnis zur Beschäftigung",
                        "identifier": "urn:de:fim:leika:leistung:99010003001000",
                    },
                    "serviceType": {
                        "name": "Aufenthaltserlaubnis zur Beschäftigung",
                        "identifier": "urn:de:fim:leika:leistung:99010003001000",
                    },
                    "encryptedMetadata": JWE,
                    "encryptedData": JWE,
                }
            }
        }
    },
    "GET /fit-connect/v1/cases/{case_id}/events": {
        "responses": {"200": {JSON: {"eventLog": [_SET]}}}
    },
    "POST /fit-connect/v1/cases/{case_id}/events": {"request": {"application/jose": _SET}},
    # ---------------------------------------------------------------- audit and account
    "GET /v1/audit/entries": {
        "responses": {"200": {JSON: {"entries": [_AUDIT_ENTRY], "next_cursor": None}}}
    },
    "GET /v1/audit/summary": {
        "responses": {
            "200": {JSON: {"counts": {"cases.case.create": 12, "vault.document.read": 3}}}
        }
    },
    "GET /v1/audit/export": {
        "responses": {
            "200": {
                JSON: {
                    "format": "ozg-audit-export/v1",
                    "checkpoint": CHECKPOINT,
                    "verifier_key": FIELD_EXAMPLES["verifier_key"],
                    "entries": [_AUDIT_ENTRY],
                }
            }
        }
    },
    "GET /v1/me/access-log": {
        "responses": {
            "200": {
                JSON: {
                    "checkpoint": CHECKPOINT,
                    "verifier_key": FIELD_EXAMPLES["verifier_key"],
                    "entries": [
                        {
                            "at": AT,
                            "who": "tf",
                            "role": "caseworker",
                            "data_category": "application",
                            "what": {
                                "en": "Your application was read",
                                "de": "Ihr Antrag wurde gelesen",
                            },
                            "why": {
                                "purpose": "deciding the application",
                                "legal_basis": "§ 81 AufenthG",
                            },
                            "outcome": {"code": "success", "en": "done", "de": "erfolgt"},
                            "action": "cases.case.read",
                            "leaf_index": 41,
                            "leaf": FIELD_EXAMPLES["leaf"],
                            "inclusion_proof": ["p3Zs...="],
                        }
                    ],
                    "next_cursor": None,
                }
            }
        }
    },
    "DELETE /v1/me": {
        "responses": {
            "200": {
                JSON: {
                    "receipt": JWS,
                    "kind": "erasure",
                    "claims": {
                        "receipt_id": "0193c2c0-0000-7000-8000-000000000001",
                        "identity_issuer": "http://127.0.0.1:8000/dev-idp/realms/ozg-dev",
                        "subject_digest": "c2f1...",
                        "erased_at": AT,
                        "reason": "applicant-request",
                        "domains": [
                            {"domain": "vault", "deleted": 3, "shredded": 1, "retained": []}
                        ],
                        "retained": [
                            {
                                "record_type": "account_erasure",
                                "record_id": "0193c2c0-0000-7000-8000-000000000001",
                                "legal_basis": "Art. 5(2), Art. 17 GDPR",
                                "delete_after": "2029-12-01T09:30:00+00:00",
                            }
                        ],
                    },
                }
            }
        }
    },
    "GET /v1/me/export": {
        "responses": {
            "200": {
                JSON: {
                    "format": "ozg-personal-data-export/1",
                    "subject": SUBJECT,
                    "exported_at": AT,
                    "domains": {"account": {}, "cases": {}},
                }
            }
        }
    },
    # ---------------------------------------------------------------- payments and vault
    "POST /v1/payments/notifications/{provider}/{authority}": {
        # the provider's own shape, signed (docs/payments.md); here the sandbox's
        "request": {
            JSON: {
                "kind": "status",
                "event_id": "evt-000123",
                "transaction_id": "sbx-7f3e2a",
                "status": "BOOKED",
                "payment_method": "sandbox-card",
            }
        }
    },
    "GET /v1/payments/{payment_id}/return": {"responses": {"303": None}, "drop": ["200"]},
    "GET /v1/payments/{payment_id}/receipt": {
        "responses": {"200": {"application/pdf": "(the payment receipt, a PDF)"}}
    },
    "GET /v1/payments/{payment_id}/receipt.jws": {"responses": {"200": {"application/jose": JWS}}},
    "GET /v1/payments/{payment_id}/fit-connect": {
        "responses": {
            "200": {
                JSON: {
                    "transactionId": PAYMENT_ID,
                    "transactionReference": "TF-2026-000123",
                    "transactionTimestamp": AT,
                    "paymentMethod": "OTHER",
                    "status": "BOOKED",
                    "grossAmount": 100.00,
                }
            }
        }
    },
    "POST /v1/vault/documents": {
        "request": {"application/octet-stream": "(a vault envelope, binary)"}
    },
    "GET /v1/vault/documents/{document_id}/content": {
        "responses": {"200": {"application/octet-stream": "(the envelope, binary)"}}
    },
}
