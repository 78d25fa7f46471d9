"""Startup refuses settings a domain cannot use, listing every problem at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance.note import Signer
from gateway.app import create_app, startup_problems
from gateway.authorities.routing import private_jwk_text
from tests.commons.test_settings import GOOD_PRODUCTION
from tests.gateway.authorities.helpers import entry, keys_for, rsa_key, write_file
from vault.pki import demo_crl_path, ensure_demo_ca


def _dev(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_development_defaults_have_no_problems(tmp_path: Path) -> None:
    assert startup_problems(_dev(tmp_path)) == []


def test_malformed_audit_keys_are_named(tmp_path: Path) -> None:
    settings = _dev(
        tmp_path,
        sections={
            "compliance": {
                "signing_key": SecretStr("PRIVATE+KEY+not-really"),
                "witness_keys": ["witness+nonsense"],
            }
        },
    )
    problems = startup_problems(settings)
    assert any(p.startswith("OZG_COMPLIANCE_SIGNING_KEY is not a signer key") for p in problems)
    assert any(p.startswith("OZG_COMPLIANCE_WITNESS_KEYS holds a malformed") for p in problems)
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings)
    assert len(raised.value.problems) == 2
    # the check has no side effect: no development key was generated for a refused start
    assert not (tmp_path / "audit-log-signing.key").exists()


def test_unreadable_trust_anchors_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "anchors.pem"
    bad.write_text("not a certificate")
    problems = startup_problems(_dev(tmp_path, sections={"vault": {"trust_anchors": bad}}))
    assert problems == [
        "OZG_VAULT_TRUST_ANCHORS (anchors.pem) is not a readable PEM file of certificates"
    ]
    missing = startup_problems(
        _dev(tmp_path, sections={"vault": {"trust_anchors": tmp_path / "nope.pem"}})
    )
    assert missing == [
        "OZG_VAULT_TRUST_ANCHORS (nope.pem) is not a readable PEM file of certificates"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[authorities.tf\nprovider=", "is not valid TOML"),
        ("title = 'no authorities'", "has no [authorities.<id>] table"),
        ("[authorities.tf]\nsettings = {}", "authority 'tf' needs provider"),
        ("[authorities.tf]\nprovider = 'sandbox'\nsettings = 3", "are tables"),
        ("[authorities.tf]\nprovider = 'nonesuch'", "which OZG_PAYMENTS_PROVIDERS does not enable"),
    ],
)
def test_malformed_payment_authorities_file_is_named(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "authorities.toml"
    path.write_text(content)
    problems = startup_problems(_dev(tmp_path, sections={"payments": {"authorities_file": path}}))
    assert len(problems) == 1
    assert (
        problems[0].startswith("OZG_PAYMENTS_AUTHORITIES_FILE") or "authority 'tf'" in problems[0]
    )
    assert expected in problems[0]


def test_production_needs_trust_anchors_and_payment_and_delivery_authorities(
    tmp_path: Path,
) -> None:
    problems = startup_problems(Settings(**GOOD_PRODUCTION))
    assert any(p.startswith("OZG_VAULT_TRUST_ANCHORS is not set") for p in problems)
    assert any(p.startswith("OZG_PAYMENTS_AUTHORITIES_FILE is not set") for p in problems)
    assert any(p.startswith("OZG_AUTHORITIES_FILE is not set") for p in problems)

    anchors, _ = ensure_demo_ca(tmp_path / "ca")
    crl = demo_crl_path(tmp_path / "ca")
    authorities = tmp_path / "authorities.toml"
    authorities.write_text(
        "[authorities.tf]\nprovider = 'xbezahldienste'\n[authorities.tf.settings]\n"
        "base_url = 'https://epay.example/api'\noriginator_id = 'tf'\n"
        "endpoint_id = 'abh'\nnotification_secret = '" + "s" * 40 + "'\n"
    )
    ca_key = serialization.load_pem_private_key(
        (tmp_path / "ca" / "demo-ca.key.pem").read_bytes(), None
    )
    ca_cert = x509.load_pem_x509_certificate(anchors.read_bytes())
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    registry = write_file(
        tmp_path / "registry.toml", [entry("tf", keys_for("tf", (ca_key, ca_cert)))]
    )
    routing_key = private_jwk_text(rsa_key("routing"))
    imprint, privacy = tmp_path / "imprint.txt", tmp_path / "privacy.txt"
    imprint.write_text("Landkreis Teltow-Fläming\n\nAm Nuthefließ 2, 14943 Luckenwalde")
    privacy.write_text("Verantwortlich: Landkreis Teltow-Fläming")
    sections = {
        **GOOD_PRODUCTION["sections"],
        "vault": {"trust_anchors": anchors, "crl_files": [crl]},
        "payments": {"providers": ["xbezahldienste"], "authorities_file": authorities},
        "authorities": {"file": registry, "routing_signing_key": SecretStr(routing_key)},
        "portal": {
            "imprint_file": imprint,
            "privacy_file": privacy,
            "accessibility_contact": "barrierefreiheit@teltow-flaeming.example",
        },
    }
    complete = Settings(**{**GOOD_PRODUCTION, "sections": sections})
    assert startup_problems(complete) == []


def test_serve_refuses_a_malformed_signing_key_with_exit_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OZG_DATA_DIR": str(tmp_path / "var"),
        "OZG_COMPLIANCE_SIGNING_KEY": Signer.generate("x.example/log").to_string()[:-5] + "!!!!!",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "OZG_COMPLIANCE_SIGNING_KEY is not a signer key" in proc.stderr
    assert env["OZG_COMPLIANCE_SIGNING_KEY"] not in proc.stderr + proc.stdout  # secrets stay out
