"""Idempotency keys: a retried request returns what the first one created.

A key is scoped (``payment.create:<client>``, ``refund.create:<payment id>``) and stored with a hash
of the request's parameters and the id of its result. The same key with the same parameters
replays the result; with other parameters it is an :class:`IdempotencyConflict`. Stored keys
are deleted after 30 days (retention record type ``payments.idempotency_key``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
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


def check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1-255 printable ASCII characters")


def replayed_result(
    session: Session, scope: str, key: str, params: Mapping[str, Any]
) -> str | None:
    """The result id stored for ``key`` in ``scope``, or ``None`` if the key is new."""
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).one_or_none()
    if row is None:
        return None
    if row.params_hash != _params_hash(params):
        raise IdempotencyConflict()
    return row.result_id


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
                    key=key,
                    params_hash=_params_hash(params),
                    result_id=result_id,
                    created_at=runtime.clock.now(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won; this one must not also take effect.
        raise IdempotencyConflict("a request with this idempotency key is in progress") from None
