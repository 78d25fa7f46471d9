"""The registry of authority encryption keys: registration with rotation, and the active key
clients wrap to. Validation against the PKI is :mod:`vault.pki`, revocation
:mod:`vault.revocation`; both run before these functions are called."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.i18n import N_
from vault.errors import AuthorityKeyRevoked, KeyConflict, KeyNotFound
from vault.models import AuthorityKey
from vault.pki import ValidatedKey, check_authority_binding

log = logging.getLogger("ozg.vault")


def is_usable(key: AuthorityKey, now: datetime) -> bool:
    """Whether documents may be wrapped to ``key`` now: not expired, not retired."""
    return key.not_after > now and (key.retires_at is None or key.retires_at > now)


def register_authority_key(
    session: Session,
    authority: str,
    validated: ValidatedKey,
    overlap: timedelta,
    clock: Clock = system_clock,
) -> AuthorityKey:
    """Register a validated key as the authority's active key; older ones retire after
    ``overlap`` (shares already made to them stay readable). The key's certificate must
    name ``authority`` (:func:`vault.pki.check_authority_binding`)."""
    check_authority_binding(validated.chain[0], authority)
    if session.get(AuthorityKey, validated.kid) is not None:
        raise KeyConflict(N_("this key is already registered"))
    now = clock.now()
    for old in session.scalars(
        select(AuthorityKey).where(
            AuthorityKey.authority == authority,
            or_(AuthorityKey.retires_at.is_(None), AuthorityKey.retires_at > now + overlap),
        )
    ):
        old.retires_at = now + overlap
    row = AuthorityKey(
        kid=validated.kid,
        authority=authority,
        jwk=json.dumps(validated.jwk, sort_keys=True),
        not_after=validated.not_after,
        registered_at=now,
        retires_at=None,
    )
    session.add(row)
    session.flush()
    return row


def active_authority_key(
    session: Session,
    authority: str,
    clock: Clock = system_clock,
    *,
    check: Callable[[AuthorityKey], None] | None = None,
) -> AuthorityKey:
    """The key clients wrap to: the usable key not yet retiring, else the newest usable.

    ``check`` may refuse a key by raising :class:`AuthorityKeyRevoked`; the next usable key
    is then tried, and if every usable key is revoked that error propagates. Any other error
    (revocation status unknown) propagates at once: fail closed.
    """
    now = clock.now()
    rows = session.scalars(select(AuthorityKey).where(AuthorityKey.authority == authority))
    revoked: AuthorityKeyRevoked | None = None
    for row in sorted(rows, key=lambda r: (r.retires_at is None, r.registered_at), reverse=True):
        if not is_usable(row, now):
            continue
        if check is not None:
            try:
                check(row)
            except AuthorityKeyRevoked as exc:
                log.warning("authority key revoked, skipped", extra={"kid": row.kid})
                revoked = revoked or exc
                continue
        return row
    if revoked is not None:
        raise revoked
    raise KeyNotFound(N_("this authority has no valid key registered"))
