"""The signed submission receipt (``commons.receipts``, kind ``submission``).

Issued in the submit's transaction, over the JWEs exactly as stored, returned to the
sender with the ``202`` (``ozgReceipt``) and kept on the submission, so that the applicant
can fetch it again later (``GET /v1/cases/{id}/receipt``). Claims: docs/receipts.md.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commons.receipts import ReceiptSigner
from gateway.delivery.access import attachments_of
from gateway.delivery.models import Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.fitconnect.receipt import HASH_ALG, submission_parts, submission_sha512

RECEIPT_KIND = "submission"


def receipt_claims(session: Session, submission: Submission) -> dict[str, Any]:
    if submission.encrypted_metadata is None or submission.submitted_at is None:
        raise ValueError("only a submitted submission has a receipt")
    rows = attachments_of(session, submission)
    if any(a.sha512 is None for a in rows):  # pragma: no cover - every upload is hashed
        raise ValueError("an attachment was stored without its digest")
    parts = submission_parts(
        submission.encrypted_metadata,
        submission.encrypted_data,
        [(a.attachment_id, a.sha512 or "", a.tag) for a in rows],
    )
    manifest = submission.manifest or {}
    return {
        "submission_id": submission.id,
        "fit_connect_case_id": submission.case_id,
        "case_id": manifest.get("caseId"),
        "destination_id": submission.destination_id,
        "authority": submission.authority,
        "flow": manifest.get("flow"),
        "public_service": submission.service_identifier,
        "submitted_at": submission.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hash_alg": HASH_ALG,
        "parts": parts,
        "submission_sha512": submission_sha512(parts),
    }


def issue_receipt(session: Session, runtime: DeliveryRuntime, submission: Submission) -> str:
    signer: ReceiptSigner = runtime.app_state.receipt_signer
    return signer.sign(
        RECEIPT_KIND, receipt_claims(session, submission), issued_at=submission.submitted_at
    )


def stored_receipt(session: Session, submission_id: str) -> str | None:
    """The receipt issued when the submission was submitted (``None`` before)."""
    submission = session.get(Submission, submission_id)
    return submission.receipt if submission is not None else None
