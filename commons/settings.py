"""Settings, read from ``OZG_*`` environment variables (pydantic-settings).

Development needs no configuration at all: SQLite under ``var/``, a filesystem object
store, the built-in development identity provider and sandbox payments. Production
(``OZG_ENV=production``) refuses to start while anything is missing or unsafe, and lists
everything to fix in one message (:meth:`Settings.check_startup`).
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import parse_qsl, quote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.errors import ConfigurationError
from commons.receipts.keys import MISSING_KEY, parse_private_jwk, parse_public_jwk

# Values that ship in the source code. In production each of them is refused.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105 - refused in prod
DEV_S3_SECRET = "dev-only-s3-secret"  # noqa: S105 - refused in production
DEV_KEYCLOAK_CLIENT_SECRET = "dev-only-client-secret"  # noqa: S105 - refused in production

TrustLevelName = Literal["basis", "substantiell", "hoch"]
# acr values (Keycloak's default "0"/"1", the trust level names, STORK-QAA levels) -> level.
_DEFAULT_ACR_MAP: dict[str, TrustLevelName] = {
    "0": "basis",
    "1": "basis",
    "basis": "basis",
    "substantiell": "substantiell",
    "hoch": "hoch",
    "STORK-QAA-Level-1": "basis",
    "STORK-QAA-Level-2": "basis",
    "STORK-QAA-Level-3": "substantiell",
    "STORK-QAA-Level-4": "hoch",
}

_LEVEL_ORDER: dict[str, int] = {"basis": 0, "substantiell": 1, "hoch": 2}

S = TypeVar("S", bound=BaseSettings)

_DEV_SECRETS: dict[str, str] = {
    "secret_key": DEV_SECRET_KEY,
    "s3_secret_key": DEV_S3_SECRET,
    "keycloak_client_secret": DEV_KEYCLOAK_CLIENT_SECRET,
}


class Settings(BaseSettings):
    """Every knob of ozg-commons. Field names map to ``OZG_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="OZG_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    data_dir: Path = Field(
        default=Path("var"), description="Where development data lives (SQLite, blobs, keys)."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="The URL clients reach this service at."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Development default: SQLite in data_dir.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)

    object_store: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint: str | None = Field(default=None, description="e.g. https://minio.internal:9000")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr = SecretStr(DEV_S3_SECRET)
    s3_bucket: str = "ozg-commons"
    s3_region: str = "us-east-1"
    s3_connect_timeout_seconds: float = Field(
        default=5, gt=0, le=300, description="How long a connection to S3 may take to open."
    )
    s3_read_timeout_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="How long S3 may stay silent on an open connection before the request "
        "fails (the API then answers 503 instead of holding the client).",
    )
    retry_after_seconds: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="The Retry-After of a 503 while the database or the object store is down.",
    )

    identity_provider: Literal["dev", "keycloak"] = "dev"
    keycloak_server_url: str | None = Field(default=None, description="e.g. https://id.example/")
    keycloak_realm: str | None = None
    keycloak_client_id: str | None = None
    keycloak_client_secret: SecretStr = SecretStr(DEV_KEYCLOAK_CLIENT_SECRET)
    keycloak_audience: str | None = None

    # Token verification (account.tokens). The audience defaults to the client id.
    oidc_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat."
    )
    oidc_jwks_min_refresh_seconds: int = Field(
        default=60, ge=0, description="Least time between two JWKS fetches for unknown keys."
    )
    oidc_acr_map: dict[str, TrustLevelName] = Field(
        default_factory=lambda: _DEFAULT_ACR_MAP.copy(),
        description="acr claim value -> trust level; unknown or missing acr means basis.",
    )
    oidc_introspection: bool = Field(
        default=False, description="Check opaque (non-JWT) tokens at Keycloak's introspection."
    )

    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description="Server-side key material for MACs (at least 32 characters).",
    )

    receipt_signing_key: SecretStr | None = Field(
        default=None,
        description="The Ed25519 key that signs every receipt, as an OKP private JWK "
        '({"crv":"Ed25519","d":"<base64url seed>","kty":"OKP"}); create one with '
        "`ozg-commons receipt keygen`. Development default: generated under "
        "data_dir/receipts.",
    )
    receipt_retired_keys: list[str] = Field(
        default_factory=list,
        description="Public keys (OKP public JWKs) of retired receipt signing keys; receipts "
        "they signed still verify and they stay in GET /v1/receipts/keys.",
    )

    # The edge (gateway.edge): what a request body may cost before a handler sees it.
    max_json_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body of a JSON endpoint (uploads keep their own limits); "
        "413 as soon as a body passes it.",
    )
    body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Longest wait for the next part of a request body, and for a whole JSON "
        "body; 408 after it.",
    )

    sections: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Values for components' settings sections, by component name; they "
        "override the sections' own OZG_<NAME>_* variables (programmatic configuration, tests).",
    )
    _section_cache: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    @field_validator("receipt_signing_key")
    @classmethod
    def _check_receipt_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                parse_private_jwk(value.get_secret_value())
            except ValueError:
                raise ValueError(
                    "OZG_RECEIPT_SIGNING_KEY is not an Ed25519 private key as an OKP JWK "
                    '({"crv":"Ed25519","d":"...","kty":"OKP"}); create one with '
                    "`ozg-commons receipt keygen`"
                ) from None
        return value

    @field_validator("receipt_retired_keys", mode="before")
    @classmethod
    def _retired_keys_as_text(cls, value: Any) -> Any:
        """Each retired key as JWK text; a JSON list of JWK objects is accepted too."""
        if isinstance(value, list):
            return [json.dumps(v) if isinstance(v, dict) else v for v in value]
        return value

    @field_validator("receipt_retired_keys")
    @classmethod
    def _check_retired_keys(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            try:
                parse_public_jwk(text)
            except ValueError:
                raise ValueError(
                    f"OZG_RECEIPT_RETIRED_KEYS[{index}] is not an Ed25519 public key as an "
                    'OKP JWK ({"crv":"Ed25519","kty":"OKP","x":"..."})'
                ) from None
        return value

    # ------------------------------------------------------------------ derived
    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ozg-commons.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def section(self, model: type[S]) -> S:
        """A component's settings section, read once from its ``OZG_<NAME>_*`` variables
        with :attr:`sections` applied on top."""
        cached = self._section_cache.get(model)
        if cached is None:
            cached = model(**self.sections.get(section_name(model), {}))
            self._section_cache[model] = cached
        return cast(S, cached)

    # ------------------------------------------------------------------ checks
    def production_problems(self) -> list[str]:
        """Everything that makes this configuration unfit for production, in plain words."""
        problems: list[str] = []
        if not self.database_url:
            problems.append("OZG_DATABASE_URL is not set (a PostgreSQL URL is required)")
        elif self.database_url.startswith("sqlite"):
            problems.append("OZG_DATABASE_URL points at SQLite; use PostgreSQL in production")
        if self.identity_provider == "dev":
            problems.append(
                "OZG_IDENTITY_PROVIDER=dev enables the unsafe development identity provider; "
                "set OZG_IDENTITY_PROVIDER=keycloak"
            )
        else:
            for name in ("keycloak_server_url", "keycloak_realm", "keycloak_client_id"):
                if not getattr(self, name):
                    problems.append(f"OZG_{name.upper()} is not set")
            if not self.keycloak_client_secret.get_secret_value().strip():
                problems.append("OZG_KEYCLOAK_CLIENT_SECRET is empty; set the client's secret")
            kc = urlsplit(self.keycloak_server_url or "")
            if kc.scheme and kc.scheme != "https" and not is_loopback(kc.hostname):
                problems.append(
                    "OZG_KEYCLOAK_SERVER_URL must use https outside loopback "
                    "(the signing keys are fetched from it)"
                )
        if self.object_store == "s3":
            for name in ("s3_endpoint", "s3_access_key"):
                if not getattr(self, name):
                    problems.append(f"OZG_{name.upper()} is not set (OZG_OBJECT_STORE=s3)")
            s3 = urlsplit(self.s3_endpoint or "")
            if s3.scheme and s3.scheme != "https" and not is_loopback(s3.hostname):
                problems.append(
                    "OZG_S3_ENDPOINT must use https outside loopback "
                    "(the sealed documents and the credentials travel over it)"
                )
        for acr, level in sorted(self.oidc_acr_map.items()):
            default = _DEFAULT_ACR_MAP.get(acr)
            if default is not None and _LEVEL_ORDER[level] > _LEVEL_ORDER[default]:
                problems.append(
                    f"OZG_OIDC_ACR_MAP lifts the acr value {acr!r} to {level!r}; "
                    f"it stands for {default!r}"
                )
        for name, dev_value in _DEV_SECRETS.items():
            if name.startswith("s3_") and self.object_store != "s3":
                continue
            if name.startswith("keycloak_") and self.identity_provider != "keycloak":
                continue
            secret: SecretStr = getattr(self, name)
            if secret.get_secret_value() == dev_value:
                problems.append(f"OZG_{name.upper()} is left at its development default; set it")
        if self.receipt_signing_key is None:
            problems.append(MISSING_KEY)
        secret_key = self.secret_key.get_secret_value()
        if not secret_key.strip():
            problems.append("OZG_SECRET_KEY is blank (only whitespace); set a random key")
        elif len(secret_key.strip()) < 32:
            problems.append("OZG_SECRET_KEY is shorter than 32 characters")
        url = urlsplit(self.public_base_url)
        if url.scheme != "https" and not is_loopback(url.hostname):
            problems.append("OZG_PUBLIC_BASE_URL must use https outside loopback")
        return problems

    def check_startup(self) -> None:
        """Raise :class:`ConfigurationError` naming every problem, if this is production."""
        if self.is_production:
            problems = self.production_problems()
            if problems:
                raise ConfigurationError(problems)

    def masked(self) -> dict[str, Any]:
        """The effective settings with every secret replaced by a mask; safe to print."""
        shown = mask_secrets(self, _DEV_SECRETS)
        shown["effective_database_url"] = _mask_url_password(self.effective_database_url)
        return shown


def section_name(model: type[BaseSettings]) -> str:
    """``vault`` for a model whose environment prefix is ``OZG_VAULT_``."""
    prefix = str(model.model_config.get("env_prefix", ""))
    return prefix.removeprefix("OZG_").rstrip("_").lower()


def mask_secrets(model: BaseSettings, dev_secrets: dict[str, str] | None = None) -> dict[str, Any]:
    """A settings model's values with every secret replaced by a mask; safe to print."""
    shown: dict[str, Any] = {}
    for name in type(model).model_fields:
        if name == "sections":
            continue
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if secret and secret == (dev_secrets or {}).get(name):
                shown[name] = "<development default>"
            else:
                shown[name] = "**********" if secret else ""
        elif isinstance(value, str) and "://" in value:
            shown[name] = _mask_url_password(value)
        elif isinstance(value, Path):
            shown[name] = str(value)
        elif isinstance(value, list):
            shown[name] = [str(v) if isinstance(v, Path) else v for v in value]
        else:
            shown[name] = value
    return shown


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (plain http and relaxed checks are fine there)."""
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Query parameters of a URL that carry secrets (libpq's password and sslpassword, and the
# like): matched by these fragments of their lowercased names.
_SECRET_QUERY_WORDS = ("password", "secret", "token", "passphrase", "credential", "apikey")


def _mask_url_password(url: str) -> str:
    """``url`` with the password of its user info and every secret query value masked."""
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, host = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        parts = parts._replace(netloc=f"{user}:**********@{host}")
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        masked = [
            (key, "**********" if any(w in key.lower() for w in _SECRET_QUERY_WORDS) else value)
            for key, value in pairs
        ]
        if masked != pairs:
            query = "&".join(f"{quote(k, safe='')}={quote(v, safe='*')}" for k, v in masked)
            parts = parts._replace(query=query)
    return parts.geturl()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
