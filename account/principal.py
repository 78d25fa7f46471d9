"""Who is calling: the principal every domain receives through one FastAPI dependency."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from compliance import Actor


class TrustLevel(IntEnum):
    """Vertrauensniveau (level of assurance) of the authentication, BSI TR-03107 / eIDAS.

    STORK-QAA levels 1-4 map onto these through configuration: *basis* is username and
    password, *substantiell* an ELSTER certificate or some EU eIDs, *hoch* the German eID
    card, the electronic residence permit card (eAT) or the EU citizen card.
    """

    BASIS = 1
    SUBSTANTIELL = 2
    HOCH = 3


class Role(StrEnum):
    APPLICANT = "applicant"
    CASEWORKER = "caseworker"  # always bound to one authority
    FLOW = "flow"  # a permit flow's service client (client-credentials grant)
    DPO = "dpo"  # data-protection officer, bound to an authority or to the operator
    ADMIN = "admin"


OPERATOR = "operator"  # the authority value of a DPO who audits the operator itself


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    trust_level: TrustLevel = TrustLevel.BASIS
    authority: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # Set by token verification; None for principals built in tests or by jobs.
    issuer: str | None = None
    auth_time: datetime | None = None
    # Identity-provider attributes (given_name, family_name, email, birthdate, ...), as pairs.
    attributes: tuple[tuple[str, str], ...] = ()

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def primary_role(self) -> Role:
        for role in (Role.ADMIN, Role.DPO, Role.CASEWORKER, Role.FLOW, Role.APPLICANT):
            if role in self.roles:
                return role
        raise ValueError("principal without a role")

    def as_actor(self) -> Actor:
        """This principal as the actor of an audit-trail entry."""
        return Actor(
            subject=self.subject,
            role=self.primary_role.value,
            authority=self.authority,
            client_id=self.client_id,
        )
