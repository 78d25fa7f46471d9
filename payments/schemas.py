"""Pydantic shapes of the payments API. Amounts are integer cents with a currency."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from commons.text import Cents, Date, FreeText, Identifier, PositiveCents, RequestModel
from payments.fees import Benefit, Outcome, PermitType, Procedure, SettlementCategory

CASE_REFERENCE = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/-]+$")


class FeeRuleIn(RequestModel):
    procedure: Procedure
    express_available: bool = True


class CaseFactsIn(RequestModel):
    decision_date: Date | None = Field(
        default=None, description="Date the fee law is applied for; default: today (UTC)."
    )
    applicant_age: int = Field(ge=0, le=150)
    permit_type: PermitType | None = None
    duration_months: int | None = Field(default=None, ge=1, le=1200)
    settlement_category: SettlementCategory | None = None
    nationality: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    association_rights: bool = False
    benefits: Benefit = "none"
    recognised_refugee: bool = False
    express: bool = False
    outcome: Outcome = "grant"


class QuoteRequest(RequestModel):
    authority: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    case_reference: str = CASE_REFERENCE
    case_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64,128}$")
    data_subject: Identifier | None = Field(default=None, max_length=255)
    fee_rule: FeeRuleIn
    facts: CaseFactsIn


class FeeLineOut(BaseModel):
    code: str
    label: str
    legal_reference: str
    amount_cents: int
    unconfirmed: bool


class WaiverOut(BaseModel):
    kind: str
    amount_due_cents: int
    legal_basis: str
    granted_by: str
    granted_at: datetime


class QuoteOut(BaseModel):
    id: str
    authority: str
    case_reference: str | None
    quoted_cents: int
    amount_due_cents: int
    currency: str
    catalogue_version: str
    lines: list[FeeLineOut]
    applied: list[str]
    unconfirmed: bool
    waiver: WaiverOut | None = None
    created_at: datetime


class WaiverRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "exemption",
                    "amount_due_cents": 0,
                    "legal_basis": "§ 53 Abs. 2 AufenthV",
                    "reason": "hardship: benefits under SGB II",
                }
            ]
        },
    )
    kind: str = Field(pattern=r"^(exemption|reduction)$")
    amount_due_cents: Cents = Field(description="What remains to pay; 0 for an exemption.")
    legal_basis: FreeText = Field(min_length=3, max_length=255)
    reason: FreeText | None = Field(default=None, max_length=1000)


class PaymentRequestIn(RequestModel):
    quote_id: Identifier = Field(min_length=1, max_length=36)
    return_url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")


class PaymentOut(BaseModel):
    id: str
    quote_id: str
    authority: str
    provider: str
    kassenzeichen: str
    purpose: str
    amount_cents: int
    refunded_cents: int
    currency: str
    state: str
    payment_url: str | None
    payment_method: str | None
    failure_code: str | None
    needs_review: bool
    review_reason: str | None
    created_at: datetime
    booked_at: datetime | None


class RefundRequest(RequestModel):
    amount_cents: PositiveCents
    reason: FreeText | None = Field(default=None, max_length=1000)


class RefundOut(BaseModel):
    id: str
    payment_id: str
    amount_cents: int
    currency: str
    origin: str
    state: str
    created_at: datetime


class RefundDecision(RequestModel):
    accept: bool


class NotificationOut(BaseModel):
    outcome: str
