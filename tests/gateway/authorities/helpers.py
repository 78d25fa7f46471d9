"""Keys and authorities files for the authorities tests (RSA-4096 keys made once per run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.fitconnect.demo import DemoAuthority, make_demo_authority
from vault.pki import make_ca

NOW = datetime.now(UTC)
_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_CA: dict[str, Any] = {}
LEIKA = "99010003001006"  # a LeiKa key for the fake flow
DESTINATION = "0b9e5f7c-4a3e-4f9e-9a1d-2f5c8e7d6b4a"


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(65537, 4096)
    return _KEYS[name]


def pki_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    if not _CA:
        _CA["key"], _CA["cert"] = make_ca("authorities test CA", NOW)
    return _CA["key"], _CA["cert"]


def keys_for(authority: str, ca: tuple[rsa.RSAPrivateKey, x509.Certificate]) -> DemoAuthority:
    return make_demo_authority(
        ca[0],
        ca[1],
        authority,
        NOW,
        encryption_key=rsa_key("enc"),
        signing_key=rsa_key("sig"),
    )


def entry(authority: str, keys: DemoAuthority, **extra: Any) -> dict[str, Any]:
    """One [[authority]] table as a dict (written as TOML by :func:`write_file`)."""
    return {
        "id": authority,
        "destination_id": DESTINATION,
        "ars": ["120720000000"],
        "flows": ["employment"],
        "name": {"de": "Landkreis Test", "en": "Test District"},
        "encryption_key": {"jwk": keys.encryption_jwk},
        "signature_key": {"jwk": keys.signing_jwk},
        "portal": {
            "address": {
                "street": "Am Nuthefließ",
                "house_number": "2",
                "postal_code": "14943",
                "city": "Luckenwalde",
            },
            "privacy_policy_url": "https://example.org/datenschutz",
            "accessibility_url": "https://example.org/barrierefreiheit",
            "imprint_url": "https://example.org/impressum",
            "further_information": {"de": "<p>Info</p>", "en": "<p>Info</p>"},
            "required_documents": {"de": "<p>Pass</p>", "en": "<p>Passport</p>"},
            "processing_duration": {"min": 2, "max": 6, "unit": "weeks"},
        },
        **extra,
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def write_file(
    path: Path, entries: list[dict[str, Any]], leika: dict[str, str] | None = None
) -> Path:
    lines = ['format = "ozg-authorities/1"', ""]
    if leika:
        lines.append("[leika]")
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in leika.items()]
        lines.append("")
    for e in entries:
        lines.append("[[authority]]")
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in e.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
