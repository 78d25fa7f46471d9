"""The vault API's shapes (pydantic). Nothing here is plaintext of a document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from commons.text import MAX_INT64, Identifier, RequestModel


class DocumentOut(BaseModel):
    id: str
    envelope_size: int
    created_at: datetime
    shared_with: list[str] = Field(default_factory=list)


class SealedMetadataOut(BaseModel):
    """What a device needs to decrypt one document's name, type and size, and nothing of
    its content (``ozg-vault metadata v1``, docs/envelope.md §13)."""

    format: Literal["ozg-vault metadata v1"] = Field(
        description="The version of this shape; a client refuses any other"
    )
    id: str = Field(description="The document id (the header must name the same)")
    envelope_size: int = Field(description="The envelope's length in bytes (gives the chunks)")
    header: str = Field(description="base64 of the envelope header, exactly (envelope.md §2)")
    metadata_record: str = Field(
        description="base64 of the metadata record, the envelope's last 4112 bytes (§6)"
    )
    stanza: str | None = Field(
        description="A caseworker: base64 of their authority's detached stanza (§4); "
        "the owner: null (their stanza is in the header)"
    )


class SealedMetadataPage(BaseModel):
    documents: list[SealedMetadataOut]
    next_cursor: str | None = Field(description="The next page's cursor; null after the last")


class UploadIn(RequestModel):
    size: int = Field(ge=1, le=MAX_INT64, description="The whole envelope's length in bytes")


class UploadOut(BaseModel):
    id: str
    size: int
    offset: int = Field(description="Bytes received and stored so far: where the next piece starts")
    piece_bytes: int = Field(description="The most bytes one PUT may carry")
    expires_at: datetime


class WrappedKeyOut(BaseModel):
    document_id: str
    authority: str
    kid: str
    stanza: str = Field(description="base64 of the detached recipient stanza (docs/envelope.md)")


class ShareIn(RequestModel):
    stanza: Identifier = Field(max_length=4096, description="base64 of a detached recipient stanza")


class ApplicantKeyIn(RequestModel):
    public_jwk: dict[str, Any]
    wrapped_by_passphrase: Identifier = Field(max_length=4096)
    wrapped_by_recovery: Identifier = Field(max_length=4096)


class ApplicantKeyRewrap(RequestModel):
    kid: str
    wrapped_by_passphrase: Identifier | None = Field(default=None, max_length=4096)
    wrapped_by_recovery: Identifier | None = Field(default=None, max_length=4096)


class ApplicantKeyOut(BaseModel):
    kid: str
    public_jwk: dict[str, Any]
    wrapped_by_passphrase: str
    wrapped_by_recovery: str


class AuthorityKeyIn(RequestModel):
    jwk: dict[str, Any]


class AuthorityKeyOut(BaseModel):
    authority: str
    kid: str
    jwk: dict[str, Any]
    not_after: datetime
    retires_at: datetime | None


class DeletionReceipt(BaseModel):
    """``receipt`` is the signed compact JWS (docs/receipts.md); ``claims`` repeats what it
    attests, for reading, and is not itself signed."""

    receipt: str
    kind: str
    claims: dict[str, Any]


class UsageOut(BaseModel):
    used_bytes: int
    quota_bytes: int
    max_document_bytes: int
