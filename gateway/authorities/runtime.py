"""The authorities settings section (``OZG_AUTHORITIES_*``) and the per-app state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.clock import Clock, system_clock
from commons.settings import Settings
from gateway.authorities.errors import AuthoritiesFileError
from gateway.authorities.registry import AuthorityRegistry, bare_leika

log = logging.getLogger("ozg.authorities")


class AuthoritiesSettings(BaseSettings):
    """Where the deployment's authorities come from, and the key that signs routes."""

    model_config = SettingsConfigDict(env_prefix="OZG_AUTHORITIES_", extra="ignore", frozen=True)

    file: Path | None = Field(
        default=None,
        description="TOML file of the deployment's authorities (format ozg-authorities/1, "
        "docs/authorities.md). Development default: the three demo authorities.",
    )
    allow_self_signed: bool = Field(
        default=False,
        description="Tests only: accept self-signed authority keys (FIT-Connect's test "
        "environment). Production refuses it.",
    )
    routing_signing_key: SecretStr | None = Field(
        default=None,
        description="RSA private JWK (≥ 4096 bits) that signs destinationSignature in "
        "GET /v1/routes. Development default: generated in data_dir/authorities/.",
    )


def startup_problems(settings: Settings) -> list[str]:
    """What stops the registry from serving: production rules, then every entry's keys."""
    from gateway.authorities.routing import RoutingKeyError, parse_routing_key

    config = settings.section(AuthoritiesSettings)
    problems: list[str] = []
    if settings.is_production:
        if config.file is None:
            problems.append(
                "OZG_AUTHORITIES_FILE is not set; list the deployment's authorities in a TOML "
                "file (see docs/authorities.md)"
            )
        if config.allow_self_signed:
            problems.append(
                "OZG_AUTHORITIES_ALLOW_SELF_SIGNED is for tests only; set it to false and have "
                "each authority's keys certified by the PKI in OZG_VAULT_TRUST_ANCHORS"
            )
        if config.routing_signing_key is None:
            problems.append(
                "OZG_AUTHORITIES_ROUTING_SIGNING_KEY is not set; create one with "
                "`ozg-commons authorities routing-keygen` and set its output"
            )
    if config.routing_signing_key is not None:
        try:
            parse_routing_key(config.routing_signing_key.get_secret_value())
        except RoutingKeyError as exc:
            problems.append(f"OZG_AUTHORITIES_ROUTING_SIGNING_KEY: {exc}")
    if config.file is not None and not problems:
        try:
            build_registry(settings, flows={})
        except (AuthoritiesFileError, ValueError) as exc:
            problems.append(f"OZG_AUTHORITIES_FILE: {exc}")
    return problems


def installed_flow_leika() -> dict[str, str]:
    """``{flow id: LeiKa key}`` of the installed flows: components with a ``definition``
    that has ``id`` and ``leika`` (``commons.flows.Flow``). A flow whose definition cannot be
    loaded is skipped here; the flow's own startup check names the problem."""
    from gateway.declarations import installed_components

    found: dict[str, str] = {}
    for component in installed_components():
        try:
            definition = getattr(component, "definition", None)
        except ValueError:
            continue
        flow, leika = getattr(definition, "id", None), getattr(definition, "leika", None)
        if isinstance(flow, str) and isinstance(leika, str):
            found[flow] = leika
    return found


def build_registry(
    settings: Settings, *, flows: Mapping[str, str] | None = None
) -> AuthorityRegistry:
    """The registry for ``settings``: ``OZG_AUTHORITIES_FILE``, or the embedded default
    outside production. ``flows`` (flow id → LeiKa key) defaults to the installed flows'."""
    from gateway.authorities import demo, loader, vaultlink

    config = settings.section(AuthoritiesSettings)
    now = system_clock.now()
    if config.file is not None:
        parsed = loader.load_file(config.file)
        entries, file_leika, base = parsed.entries, parsed.leika, parsed.base
        trust = vaultlink.vault_trust(settings)
    elif settings.is_production:
        raise AuthoritiesFileError("OZG_AUTHORITIES_FILE is not set")
    else:
        entries, file_leika, base = demo.demo_entries(settings), {}, settings.data_dir
        trust = vaultlink.demo_trust(settings)
    authorities = [
        loader.build_authority(
            entry,
            index=i,
            base=base,
            trust=trust,
            now=now,
            allow_self_signed=config.allow_self_signed and not settings.is_production,
            production=settings.is_production,
        )
        for i, entry in enumerate(entries)
    ]
    leika = dict(file_leika)
    for flow, key in (installed_flow_leika() if flows is None else flows).items():
        try:
            bare_leika(key)
        except ValueError:
            log.warning("flow %s has a malformed LeiKa key; it gets no route", flow)
            continue
        leika[flow] = key  # the flow's own key wins over the file's
    try:
        return AuthorityRegistry(authorities, leika)
    except ValueError as exc:
        raise AuthoritiesFileError(str(exc)) from None


@dataclass
class AuthoritiesState:
    """Per-app state: the registry and the routing signing key, each built on first use
    (building the embedded default may generate keys, which only the first start pays)."""

    settings: Settings
    clock: Clock = system_clock
    flows: Mapping[str, str] | None = None  # tests: flow id → LeiKa key
    _registry: AuthorityRegistry | None = field(default=None, repr=False)
    _routing: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def config(self) -> AuthoritiesSettings:
        return self.settings.section(AuthoritiesSettings)

    def registry(self) -> AuthorityRegistry:
        with self._lock:
            if self._registry is None:
                self._registry = build_registry(self.settings, flows=self.flows)
            return self._registry

    def routing_key(self) -> Any:
        """The :class:`gateway.authorities.routing.RoutingKey` that signs routes."""
        from gateway.authorities.routing import load_routing_key

        with self._lock:
            if self._routing is None:
                self._routing = load_routing_key(self.settings)
            return self._routing

    @property
    def uses_embedded_default(self) -> bool:
        return self.config.file is None and not self.settings.is_production
