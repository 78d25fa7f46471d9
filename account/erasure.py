"""GDPR export (Art. 15/20) and erasure (Art. 17) across every domain, with a signed receipt.

The orchestration: :func:`export_bundle` collects every registered domain's export,
:func:`erase_subject` runs every domain's shredder and issues the receipt, and
:func:`erased_since` tells the shared principal dependency whether a token predates an
erasure. The account's own rows are exported and shredded by :mod:`account.personal_data`;
dormant accounts are noticed and erased by :mod:`account.dormancy`.

The erasure receipt is a ``commons.receipts`` receipt of kind ``erasure`` (claims in
docs/receipts.md), verifiable offline against ``GET /v1/receipts/keys``. Receipts issued
before it (``ozg-erasure-receipt/1``) are read by ``commons.receipts.legacy``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from account.journal import ErasureJournal, JournalEntry, held_subjects, unseen_erasures
from account.models import Account, Erasure, Login
from account.personal_data import export_personal_data, shred_personal_data
from account.principal import Principal
from account.service import LOCAL_ISSUER, latest_login, remember_account
from commons.clock import Clock, system_clock
from commons.components import PersonalDataRegistry, RetainedRecord, ShredReport
from commons.db import purge_after_commit
from commons.ids import new_id_str
from commons.receipts import ReceiptSigner
from compliance import (
    AccessEvent,
    Actor,
    ProcessingActivity,
    about_the_data_subject,
    record_access,
)

RECEIPT_KIND = "erasure"
RECEIPT_RETENTION = timedelta(days=3 * 365)  # § 195 BGB regular limitation period
ERASURE_BASIS = "Art. 17 GDPR"


class IdentityAdmin(Protocol):
    """The identity provider's admin operations the account needs (Keycloak: python-keycloak
    ``KeycloakAdmin``; tests and development: fakes)."""

    def logout_all_sessions(self, subject: str) -> None: ...

    def disable_user(self, subject: str) -> None: ...

    def attributes(self, subject: str) -> dict[str, list[str]]: ...


def subject_digest(secret: str, issuer: str, subject: str) -> str:
    return hmac.new(secret.encode(), f"{issuer}\n{subject}".encode(), hashlib.sha256).hexdigest()


def erased_since(session: Session, principal: Principal, secret: str) -> bool:
    """Whether ``principal``'s subject was erased after (or without) its authentication.

    One statement, a round trip less for the request's own account reads: the indexed
    lookup of erasures (``account_erasure.subject_digest``), and in the same statement the
    principal's account and its latest login, which the unit of work keeps
    (:func:`account.service.remember_account`). A token without ``auth_time`` counts as
    older than any erasure; a new authentication after the erasure starts over.
    """
    issuer = principal.issuer or LOCAL_ISSUER
    digest = subject_digest(secret, issuer, principal.subject)
    erased = (
        select(func.max(Erasure.erased_at))
        .where(Erasure.subject_digest == digest)
        .scalar_subquery()
        .label("erased_at")
    )
    check = select(erased).subquery()
    latest = (
        latest_login(Login.account_id == Account.id)
        .with_only_columns(Login.id)
        .correlate(Account)
        .scalar_subquery()
    )
    erased_at, account, login = session.execute(
        select(check.c.erased_at, Account, Login)
        .select_from(check)
        .outerjoin(Account, and_(Account.issuer == issuer, Account.subject == principal.subject))
        .outerjoin(Login, Login.id == latest)
    ).one()
    remember_account(session, principal, account, login)
    return erased_at is not None and (
        principal.auth_time is None or principal.auth_time <= erased_at
    )


def export_bundle(
    session: Session,
    principal: Principal,
    registry: PersonalDataRegistry,
    *,
    activities: Iterable[ProcessingActivity] = (),
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """The Art. 15/20 bundle: the account's part first, then every registered domain's, and
    ``about``: what is held, why and for how long, in English and German (from the
    ``activities`` of the deployment's register)."""
    parts: dict[str, Any] = {"account": export_personal_data(session, principal.subject)}
    for handler in registry:
        if handler.component != "account":
            parts[handler.component] = handler.export(session, principal.subject)
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=principal.subject,
            action="account.data.export",
            resource=f"subject:{principal.subject}",
            purpose="the applicant's right of access and portability",
            legal_basis="Art. 15, Art. 20 GDPR",
        ),
        clock=clock,
    )
    return {
        "format": "ozg-personal-data-export/1",
        "subject": principal.subject,
        "exported_at": clock.now().isoformat(),
        "about": about_the_data_subject(activities),
        "domains": parts,
    }


