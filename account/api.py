"""HTTP routes of the account domain: thin handlers over ``service.py``, ``mailbox.py`` and
``erasure.py``. What they read from ``app.state`` (the authenticator, the identity admin, the
mail notifier) is wired by :func:`account.runtime.configure`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from account import erasure, mailbox, service
from account.auth import CurrentPrincipal, require_roles, require_scope
from account.errors import RecentAuthenticationRequired
from account.models import Account, Consent, Login, Message, ProfileAttribute
from account.principal import Principal, Role, TrustLevel
from account.runtime import AccountSettings
from account.schemas import (
    MAX_SEALED_BODY,
    AttributeIn,
    AttributeName,
    AttributeOut,
    ConsentIn,
    ConsentOut,
    ErasureIn,
    LoginOut,
    MeOut,
    MessageIn,
    MessageOut,
    MessageSummary,
    NotificationsIn,
    SentMessage,
)
from account.scopes import Scope
from commons.clock import system_clock
from commons.components import PersonalDataRegistry
from commons.receipts import ReceiptSigner
from commons.settings import Settings
from commons.web import DbSession, body_limit

router = APIRouter(tags=["account"])


Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Sender = Annotated[Principal, Depends(require_roles(Role.CASEWORKER, Role.FLOW))]


def _level(value: int) -> Any:
    return TrustLevel(value).name.lower() if value in TrustLevel._value2member_map_ else None


# --------------------------------------------------------------------------- profile
@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, session: DbSession) -> MeOut:
    """Who the caller is. For applicants, the account (created on first use) and profile.

    No scope for flow clients: what they get back is their own token's content."""
    account: Account | None = None
    attributes: list[ProfileAttribute] = []
    if principal.has(Role.APPLICANT):
        account, attributes = service.profile(session, principal)
    return MeOut(
        subject=principal.subject,
        roles=sorted(r.value for r in principal.roles),
        trust_level=_level(principal.trust_level),
        authority=principal.authority,
        client_id=principal.client_id,
        account_id=account.id if account else None,
        created_at=account.created_at if account else None,
        email_notifications=account.email_notifications if account else False,
        attributes=[_attribute(a) for a in attributes],
    )


def _attribute(a: ProfileAttribute) -> AttributeOut:
    return AttributeOut(
        name=a.name,
        value=a.value,
        source="idp" if a.source == "idp" else "applicant",
        trust_level=_level(a.trust_level),
        updated_at=a.updated_at,
    )


@router.put("/me/attributes/{name}", response_model=AttributeOut)
def set_attribute(
    name: AttributeName, body: AttributeIn, principal: Applicant, session: DbSession
) -> AttributeOut:
    return _attribute(service.set_attribute(session, principal, name, body.value))


@router.put("/me/notifications", status_code=204)
def set_notifications(body: NotificationsIn, principal: Applicant, session: DbSession) -> None:
    service.set_notifications(session, principal, body.email_notifications)


@router.get("/me/logins", response_model=list[LoginOut])
def logins(principal: Applicant, session: DbSession) -> list[LoginOut]:
    return [_login(row) for row in service.login_history(session, principal)]


def _login(row: Login) -> LoginOut:
    return LoginOut(
        authenticated_at=row.authenticated_at,
        first_used_at=row.first_used_at,
        trust_level=_level(row.trust_level),
    )


# --------------------------------------------------------------------------- consents
def _consent(c: Consent) -> ConsentOut:
    return ConsentOut(
        id=c.id,
        purpose=c.purpose,
        legal_basis=c.legal_basis,
        recipient_authority=c.recipient_authority,
        text_version=c.text_version,
        given_at=c.given_at,
        withdrawn_at=c.withdrawn_at,
    )


@router.get("/me/consents", response_model=list[ConsentOut])
def consents(principal: Applicant, session: DbSession) -> list[ConsentOut]:
    return [_consent(c) for c in service.list_consents(session, principal)]


@router.post("/me/consents", response_model=ConsentOut, status_code=201)
def grant_consent(body: ConsentIn, principal: Applicant, session: DbSession) -> ConsentOut:
    return _consent(service.grant_consent(session, principal, **body.model_dump()))


@router.post("/me/consents/{consent_id}/withdraw", response_model=ConsentOut)
def withdraw_consent(consent_id: str, principal: Applicant, session: DbSession) -> ConsentOut:
    return _consent(service.withdraw_consent(session, principal, consent_id))


