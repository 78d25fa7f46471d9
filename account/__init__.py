"""Applicant accounts.

The applicant's account on top of the identity provider (Keycloak over OIDC, BundID brokered
through it): trust levels, roles, profile, consents, mailbox, GDPR export and erasure.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from account.auth import (
        CurrentPrincipal,
        ScopeGuard,
        StreamingPrincipal,
        current_principal,
        enforce_account_rules,
        require_roles,
        require_scope,
        require_trust_level,
    )
    from account.authn import SessionTokens, install_session_authentication
    from account.erasure import IdentityAdmin, replay_journal
    from account.errors import (
        DevIdpError,
        InsufficientScope,
        InsufficientUserAuthentication,
        JournalUnavailable,
        RecipientNotFound,
    )
    from account.journal import ErasureJournal, held_subjects, unseen_erasures
    from account.mailbox import MESSAGE_CATEGORIES, Notifier, send_message
    from account.models import Message
    from account.principal import OPERATOR, Principal, Role, TrustLevel
    from account.runtime import erasure_journal_dir
    from account.scopes import Scope
    from account.service import has_consent, touch

__all__ = [
    "MESSAGE_CATEGORIES",
    "OPERATOR",
    "CurrentPrincipal",
    "DevIdpError",
    "ErasureJournal",
    "IdentityAdmin",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "JournalUnavailable",
    "Message",
    "Notifier",
    "Principal",
    "RecipientNotFound",
    "Role",
    "Scope",
    "ScopeGuard",
    "SessionTokens",
    "StreamingPrincipal",
    "TrustLevel",
    "current_principal",
    "enforce_account_rules",
    "erasure_journal_dir",
    "has_consent",
    "held_subjects",
    "install_session_authentication",
    "replay_journal",
    "require_roles",
    "require_scope",
    "require_trust_level",
    "send_message",
    "touch",
    "unseen_erasures",
]
__getattr__ = lazy_face(
    __name__,
    {
        "CurrentPrincipal": "account.auth",
        "DevIdpError": "account.errors",
        "IdentityAdmin": "account.erasure",
        "InsufficientScope": "account.errors",
        "InsufficientUserAuthentication": "account.errors",
        "MESSAGE_CATEGORIES": "account.mailbox",
        "Message": "account.models",
        "Notifier": "account.mailbox",
        "OPERATOR": "account.principal",
        "Principal": "account.principal",
        "RecipientNotFound": "account.errors",
        "Role": "account.principal",
        "Scope": "account.scopes",
        "ScopeGuard": "account.auth",
        "StreamingPrincipal": "account.auth",
        "TrustLevel": "account.principal",
        "current_principal": "account.auth",
        "enforce_account_rules": "account.auth",
        "has_consent": "account.service",
        "install_session_authentication": "account.authn",
        "SessionTokens": "account.authn",
        "require_roles": "account.auth",
        "require_scope": "account.auth",
        "require_trust_level": "account.auth",
        "send_message": "account.mailbox",
        "touch": "account.service",
        "JournalUnavailable": "account.errors",
        "ErasureJournal": "account.journal",
        "held_subjects": "account.journal",
        "unseen_erasures": "account.journal",
        "erasure_journal_dir": "account.runtime",
        "replay_journal": "account.erasure",
    },
)
