"""The delivery service's errors: problem documents in the FIT-Connect style.

Each is an :class:`~commons.errors.OzgError`, so the gateway renders it as
``application/problem+json``; the ``type`` is a URI under :data:`PROBLEM_BASE`.
"""

from __future__ import annotations

from typing import Any

from commons.errors import OzgError
from commons.i18n import N_

PROBLEM_BASE = "https://schema.fitko.de/fit-connect/submission-api/problems/"
"""⚠ The slugs follow FIT-Connect's pattern; they were not confirmed against the FIT-Connect
documentation (see docs/delivery.md)."""


class DeliveryError(OzgError):
    """Base of the delivery service's problems."""

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code


class UnknownDestination(DeliveryError):
    status = 404
    code = "destination-not-found"
    title = N_("Destination not found")

    def __init__(self, known: list[str]) -> None:
        names = ", ".join(known) or "none"
        super().__init__(f"no such destination; known destinations: {names}", known=known)


class SubmissionNotFound(DeliveryError):
    """One answer for 'does not exist' and 'not yours': a caller learns nothing."""

    status = 404
    code = "submission-not-found"
    title = N_("Submission not found")

    def __init__(self) -> None:
        super().__init__("no such submission")


class AttachmentNotFound(DeliveryError):
    status = 404
    code = "attachment-not-found"
    title = N_("Attachment not found")

    def __init__(self, detail: str = "no such attachment") -> None:
        super().__init__(detail)


class KeyNotFound(DeliveryError):
    status = 404
    code = "key-not-found"
    title = N_("Key not found")

    def __init__(self) -> None:
        super().__init__("the destination has no key with this kid")


class InvalidSubmission(DeliveryError):
    """A request body the delivery service cannot take (names the member)."""

    status = 422
    code = "invalid-submission"
    title = N_("Invalid submission")


class InvalidAttachment(DeliveryError):
    """An upload that is not a JWE compact serialization the destination can decrypt
    (wrong algorithm, wrong kid, malformed). The detail names the rule, never the bytes."""

    status = 422
    code = "invalid-attachment"
    title = N_("Invalid attachment")


class UnsupportedMediaType(DeliveryError):
    status = 415
    code = "unsupported-media-type"
    title = N_("Unsupported media type")


class WrongState(DeliveryError):
    status = 409
    code = "submission-state"
    title = N_("Not possible in this state")

    def __init__(self, detail: str, *, state: str) -> None:
        super().__init__(detail, state=state)


class AlreadyUploaded(DeliveryError):
    status = 409
    code = "attachment-exists"
    title = N_("Attachment already uploaded")

    def __init__(self) -> None:
        super().__init__("this attachment was already uploaded")


class TooLarge(DeliveryError):
    status = 413
    code = "payload-too-large"
    title = N_("Payload too large")

    def __init__(self, detail: str, *, limit: int) -> None:
        super().__init__(detail, limit=limit)


class SubmitRefused(DeliveryError):
    """The submit checks found something missing; ``missing`` lists each, in German and
    English."""

    status = 422
    code = "submission-incomplete"
    title = N_("Submission incomplete / Einreichung unvollständig")

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        en = "; ".join(m["detail"]["en"] for m in missing)
        super().__init__(f"the submission cannot be submitted yet: {en}", missing=missing)


class InvalidEvent(DeliveryError):
    """A posted event token that does not verify, names another submission, or is not an
    event the destination may issue. One fixed message."""

    status = 422
    code = "invalid-event"
    title = N_("Invalid event")

    def __init__(self) -> None:
        super().__init__("the event token is not valid for this case")


class NotASender(DeliveryError):
    status = 403
    code = "not-a-sender"
    title = N_("Forbidden")

    def __init__(self) -> None:
        super().__init__("only applicants and flow clients may send submissions")
