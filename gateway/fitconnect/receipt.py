"""The digest of a submission that the submission receipt attests (docs/receipts.md).

Pure and shared: the delivery service computes it over the JWEs as stored, the applicant's
client over the JWEs it sent, and anyone can recompute it from the ciphertexts.

Each part is ``{"part": "metadata" | "data" | "attachment", "attachment_id"?, "sha512",
"tag"}``: ``sha512`` the SHA-512 (lower-case hex) of the JWE compact serialization's ASCII
bytes exactly as submitted or uploaded, ``tag`` its fifth segment (the JWE authentication
tag, base64url). The order is metadata, data (if any), then the attachments by id. The
``submission_sha512`` is the SHA-512 (hex) of the RFC 8785 canonical JSON of that list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from commons.encoding import canonical_json

HASH_ALG = "sha512"


def jwe_sha512(compact: str | bytes) -> str:
    data = compact.encode("ascii") if isinstance(compact, str) else compact
    return hashlib.sha512(data).hexdigest()


def tag_of(compact: str) -> str:
    return compact.rsplit(".", 1)[-1]


def submission_parts(
    metadata: str,
    data: str | None,
    attachments: Iterable[tuple[str, str, str]],
) -> list[dict[str, Any]]:
    """The parts list; ``attachments`` are ``(attachment_id, sha512 hex, tag)``."""
    parts: list[dict[str, Any]] = [
        {"part": "metadata", "sha512": jwe_sha512(metadata), "tag": tag_of(metadata)}
    ]
    if data is not None:
        parts.append({"part": "data", "sha512": jwe_sha512(data), "tag": tag_of(data)})
    for attachment_id, digest, tag in sorted(attachments):
        parts.append(
            {"part": "attachment", "attachment_id": attachment_id, "sha512": digest, "tag": tag}
        )
    return parts


def submission_sha512(parts: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha512(canonical_json(list(parts))).hexdigest()
