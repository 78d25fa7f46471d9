"""The account's own part of a GDPR export (Art. 15/20) and erasure (Art. 17): every row of
the account domain about a subject (account, profile, logins, consents, mailbox).

The account component registers these like any other (``commons.components``);
:mod:`account.erasure` runs them together with every other domain's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from account.models import Account, Consent, Login, Message, ProfileAttribute
from commons.components import ShredReport


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
