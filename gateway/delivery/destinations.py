"""What the delivery service needs to know about a destination, and where it comes from.

The authorities registry (``gateway.authorities``, on ``app.state.authorities``) owns the
destinations; the delivery service only reads them through :class:`Destinations`, a small
protocol, so it can run (and be tested) with :class:`InMemoryDestinations` as well.
:func:`from_authorities` adapts the registry (``.all()``, ``.by_destination(id)``, each
authority with ``id``, ``destination_id``, ``encryption_jwk``, ``signature_jwk``,
``metadata_versions``, ``reply_channels``, ``callback_url``, ``callback_secret``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.delivery.errors import UnknownDestination


@dataclass(frozen=True, slots=True)
class Service:
    """A public service a destination accepts (FIT-Connect ``services[]``)."""

    identifier: str  # LeiKa URN, urn:de:fim:leika:leistung:...
    name: str = ""
    regions: tuple[str, ...] = ()
    submission_schemas: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Destination:
    destination_id: str
    authority: str
    encryption_jwk: Mapping[str, Any]
    signature_jwk: Mapping[str, Any]
    metadata_versions: tuple[str, ...] = ("1.0.0",)
    reply_channels: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()
    callback_url: str | None = None
    callback_secret: str | None = field(default=None, repr=False)

    @property
    def encryption_kid(self) -> str:
        kid = self.encryption_jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            from gateway.fitconnect import kid_for

            return kid_for(self.encryption_jwk)
        return kid

    @property
    def signature_kid(self) -> str:
        kid = self.signature_jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            from gateway.fitconnect import kid_for

            return kid_for(self.signature_jwk)
        return kid

    def public_key(self, kid: str) -> Mapping[str, Any] | None:
        """The public JWK with ``kid`` (encryption or signature), private members dropped."""
        for kid_of, jwk in (
            (self.encryption_kid, self.encryption_jwk),
            (self.signature_kid, self.signature_jwk),
        ):
            if kid_of == kid:
                public = {k: v for k, v in jwk.items() if k not in _PRIVATE}
                return {**public, "kid": kid}
        return None


_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


class Destinations(Protocol):
    """Destination id -> destination; what the delivery service asks the registry."""

    def get(self, destination_id: str) -> Destination:
        """The destination, or :class:`UnknownDestination` naming the known ones."""
        ...

    def all(self) -> Sequence[Destination]: ...


class InMemoryDestinations:
    def __init__(self, destinations: Iterable[Destination] = ()) -> None:
        self._by_id = {d.destination_id: d for d in destinations}

    def add(self, destination: Destination) -> None:
        self._by_id[destination.destination_id] = destination

    def get(self, destination_id: str) -> Destination:
        found = self._by_id.get(destination_id.lower())
        if found is None:
            raise UnknownDestination(sorted(self._by_id))
        return found

    def all(self) -> Sequence[Destination]:
        return list(self._by_id.values())


class _RegistryDestinations:
    """The authorities registry seen as :class:`Destinations` (duck-typed, read-through)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def all(self) -> Sequence[Destination]:
        return [_destination(a) for a in self.registry.all() if getattr(a, "destination_id", None)]

    def get(self, destination_id: str) -> Destination:
        for destination in self.all():
            if destination.destination_id == destination_id.lower():
                return destination
        raise UnknownDestination(sorted(d.destination_id for d in self.all()))


def from_authorities(registry: Any) -> Destinations:
    return _RegistryDestinations(registry)


def _destination(authority: Any) -> Destination:
    services = tuple(
        s if isinstance(s, Service) else Service(**s) for s in getattr(authority, "services", ())
    )
    return Destination(
        destination_id=str(authority.destination_id).lower(),
        authority=authority.id,
        encryption_jwk=authority.encryption_jwk,
        signature_jwk=authority.signature_jwk,
        metadata_versions=tuple(getattr(authority, "metadata_versions", ("1.0.0",))),
        reply_channels=tuple(getattr(authority, "reply_channels", ())),
        services=services,
        callback_url=getattr(authority, "callback_url", None),
        callback_secret=getattr(authority, "callback_secret", None),
    )
