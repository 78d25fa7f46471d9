"""The log's signing key: generated and kept in development, required in production."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance.keys import DEV_KEY_FILE, load_identity
from compliance.note import Signer


def test_development_generates_a_key_once_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_identity(settings)
    second = load_identity(settings)
    assert first.signer.verifier_key == second.signer.verifier_key
    assert first.origin == "127.0.0.1:8000/ozg-commons/audit-log"
    assert stat.S_IMODE((tmp_path / DEV_KEY_FILE).stat().st_mode) == 0o600


def test_a_configured_key_is_used_and_names_the_origin(tmp_path: Path) -> None:
    signer = Signer.generate("ozg.example/audit")
    identity = load_identity(
        Settings(
            data_dir=tmp_path,
            sections={"compliance": {"signing_key": SecretStr(signer.to_string())}},
        )
    )
    assert identity.signer.verifier_key == signer.verifier_key
    assert identity.origin == "ozg.example/audit"
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_production_refuses_a_missing_or_malformed_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="OZG_COMPLIANCE_SIGNING_KEY is not set"):
        load_identity(Settings(env="production", data_dir=tmp_path))
    with pytest.raises(ConfigurationError, match="not a signer key"):
        load_identity(
            Settings(
                data_dir=tmp_path, sections={"compliance": {"signing_key": SecretStr("nonsense")}}
            )
        )
    with pytest.raises(ConfigurationError, match="WITNESS"):
        load_identity(
            Settings(data_dir=tmp_path, sections={"compliance": {"witness_keys": ["bad"]}})
        )
