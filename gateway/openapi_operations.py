"""The examples of operations whose bodies are free-form or streamed, keyed by
``"METHOD /path"`` (see :mod:`gateway.openapi_examples` for where examples come from), and
the problem statuses only that operation answers (``"problems"``), beyond those every
operation of its shape gets (:func:`gateway.openapi.generic_statuses`)."""

from __future__ import annotations

from typing import Any

from gateway.openapi_examples import (
    ADDRESS_TF,
    AT,
    ATTACHMENT_ID,
    CASE_ID,
    CHECKPOINT,
    DESTINATION_ID,
    ED25519_JWK,
    FIELD_EXAMPLES,
    FIT_CASE_ID,
    JSON,
    JWE,
    JWS,
    PAYMENT_ID,
    REQUEST_ID,
    RSA_SIG_JWK,
    SUBJECT,
    SUBMISSION_ID,
    TEXT_TF,
)

# The metadata-only read (docs/envelope.md §13): the ``three-chunks`` item of
# tests/vectors/vault-metadata-v1.json, its 5484-character record shortened here.
_SEALED_HEADER = (
    "T1pHVgFDREVGR0hJSotMTU5PUFFSAAAQAFNUVVZXWFkAAQIrLUtBSHJYSUxHc0RxNGxpbzFYOHQwd3pkQmxY"
    "UFJ1NUhYUVVSaDYtVW0xTQBpBMkXFLmL6PXZW9ec584qm8ul+hTOuKc/qFZVUIeVJvCbpmXmaKtRMUKiP0Yp"
    "/OtuxUezSV33wLGuQCmzxzGM9XcqznKWigX5WZtlNL9fFGwq7kMk+H0rAJdLZeCmqLI6aPX/wPAUcQLrtn8y"
    "AsQQN+1lR9gWbPjqiweTpm38IID0EkPUt/xVfi0="
)
_SEALED_ITEM: dict[str, Any] = {
    "format": "ozg-vault metadata v1",
    "id": "43444546-4748-494a-8b4c-4d4e4f505152",
    "envelope_size": 14618,
    "header": _SEALED_HEADER,
    "metadata_record": "AK6o2sm7i1f3ngcrGut6G8kyZz4cOY++NsJZCZnI...",
    "stanza": None,
}
_CASEWORKER_STANZA = (
    "AitzdmhjLWFDcE9UblYwMTJLcEFWa3Q0Y3pnVzZEZDd0VHBVbnRVa2tRX3Y4AGkEjrEl6r3vp5C/zfij6cqK"
    "pJ6Oh2JR9Jc6LCkFTyNnHnHBVugNj3PMKI4UMPJAtnzP+62zy58IQfNp1+fy2+4hTkL7xuNt22OtfZutING5"
    "0CSUXoozx6LLKtnZ7MYXCwYSIvQxC2jnx/k="
)


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
        "problems": [400],  # what the FIT-Connect Routing API refuses, as it does
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
        },
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
        "request": {"application/jose": JWE},
        "problems": [415],  # anything but application/jose
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
    "GET /v1/audit/checkpoint": {"problems": [404]},  # before the first checkpoint
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
                },
                # format=csv
                "text/csv": "(CSV with a header line: one row per entry, the fields of the "
                "JSON entries without the proof, and checkpoint_size)",
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
                    "about": {
                        lang: {
                            "title": title,
                            "processing": [
                                {
                                    "id": "account",
                                    "name": name,
                                    "what": ["identifier", "profile", "consent", "message"],
                                    "why": why,
                                    "legal_basis": "Art. 6(1)(e) GDPR with § 3, § 9 OZG",
                                    "recipients": ["immigration authority (messages it sent)"],
                                    "how_long": how_long,
                                }
                            ],
                        }
                        for lang, title, name, why, how_long in (
                            (
                                "en",
                                "What we hold about you, why, and for how long",
                                "Applicant account and mailbox",
                                "Deliver the authority's messages",
                                "until erasure on request, or after dormancy",
                            ),
                            (
                                "de",
                                "Was wir über Sie speichern, warum und wie lange",
                                "Nutzerkonto und Postfach",
                                "Nachrichten der Behörde zustellen",
                                "bis zur Löschung auf Ihren Wunsch oder nach langer Nichtnutzung",
                            ),
                        )
                    },
                    "domains": {"account": {}, "cases": {}},
                }
            }
        }
    },
    # ---------------------------------------------------------------- payments and vault
    "POST /v1/payments/notifications/{provider}/{authority}": {
        "problems": [401],  # a signature that does not verify
        # the provider's own shape, signed (docs/payments.md); here the sandbox's
        "request": {
            JSON: {
                "kind": "status",
                "event_id": "evt-000123",
                "transaction_id": "sbx-7f3e2a",
                "status": "BOOKED",
                "payment_method": "sandbox-card",
            }
        },
    },
    "GET /v1/payments/{payment_id}/return": {"responses": {"303": None}, "drop": ["200"]},
    "GET /v1/payments/{payment_id}/receipt": {
        "problems": [409],  # not booked (yet)
        "responses": {"200": {"application/pdf": "(the payment receipt, a PDF)"}},
    },
    "GET /v1/payments/{payment_id}/receipt.jws": {
        "problems": [409],  # not booked (yet)
        "responses": {"200": {"application/jose": JWS}},
    },
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
    "GET /v1/vault/documents/metadata": {
        "responses": {
            "200": {
                JSON: {
                    "documents": [_SEALED_ITEM],
                    "next_cursor": "WyIyMDI2LTEyLTAxVDA5OjMwOjAwKzAwOjAwIiwgIjQzNDQ0NTQ2LTQ3"
                    "NDgtNDk0YS04YjRjLTRkNGU0ZjUwNTE1MiJd",
                }
            }
        }
    },
    "GET /v1/vault/documents/{document_id}/metadata": {
        # a caseworker's answer: the authority's detached stanza comes with it
        "responses": {"200": {JSON: {**_SEALED_ITEM, "stanza": _CASEWORKER_STANZA}}}
    },
}
