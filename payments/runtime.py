"""Per-app payments state: discovered provider plug-ins and per-authority configuration.

Providers are discovered through the entry-point group ``ozg_commons.payment_providers`` and
enabled by ``OZG_PAYMENTS_PROVIDERS``. Each authority names its provider and that provider's
settings in a TOML file (``OZG_PAYMENTS_AUTHORITIES_FILE``)::

    [authorities.tf]
    provider = "xbezahldienste"
    [authorities.tf.settings]
    base_url = "https://epay.example/api"
    originator_id = "tf"
    endpoint_id = "auslaenderbehoerde"
    notification_secret = "..."

In development, an authority without configuration gets the sandbox (if enabled), with a
notification secret derived from ``OZG_SECRET_KEY``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.errors import ConfigurationError, ServiceUnavailable, UnknownAuthority
from commons.settings import Settings
from payments.providers.base import ENTRY_POINT_GROUP, PaymentProvider, ProviderContext


def discover_providers() -> dict[str, type[PaymentProvider]]:
    """Every installed provider class, by identifier."""
    return dict(_installed_providers())


@functools.lru_cache(maxsize=1)
def _installed_providers() -> dict[str, type[PaymentProvider]]:
    """Read once per process: the entry points cannot change under a running process, and
    reading them scans every installed distribution (each app start did it twice)."""
    found: dict[str, type[PaymentProvider]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        identifier = getattr(cls, "identifier", None)
        if identifier != ep.name:
            raise ConfigurationError(
                [f"payment provider entry point {ep.name!r} loads a class named {identifier!r}"]
            )
        found[ep.name] = cls
    return found


@dataclass(frozen=True, slots=True)
class AuthorityConfig:
    authority: str
    provider: str
    settings: dict[str, Any]
    booking_data: dict[str, str] = field(default_factory=dict)
    """Fixed booking data of the authority's cash office (e.g. Haushaltsstelle)."""


def load_authorities(path: Path) -> dict[str, AuthorityConfig]:
    """Read the authorities file; a file that cannot be used is a :class:`ConfigurationError`."""
    where = f"OZG_PAYMENTS_AUTHORITIES_FILE ({path.name})"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError([f"{where} cannot be read: {exc.strerror}"]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError([f"{where} is not valid TOML: {exc}"]) from None
    table = data.get("authorities")
    if not isinstance(table, dict):
        raise ConfigurationError([f"{where} has no [authorities.<id>] table"])
    configs: dict[str, AuthorityConfig] = {}
    problems: list[str] = []
    for authority, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("provider"), str):
            problems.append(f'{where}: authority {authority!r} needs provider = "<identifier>"')
            continue
        settings, booking = entry.get("settings", {}), entry.get("booking_data", {})
        if not isinstance(settings, dict) or not isinstance(booking, dict):
            problems.append(
                f"{where}: authority {authority!r}: settings and booking_data are tables"
            )
            continue
        configs[authority] = AuthorityConfig(
            authority,
            entry["provider"],
            dict(settings),
            {str(k): str(v) for k, v in booking.items()},
        )
    if problems:
        raise ConfigurationError(problems)
    return configs


class PaymentsSettings(BaseSettings):
    """Which provider plug-ins are enabled, and which authority uses which."""

    model_config = SettingsConfigDict(env_prefix="OZG_PAYMENTS_", extra="ignore", frozen=True)

    providers: list[str] = Field(
        default_factory=lambda: ["sandbox"],
        description='Enabled payment provider plug-ins, e.g. ["xbezahldienste"].',
    )
    authorities_file: Path | None = Field(
        default=None,
        description="TOML file naming each authority's payment provider and its settings.",
    )


