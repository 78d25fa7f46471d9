"""The account's settings section (``OZG_ACCOUNT_*``) and its configuration checks."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.settings import Settings, is_loopback


class AccountSettings(BaseSettings):
    """Erasure, dormancy and the e-mail notices of the mailbox."""

    model_config = SettingsConfigDict(env_prefix="OZG_ACCOUNT_", extra="ignore", frozen=True)

    recent_auth_minutes: int = Field(
        default=10, ge=1, description="Erasure needs an authentication at most this old."
    )
    dormant_after_days: int = Field(
        default=730, ge=1, description="Unused accounts get a notice after this many days."
    )
    dormant_grace_days: int = Field(
        default=60, ge=1, description="Days between the dormancy notice and the erasure."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP relay for content-free e-mail notices."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "no-reply@ozg-commons.invalid"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr = SecretStr("")


def config_problems(settings: Settings) -> list[str]:
    """What is wrong with the account settings for this deployment; empty if nothing."""
    section = settings.section(AccountSettings)
    problems: list[str] = []
    if (
        settings.is_production
        and section.smtp_host
        and not section.smtp_starttls
        and not is_loopback(section.smtp_host)
    ):
        problems.append("OZG_ACCOUNT_SMTP_STARTTLS must be true for a relay outside loopback")
    return problems
