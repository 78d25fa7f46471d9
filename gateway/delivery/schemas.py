"""The Submission API's request and response shapes (camelCase, as FIT-Connect).

Be liberal in what you accept: unknown members of a request are ignored, the older
``serviceType`` is an alias of ``publicService``. The one exception is the ozg-commons
manifest (``ozgManifest``), which is closed: a member it does not define is refused, so
that nothing (a file name, a form value) can ride along in plaintext.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commons.text import RequestModel

MANIFEST_FORMAT = "ozg-manifest/1"
_TOKEN = re.compile(r"[a-z][a-z0-9-]{0,63}")
_DOCUMENT_TYPE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: str) -> str:
    """A UUID in canonical lower-case form (FIT-Connect ids), or ValueError."""
    if not isinstance(value, str) or not _UUID_TEXT.fullmatch(value.lower()):
        raise ValueError("must be a UUID (8-4-4-4-12 hex digits)")
    return str(uuid.UUID(value))


class PublicService(RequestModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=500)
    identifier: str = Field(min_length=1, max_length=255)


class ManifestPart(RequestModel):
    """One announced part: an attachment (by id), or the ``data`` or ``metadata`` JWE."""

    model_config = ConfigDict(populate_by_name=True)

    attachment_id: str | None = Field(default=None, alias="attachmentId")
    part: Literal["data", "metadata"] | None = None
    document_type: str = Field(alias="documentType")
    size: int = Field(ge=0, le=2**41)

    @field_validator("attachment_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return None if value is None else canonical_uuid(value)

    @field_validator("document_type")
    @classmethod
    def _token(cls, value: str) -> str:
        if not _DOCUMENT_TYPE.fullmatch(value):
            raise ValueError("documentType is lower-case letters, digits, '_' and '-', at most 64")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> ManifestPart:
        if (self.attachment_id is None) == (self.part is None):
            raise ValueError("a part has exactly one of attachmentId or part")
        return self


class Manifest(RequestModel):
    """The ozg-commons submission manifest, format ``ozg-manifest/1`` (docs/delivery.md)."""

    model_config = ConfigDict(populate_by_name=True)

    format: Literal["ozg-manifest/1"]
    case_id: str = Field(alias="caseId")
    flow: str
    authority: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    payment_id: str | None = Field(default=None, alias="paymentId")
    parts: list[ManifestPart] = Field(min_length=1, max_length=10_002)

    @field_validator("flow")
    @classmethod
    def _flow(cls, value: str) -> str:
        if not _TOKEN.fullmatch(value):
            raise ValueError("flow is lower-case letters, digits and '-', at most 64")
        return value

    @field_validator("payment_id")
    @classmethod
    def _payment(cls, value: str | None) -> str | None:
        return None if value is None else canonical_uuid(value)

    @field_validator("case_id")
    @classmethod
    def _case(cls, value: str) -> str:
        return canonical_uuid(value)

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        keys = [p.attachment_id or p.part for p in self.parts]
        if len(keys) != len(set(keys)):
            raise ValueError("each attachment, data and metadata appears at most once")
        if "metadata" not in keys:
            raise ValueError("the metadata part is required")
        return self

    def attachment_parts(self) -> dict[str, ManifestPart]:
        return {p.attachment_id: p for p in self.parts if p.attachment_id is not None}


class CreateSubmission(RequestModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    destination_id: str = Field(alias="destinationId")
    announced_attachments: list[str] = Field(default_factory=list, alias="announcedAttachments")
    public_service: PublicService | None = Field(default=None, alias="publicService")
    service_type: PublicService | None = Field(default=None, alias="serviceType")
    region: Annotated[str, Field(max_length=64)] | None = None
    bidirectional: bool = False
    ozg_manifest: Manifest | None = Field(default=None, alias="ozgManifest")

    @field_validator("destination_id")
    @classmethod
    def _destination(cls, value: str) -> str:
        return canonical_uuid(value)

    @field_validator("announced_attachments")
    @classmethod
    def _attachments(cls, value: list[str]) -> list[str]:
        ids = [canonical_uuid(v) for v in value]
        if len(ids) != len(set(ids)):
            raise ValueError("announcedAttachments holds an id twice")
        return ids

    @model_validator(mode="after")
    def _service(self) -> CreateSubmission:
        if self.public_service is None and self.service_type is None:
            raise ValueError("publicService (or the older serviceType) is required")
        return self

    @property
    def service(self) -> PublicService:
        service = self.public_service or self.service_type
        if service is None:  # pragma: no cover - refused by _service
            raise ValueError("publicService is required")
        return service


class SubmissionCreated(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    submission_id: str = Field(alias="submissionId")
    case_id: str = Field(alias="caseId")
    destination_id: str = Field(alias="destinationId")


class SubmitSubmission(RequestModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    encrypted_metadata: str = Field(alias="encryptedMetadata", min_length=1)
    encrypted_data: str | None = Field(default=None, alias="encryptedData")
