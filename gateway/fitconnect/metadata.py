"""FIT-Connect submission metadata: build it for a chosen schema version, validate it.

The versions are data (``schemas/versions.json``): each names its ``$schema`` URI and the
official JSON Schema file kept beside it (``schemas/SOURCES.md`` says where each came from).
A version without an official file is known but not supported: building or validating for it
raises ``ValueError``. Validation uses :mod:`jsonschema` with the draft that the schema's own
``$schema`` names, formats checked (``uuid``, ``date``, ``date-time``, ``email``, ``uri``),
and numbers read as :class:`~decimal.Decimal` so that ``multipleOf: 0.01`` is exact.

Hashes are sha512, lower-case hex, over the **unencrypted** bytes (what
:class:`gateway.fitconnect.jwe.Encrypted` reports as ``plaintext_sha512``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema
from jsonschema.exceptions import best_match

from gateway.fitconnect.errors import InvalidMetadata
from payments import money

Purpose = Literal["form", "attachment", "report"]


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    version: str
    schema_uri: str
    file: str | None
    dollar_schema: Literal["none", "optional", "required"]

    @property
    def supported(self) -> bool:
        return self.file is not None


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attachment as the metadata announces it (``contentStructure.attachments[]``)."""

    attachment_id: str  # UUID, as announced when the submission was created
    sha512: str  # hex, over the unencrypted bytes
    mime_type: str
    purpose: Purpose = "attachment"
    filename: str | None = None
    description: str | None = None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "hash": {"type": "sha512", "content": self.sha512},
            "purpose": self.purpose,
            "mimeType": self.mime_type,
            "attachmentId": self.attachment_id,
        }
        if self.filename is not None:
            item["filename"] = self.filename
        if self.description is not None:
            item["description"] = self.description
        return item


@cache
def versions() -> dict[str, SchemaVersion]:
    """Every known version, supported or not, from ``schemas/versions.json``."""
    raw = json.loads(
        resources.files("gateway.fitconnect").joinpath("schemas/versions.json").read_text()
    )
    return {
        v["version"]: SchemaVersion(v["version"], v["schemaUri"], v["file"], v["dollarSchema"])
        for v in raw["versions"]
    }


def supported_versions() -> list[str]:
    return [v.version for v in versions().values() if v.supported]


def _version(version: str) -> SchemaVersion:
    known = versions().get(version)
    if known is None or not known.supported:
        raise ValueError(
            f"metadata version {version!r} is not supported; supported: "
            + ", ".join(supported_versions())
        )
    return known


@cache
def _validator(version: str) -> jsonschema.protocols.Validator:
    entry = _version(version)
    assert entry.file is not None  # noqa: S101 - _version checked it
    text = resources.files("gateway.fitconnect").joinpath("schemas", entry.file).read_text("utf-8")
    schema = json.loads(text, parse_float=Decimal)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def version_of(doc: Mapping[str, Any]) -> str:
    """The version a document names in ``$schema``; 1.0.0 for a document without one."""
    uri = doc.get("$schema")
    if uri is None:
        return "1.0.0"
    for entry in versions().values():
        if entry.schema_uri == uri:
            return entry.version
    raise InvalidMetadata("$schema names no known metadata version")


def validate_metadata(doc: Mapping[str, Any], version: str | None = None) -> str:
    """Validate ``doc`` against ``version`` (default: the one its ``$schema`` names).

    Returns the version; raises :class:`InvalidMetadata` naming the first failing path.
    """
    version = version or version_of(doc)
    entry = _version(version)
    named = doc.get("$schema")
    if entry.dollar_schema == "required" and named is None:
        raise InvalidMetadata(f"$schema is required in metadata {version}")
    if named is not None and named != entry.schema_uri:
        raise InvalidMetadata(f"$schema does not name metadata {version}")
    try:
        normalized = money.loads(money.dumps(doc))
        error = best_match(_validator(version).iter_errors(normalized))
    except (TypeError, ValueError) as exc:
        raise InvalidMetadata("the metadata is not JSON") from exc
    except RecursionError:  # a sender's document nested deeper than we can walk
        raise InvalidMetadata("the metadata is nested too deeply") from None
    if error is not None:
        path = "/" + "/".join(str(p) for p in error.absolute_path)
        raise InvalidMetadata(f"{path}: {error.message}", path=path)
    return version


def build_metadata(
    version: str,
    *,
    data_hash: str,
    data_schema_uri: str,
    data_mime: str,
    attachments: Sequence[Attachment] = (),
    public_service: Mapping[str, str],
    payment_information: Mapping[str, Any] | None = None,
    reply_channel: Mapping[str, Any] | None = None,
    additional_reference_info: Mapping[str, Any] | None = None,
    authentication_information: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A metadata document of ``version``, validated before it is returned.

    ``data_hash`` is the sha512 hex of the unencrypted data; ``data_mime`` the mime type of
    its schema (``application/json`` or ``application/xml``); ``public_service`` has
    ``identifier`` (``urn:de:fim:leika:leistung:…``) and ``name``. ``payment_information``
    is payments' block (``transactionTimestamp`` included; ``grossAmount`` may be
    :class:`payments.money.Euros`). Serialize the result with :func:`dumps_metadata`.
    """
    entry = _version(version)
    if entry.version.split(".")[0] != "1":
        raise ValueError(f"metadata {version}: only the 1.x layout is implemented")
    doc: dict[str, Any] = {}
    if entry.dollar_schema != "none":
        doc["$schema"] = entry.schema_uri
    doc["contentStructure"] = {
        "data": {
            "hash": {"type": "sha512", "content": data_hash},
            "submissionSchema": {"schemaUri": data_schema_uri, "mimeType": data_mime},
        },
        "attachments": [a.as_json() for a in attachments],
    }
    doc["publicServiceType"] = dict(public_service)
    if payment_information is not None:
        doc["paymentInformation"] = dict(payment_information)
    if reply_channel is not None:
        doc["replyChannel"] = dict(reply_channel)
    if additional_reference_info is not None:
        doc["additionalReferenceInfo"] = dict(additional_reference_info)
    if authentication_information is not None:
        doc["authenticationInformation"] = [dict(a) for a in authentication_information]
    ids = [a.attachment_id for a in attachments]
    if len(set(ids)) != len(ids):
        raise InvalidMetadata("attachment ids must be unique", path="/contentStructure")
    validate_metadata(doc, version)
    return doc


def dumps_metadata(doc: Mapping[str, Any]) -> bytes:
    """The UTF-8 JSON bytes to encrypt (amounts as exact decimals)."""
    return money.dumps(doc).encode("utf-8")
