"""Pydantic shapes of the cases API. No shape carries a form value."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commons.text import RequestModel
from payments import QuoteOut

ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
DOCUMENT_TYPE = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
SEALED = Field(
    min_length=1,
    max_length=23_000_000,  # the configured size limit is checked on the decoded bytes
    pattern=r"^[A-Za-z0-9_-]+$",
    description="A vault envelope (docs/envelope.md) sealed on the sender's device to the "
    "applicant's vault key, as base64url without padding.",
)
Status = Literal["INITIATED", "SUBMITTED", "RECEIVED", "PROCESSING", "ACTION_REQUIRED", "COMPLETED"]


class CaseIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"flow_id": "employment", "allow_client": "demo-flow"}],
        },
    )
    flow_id: str = ID
    allow_client: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The client id of an external flow the applicant allows to act within "
        "this case (it then needs the scopes cases:read / cases:write).",
    )


class FlowClientIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"client_id": "demo-flow"}]})
    client_id: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The OAuth client id of the external flow (docs/flows.md, section 9).",
    )


class TimelineOut(BaseModel):
    from_state: str | None
    to_state: str
    status: Status
    at: datetime
    actor_kind: str
    reason: str


class LinkedDocumentOut(BaseModel):
    document_id: str
    document_type: str
    provided_at: datetime


class DocumentRequestOut(BaseModel):
    id: str
    message_id: str
    document_types: list[str]
    requested_at: datetime
    answered_at: datetime | None


_CASE_EXAMPLE: dict[str, Any] = {
    "id": "0193c2a4-7a10-7c3e-8f21-5b9d0c4e6a11",
    "flow_id": "employment",
    "flow_version": "1.0.0",
    "authority": "tf",
    "state": "draft",
    "status": "INITIATED",
    "outcome": None,
    "created_at": "2026-12-01T09:30:00Z",
    "last_change_at": "2026-12-01T09:41:12Z",
    "fit_connect_case_id": None,
    "submission_id": None,
}


class CaseSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})
    id: str
    flow_id: str
    flow_version: str
    authority: str | None
    state: str
    status: Status
    outcome: str | None
    created_at: datetime
    last_change_at: datetime
    fit_connect_case_id: str | None = Field(
        default=None, description="The FIT-Connect case id (caseId) once submitted."
    )
    submission_id: str | None = Field(
        default=None, description="The FIT-Connect submission id once submitted."
    )


class CaseOut(CaseSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE_EXAMPLE,
                    "flow_client": "demo-flow",
                    "quote_id": "0193c2a4-f001-7a2b-8c3d-4e5f60718293",
                    "payment_id": None,
                    "refund_id": None,
                    "waiver_requested": False,
                    "waiver_decision": None,
                    "fee_facts": {"applicant_age": 24, "nationality": "TUR", "benefits": "none"},
                    "has_draft": True,
                    "draft_expires_at": "2027-03-01T09:41:12Z",
                    "submitted_at": None,
                    "decided_at": None,
                    "documents": [],
                    "document_requests": [],
                    "timeline": [
                        {
                            "from_state": None,
                            "to_state": "draft",
                            "status": "INITIATED",
                            "at": "2026-12-01T09:30:00Z",
                            "actor_kind": "applicant",
                            "reason": "created",
                        }
                    ],
                }
            ]
        }
    )
    flow_client: str | None
    quote_id: str | None
    payment_id: str | None
    refund_id: str | None
    waiver_requested: bool
    waiver_decision: str | None
    fee_facts: dict[str, Any] | None
    has_draft: bool
    draft_expires_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    documents: list[LinkedDocumentOut]
    document_requests: list[DocumentRequestOut]
    timeline: list[TimelineOut]


class AuthorityIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"authority": "tf"}]})
    authority: str = ID


class FeeFactsIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "facts": {
                        "applicant_age": 24,
                        "nationality": "TUR",
                        "association_rights": False,
                        "benefits": "none",
                        "express": False,
                        "duration_months": 24,
                    },
                    "waiver_requested": False,
                }
            ]
        },
    )
    facts: dict[str, Any] = Field(
        description="Exactly the case facts the flow's fee mapping declares (GET /v1/flows/"
        "{id}: fee.facts), as derived on the device and shown to the applicant."
    )
    waiver_requested: bool = Field(
        default=False, description="The applicant asks the authority for a hardship waiver."
    )


class FeeFactsOut(BaseModel):
    case_id: str
    fee_facts: dict[str, Any]
    waiver_requested: bool
    quote: QuoteOut


class PaymentLinkIn(RequestModel):
    payment_id: str = Field(min_length=1, max_length=36)


class DocumentLinkIn(RequestModel):
    document_id: str = Field(min_length=1, max_length=36)
    document_type: str = DOCUMENT_TYPE


class DocumentsIn(RequestModel):
    documents: list[DocumentLinkIn] = Field(min_length=1, max_length=100)


# --------------------------------------------------------------------------- authority
# The first bytes of a vault envelope (docs/envelope.md: "OZGV", version 1, ...), base64url.
_SEALED_EXAMPLE = "T1pHVgEAAQIDBAUGBwgJCgsMDQ4PAAEAAAAAAAAAAAAAAQI"


class RequestDocumentsIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"document_types": ["health_insurance"], "message": _SEALED_EXAMPLE},
            ]
        },
    )
    document_types: list[str] = Field(
        min_length=1,
        max_length=20,
        description="The flow's document types the applicant is asked for (GET /v1/flows/"
        "{id}: documents[].type).",
    )
    message: str = SEALED


class DecisionIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"outcome": "approved", "letter": _SEALED_EXAMPLE},
                {"outcome": "rejected", "letter": _SEALED_EXAMPLE},
            ]
        },
    )
    outcome: Literal["approved", "rejected"]
    letter: str = Field(
        min_length=1,
        max_length=23_000_000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The decision letter (a PDF) as a vault envelope sealed on the authority's "
        "device to the applicant's vault key (GET /v1/authority/cases/{id}/applicant-key), "
        "base64url without padding.",
    )


class WaiverDecisionIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"decision": "granted"}]})
    decision: Literal["granted", "refused"]


class CaseApplicantKeyOut(BaseModel):
    """The applicant's public vault key, to seal a message or a decision letter to."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "0190a0b0-c0d0-7e00-8f00-000000000001",
                    "kid": "p256:3Jc1…",
                    "public_jwk": {"kty": "EC", "crv": "P-256", "x": "…", "y": "…"},
                }
            ]
        }
    )
    case_id: str
    kid: str = Field(description="The key id the sealed envelope's one recipient must carry.")
    public_jwk: dict[str, Any]


class FeeAdjustmentOut(BaseModel):
    """What a rejection did to the fee (§ 49 AufenthV)."""

    rejection_fee_cents: int
    paid_cents: int
    refunded_cents: int
    refund_id: str | None
    currency: str


class DecisionOut(BaseModel):
    case: CaseOut
    fee_adjustment: FeeAdjustmentOut | None
