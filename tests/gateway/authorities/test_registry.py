"""The registry: regional codes, the authorities file, key validation, flows' LeiKa keys."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from commons.components import Component, Registry
from commons.settings import Settings
from gateway.authorities import UnknownAuthority
from gateway.authorities.errors import AuthoritiesFileError
from gateway.authorities.registry import significant_ars
from gateway.authorities.runtime import build_registry, installed_flow_leika, startup_problems
from gateway.fitconnect.demo import make_self_signed_key
from tests.commons.test_settings import GOOD_PRODUCTION
from tests.gateway.authorities.helpers import (
    LEIKA,
    NOW,
    entry,
    keys_for,
    pki_ca,
    rsa_key,
    write_file,
)
from vault.pki import make_crl


def _pki(tmp_path: Path) -> dict[str, Any]:
    key, cert = pki_ca()
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    crl = tmp_path / "ca.crl"
    crl.write_bytes(make_crl(key, cert, [], NOW).public_bytes(serialization.Encoding.PEM))
    return {"trust_anchors": anchors, "crl_files": [crl]}


def _settings(tmp_path: Path, file: Path, **authorities: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        sections={"vault": _pki(tmp_path), "authorities": {"file": file, **authorities}},
    )


def test_significant_ars_strips_the_padding_of_each_level() -> None:
    assert significant_ars("120720000000") == "12072"
    assert significant_ars("120540000000") == "12054"
    assert significant_ars("120720616616") == "120720616616"
    assert significant_ars("120725003") == "120725003"
    assert significant_ars("12") == "12"
    with pytest.raises(ValueError, match="2/3/5/9/12 digits"):
        significant_ars("1207")


def test_a_file_entry_is_validated_and_routed_hierarchically(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.toml", [entry("tf", keys_for("tf", pki_ca()))])
    registry = build_registry(_settings(tmp_path, path), flows={"employment": LEIKA})
    tf = registry.get("tf")
    assert tf.encryption_jwk["key_ops"] == ["wrapKey"]
    assert tf.signature_jwk["alg"] == "PS512"
    assert registry.by_destination(tf.destination_id) is tf
    # a municipality in the district, the district itself, padded or not
    for ars in ("120720616616", "120720000000", "12072", "120725003"):
        assert [r.authority.id for r in registry.route(LEIKA, ars=ars)] == ["tf"], ars
    assert [r.authority.id for r in registry.route(LEIKA, ags="12072340")] == ["tf"]
    # coarser regions, other districts and other services are not served
    assert registry.route(LEIKA, ars="12") == []
    assert registry.route(LEIKA, ars="120620000000") == []
    assert registry.route("99010003001007", ars="120720616616") == []


def test_unknown_authority_names_the_known_ones(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.toml", [entry("tf", keys_for("tf", pki_ca()))])
    registry = build_registry(_settings(tmp_path, path), flows={})
    with pytest.raises(UnknownAuthority) as raised:
        registry.get("tx")
    assert raised.value.status == 404
    assert raised.value.detail == "there is no authority 'tx'; known authorities: tf"


def test_the_certificate_must_name_the_authority(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.toml", [entry("tf", keys_for("ee", pki_ca()))])
    with pytest.raises(AuthoritiesFileError, match=r"authority 'tf': encryption_key: .*another"):
        build_registry(_settings(tmp_path, path), flows={})
    problems = startup_problems(_settings(tmp_path, path))
    assert problems == [
        "OZG_AUTHORITIES_FILE: authority 'tf': encryption_key: the certificate names another "
        "authority"
    ]


def test_a_key_chaining_to_another_ca_is_refused(tmp_path: Path) -> None:
    from vault.pki import make_ca

    other = make_ca("another CA", NOW)
    path = write_file(tmp_path / "a.toml", [entry("tf", keys_for("tf", other))])
    with pytest.raises(AuthoritiesFileError, match="does not lead to a trusted CA"):
        build_registry(_settings(tmp_path, path), flows={})


def test_self_signed_keys_only_with_the_test_switch_and_never_in_production(
    tmp_path: Path,
) -> None:
    keys = keys_for("tf", pki_ca())
    enc = make_self_signed_key(rsa_key("enc"), "tf", NOW)
    sig = make_self_signed_key(rsa_key("sig"), "tf", NOW, purpose="verify")
    e = entry("tf", keys, encryption_key={"jwk": enc}, signature_key={"jwk": sig})
    path = write_file(tmp_path / "a.toml", [e])
    with pytest.raises(AuthoritiesFileError, match="does not lead to a trusted CA"):
        build_registry(_settings(tmp_path, path), flows={})
    registry = build_registry(_settings(tmp_path, path, allow_self_signed=True), flows={})
    assert registry.get("tf").encryption_jwk["n"] == enc["n"]
    production = Settings(
        **{
            **GOOD_PRODUCTION,
            "sections": {
                **GOOD_PRODUCTION["sections"],
                "authorities": {"file": path, "allow_self_signed": True},
            },
        }
    )
    assert any(
        p.startswith("OZG_AUTHORITIES_ALLOW_SELF_SIGNED is for tests only")
        for p in startup_problems(production)
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"destination_id": "tf-1"}, "destination_id: a UUID is required"),
        ({"ars": ["1207"]}, "ARS '1207' must have 2/3/5/9/12 digits"),
        ({"ars": [], "ags": []}, "name at least one ARS or AGS code"),
        ({"flows": []}, "flows: name at least one flow id"),
        ({"metadata_versions": ["9.9.9"]}, "supported metadata versions: 1.0.0"),
        ({"reply_channels": ["pigeon"]}, "reply_channels: each one of"),
        ({"callback_url": "https://abh.example/cb"}, "a callback URL needs a secret"),
        ({"callback_secret": "s" * 40}, "a reference env:NAME or file:PATH is required"),
        ({"callback_secret": "env:OZG_TEST_UNSET_SECRET"}, "OZG_TEST_UNSET_SECRET is not set"),
        ({"id": "T F"}, "id: lower-case letters"),
        ({"encryption_key": {}}, "encryption_key: jwk/file: give exactly one"),
        ({"encryption_key": {"file": "missing.json"}}, "missing.json cannot be read"),
    ],
)
def test_malformed_entries_name_the_entry_and_the_field(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    path = write_file(tmp_path / "a.toml", [{**entry("tf", keys_for("tf", pki_ca())), **change}])
    with pytest.raises(AuthoritiesFileError) as raised:
        build_registry(_settings(tmp_path, path), flows={})
    assert expected in raised.value.detail
    assert "s" * 40 not in raised.value.detail  # a secret's value is never repeated


def test_keys_and_secrets_from_files_beside_the_authorities_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    keys = keys_for("tf", pki_ca())
    (tmp_path / "tf-enc.json").write_text(json.dumps(keys.encryption_jwk))
    (tmp_path / "tf-callback.secret").write_text("c" * 40 + "\n")
    e = entry(
        "tf",
        keys,
        encryption_key={"file": "tf-enc.json"},
        callback_url="https://abh.example/fit-connect/callback",
        callback_secret="file:tf-callback.secret",
    )
    path = write_file(tmp_path / "a.toml", [e], leika={"employment": LEIKA})
    tf = build_registry(_settings(tmp_path, path), flows={}).get("tf")
    assert tf.callback_secret == "c" * 40
    assert "c" * 40 not in repr(tf)
    registry = build_registry(_settings(tmp_path, path), flows={})
    assert registry.leika_of("employment") == LEIKA  # from the file's [leika] table


def test_two_entries_with_one_id_or_destination_are_refused(tmp_path: Path) -> None:
    e = entry("tf", keys_for("tf", pki_ca()))
    path = write_file(tmp_path / "a.toml", [e, e])
    with pytest.raises(AuthoritiesFileError, match="listed twice"):
        build_registry(_settings(tmp_path, path), flows={})


def test_a_malformed_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[authority]\n")
    assert startup_problems(_settings(tmp_path, bad))[0].startswith(
        "OZG_AUTHORITIES_FILE: OZG_AUTHORITIES_FILE (bad.toml) is not valid TOML"
    )
    bad.write_text("[[authority]]\nid = 'tf'\n")
    assert 'format = "ozg-authorities/1"' in startup_problems(_settings(tmp_path, bad))[0]


def test_production_needs_the_file_and_a_routing_key(tmp_path: Path) -> None:
    problems = startup_problems(Settings(**GOOD_PRODUCTION))
    assert any(p.startswith("OZG_AUTHORITIES_FILE is not set") for p in problems)
    assert any(p.startswith("OZG_AUTHORITIES_ROUTING_SIGNING_KEY is not set") for p in problems)
    malformed = Settings(
        data_dir=tmp_path,
        sections={"authorities": {"routing_signing_key": SecretStr('{"kty":"RSA"}')}},
    )
    assert startup_problems(malformed) == [
        "OZG_AUTHORITIES_ROUTING_SIGNING_KEY: not a private RSA JWK (JSON with kty RSA and d)"
    ]


class _FakeFlow(Component):
    name = "flow-employment"
    definition = SimpleNamespace(id="employment", leika=f"urn:de:fim:leika:leistung:{LEIKA}")


class _BrokenFlow(Component):
    name = "flow-broken"

    @property
    def definition(self) -> Any:
        raise ValueError("flow.json is missing")


def test_route_services_come_from_the_installed_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.declarations

    registry_of_components = Registry([_FakeFlow(), _BrokenFlow()])
    monkeypatch.setattr(
        gateway.declarations, "installed_components", lambda: registry_of_components
    )
    assert installed_flow_leika() == {"employment": f"urn:de:fim:leika:leistung:{LEIKA}"}
    path = write_file(
        tmp_path / "a.toml",
        [entry("tf", keys_for("tf", pki_ca()))],
        leika={"employment": "99010003001999"},  # the installed flow's key wins
    )
    registry = build_registry(_settings(tmp_path, path))
    assert registry.leika_of("employment") == LEIKA
    assert [r.flow for r in registry.route(LEIKA, ars="120720616616")] == ["employment"]
