"""From verified Keycloak claims to a :class:`Principal`.

- ``sub`` is the stable subject, ``iss`` the issuer (an account is keyed by both).
- Roles: the union of ``realm_access.roles`` and ``resource_access.<api client>.roles``,
  keeping only the known :class:`Role` names; other roles are ignored.
- Authority (caseworkers, DPOs): a client role ``authority:<id>`` on the API client
  (``resource_access.<api client>.roles``), e.g. ``authority:tf``; ``authority:operator``
  for a DPO of the operator. A caseworker or DPO needs exactly one.
- Trust level: ``acr`` through the configured map (STORK-QAA-Level-1..4, basis /
  substantiell / hoch); a missing or unknown ``acr`` is *basis*, never higher.
- Flow clients: the ``flow`` role (a service-account role); ``azp`` is the client id and
  ``scope`` its scopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from account.errors import TokenNotPermitted
from account.principal import Principal, Role, TrustLevel

AUTHORITY_ROLE_PREFIX = "authority:"
MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
IDP_ATTRIBUTES = (
    "given_name",
    "family_name",
    "email",
    "birthdate",
    "nationality",
    "address",
    "locale",
)
DEFAULT_ACR_MAP: Mapping[str, TrustLevel] = {
    "0": TrustLevel.BASIS,
    "1": TrustLevel.BASIS,
    "basis": TrustLevel.BASIS,
    "substantiell": TrustLevel.SUBSTANTIELL,
    "hoch": TrustLevel.HOCH,
    "STORK-QAA-Level-1": TrustLevel.BASIS,
    "STORK-QAA-Level-2": TrustLevel.BASIS,
    "STORK-QAA-Level-3": TrustLevel.SUBSTANTIELL,
    "STORK-QAA-Level-4": TrustLevel.HOCH,
}


@dataclass(frozen=True, slots=True)
class ClaimsMapping:
    api_client_id: str
    acr_map: Mapping[str, TrustLevel] = field(default_factory=lambda: dict(DEFAULT_ACR_MAP))

    @classmethod
    def from_names(cls, api_client_id: str, acr_map: Mapping[str, str]) -> ClaimsMapping:
        return cls(api_client_id, {k: TrustLevel[v.upper()] for k, v in acr_map.items()})

    def trust_level(self, acr: object) -> TrustLevel:
        if isinstance(acr, str):
            return self.acr_map.get(acr, TrustLevel.BASIS)
        return TrustLevel.BASIS


def _roles(container: object) -> list[str]:
    if isinstance(container, dict):
        roles = container.get("roles")
        if isinstance(roles, list):
            return [r for r in roles if isinstance(r, str)]
    return []


def _attribute(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if name == "address" and isinstance(value, dict):  # OIDC address claim: use "formatted"
        value = value.get("formatted")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:1000] or None


def principal_from_claims(claims: Mapping[str, Any], mapping: ClaimsMapping) -> Principal:
    """Map verified claims; raise :class:`TokenNotPermitted` if they grant no usable role."""
    names = set(_roles(claims.get("realm_access")))
    resource_access = claims.get("resource_access")
    if isinstance(resource_access, dict):
        names.update(_roles(resource_access.get(mapping.api_client_id)))
    roles = frozenset(Role(n) for n in names if n in Role.__members__.values())
    if not roles:
        raise TokenNotPermitted("no-role", "the access token grants none of this service's roles")
    authorities = sorted(
        n[len(AUTHORITY_ROLE_PREFIX) :] for n in names if n.startswith(AUTHORITY_ROLE_PREFIX)
    )
    authority: str | None = None
    if roles & {Role.CASEWORKER, Role.DPO}:
        if len(authorities) != 1 or not authorities[0]:
            raise TokenNotPermitted(
                "no-authority",
                "a caseworker or DPO token must be bound to exactly one authority",
            )
        authority = authorities[0]
    subject = claims.get("sub") or claims.get("azp")
    if not isinstance(subject, str) or not subject:
        raise TokenNotPermitted("no-subject", "the access token names no subject")
    azp = claims.get("azp")
    client_id = azp if Role.FLOW in roles and isinstance(azp, str) else None
    scope = claims.get("scope")
    scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    auth_time = claims.get("auth_time")
    attributes = tuple(
        (name, value) for name in IDP_ATTRIBUTES if (value := _attribute(claims, name))
    )
    return Principal(
        subject=subject,
        roles=roles,
        trust_level=mapping.trust_level(claims.get("acr")),
        authority=authority,
        client_id=client_id,
        scopes=scopes,
        issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
        auth_time=(
            datetime.fromtimestamp(auth_time, UTC)
            if isinstance(auth_time, int)
            and not isinstance(auth_time, bool)
            and 0 < auth_time < MAX_EPOCH_SECONDS
            else None
        ),
        attributes=attributes,
    )
