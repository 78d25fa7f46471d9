"""The audit log's signing key and origin: configured in production, generated in development."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance.note import Signer, Verifier
from compliance.runtime import ComplianceSettings, config_problems

log = logging.getLogger("ozg.compliance")

DEV_KEY_FILE = "audit-log-signing.key"


@dataclass(frozen=True, slots=True)
class LogIdentity:
    """Who signs the log's checkpoints, under which origin, and which witnesses it accepts."""

    origin: str
    signer: Signer
    witnesses: tuple[Verifier, ...] = ()

    @property
    def verifier(self) -> Verifier:
        return Verifier.from_string(self.signer.verifier_key)


def default_origin(settings: Settings) -> str:
    host = urlsplit(settings.public_base_url).netloc or "localhost"
    return f"{host}/ozg-commons/audit-log"


def load_identity(settings: Settings) -> LogIdentity:
    """The log identity from the settings; in development a key is created under data_dir."""
    problems = config_problems(settings)
    if problems:
        raise ConfigurationError(problems)
    section = settings.section(ComplianceSettings)
    origin = section.origin or default_origin(settings)
    if section.signing_key is not None:
        signer = Signer.from_string(section.signing_key.get_secret_value())
        origin = section.origin or signer.name
    elif settings.is_production:
        raise ConfigurationError(["OZG_COMPLIANCE_SIGNING_KEY is not set"])
    else:
        signer = _development_signer(settings.data_dir / DEV_KEY_FILE, origin)
    witnesses = tuple(Verifier.from_string(k) for k in section.witness_keys)
    return LogIdentity(origin=origin, signer=signer, witnesses=witnesses)


def _development_signer(path: Path, origin: str) -> Signer:
    if path.exists():
        signer = Signer.from_string(path.read_text())
        if signer.name == origin:
            return signer
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(origin)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.to_string() + "\n")
    log.warning("development audit-log signing key generated; configure one in production")
    return signer
