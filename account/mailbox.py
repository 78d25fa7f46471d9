"""The mailbox (Postfach): authorities and flows write, the applicant reads and archives.

Message bodies are personal data: every send, read and archive is recorded through
:func:`compliance.record_access`. Listing shows titles and metadata only; the body is
returned (and recorded) when one message is opened, which also sets its read receipt.

The optional e-mail notice says only that a message is waiting: no title, no body, no
sender, so an e-mail provider learns nothing about the case.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from account.errors import MessageNotFound, RecipientNotFound
from account.models import Account, Message, ProfileAttribute
from account.principal import Principal
from account.runtime import AccountSettings
from account.service import owned_row, touch
from commons.clock import Clock, system_clock
from commons.i18n import N_
from commons.ids import new_id_str
from compliance import AccessEvent, record_access

log = logging.getLogger("ozg.account.mailbox")

MESSAGE_CATEGORIES = ("request-for-documents", "decision", "status", "payment")
BODY_FORMATS = ("text", "ozg-envelope")
"""``ozg-envelope``: the body is a vault envelope (docs/envelope.md) sealed on the sender's
device to the applicant's vault key, as base64url text; the server stores it unread."""
MAILBOX_BASIS = "Art. 6(1)(e) GDPR, § 9 OZG"
NOTICE_SUBJECT = "Neue Nachricht in Ihrem Postfach / New message in your mailbox"
NOTICE_TEXT = (
    "Sie haben eine neue Nachricht in Ihrem Postfach. Bitte melden Sie sich an, um sie zu "
    "lesen.\n\nYou have a new message in your mailbox. Please sign in to read it.\n"
)


class Notifier(Protocol):
    def notify(self, address: str) -> None:
        """Tell ``address`` that a message is waiting; never include its content."""
        ...


class SmtpNotifier:
    """Sends the content-free notice through the configured SMTP relay
    (``OZG_ACCOUNT_SMTP_*``)."""

    def __init__(self, settings: AccountSettings) -> None:
        if not settings.smtp_host:
            raise ValueError(N_("OZG_ACCOUNT_SMTP_HOST is not set"))
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.sender = settings.smtp_sender
        self.starttls = settings.smtp_starttls
        self.username = settings.smtp_username
        self.password = settings.smtp_password.get_secret_value()

    def notify(self, address: str) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = address
        mail["Subject"] = NOTICE_SUBJECT
        mail.set_content(NOTICE_TEXT)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(mail)


def send_message(
    session: Session,
    sender: Principal,
    *,
    recipient_subject: str,
    title: str,
    body: str,
    category: str,
    document_refs: list[str],
    case_ref: str | None,
    notifier: Notifier | None = None,
    clock: Clock = system_clock,
    body_format: str = "text",
) -> Message:
    if body_format not in BODY_FORMATS:
        raise ValueError(f"unknown message body format {body_format!r}")
    account = session.scalars(
        select(Account).where(Account.subject == recipient_subject).limit(1)
    ).first()
    if account is None:
        raise RecipientNotFound(N_("the recipient has not used their account yet"))
    message = Message(
        id=new_id_str(clock),
        account_id=account.id,
        sender_authority=sender.authority,
        sender_client_id=sender.client_id,
        title=title,
        body=body,
        body_format=body_format,
        category=category,
        document_refs=list(document_refs),
        case_ref=case_ref,
        sent_at=clock.now(),
    )
    session.add(message)
    _record(session, sender, account.subject, message, "account.message.send", clock)
    if notifier is not None and account.email_notifications:
        address = session.scalars(
            select(ProfileAttribute.value).where(
                ProfileAttribute.account_id == account.id, ProfileAttribute.name == "email"
            )
        ).first()
        if address:
            try:
                notifier.notify(address)
            except (OSError, smtplib.SMTPException) as exc:
                # The message is delivered to the mailbox either way; the notice is a courtesy.
                log.warning("mail notice failed", extra={"exc_type": type(exc).__name__})
    return message


def list_messages(
    session: Session,
    principal: Principal,
    *,
    archived: bool = False,
    clock: Clock = system_clock,
) -> list[Message]:
    account = touch(session, principal, clock=clock)
    query = select(Message).where(Message.account_id == account.id)
    query = query.where(
        Message.archived_at.is_not(None) if archived else Message.archived_at.is_(None)
    )
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=principal.subject,
            action="account.message.list",
            resource=f"account:{account.id}",
            purpose="show the applicant their mailbox",
            legal_basis=MAILBOX_BASIS,
        ),
        clock=clock,
    )
    return list(session.scalars(query.order_by(Message.sent_at.desc())))


def _own_message(session: Session, principal: Principal, message_id: str) -> Message:
    message = owned_row(session, principal, Message, message_id)
    if message is None:
        raise MessageNotFound()
    return message


def read_message(
    session: Session, principal: Principal, message_id: str, *, clock: Clock = system_clock
) -> Message:
    message = _own_message(session, principal, message_id)
    if message.read_at is None:
        message.read_at = clock.now()
    _record(session, principal, principal.subject, message, "account.message.read", clock)
    return message


def archive_message(
    session: Session, principal: Principal, message_id: str, *, clock: Clock = system_clock
) -> Message:
    message = _own_message(session, principal, message_id)
    if message.archived_at is None:
        message.archived_at = clock.now()
    _record(session, principal, principal.subject, message, "account.message.archive", clock)
    return message


def _record(
    session: Session,
    actor: Principal,
    data_subject: str,
    message: Message,
    action: str,
    clock: Clock,
) -> None:
    record_access(
        session,
        AccessEvent(
            actor=actor.as_actor(),
            data_subject=data_subject,
            action=action,
            resource=f"message:{message.id}",
            purpose="communicate with the applicant about their application",
            legal_basis=MAILBOX_BASIS,
        ),
        clock=clock,
    )
