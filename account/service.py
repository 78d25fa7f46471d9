"""The account: created on first authenticated use, profile, login history, consents.

Services receive a session and never commit. Every read or write of personal data is
recorded through :func:`compliance.record_access` in the same session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from account.errors import AccountNotFound, AttributeNotEditable, ConsentNotFound
from account.models import Account, Consent, Login, Message, ProfileAttribute
from account.principal import Principal
from commons.clock import Clock, system_clock
from commons.ids import new_id_str
from compliance import AccessEvent, record_access, record_denied

LOCAL_ISSUER = "urn:ozg-commons:local"  # principals not from a token (tests, jobs)
LOGIN_DEDUP = timedelta(hours=1)  # without auth_time, one history row per hour of use
EDITABLE_ATTRIBUTES = frozenset(
    {"given_name", "family_name", "birthdate", "nationality", "address", "email", "locale"}
)
ACCOUNT_LEGAL_BASIS = "Art. 6(1)(e) GDPR, § 3 OZG"


def _issuer(principal: Principal) -> str:
    return principal.issuer or LOCAL_ISSUER


_KNOWN = "account.known_account"  # in the session's info: what the request's check read


def remember_account(
    session: Session, principal: Principal, account: Account | None, last_login: Login | None
) -> None:
    """Keep ``principal``'s account and its latest login, read by the request's account
    rules in the same statement as the erasure check (:func:`account.erasure.erased_since`),
    for this unit of work: :func:`find_account` and the login record then ask nothing."""
    session.info[_KNOWN] = (_issuer(principal), principal.subject, account, last_login)


def _known(session: Session, principal: Principal) -> tuple[Account, Login | None] | None:
    known = session.info.get(_KNOWN)
    if known is None or known[:2] != (_issuer(principal), principal.subject) or known[2] is None:
        return None
    return known[2], known[3]


def find_account(session: Session, principal: Principal) -> Account | None:
    known = _known(session, principal)
    if known is not None:
        return known[0]
    return session.scalars(
        select(Account).where(
            Account.issuer == _issuer(principal), Account.subject == principal.subject
        )
    ).one_or_none()


def require_account(session: Session, principal: Principal) -> Account:
    account = find_account(session, principal)
    if account is None:
        raise AccountNotFound()
    return account


_Row = TypeVar("_Row", Consent, Message)


def owned_row(
    session: Session, principal: Principal, model: type[_Row], row_id: str
) -> _Row | None:
    """The one place that scopes a single consent or message to the principal asking: the
    row only if it belongs to the caller's account (``AccountNotFound`` without one)."""
    account = find_account(session, principal)
    if account is None:
        _record_refusal(session, principal, model, row_id)
        raise AccountNotFound()
    row: _Row | None = session.scalars(
        select(model).where(model.id == row_id, model.account_id == account.id)
    ).one_or_none()
    if row is None:
        _record_refusal(session, principal, model, row_id)
    return row


def _record_refusal(session: Session, principal: Principal, model: type[_Row], row_id: str) -> None:
    """Someone else's consent or message: an audit entry with outcome ``denied`` (kept
    though the refusal rolls the unit of work back), naming the owner as data subject."""
    owner = session.scalar(
        select(Account.subject)
        .join(model, model.account_id == Account.id)
        .where(model.id == row_id)
    )
    if owner is None:
        return  # no such row: nobody's data was at stake
    record_denied(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=owner,
            action="account.record.access_denied",
            resource=f"{model.__name__.lower()}:{row_id}",
            purpose="documenting a refused access to personal data",
            legal_basis="Art. 5(2), Art. 32 GDPR",
            outcome="denied",
        ),
    )


LAST_SEEN_GRANULARITY = timedelta(hours=1)
"""How stale ``Account.last_seen_at`` may be: dormancy (docs/account.md) counts in days, so
an account's every request need not write it."""


def touch(session: Session, principal: Principal, *, clock: Clock = system_clock) -> Account:
    """The caller's account, created on first use; records the login and refreshes the
    identity provider's attributes."""
    return _touch(session, principal, clock)[0]


