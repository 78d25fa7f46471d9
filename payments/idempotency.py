"""Idempotency keys: a retried request returns what the first one created.

A key is scoped (``payment.create:<client>``, ``refund.create:<payment id>``) and stored with a hash
of the request's parameters and the id of its result. The same key with the same parameters
replays the result; with other parameters it is an :class:`IdempotencyConflict`. Stored keys
are deleted after 30 days (retention record type ``payments.idempotency_key``).

A key is chosen by the client and may carry anything (a name, a case number), so it is never
stored as sent: the database holds its keyed hash, :func:`key_digest` (HMAC-SHA256 under a key
derived from ``OZG_SECRET_KEY``, 64 hex digits), and providers are given that digest too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commons.errors import InvalidInput
from commons.ids import new_id_str
from payments.errors import IdempotencyConflict
from payments.models import IdempotencyKey
from payments.runtime import PaymentsRuntime


def _params_hash(params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# The label of the key derived from OZG_SECRET_KEY for idempotency keys. Migration p0002
# computes the same digest for rows stored before keys were hashed: keep them in step.
DIGEST_LABEL = "payments.idempotency-key"


def key_digest(runtime: PaymentsRuntime, key: str) -> str:
    """The keyed hash under which ``key`` is stored (and handed to providers)."""
    secret = runtime.derived_secret(DIGEST_LABEL)
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1-255 printable ASCII characters")


def replayed_result(
    session: Session,
    runtime: PaymentsRuntime,
    scope: str,
    key: str,
    params: Mapping[str, Any],
) -> str | None:
    """The result id stored for ``key`` in ``scope``, or ``None`` if the key is new."""
    row = session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == scope, IdempotencyKey.key_hash == key_digest(runtime, key)
        )
    ).one_or_none()
    if row is None:
        return None
    if row.params_hash != _params_hash(params):
        raise IdempotencyConflict()
    return row.result_id


def payment_scope(subject: str) -> str:
    """The scope of a client's payment-creation keys."""
    return f"payment.create:{subject}"


def refund_scope(payment_id: str) -> str:
    """The scope of the refund keys of one payment."""
    return f"refund.create:{payment_id}"


def forget_keys_of(session: Session, subject: str, payment_ids: Collection[str]) -> int:
    """Erasure: the subject's own payment-creation keys (their scope names the subject) and
    every key whose result or scope is one of ``payment_ids`` (the link to a booking that
    is kept unlinked). Returns how many were deleted."""
    deleted = _delete_keys(session, IdempotencyKey.scope == payment_scope(subject))
    ids = list(payment_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        refund_scopes = [refund_scope(payment_id) for payment_id in chunk]
        deleted += _delete_keys(
            session,
            or_(IdempotencyKey.result_id.in_(chunk), IdempotencyKey.scope.in_(refund_scopes)),
        )
    return deleted


def _delete_keys(session: Session, where: ColumnElement[bool]) -> int:
    result = session.execute(delete(IdempotencyKey).where(where))
    return int(getattr(result, "rowcount", 0) or 0)


def remember_result(
    session: Session,
    runtime: PaymentsRuntime,
    scope: str,
    key: str,
    params: Mapping[str, Any],
    result_id: str,
) -> None:
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    id=new_id_str(runtime.clock),
                    scope=scope,
                    key_hash=key_digest(runtime, key),
                    params_hash=_params_hash(params),
                    result_id=result_id,
                    created_at=runtime.clock.now(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won; this one must not also take effect.
        raise IdempotencyConflict("a request with this idempotency key is in progress") from None