def config_problems(settings: Settings) -> list[str]:
    """What is wrong with the payment settings (for startup checks); empty if nothing."""
    config = settings.section(PaymentsSettings)
    problems: list[str] = []
    if settings.is_production and "sandbox" in config.providers:
        problems.append(
            "OZG_PAYMENTS_PROVIDERS includes 'sandbox'; list only real providers, "
            "e.g. OZG_PAYMENTS_PROVIDERS='[\"xbezahldienste\"]'"
        )
    if settings.is_production and config.authorities_file is None:
        problems.append(
            "OZG_PAYMENTS_AUTHORITIES_FILE is not set; name each authority's payment provider "
            "in it (see docs/payments.md)"
        )
    try:
        PaymentsRuntime.from_settings(settings)
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    return problems


@dataclass
class PaymentsRuntime:
    settings: Settings
    clock: Clock = system_clock
    authorities: dict[str, AuthorityConfig] = field(default_factory=dict)
    providers: dict[str, type[PaymentProvider]] = field(default_factory=dict)
    http_transport: httpx.BaseTransport | None = None
    known_authorities: Callable[[], Collection[str]] | None = None
    """The deployment's authorities (set by the gateway from its registry); ``None``: any."""

    def require_known(self, authority: str) -> None:
        """Refuse an authority the deployment does not know, naming the known ones."""
        if self.known_authorities is None:
            return
        known = set(self.known_authorities()) | set(self.authorities)
        if authority not in known:
            raise UnknownAuthority(authority, known)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = system_clock) -> PaymentsRuntime:
        config = settings.section(PaymentsSettings)
        installed = discover_providers()
        missing = [p for p in config.providers if p not in installed]
        if missing:
            raise ConfigurationError(
                [f"OZG_PAYMENTS_PROVIDERS names providers that are not installed: {missing}"]
            )
        enabled = {p: installed[p] for p in config.providers}
        authorities: dict[str, AuthorityConfig] = {}
        if config.authorities_file is not None:
            authorities = load_authorities(config.authorities_file)
        runtime = cls(settings=settings, clock=clock, authorities=authorities, providers=enabled)
        problems = []
        for authority in authorities.values():
            try:
                runtime._validated(authority)
            except ConfigurationError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigurationError(problems)
        return runtime

    def derived_secret(self, label: str) -> bytes:
        """A key for one purpose (``label``), derived from ``OZG_SECRET_KEY`` by HMAC-SHA256."""
        key = self.settings.secret_key.get_secret_value().encode()
        return hmac.new(key, label.encode(), hashlib.sha256).digest()

    def config_for(self, authority: str) -> AuthorityConfig:
        config = self.authorities.get(authority)
        if config is not None:
            return config
        if "sandbox" in self.providers and not self.settings.is_production:
            secret = self.derived_secret(f"sandbox-notification:{authority}").hex()
            return AuthorityConfig(authority, "sandbox", {"notification_secret": secret})
        raise ServiceUnavailable("no payment provider is configured for this authority")

    def _validated(self, config: AuthorityConfig) -> tuple[type[PaymentProvider], Any]:
        cls = self.providers.get(config.provider)
        if cls is None:
            raise ConfigurationError(
                [
                    f"authority {config.authority!r} uses provider {config.provider!r}, "
                    "which OZG_PAYMENTS_PROVIDERS does not enable"
                ]
            )
        try:
            return cls, cls.settings_schema.model_validate(config.settings)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise ConfigurationError(
                [f"authority {config.authority!r}: invalid {config.provider} settings: {fields}"]
            ) from None

    def provider_for(self, authority: str, session: Session | None = None) -> PaymentProvider:
        return self.build(self.config_for(authority), session)

    def provider_named(
        self, identifier: str, authority: str, session: Session | None = None
    ) -> PaymentProvider:
        config = self.config_for(authority)
        if config.provider != identifier:
            raise ServiceUnavailable("this provider is not configured for this authority")
        return self.build(config, session)

    def build(self, config: AuthorityConfig, session: Session | None) -> PaymentProvider:
        cls, provider_settings = self._validated(config)
        context = ProviderContext(
            authority=config.authority,
            public_base_url=self.settings.public_base_url,
            clock=self.clock,
            session=session,
            http_transport=self.http_transport,
        )
        factory: Any = cls
        provider: PaymentProvider = factory(provider_settings, context)
        return provider
