"""Plain factory functions for principals and other test data."""

from __future__ import annotations

import uuid

from account.principal import Principal, Role, TrustLevel
from account.scopes import GRANTED


def applicant(subject: str | None = None, trust_level: TrustLevel = TrustLevel.BASIS) -> Principal:
    return Principal(
        subject=subject or str(uuid.uuid4()),
        roles=frozenset({Role.APPLICANT}),
        trust_level=trust_level,
    )


def caseworker(authority: str = "tf", subject: str | None = None) -> Principal:
    return Principal(
        subject=subject or str(uuid.uuid4()),
        roles=frozenset({Role.CASEWORKER}),
        trust_level=TrustLevel.SUBSTANTIELL,
        authority=authority,
    )


def dpo(authority: str = "operator", subject: str | None = None) -> Principal:
    return Principal(
        subject=subject or str(uuid.uuid4()),
        roles=frozenset({Role.DPO}),
        trust_level=TrustLevel.SUBSTANTIELL,
        authority=authority,
    )


def flow_client(
    client_id: str = "demo-flow", scopes: frozenset[str] = frozenset(GRANTED)
) -> Principal:
    """A flow client; by default holding every scope some route requires."""
    return Principal(
        subject=client_id,
        roles=frozenset({Role.FLOW}),
        client_id=client_id,
        scopes=scopes,
    )


def admin(subject: str | None = None) -> Principal:
    return Principal(
        subject=subject or str(uuid.uuid4()),
        roles=frozenset({Role.ADMIN}),
        trust_level=TrustLevel.SUBSTANTIELL,
    )