def erase_subject(
    session: Session,
    *,
    actor: Actor,
    issuer: str,
    subject: str,
    registry: PersonalDataRegistry,
    admin: IdentityAdmin | None,
    signer: ReceiptSigner,
    secret: str,
    reason: str,
    journal: ErasureJournal | None,
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """Run every shredder, log out and disable at the IdP, journal the erasure, keep and
    return a signed receipt: ``{"receipt": <compact JWS>, "kind": "erasure", "claims": <what
    it attests>}``. ``journal`` is the app's erasure journal (``None`` only where no backup
    of the database can exist: tests of a single domain)."""
    now = clock.now()
    reports = shred_everywhere(session, subject, registry)
    receipt_id = new_id_str(clock)
    retained: list[RetainedRecord] = [
        RetainedRecord(
            "account_erasure", receipt_id, "Art. 5(2), Art. 17 GDPR", now + RECEIPT_RETENTION
        )
    ]
    digest = subject_digest(secret, issuer, subject)
    claims = {
        "receipt_id": receipt_id,
        "identity_issuer": issuer,
        "subject_digest": digest,
        "erased_at": now.isoformat(),
        "reason": reason,
        "domains": [
            {
                "domain": r.component,
                "deleted": r.deleted,
                "shredded": r.shredded,
                "retained": [
                    {**asdict(k), "delete_after": k.delete_after.isoformat()} for k in r.retained
                ],
            }
            for r in reports
        ],
        "retained": [{**asdict(k), "delete_after": k.delete_after.isoformat()} for k in retained],
    }
    signed = {
        "receipt": signer.sign(RECEIPT_KIND, claims, issued_at=now),
        "kind": RECEIPT_KIND,
        "claims": claims,
    }
    session.add(
        Erasure(
            id=receipt_id,
            subject_digest=digest,
            erased_at=now,
            delete_after=now + RECEIPT_RETENTION,
            receipt=signed,
        )
    )
    record_access(
        session,
        AccessEvent(
            actor=actor,
            data_subject=subject,
            action="account.data.erase",
            resource=f"erasure:{receipt_id}",
            purpose="the applicant's right to erasure" if reason == "request" else reason,
            legal_basis=ERASURE_BASIS,
        ),
        clock=clock,
    )
    if admin is not None:
        # After everything else succeeded in this transaction; an IdP failure rolls the
        # erasure back, so it can be retried as a whole.
        admin.logout_all_sessions(subject)
        admin.disable_user(subject)
    if journal is not None:
        # Last, durable before the commit: a restored backup of the database cannot bring
        # the subject back (ADR 0007). A journal that cannot be written rolls it all back.
        journal.append(
            JournalEntry(
                receipt_id=receipt_id,
                identity_issuer=issuer,
                subject_digest=digest,
                erased_at=now,
                delete_after=now + RECEIPT_RETENTION,
                receipt=signed,
            )
        )
    return signed


def shred_everywhere(
    session: Session, subject: str, registry: PersonalDataRegistry
) -> list[ShredReport]:
    """Run the account's shredder, then every other registered domain's, for ``subject``;
    once committed, the erased rows are purged from the database's files (the SQLite WAL)."""
    purge_after_commit(session)
    reports = [shred_personal_data(session, subject)]
    reports += [h.shred(session, subject) for h in registry if h.component != "account"]
    return reports


REPLAY_ACTOR = Actor(subject="system:restore", role="system")


def replay_journal(
    session: Session,
    entries: Iterable[JournalEntry],
    *,
    columns: Iterable[str],
    registry: PersonalDataRegistry,
    secret: str,
    clock: Clock = system_clock,
) -> tuple[int, int]:
    """Erase again, in a database restored from a backup, every subject the journal says
    was erased after that backup (``ozg-commons restore``, docs/backup-restore.md).

    For each entry the database has not seen (:func:`account.journal.pending`): every
    shredder runs for the subjects its digest names, the audit trail records it, and the
    entry's receipt goes back into ``account_erasure`` (so older tokens stay refused and the
    entry counts as seen). The identity provider is not called again: its state is not
    part of the database's backup. Returns (entries replayed, subjects erased).
    """
    todo = unseen_erasures(session, entries, clock.now())
    held = held_subjects(session, todo, columns, secret)
    erased = 0
    for entry in todo:
        for subject in held.get(entry.receipt_id, []):
            shred_everywhere(session, subject, registry)
            record_access(
                session,
                AccessEvent(
                    actor=REPLAY_ACTOR,
                    data_subject=subject,
                    action="account.data.erase",
                    resource=f"erasure:{entry.receipt_id}",
                    purpose="the erasure of this receipt, again after a restore from a backup",
                    legal_basis=ERASURE_BASIS,
                ),
                clock=clock,
            )
            erased += 1
        session.add(
            Erasure(
                id=entry.receipt_id,
                subject_digest=entry.subject_digest,
                erased_at=entry.erased_at,
                delete_after=entry.delete_after,
                receipt=entry.receipt,
            )
        )
    session.flush()
    return len(todo), erased


def delete_expired_receipts(session: Session, cutoff: datetime) -> list[str]:
    """Retention executor for ``account_erasure``: erasure receipts issued before the cutoff
    (their proof duty has run out; they hold no personal data, only a keyed digest)."""
    ids = list(session.scalars(select(Erasure.id).where(Erasure.erased_at < cutoff)))
    for start in range(0, len(ids), 500):
        session.execute(delete(Erasure).where(Erasure.id.in_(ids[start : start + 500])))
    return ids
