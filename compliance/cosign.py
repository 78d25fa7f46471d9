"""Co-signatures of published checkpoints (C2SP tlog-cosignature): a witness's or a DPO's
signature line, accepted only if it verifies with a key this log accepts, then stored.

A later co-signature by the same key name replaces the earlier one for that checkpoint.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from commons.clock import Clock
from commons.errors import InvalidInput
from compliance import note, service
from compliance.errors import InvalidNote
from compliance.keys import LogIdentity
from compliance.models import Cosignature


def dpo_verifier(verifier_key: str | None) -> note.Verifier:
    """The verifier key a DPO submits with their co-signature (``name+hash+key``)."""
    if verifier_key is None:
        raise InvalidInput("verifier_key is required")
    try:
        return note.Verifier.from_string(verifier_key)
    except ValueError:
        raise InvalidInput("not a verifier key") from None


def store_cosignature(
    session: Session,
    identity: LogIdentity,
    size: int,
    signature_line: str,
    keys: tuple[note.Verifier, ...],
    submitted_by: str,
    *,
    clock: Clock,
) -> Cosignature:
    """Check ``signature_line`` over the checkpoint of ``size`` against ``keys`` (never the
    log's own key) and store it; :class:`~commons.errors.InvalidInput` if it does not verify."""
    cp = service.checkpoint_at(session, size)
    text = note.split_note(cp.note)[0]
    try:
        line = note.parse_signature_line(signature_line.rstrip("\n") + "\n")
    except InvalidNote:
        raise InvalidInput("not a signature line") from None
    accepted = next(
        (
            k
            for k in keys
            if k.name == line.name
            and k.key_hash == line.key_hash
            and k.name != identity.origin
            and k.verifies(text, line.signature)
        ),
        None,
    )
    if accepted is None:
        raise InvalidInput("the signature does not verify with a key this log accepts")
    existing = session.get(Cosignature, (size, line.name))
    if existing is not None:
        session.delete(existing)
        session.flush()
    cosig = Cosignature(
        checkpoint_size=size,
        key_name=line.name,
        verifier_key=accepted.to_string(),
        line=line.line,
        submitted_by=submitted_by,
        created_at=clock.now(),
    )
    session.add(cosig)
    session.flush()
    return cosig
