"""Shapes of the audit API (pydantic). Hashes and leaves are standard base64."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from commons.text import FreeText, Identifier, RequestModel


class CosignatureOut(BaseModel):
    key_name: str
    verifier_key: str
    line: str


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str = Field(description="base64 of the 32-byte RFC 6962 tree head")
    checkpoint: str = Field(description="the C2SP signed note, signed by the log")
    cosignatures: list[CosignatureOut]
    checkpoint_with_cosignatures: str = Field(
        description="the signed note with every stored cosignature line appended"
    )


class CheckpointRef(BaseModel):
    size: int
    root: str = Field(description="base64 of the 32-byte RFC 6962 tree head")
    created_at: datetime


class CheckpointListOut(BaseModel):
    checkpoints: list[CheckpointRef] = Field(description="newest first")
    next_before: int | None = Field(description="pass as ``before`` for the next page")


class LogKeyOut(BaseModel):
    origin: str
    verifier_key: str
    witness_keys: list[str]


class InclusionProofOut(BaseModel):
    index: int
    size: int
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    size1: int
    size2: int
    proof: list[str]


class LeafOut(BaseModel):
    index: int
    leaf: str


class LeavesOut(BaseModel):
    start: int
    end: int
    leaves: list[LeafOut]


class CosignatureIn(RequestModel):
    signature_line: FreeText = Field(max_length=1000, description="'\u2014 <name> <base64>'")
    verifier_key: Identifier | None = Field(
        default=None,
        max_length=500,
        description="a DPO's own verifier key; witnesses use the configured keys",
    )
