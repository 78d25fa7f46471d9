"""What the delivery service checks before it accepts a submission, and the one shape of a
refusal (:class:`Problem`) that every registered ``SubmitCheck`` returns too.

FIT-Connect's own check is that every announced attachment was uploaded. With an
ozg-commons manifest (``ozg-manifest/1``, docs/delivery.md) the delivery service also checks
its structure against the announced attachments and the size of each part; the cases
component's check (registered on ``DeliveryRuntime.submit_checks``) checks the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.delivery import jose
from gateway.delivery.access import attachments_of
from gateway.delivery.destinations import Destination
from gateway.delivery.errors import InvalidAttachment, InvalidSubmission
from gateway.delivery.models import Submission
from gateway.delivery.schemas import Manifest

FIT_CONNECT_PROBLEMS = "https://schema.fitko.de/fit-connect/events/problems/"
OZG_PROBLEMS = "urn:ozg-commons:problem:"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a submit check found missing, in German and English (no personal data).

    ``type`` is a URI: FIT-Connect's problem types for its own checks
    (``https://schema.fitko.de/fit-connect/events/problems/<slug>``), ``urn:ozg-commons:
    problem:<code>`` for ozg-commons' rules (e.g. ``urn:ozg-commons:problem:document-missing``).
    """

    type: str
    en: str
    de: str
    instance: str | None = None

    @property
    def code(self) -> str:
        """The last segment of ``type`` (``document-missing``)."""
        return self.type.rsplit("/", 1)[-1].rsplit(":", 1)[-1]

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "detail": {"de": self.de, "en": self.en}}
        if self.instance is not None:
            body["instance"] = self.instance
        return body


def fit_connect_problems(session: Session, submission: Submission) -> list[Problem]:
    """FIT-Connect's own check: every announced attachment is uploaded."""
    uploaded = {a.attachment_id for a in attachments_of(session, submission)}
    return [
        Problem(
            type=FIT_CONNECT_PROBLEMS + "missing-attachments",
            en=f"attachment {attachment_id} is announced but not uploaded",
            de=f"Anlage {attachment_id} ist angekündigt, aber nicht hochgeladen",
            instance=f"attachment:{attachment_id}",
        )
        for attachment_id in submission.announced_attachments
        if attachment_id not in uploaded
    ]


def manifest_problems(submission: Submission, encrypted_data: str | None) -> list[Problem]:
    """With a manifest: its ``data`` part is there if it announced one."""
    if submission.manifest is None:
        return []
    has_data_part = any(p.get("part") == "data" for p in submission.manifest["parts"])
    if has_data_part and encrypted_data is None:
        return [
            Problem(
                type=FIT_CONNECT_PROBLEMS + "missing-data",
                en="encryptedData is announced in the manifest but missing",
                de="encryptedData ist im Manifest angekündigt, fehlt aber",
            )
        ]
    return []


def check_announced_manifest(
    manifest: Manifest, destination: Destination, announced: list[str]
) -> None:
    """At create: the manifest names the destination's authority and exactly the announced
    attachments."""
    if manifest.authority != destination.authority:
        raise InvalidSubmission("ozgManifest.authority is not the destination's authority")
    parts = manifest.attachment_parts()
    if set(parts) != set(announced):
        raise InvalidSubmission(
            "ozgManifest.parts must name every announced attachment, and no other"
        )


def check_manifest_size(submission: Submission, part: str, inspected: jose.Inspected) -> None:
    """An uncompressed JWE's ciphertext is exactly as long as its plaintext: the size the
    manifest announced for the part must match."""
    if submission.manifest is None or inspected.header.get("zip"):
        return
    for item in submission.manifest["parts"]:
        if item.get("attachmentId", item.get("part")) == part:
            if item["size"] != inspected.ciphertext_bytes:
                raise InvalidAttachment(f"the size of {_part_name(part)} differs from ozgManifest")


def _part_name(part: str) -> str:
    return part if part in ("data", "metadata") else "the attachment"
