"""The authorities of one deployment, and which of them serves a LeiKa service in a region.

Every immigration authority (*Ausländerbehörde*) that a deployment delivers to is an
:class:`Authority`: its FIT-Connect destination, its public keys (already validated when the
registry is built), the regions it is responsible for (ARS/AGS codes), the flows it accepts
and the portal data the applicant sees. :class:`AuthorityRegistry` answers the lookups the
other components need: by id, by destination, and by route (LeiKa key plus region).

Regional codes (Destatis *Regionalschlüssel*): the **ARS** has up to 12 digits in levels of
2 (Land), 3 (Regierungsbezirk), 5 (Kreis), 9 (Gemeindeverband) and 12 (Gemeinde); the
**AGS** has 2, 3, 5 or 8 digits (the 8-digit one is Land, Regierungsbezirk, Kreis, Gemeinde:
the ARS without the Gemeindeverband). Matching is hierarchical: an authority responsible for
``12072`` (Landkreis Teltow-Fläming, or ``120720000000``, the same code padded) serves every
municipality whose ARS starts with ``12072``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from commons.flows import LEIKA_PREFIX, Text
from gateway.authorities.errors import UnknownAuthority

ARS_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
ARS_LEVELS = (2, 3, 5, 9, 12)
AGS_LEVELS = (2, 3, 5, 8)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as the FIT-Connect Routing API writes it."""

    street: str
    house_number: str
    postal_code: str
    city: str

    def as_json(self) -> dict[str, str]:
        return {
            "street": self.street,
            "houseNumber": self.house_number,
            "postalCode": self.postal_code,
            "city": self.city,
        }


@dataclass(frozen=True, slots=True)
class ProcessingDuration:
    min: int
    max: int
    unit: str  # "days", "weeks" or "months"

    def as_json(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "unit": self.unit}


@dataclass(frozen=True, slots=True)
class PortalData:
    """What the applicant's portal shows about a route (FIT-Connect Routing API fields)."""

    short_name: str | None
    address: Address
    privacy_policy_url: str
    accessibility_url: str
    imprint_url: str
    further_information: Text
    required_documents: Text
    processing_duration: ProcessingDuration
    email: str | None = None
    phone: str | None = None
    demo: bool = False  # the embedded default's data: illustrative, not for real applications


@dataclass(frozen=True, slots=True)
class Authority:
    """One immigration authority: its FIT-Connect destination, keys, regions and flows.

    ``encryption_jwk`` and ``signature_jwk`` are public JWKs that passed
    :func:`gateway.fitconnect.keys.validate_destination_key` when the registry was built;
    ``callback_secret`` is the resolved HMAC secret (never shown by any endpoint).
    """

    id: str
    name: Text
    destination_id: str
    ars: tuple[str, ...]
    flows: tuple[str, ...]
    encryption_jwk: Mapping[str, Any]
    signature_jwk: Mapping[str, Any]
    portal: PortalData
    ags: tuple[str, ...] = ()
    metadata_versions: tuple[str, ...] = ("1.0.0",)
    reply_channels: tuple[str, ...] = ()
    callback_url: str | None = None
    callback_secret: str | None = field(default=None, repr=False)

    @property
    def encryption_kid(self) -> str:
        return str(self.encryption_jwk["kid"])

    def serves_region(self, *, ars: str | None = None, ags: str | None = None) -> bool:
        """Whether the region named by ``ars`` (or ``ags``) lies within this authority's."""
        if ars is not None:
            query = significant_ars(ars)
            own = [significant_ars(c) for c in self.ars]
            own += [a for a in self.ags if len(a) <= 5]
            if any(query.startswith(p) for p in own):
                return True
            eight = [a for a in self.ags if len(a) == 8]
            return len(ars) == 12 and ars[:5] + ars[9:] in eight
        if ags is not None:
            prefixes = [p for p in (significant_ars(c) for c in self.ars) if len(p) <= 5]
            prefixes += [significant_ags(a) for a in self.ags]
            municipal = [c[:5] + c[9:] for c in self.ars if len(significant_ars(c)) == 12]
            return any(ags.startswith(p) for p in prefixes) or ags in municipal
        raise ValueError("name a region: ars or ags")

    def public_json(self) -> dict[str, Any]:
        """What ``GET /v1/authorities`` shows: no keys' private parts, no callback secret."""
        p = self.portal
        return {
            "id": self.id,
            "name": self.name.as_json(),
            "destinationId": self.destination_id,
            "ars": list(self.ars),
            "ags": list(self.ags),
            "flows": list(self.flows),
            "metadataVersions": list(self.metadata_versions),
            "replyChannels": list(self.reply_channels),
            "encryptionKid": self.encryption_kid,
            "portal": {
                "shortName": p.short_name,
                "address": p.address.as_json(),
                "email": p.email,
                "phone": p.phone,
                "privacyPolicyUrl": p.privacy_policy_url,
                "accessibilityUrl": p.accessibility_url,
                "imprintUrl": p.imprint_url,
                "furtherInformation": p.further_information.as_json(),
                "requiredDocuments": p.required_documents.as_json(),
                "processingDuration": p.processing_duration.as_json(),
                "demo": p.demo,
            },
        }