def _touch(
    session: Session, principal: Principal, clock: Clock
) -> tuple[Account, list[ProfileAttribute] | None]:
    """:func:`touch`, and the account's attributes (by name) if it read them anyway."""
    now = clock.now()
    account = find_account(session, principal)
    if account is None:
        account = Account(
            id=new_id_str(clock),
            issuer=_issuer(principal),
            subject=principal.subject,
            trust_level=int(principal.trust_level),
            created_at=now,
            last_seen_at=now,
            email_notifications=False,
        )
        session.add(account)
        session.flush()
        _record_own(
            session,
            principal,
            "account.account.create",
            resource=f"account:{account.id}",
            purpose="provide the applicant account",
            legal_basis=ACCOUNT_LEGAL_BASIS,
            clock=clock,
        )
    # A read must not rewrite the account: only what changed is written, and the last-seen
    # time (which dormancy counts in days) only once per LAST_SEEN_GRANULARITY.
    if now - account.last_seen_at >= LAST_SEEN_GRANULARITY:
        account.last_seen_at = now
    if account.trust_level != int(principal.trust_level):
        account.trust_level = int(principal.trust_level)
    if account.dormancy_notice_at is not None:
        account.dormancy_notice_at = None
    _record_login(session, account, principal, now, clock)
    return account, _refresh_idp_attributes(session, account, principal, now, clock)


def _record_login(
    session: Session, account: Account, principal: Principal, now: datetime, clock: Clock
) -> None:
    known = _known(session, principal)
    # One use: the login written below is newer than the one the check read.
    session.info.pop(_KNOWN, None)
    if known is not None and known[0] is account:
        last = known[1]
    else:
        last = session.scalars(latest_login(Login.account_id == account.id)).one_or_none()
    if principal.auth_time is not None:
        if last is not None and last.authenticated_at == principal.auth_time:
            return
        at = principal.auth_time
    else:
        if last is not None and now - last.first_used_at < LOGIN_DEDUP:
            return
        at = now
    session.add(
        Login(
            id=new_id_str(clock),
            account_id=account.id,
            authenticated_at=at,
            first_used_at=now,
            trust_level=int(principal.trust_level),
        )
    )


def latest_login(*where: ColumnElement[bool]) -> Select[Login]:
    """The latest of the logins ``where`` selects (an account's: ``Login.account_id == ...``)."""
    return select(Login).where(*where).order_by(Login.first_used_at.desc()).limit(1)


def _refresh_idp_attributes(
    session: Session, account: Account, principal: Principal, now: datetime, clock: Clock
) -> list[ProfileAttribute] | None:
    """Bring the identity provider's attributes up to date; return all of the account's
    attributes by name (None if the token carries none and nothing was read)."""
    if not principal.attributes:
        return None
    existing = {a.name: a for a in _attributes(session, account)}
    for name, value in principal.attributes:
        attribute = existing.get(name)
        if attribute is None:
            existing[name] = ProfileAttribute(
                id=new_id_str(clock),
                account_id=account.id,
                name=name,
                value=value,
                source="idp",
                trust_level=int(principal.trust_level),
                updated_at=now,
            )
            session.add(existing[name])
        elif (attribute.source == "idp" or principal.trust_level > attribute.trust_level) and (
            attribute.value != value
            or attribute.source != "idp"
            or attribute.trust_level != int(principal.trust_level)
        ):
            attribute.value = value
            attribute.source = "idp"
            attribute.trust_level = int(principal.trust_level)
            attribute.updated_at = now
    return [existing[name] for name in sorted(existing)]


def _attributes(session: Session, account: Account) -> list[ProfileAttribute]:
    return list(
        session.scalars(
            select(ProfileAttribute)
            .where(ProfileAttribute.account_id == account.id)
            .order_by(ProfileAttribute.name)
        )
    )


def profile(
    session: Session, principal: Principal, *, clock: Clock = system_clock
) -> tuple[Account, list[ProfileAttribute]]:
    account, attributes = _touch(session, principal, clock)
    if attributes is None:
        attributes = _attributes(session, account)
    # Recorded after the last read: the entry is written with the commit, so on SQLite the
    # write lock is held only for the entry and the commit (commons/db.py).
    _record_own(
        session,
        principal,
        "account.profile.read",
        resource=f"account:{account.id}",
        purpose="show the applicant their profile",
        legal_basis=ACCOUNT_LEGAL_BASIS,
        clock=clock,
    )
    return account, attributes


