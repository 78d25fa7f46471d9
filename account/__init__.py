"""Applicant accounts.

The applicant's account on top of the identity provider (Keycloak over OIDC, BundID brokered
through it): trust levels, roles, profile, consents, mailbox, GDPR export and erasure.

Other packages use only what this module exports.
"""

from account.auth import (
    CurrentPrincipal,
    StreamingPrincipal,
    current_principal,
    enforce_account_rules,
    require_roles,
    require_scope,
    require_trust_level,
)
from account.erasure import IdentityAdmin
from account.errors import InsufficientScope, InsufficientUserAuthentication
from account.mailbox import CATEGORIES as MESSAGE_CATEGORIES
from account.mailbox import send_message
from account.principal import OPERATOR, Principal, Role, TrustLevel
from account.scopes import Scope
from account.service import has_consent

__all__ = [
    "MESSAGE_CATEGORIES",
    "OPERATOR",
    "CurrentPrincipal",
    "IdentityAdmin",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "Principal",
    "Role",
    "Scope",
    "StreamingPrincipal",
    "TrustLevel",
    "current_principal",
    "enforce_account_rules",
    "has_consent",
    "require_roles",
    "require_scope",
    "require_trust_level",
    "send_message",
]
