"""Dormant accounts (storage limitation, Art. 5(1)(e) GDPR): a notice to accounts unused for
``OZG_ACCOUNT_DORMANT_AFTER_DAYS``, erasure of those still unused
``OZG_ACCOUNT_DORMANT_GRACE_DAYS`` after it (``ozg-commons accounts expire``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from account.erasure import IdentityAdmin, erase_subject
from account.journal import ErasureJournal
from account.models import Account, Message, ProfileAttribute
from commons.clock import Clock, system_clock
from commons.components import PersonalDataRegistry
from commons.ids import new_id_str
from commons.receipts import ReceiptSigner
from compliance import Actor

SYSTEM_ACTOR = Actor(subject="system:accounts-expire", role="system")
DORMANCY_TITLE = "Ihr Konto wird gelöscht / Your account will be erased"
DORMANCY_BODY = (
    "Sie haben Ihr Konto lange nicht genutzt. Wenn Sie sich nicht bis zum {date} anmelden, "
    "werden Ihr Konto und Ihre Daten gelöscht.\n\n"
    "You have not used your account for a long time. Unless you sign in by {date}, your "
    "account and your data will be erased."
)


def expire_dormant(
    session: Session,
    *,
    notice_after: timedelta,
    grace: timedelta,
    registry: PersonalDataRegistry,
    admin: IdentityAdmin | None,
    signer: ReceiptSigner,
    secret: str,
    journal: ErasureJournal | None,
    notifier: Any = None,
    clock: Clock = system_clock,
    limit: int = 1000,
) -> tuple[int, int]:
    """Notify accounts unused for ``notice_after``; erase those still unused ``grace`` after
    their notice. Any use in between (:func:`account.service.touch`) clears the notice.
    Returns (noticed, erased)."""
    now = clock.now()
    due = list(
        session.scalars(
            select(Account)
            .where(
                Account.dormancy_notice_at.is_not(None), Account.dormancy_notice_at < now - grace
            )
            .order_by(Account.dormancy_notice_at)
            .limit(limit)
        )
    )
    for account in due:
        erase_subject(
            session,
            actor=SYSTEM_ACTOR,
            issuer=account.issuer,
            subject=account.subject,
            registry=registry,
            admin=admin,
            signer=signer,
            secret=secret,
            journal=journal,
            reason="dormant account (storage limitation, Art. 5(1)(e) GDPR)",
            clock=clock,
        )
    dormant = list(
        session.scalars(
            select(Account)
            .where(
                Account.dormancy_notice_at.is_(None),
                Account.last_seen_at < now - notice_after,
            )
            .order_by(Account.last_seen_at)
            .limit(limit)
        )
    )
    for account in dormant:
        account.dormancy_notice_at = now
        text = DORMANCY_BODY.format(date=(now + grace).date().isoformat())
        session.add(
            Message(
                id=new_id_str(clock),
                account_id=account.id,
                sender_authority=None,
                sender_client_id="ozg-commons",
                title=DORMANCY_TITLE,
                body=text,
                category="status",
                document_refs=[],
                case_ref=None,
                sent_at=now,
            )
        )
        address = session.scalars(
            select(ProfileAttribute.value).where(
                ProfileAttribute.account_id == account.id, ProfileAttribute.name == "email"
            )
        ).first()
        if notifier is not None and address:
            try:
                notifier.notify(address)
            except OSError:
                pass  # the mailbox message stands; the e-mail is a courtesy
    return len(dormant), len(due)