def set_attribute(
    session: Session,
    principal: Principal,
    name: str,
    value: str,
    *,
    clock: Clock = system_clock,
) -> ProfileAttribute:
    """The applicant corrects or adds a self-entered attribute; IdP ones are not editable."""
    if name not in EDITABLE_ATTRIBUTES:
        raise AttributeNotEditable(f"'{name}' is not a profile attribute")
    account = touch(session, principal, clock=clock)
    now = clock.now()
    attribute = next((a for a in _attributes(session, account) if a.name == name), None)
    if attribute is not None and attribute.source == "idp":
        raise AttributeNotEditable(f"'{name}' comes from the identity provider; correct it there")
    if attribute is None:
        attribute = ProfileAttribute(
            id=new_id_str(clock),
            account_id=account.id,
            name=name,
            value=value,
            source="applicant",
            trust_level=0,
            updated_at=now,
        )
        session.add(attribute)
    else:
        attribute.value = value
        attribute.updated_at = now
    _record_own(
        session,
        principal,
        "account.profile.write",
        resource=f"account:{account.id}",
        purpose="the applicant corrects their profile",
        legal_basis="Art. 16 GDPR",
        clock=clock,
    )
    return attribute


def set_notifications(
    session: Session, principal: Principal, enabled: bool, *, clock: Clock = system_clock
) -> Account:
    account = touch(session, principal, clock=clock)
    account.email_notifications = enabled
    return account


def login_history(
    session: Session, principal: Principal, *, clock: Clock = system_clock, limit: int = 100
) -> list[Login]:
    account = touch(session, principal, clock=clock)
    _record_read(session, principal, account, "account.login.list", clock)
    return list(
        session.scalars(
            select(Login)
            .where(Login.account_id == account.id)
            .order_by(Login.first_used_at.desc())
            .limit(limit)
        )
    )


# --------------------------------------------------------------------------- consents
def grant_consent(
    session: Session,
    principal: Principal,
    *,
    purpose: str,
    legal_basis: str,
    recipient_authority: str | None,
    text_version: str,
    clock: Clock = system_clock,
) -> Consent:
    account = touch(session, principal, clock=clock)
    consent = Consent(
        id=new_id_str(clock),
        account_id=account.id,
        purpose=purpose,
        legal_basis=legal_basis,
        recipient_authority=recipient_authority,
        text_version=text_version,
        given_at=clock.now(),
    )
    session.add(consent)
    _record_consent(session, principal, consent, "account.consent.grant", clock)
    return consent


def list_consents(
    session: Session, principal: Principal, *, clock: Clock = system_clock
) -> list[Consent]:
    account = touch(session, principal, clock=clock)
    _record_read(session, principal, account, "account.consent.list", clock)
    return list(
        session.scalars(
            select(Consent).where(Consent.account_id == account.id).order_by(Consent.given_at)
        )
    )


def withdraw_consent(
    session: Session, principal: Principal, consent_id: str, *, clock: Clock = system_clock
) -> Consent:
    consent = owned_row(session, principal, Consent, consent_id)
    if consent is None:
        raise ConsentNotFound()
    if consent.withdrawn_at is None:
        consent.withdrawn_at = clock.now()
        _record_consent(session, principal, consent, "account.consent.withdraw", clock)
    return consent


def has_consent(
    session: Session, subject: str, purpose: str, *, recipient_authority: str | None = None
) -> bool:
    """Whether ``subject`` holds a consent for ``purpose`` that is not withdrawn.

    Services that rely on a consent ask this at the time of use, so a withdrawal is
    honoured from the next use on.
    """
    query = (
        select(Consent.id)
        .join(Account, Account.id == Consent.account_id)
        .where(
            Account.subject == subject,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    )
    if recipient_authority is not None:
        query = query.where(Consent.recipient_authority == recipient_authority)
    return session.scalars(query.limit(1)).first() is not None


def _record_consent(
    session: Session, principal: Principal, consent: Consent, action: str, clock: Clock
) -> None:
    _record_own(
        session,
        principal,
        action,
        resource=f"consent:{consent.id}",
        purpose="keep the applicant's consent receipts",
        legal_basis="Art. 7(1) GDPR",
        clock=clock,
    )


def _record_read(
    session: Session, principal: Principal, account: Account, action: str, clock: Clock
) -> None:
    _record_own(
        session,
        principal,
        action,
        resource=f"account:{account.id}",
        purpose="show the applicant their account",
        legal_basis=ACCOUNT_LEGAL_BASIS,
        clock=clock,
    )


def _record_own(
    session: Session,
    principal: Principal,
    action: str,
    *,
    resource: str,
    purpose: str,
    legal_basis: str,
    clock: Clock,
) -> None:
    """Record an access by the principal to their own account data."""
    record_access(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=principal.subject,
            action=action,
            resource=resource,
            purpose=purpose,
            legal_basis=legal_basis,
        ),
        clock=clock,
    )
