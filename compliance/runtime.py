"""The audit trail's settings section (``OZG_COMPLIANCE_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComplianceSettings(BaseSettings):
    """The audit log's signing identity, its witnesses and the sequencer's pace."""

    model_config = SettingsConfigDict(env_prefix="OZG_COMPLIANCE_", extra="ignore", frozen=True)

    signing_key: SecretStr | None = Field(
        default=None,
        description="The audit log's Ed25519 note signer key, PRIVATE+KEY+<name>+<hash>+<key>. "
        "Development default: generated and kept in data_dir.",
    )
    origin: str | None = Field(
        default=None,
        description="The audit log's checkpoint origin line. Default: "
        "<public_base_url host>/ozg-commons/audit-log (or the signing key's name).",
    )
    witness_keys: list[str] = Field(
        default_factory=list,
        description="Verifier keys (name+hash+key) of witnesses that may co-sign checkpoints.",
    )
    sequence_interval: float = Field(
        default=0.2, gt=0, le=60, description="Seconds between audit-log sequencer passes."
    )
