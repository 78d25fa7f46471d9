"""The authorities' logic other components call (no HTTP).

- :func:`require_authority`: the **authority binding rule**. A caseworker acts for exactly
  one authority (``Principal.authority``); anything that belongs to another authority is
  answered as if it did not exist (404, :class:`AuthorityMismatch`, one fixed message), so
  that a caseworker can neither read another authority's cases nor learn which exist. The
  refused attempt is recorded in the audit trail (outcome ``denied``) when a session is given.
- :func:`provision_vault_keys`: at start-up, each authority's encryption key is registered as
  its vault sharing key, so that ``ozg-commons vault share ID --with tf`` works on a fresh
  ``make run`` with no admin step.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.clock import Clock, system_clock
from commons.db import Database
from compliance import AccessEvent, Actor, record_access
from gateway.authorities.errors import AuthorityMismatch
from gateway.authorities.runtime import AuthoritiesState

log = logging.getLogger("ozg.authorities")

DENIED_ACTION = "authorities.access.denied"


def require_authority(
    principal: Principal,
    authority_id: str,
    *,
    session: Session | None = None,
    resource: str | None = None,
    data_subject: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """Raise :class:`AuthorityMismatch` (404) unless ``principal`` is a caseworker of
    ``authority_id``. With ``session``, a refusal is recorded (``authorities.access.denied``,
    outcome ``denied``) on ``resource`` before the error is raised; the caller's transaction
    must then commit the entry (raise after committing, or record in a separate unit of work)."""
    if principal.has(Role.CASEWORKER) and principal.authority == authority_id:
        return
    if session is not None:
        record_access(
            session,
            AccessEvent(
                actor=Actor(
                    subject=principal.subject,
                    role=_role(principal),
                    authority=principal.authority,
                    client_id=principal.client_id,
                ),
                data_subject=data_subject,
                action=DENIED_ACTION,
                resource=resource or f"authority:{authority_id}",
                purpose="refuse access to another authority's data",
                legal_basis="Art. 32 GDPR",
                outcome="denied",
            ),
            clock=clock,
        )
    raise AuthorityMismatch()


def _role(principal: Principal) -> str:
    for role in (Role.CASEWORKER, Role.DPO, Role.ADMIN, Role.FLOW, Role.APPLICANT):
        if principal.has(role):
            return role.value
    return "unknown"


def provision_vault_keys(state: AuthoritiesState, database: Database) -> list[str]:
    """Register every authority's encryption key for vault sharing (idempotent); returns the
    ids registered now. The embedded default's keys are registered only when the vault trusts
    the demo CA (no ``OZG_VAULT_TRUST_ANCHORS``); otherwise the operator's file is expected."""
    from gateway.authorities.vaultlink import InvalidKey, register_for_sharing, vault_trusts_demo_ca

    if state.uses_embedded_default and not vault_trusts_demo_ca(state.settings):
        log.warning(
            "the vault trusts OZG_VAULT_TRUST_ANCHORS, not the demo CA: the demo authorities "
            "are not registered for vault sharing; set OZG_AUTHORITIES_FILE"
        )
        return []
    registered = []
    for authority in state.registry().all():
        try:
            with database.transaction() as session:
                new = register_for_sharing(
                    session,
                    state.settings,
                    authority.id,
                    dict(authority.encryption_jwk),
                    state.clock,
                )
        except IntegrityError:  # another process registered the same key at the same time
            new = False
        except InvalidKey as exc:
            log.error("the vault refuses the encryption key of %s: %s", authority.id, exc.detail)
            continue
        if new:
            registered.append(authority.id)
    if registered:
        log.info("authority keys registered for vault sharing", extra={"authorities": registered})
    return registered
