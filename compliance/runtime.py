"""The audit trail's per-app runtime: its settings section (``OZG_COMPLIANCE_*``), the checks
of that section, and the state :func:`configure` puts on ``app.state.audit``.

Kept light at import (settings models are read when the CLI starts): the signing keys and
the recorder are imported where they are used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.clock import Clock, system_clock
from commons.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry, Gauge

    from commons.db import Database
    from compliance.keys import LogIdentity
    from compliance.register import ActionType


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
    controller_name: str | None = Field(
        default=None,
        description="The controller (GDPR Art. 4(7)) named in the Art. 30 register, e.g. the "
        "operating authority. Required in production.",
    )
    controller_contact: str | None = Field(
        default=None,
        description="The controller's postal address and e-mail, one line. Required in production.",
    )
    dpo_contact: str | None = Field(
        default=None,
        description="The data-protection officer's contact (GDPR Art. 37(7)), e.g. name and "
        "e-mail. Required in production.",
    )

    def controller(self) -> Controller:
        """The register's controller block; development placeholders where unset."""
        return Controller(
            name=self.controller_name or DEV_PLACEHOLDER,
            contact=self.controller_contact or DEV_PLACEHOLDER,
            dpo_contact=self.dpo_contact or DEV_PLACEHOLDER,
        )


DEV_PLACEHOLDER = "(not set: development placeholder)"


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing, and whom data subjects and authorities write to
    (GDPR Art. 30(1)(a))."""

    name: str
    contact: str
    dpo_contact: str


BAD_SIGNING_KEY = (
    "OZG_COMPLIANCE_SIGNING_KEY is not a signer key (PRIVATE+KEY+name+hash+key); "
    "create one with `ozg-commons audit keygen`"
)
BAD_WITNESS_KEY = "OZG_COMPLIANCE_WITNESS_KEYS holds a malformed verifier key (name+hash+key)"


def config_problems(settings: Settings) -> list[str]:
    """What is wrong with the audit-log settings, without side effects (for startup checks)."""
    from compliance.note import Signer, Verifier

    section = settings.section(ComplianceSettings)
    problems: list[str] = []
    if section.signing_key is not None:
        try:
            Signer.from_string(section.signing_key.get_secret_value())
        except ValueError:
            problems.append(BAD_SIGNING_KEY)
    elif settings.is_production:
        problems.append(
            "OZG_COMPLIANCE_SIGNING_KEY is not set; create one with `ozg-commons audit keygen`"
        )
    if settings.is_production:
        for field in ("controller_name", "controller_contact", "dpo_contact"):
            value = getattr(section, field)
            if value is None or not value.strip():
                problems.append(
                    f"OZG_COMPLIANCE_{field.upper()} is not set; the Art. 30 register must name "
                    "the controller and the data-protection officer"
                )
    for key in section.witness_keys:
        try:
            Verifier.from_string(key)
        except ValueError:
            problems.append(BAD_WITNESS_KEY)
            break
    return problems


@dataclass(frozen=True, slots=True)
class AuditState:
    """What the routes need per app: the log's identity, the action registry, the clock."""

    identity: LogIdentity
    actions: Mapping[str, ActionType]
    clock: Clock


def configure(app: FastAPI, settings: Settings, actions: tuple[ActionType, ...] = ()) -> None:
    """Load the log's identity and the action registry into ``app.state.audit``, and bind the
    access recorder to the app's database (``app.state.database``)."""
    from compliance.keys import load_identity
    from compliance.recorder import install_recorder

    app.state.audit = AuditState(
        identity=load_identity(settings),
        actions={a.name: a for a in actions},
        clock=system_clock,
    )
    install_recorder(app.state.database)
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        pending_gauge(metrics.registry, app.state.database)


def pending_gauge(registry: CollectorRegistry, database: Database) -> Gauge:
    """``ozg_audit_pending_entries`` on ``registry``: the sequencer's queue, counted when
    the metrics are read (the same in every worker: the queue is in the database), so that
    an operator sees whether the sequencer keeps up. NaN while the database is out of reach
    (the rest of the metrics stay readable)."""
    from prometheus_client import Gauge
    from sqlalchemy.exc import SQLAlchemyError

    from compliance.service import pending_count

    def count() -> float:
        try:
            with database.transaction() as session:
                return float(pending_count(session))
        except SQLAlchemyError:
            return float("nan")

    gauge = Gauge(
        "ozg_audit_pending_entries",
        "Audit entries appended but not yet sequenced into the log.",
        registry=registry,
    )
    gauge.set_function(count)
    return gauge
