"""The account API's shapes (pydantic)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from commons.text import FreeText, Identifier, RequestModel

Category = Literal["request-for-documents", "decision", "status", "payment"]
TrustLevelName = Literal["basis", "substantiell", "hoch"]
AttributeName = Literal[
    "given_name", "family_name", "birthdate", "nationality", "address", "email", "locale"
]


class AttributeOut(BaseModel):
    name: str
    value: str
    source: Literal["idp", "applicant"]
    trust_level: TrustLevelName | None
    updated_at: datetime


class MeOut(BaseModel):
    subject: str
    roles: list[str]
    trust_level: TrustLevelName
    authority: str | None
    client_id: str | None
    account_id: str | None
    created_at: datetime | None
    email_notifications: bool
    attributes: list[AttributeOut]


class AttributeIn(RequestModel):
    value: FreeText = Field(min_length=1, max_length=1000)


class NotificationsIn(RequestModel):
    email_notifications: bool


class LoginOut(BaseModel):
    authenticated_at: datetime
    first_used_at: datetime
    trust_level: TrustLevelName


class ConsentIn(RequestModel):
    purpose: Identifier = Field(min_length=1, max_length=255)
    legal_basis: FreeText = Field(min_length=1, max_length=255)
    recipient_authority: Identifier | None = Field(default=None, max_length=64)
    text_version: Identifier = Field(min_length=1, max_length=64)


class ConsentOut(BaseModel):
    id: str
    purpose: str
    legal_basis: str
    recipient_authority: str | None
    text_version: str
    given_at: datetime
    withdrawn_at: datetime | None


BodyFormat = Literal["text", "ozg-envelope"]
MAX_TEXT_BODY = 100_000
MAX_SEALED_BODY = 1_398_102  # base64url of a 1 MiB envelope
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class MessageIn(RequestModel):
    recipient_subject: Identifier = Field(min_length=1, max_length=255)
    title: FreeText = Field(min_length=1, max_length=1024)
    body: FreeText = Field(min_length=1, max_length=MAX_SEALED_BODY)
    body_format: BodyFormat = Field(
        default="text",
        description="text, or ozg-envelope: a vault envelope sealed on the sender's device to "
        "the applicant's vault key, as base64url without padding.",
    )
    category: Category
    document_refs: list[Identifier] = Field(default_factory=list, max_length=100)
    case_ref: Identifier | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _body_fits_its_format(self) -> MessageIn:
        if self.body_format == "text" and len(self.body) > MAX_TEXT_BODY:
            raise ValueError(f"a text body has at most {MAX_TEXT_BODY} characters")
        if self.body_format == "ozg-envelope" and not _BASE64URL.match(self.body):
            raise ValueError("an ozg-envelope body is base64url text without padding")
        return self


class MessageSummary(BaseModel):
    id: str
    title: str
    category: Category
    sender_authority: str | None
    sender_client_id: str | None
    case_ref: str | None
    sent_at: datetime
    read_at: datetime | None
    archived_at: datetime | None


class MessageOut(MessageSummary):
    body: str
    body_format: BodyFormat = "text"
    document_refs: list[str]


class SentMessage(BaseModel):
    id: str
    sent_at: datetime


class ErasureIn(RequestModel):
    confirm: Literal["erase my account"] = Field(
        description='Type exactly "erase my account" to confirm.'
    )
