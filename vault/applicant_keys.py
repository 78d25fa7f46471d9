"""The registry of applicant keys: the public key and the two *wrapped* forms of the private
key (under the passphrase, under the recovery code) that the applicant's device made
(``vault.client.keys``). The server checks their shape, never opens them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from account import Principal
from commons.clock import Clock, system_clock
from commons.i18n import N_
from vault.errors import InvalidKey, KeyConflict, KeyNotFound
from vault.models import ApplicantKey
from vault.recipients import key_id, public_key_from_jwk
from vault.service import record


def register_applicant_key(
    session: Session,
    principal: Principal,
    public_jwk: dict[str, Any],
    wrapped_by_passphrase: str,
    wrapped_by_recovery: str,
    clock: Clock = system_clock,
) -> ApplicantKey:
    if session.get(ApplicantKey, principal.subject) is not None:
        raise KeyConflict(N_("a vault key is already registered; change the passphrase instead"))
    try:
        public = public_key_from_jwk(public_jwk)
    except ValueError as exc:
        raise InvalidKey("the public key is malformed") from exc
    if public_jwk.get("kty") != "EC" or any(k in public_jwk for k in ("d",)):
        raise InvalidKey("applicant keys are public P-256 keys")
    _check_wrapped(wrapped_by_passphrase, "argon2id")
    _check_wrapped(wrapped_by_recovery, "hkdf-sha256")
    now = clock.now()
    row = ApplicantKey(
        subject=principal.subject,
        kid=key_id(public),
        public_jwk=json.dumps(public_jwk, sort_keys=True),
        wrapped_by_passphrase=wrapped_by_passphrase,
        wrapped_by_recovery=wrapped_by_recovery,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    record(session, principal, principal.subject, "vault.key.create", row.kid, clock)
    return row


def _check_wrapped(wrapped: str, kdf: str) -> None:
    try:
        doc = json.loads(wrapped)
        ok = isinstance(doc, dict) and doc.get("v") == 1 and doc.get("kdf") == kdf
    except ValueError:
        ok = False
    if not ok or len(wrapped) > 4096:
        raise InvalidKey(f"the wrapped private key ({kdf}) is malformed")


def get_applicant_key(
    session: Session, principal: Principal, clock: Clock = system_clock
) -> ApplicantKey:
    row = session.get(ApplicantKey, principal.subject)
    if row is None:
        raise KeyNotFound(N_("no vault key yet: run `ozg-commons vault keygen`"))
    record(session, principal, principal.subject, "vault.wrapped_key.read", row.kid, clock)
    return row


def rewrap_applicant_key(
    session: Session,
    principal: Principal,
    kid: str,
    wrapped_by_passphrase: str | None,
    wrapped_by_recovery: str | None,
    clock: Clock = system_clock,
) -> ApplicantKey:
    row = session.get(ApplicantKey, principal.subject)
    if row is None or row.kid != kid:
        raise KeyNotFound(N_("re-wrapping must keep the same key (kid)"))
    if wrapped_by_passphrase is not None:
        _check_wrapped(wrapped_by_passphrase, "argon2id")
        row.wrapped_by_passphrase = wrapped_by_passphrase
    if wrapped_by_recovery is not None:
        _check_wrapped(wrapped_by_recovery, "hkdf-sha256")
        row.wrapped_by_recovery = wrapped_by_recovery
    row.updated_at = clock.now()
    session.flush()
    record(session, principal, principal.subject, "vault.key.rewrap", row.kid, clock)
    return row


def applicant_public_jwk(session: Session, subject: str) -> dict[str, Any]:
    """The applicant's registered vault public key (JWK): what the cases component checks a
    sealed draft or mailbox body against."""
    row = session.get(ApplicantKey, subject)
    if row is None:
        raise KeyNotFound()
    result: dict[str, Any] = json.loads(row.public_jwk)
    return result
