"""GDPR export (Art. 15/20), erasure (Art. 17) with a signed receipt, dormant accounts.

The erasure receipt (format ``ozg-erasure-receipt/1``, see docs/account.md) is a JSON
object signed with Ed25519 over its canonical JSON (sorted keys, no spaces, UTF-8). The
signing key is derived from ``OZG_SECRET_KEY`` (HKDF-SHA256), so every process of a
deployment signs with the same key without storing one; the public key is published at
``GET /v1/account/erasure-receipt-key`` and in every receipt's ``key_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from account.models import Account, Consent, Erasure, Login, Message, ProfileAttribute
from account.principal import Principal
from account.service import LOCAL_ISSUER
from commons.clock import Clock, system_clock
from commons.components import PersonalDataRegistry, RetainedRecord, ShredReport
from commons.ids import new_id_str
from compliance import AccessEvent, Actor, record_access

RECEIPT_FORMAT = "ozg-erasure-receipt/1"
RECEIPT_RETENTION = timedelta(days=3 * 365)  # § 195 BGB regular limitation period
ERASURE_BASIS = "Art. 17 GDPR"


class IdentityAdmin(Protocol):
    """The identity provider's admin operations the account needs (Keycloak: python-keycloak
    ``KeycloakAdmin``; tests and development: fakes)."""

    def logout_all_sessions(self, subject: str) -> None: ...

    def disable_user(self, subject: str) -> None: ...

    def attributes(self, subject: str) -> dict[str, list[str]]: ...


class ReceiptSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key_b64 = _b64(raw)
        self.key_id = _b64(hashlib.sha256(raw).digest()[:16])

    @classmethod
    def from_secret(cls, secret: str) -> ReceiptSigner:
        seed = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"ozg-commons",
            info=b"account erasure receipt signing key v1",
        ).derive(secret.encode())
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, receipt: dict[str, Any]) -> dict[str, Any]:
        signature = self._key.sign(canonical_json(receipt))
        return {"receipt": receipt, "signature": _b64(signature), "public_key": self.public_key_b64}


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_receipt(signed: dict[str, Any], public_key_b64: str) -> dict[str, Any]:
    """The receipt if ``signed`` verifies under ``public_key_b64``; raises ``ValueError``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64))
        receipt = signed["receipt"]
        if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
            raise ValueError("not an ozg-erasure-receipt/1")
        key.verify(_unb64(signed["signature"]), canonical_json(receipt))
    except (InvalidSignature, KeyError, TypeError) as exc:
        raise ValueError("the erasure receipt does not verify") from exc
    return receipt


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def subject_digest(secret: str, issuer: str, subject: str) -> str:
    return hmac.new(secret.encode(), f"{issuer}\n{subject}".encode(), hashlib.sha256).hexdigest()


def erased_since(session: Session, principal: Principal, secret: str) -> bool:
    """Whether ``principal``'s subject was erased after (or without) its authentication.

    One indexed lookup (``account_erasure.subject_digest``). A token without ``auth_time``
    counts as older than any erasure; a new authentication after the erasure starts over.
    """
    digest = subject_digest(secret, principal.issuer or LOCAL_ISSUER, principal.subject)
    erased_at = session.scalar(
        select(func.max(Erasure.erased_at)).where(Erasure.subject_digest == digest)
    )
    return erased_at is not None and (
        principal.auth_time is None or principal.auth_time <= erased_at
    )


# --------------------------------------------------------------------------- account data
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    """Everything the account domain holds about ``subject`` (every row, every column)."""
    accounts = []
    for account in session.scalars(select(Account).where(Account.subject == subject)):
        rows: dict[str, list[dict[str, Any]]] = {}
        for model in (ProfileAttribute, Login, Consent, Message):
            records = session.scalars(select(model).where(model.account_id == account.id))
            rows[model.__tablename__] = [_row(r) for r in records]
        accounts.append({"account": _row(account), **rows})
    return {"accounts": accounts}


def _row(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        value = getattr(obj, column.key)
        out[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def shred_personal_data(session: Session, subject: str) -> ShredReport:
    """Delete every account row of ``subject``; nothing of it must be retained."""
    report = ShredReport(component="account")
    ids = list(session.scalars(select(Account.id).where(Account.subject == subject)))
    if not ids:
        return report
    for model in (ProfileAttribute, Login, Consent, Message):
        result = session.execute(delete(model).where(model.account_id.in_(ids)))
        report.deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = session.execute(delete(Account).where(Account.id.in_(ids)))
    report.deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return report


# --------------------------------------------------------------------------- export / erase
def export_bundle(
    session: Session,
    principal: Principal,
    registry: PersonalDataRegistry,
    *,
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """The Art. 15/20 bundle: the account's part first, then every registered domain's."""
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
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """Run every shredder, log out and disable at the IdP, keep and return a signed receipt."""
    now = clock.now()
    reports = [shred_personal_data(session, subject)]
    reports += [h.shred(session, subject) for h in registry if h.component != "account"]
    receipt_id = new_id_str(clock)
    retained: list[RetainedRecord] = [
        RetainedRecord(
            "account_erasure", receipt_id, "Art. 5(2), Art. 17 GDPR", now + RECEIPT_RETENTION
        )
    ]
    receipt = {
        "format": RECEIPT_FORMAT,
        "receipt_id": receipt_id,
        "issuer": issuer,
        "subject_digest": subject_digest(secret, issuer, subject),
        "erased_at": now.isoformat(),
        "reason": reason,
        "key_id": signer.key_id,
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
    signed = signer.sign(receipt)
    session.add(
        Erasure(
            id=receipt_id,
            subject_digest=receipt["subject_digest"],
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
        # Last, after everything else succeeded in this transaction; an IdP failure rolls
        # the erasure back, so it can be retried as a whole.
        admin.logout_all_sessions(subject)
        admin.disable_user(subject)
    return signed


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


def delete_expired_receipts(session: Session, cutoff: datetime) -> list[str]:
    """Retention executor for ``account_erasure``: erasure receipts issued before the cutoff
    (their proof duty has run out; they hold no personal data, only a keyed digest)."""
    ids = list(session.scalars(select(Erasure.id).where(Erasure.erased_at < cutoff)))
    for start in range(0, len(ids), 500):
        session.execute(delete(Erasure).where(Erasure.id.in_(ids[start : start + 500])))
    return ids