def _check_digits(code: str, levels: tuple[int, ...], kind: str) -> str:
    if not (code.isascii() and code.isdigit() and len(code) in levels):
        lengths = "/".join(map(str, levels))
        raise ValueError(f"{kind} {code!r} must have {lengths} digits")
    return code


def check_ars(code: str) -> str:
    return _check_digits(code, ARS_LEVELS, "ARS")


def check_ags(code: str) -> str:
    return _check_digits(code, AGS_LEVELS, "AGS")


def significant_ars(code: str) -> str:
    """The shortest ARS level prefix after which ``code`` is only zeros (``120720000000`` →
    ``12072``): the region the code names, whatever its padding."""
    check_ars(code)
    for level in ARS_LEVELS:
        if level <= len(code) and set(code[level:]) <= {"0"}:
            return code[:level]
    return code  # pragma: no cover - the last level always matches


def significant_ags(code: str) -> str:
    check_ags(code)
    for level in AGS_LEVELS:
        if level <= len(code) and set(code[level:]) <= {"0"}:
            return code[:level]
    return code  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Route:
    """One authority serving one LeiKa service in the queried region."""

    authority: Authority
    leika: str  # the bare 14-digit key
    flow: str


class AuthorityRegistry:
    """The deployment's authorities, looked up by id, destination and route.

    ``leika`` maps flow ids to their LeiKa keys (``urn:de:fim:leika:leistung:99…`` or the bare
    key): the installed flows' keys, completed by the authorities file's ``[leika]`` table.
    A flow without a key is accepted by its authorities but has no route.
    """

    def __init__(self, authorities: Iterable[Authority], leika: Mapping[str, str]) -> None:
        self._by_id: dict[str, Authority] = {}
        self._by_destination: dict[str, Authority] = {}
        for authority in authorities:
            if authority.id in self._by_id:
                raise ValueError(f"authority {authority.id!r} is listed twice")
            if authority.destination_id in self._by_destination:
                raise ValueError(
                    f"authorities {self._by_destination[authority.destination_id].id!r} and "
                    f"{authority.id!r} share the destination id {authority.destination_id}"
                )
            self._by_id[authority.id] = authority
            self._by_destination[authority.destination_id] = authority
        self._leika = {flow: bare_leika(key) for flow, key in leika.items()}

    def get(self, authority_id: str) -> Authority:
        try:
            return self._by_id[authority_id]
        except KeyError:
            raise UnknownAuthority(authority_id, self._by_id) from None

    def all(self) -> list[Authority]:
        return sorted(self._by_id.values(), key=lambda a: a.id)

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def by_destination(self, destination_id: str) -> Authority:
        try:
            return self._by_destination[destination_id.lower()]
        except KeyError:
            raise UnknownAuthority(destination_id, self._by_id) from None

    def leika_of(self, flow: str) -> str | None:
        """The bare LeiKa key of ``flow``, if any flow or the file names one."""
        return self._leika.get(flow)

    def services(self, authority: Authority) -> dict[str, str]:
        """``{flow id: bare LeiKa key}`` of every flow the authority accepts that has a key."""
        return {f: self._leika[f] for f in authority.flows if f in self._leika}

    def route(self, leika: str, *, ars: str | None = None, ags: str | None = None) -> list[Route]:
        """The authorities serving the LeiKa service in the region (``ars`` or ``ags``)."""
        key = bare_leika(leika)
        routes = []
        for authority in self.all():
            flows = [f for f, k in self.services(authority).items() if k == key]
            if flows and authority.serves_region(ars=ars, ags=ags):
                routes.append(Route(authority, key, flows[0]))
        return routes


def bare_leika(key: str) -> str:
    """``urn:de:fim:leika:leistung:99…`` or ``99…`` → ``99…`` (14 digits, starting 99)."""
    bare = key[len(LEIKA_PREFIX) :] if key.startswith(LEIKA_PREFIX) else key
    if not (bare.isascii() and bare.isdigit() and len(bare) == 14 and bare.startswith("99")):
        raise ValueError(f"LeiKa key {key!r} must be 99 and 12 more digits")
    return bare