# --------------------------------------------------------------------------- mailbox
def _summary(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "title": m.title,
        "category": m.category,
        "sender_authority": m.sender_authority,
        "sender_client_id": m.sender_client_id,
        "case_ref": m.case_ref,
        "sent_at": m.sent_at,
        "read_at": m.read_at,
        "archived_at": m.archived_at,
    }


@router.post(
    "/mailbox/messages",
    response_model=SentMessage,
    status_code=201,
    # a sealed body is up to 1 MiB of envelope as base64url, plus the other fields
    openapi_extra=body_limit(MAX_SEALED_BODY + 64 * 1024),
    dependencies=[Depends(require_scope(Scope.MAILBOX_WRITE))],
)
def send_message(
    body: MessageIn, principal: Sender, session: DbSession, request: Request
) -> SentMessage:
    """An authority (caseworker) or a flow sends a message to an applicant's mailbox."""
    message = mailbox.send_message(
        session,
        principal,
        notifier=getattr(request.app.state, "mail_notifier", None),
        **body.model_dump(),
    )
    return SentMessage(id=message.id, sent_at=message.sent_at)


@router.get("/me/messages", response_model=list[MessageSummary])
def list_messages(
    principal: Applicant, session: DbSession, archived: bool = False
) -> list[MessageSummary]:
    rows = mailbox.list_messages(session, principal, archived=archived)
    return [MessageSummary(**_summary(m)) for m in rows]


@router.get("/me/messages/{message_id}", response_model=MessageOut)
def read_message(message_id: str, principal: Applicant, session: DbSession) -> MessageOut:
    """Open one message: returns its body and sets the read receipt."""
    m = mailbox.read_message(session, principal, message_id)
    return MessageOut(
        **_summary(m),
        body=m.body,
        body_format="ozg-envelope" if m.body_format == "ozg-envelope" else "text",
        document_refs=list(m.document_refs),
    )


@router.post("/me/messages/{message_id}/archive", response_model=MessageSummary)
def archive_message(message_id: str, principal: Applicant, session: DbSession) -> MessageSummary:
    return MessageSummary(**_summary(mailbox.archive_message(session, principal, message_id)))


# --------------------------------------------------------------------------- GDPR
@router.get("/me/export")
def export(principal: Applicant, session: DbSession, request: Request) -> dict[str, Any]:
    """Everything held about the caller, from every domain (GDPR Art. 15/20), as JSON."""
    registry: PersonalDataRegistry = request.app.state.personal_data
    declarations = getattr(request.app.state, "declarations", None)
    activities = declarations.activities if declarations is not None else ()
    return erasure.export_bundle(session, principal, registry, activities=activities)


@router.delete("/me")
def erase(
    principal: Applicant,
    session: DbSession,
    request: Request,
    body: Annotated[ErasureIn, Body()],
) -> dict[str, Any]:
    """Erase the caller's account and data in every domain (GDPR Art. 17).

    Needs ``{"confirm": "erase my account"}`` and an authentication no older than
    ``OZG_ACCOUNT_RECENT_AUTH_MINUTES``. Returns the signed erasure receipt.
    """
    settings: Settings = request.app.state.settings
    max_age = timedelta(minutes=settings.section(AccountSettings).recent_auth_minutes)
    if principal.auth_time is None or system_clock.now() - principal.auth_time > max_age:
        raise RecentAuthenticationRequired(int(max_age.total_seconds()))
    return erasure.erase_subject(
        session,
        actor=principal.as_actor(),
        issuer=principal.issuer or service.LOCAL_ISSUER,
        subject=principal.subject,
        registry=request.app.state.personal_data,
        admin=request.app.state.identity_admin,
        signer=request.app.state.receipt_signer,
        secret=settings.secret_key.get_secret_value(),
        reason="request",
        journal=request.app.state.erasure_journal,
    )


@router.get("/account/erasure-receipt-key", deprecated=True)
def erasure_receipt_key(request: Request, response: Response) -> dict[str, Any]:
    """Deprecated alias of ``GET /v1/receipts/keys`` (the same JWKS)."""
    response.headers["Deprecation"] = "true"
    response.headers["Link"] = '</v1/receipts/keys>; rel="successor-version"'
    signer: ReceiptSigner = request.app.state.receipt_signer
    return signer.jwks()
