from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from account.runtime import config_problems as account_config_problems
from commons.errors import ConfigurationError
from commons.settings import DEV_SECRET_KEY, Settings
from gateway.app import check_startup
from gateway.delivery.runtime import pem_of
from payments.runtime import PaymentsSettings

# The delivery service's event-signing key (RSA-4096, made once per run: it is slow).
_DELIVERY_SIGNING_KEY = pem_of(rsa.generate_private_key(65537, 4096))

GOOD_PRODUCTION: dict[str, Any] = {
    "env": "production",
    "database_url": "postgresql+psycopg://ozg:pw@db.internal/ozg",
    "identity_provider": "keycloak",
    "keycloak_server_url": "https://id.example/",
    "keycloak_realm": "ozg",
    "keycloak_client_id": "ozg-api",
    "keycloak_client_secret": SecretStr("a-real-client-secret"),
    "secret_key": SecretStr("x" * 48),
    "public_base_url": "https://ozg.example",
    "receipt_signing_key": SecretStr(
        '{"crv":"Ed25519","d":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","kid":"--6IM5l0OosLj9yWskISYhUA3n_3CURQkmrYMSha_ck","kty":"OKP","x":"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw"}'
    ),
    "sections": {
        "account": {"erasure_journal_dir": "/srv/ozg-erasure-journal"},
        "payments": {"providers": ["xbezahldienste"]},
        "delivery": {"signing_key": SecretStr(_DELIVERY_SIGNING_KEY)},
        "compliance": {
            "signing_key": SecretStr(
                "PRIVATE+KEY+ozg.example/audit+fa9df605+"
                "AQLutS2TLLYQmT/iGR7eGwIfywzpbh8ZNuSIImi9svIe"
            ),
            "controller_name": "Landkreis Teltow-Fläming, Der Landrat",
            "controller_contact": "Am Nuthefließ 2, 14943 Luckenwalde, datenschutz@example.org",
            "dpo_contact": "Behördliche Datenschutzbeauftragte, dsb@example.org",
        },
    },
}


def test_development_needs_no_configuration(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.env == "development"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert str(tmp_path.resolve()) in settings.effective_database_url
    assert settings.object_store == "filesystem"
    settings.check_startup()  # does not raise


def test_environment_variables_use_the_ozg_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_ENV", "production")
    monkeypatch.setenv("OZG_PAYMENTS_PROVIDERS", '["xbezahldienste"]')
    settings = Settings()
    assert settings.is_production
    assert settings.section(PaymentsSettings).providers == ["xbezahldienste"]


def test_production_without_configuration_lists_every_problem() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(env="production").check_startup()
    message = str(info.value)
    assert "OZG_DATABASE_URL is not set" in message
    assert "OZG_IDENTITY_PROVIDER" in message
    assert "OZG_SECRET_KEY" in message
    assert len(info.value.problems) == 4  # the platform's own settings (receipt key too)
    with pytest.raises(ConfigurationError) as info:
        check_startup(Settings(env="production"))  # ... and every component's
    message = str(info.value)
    for expected in (
        "OZG_DATABASE_URL is not set",
        "OZG_IDENTITY_PROVIDER",
        "OZG_SECRET_KEY",
        "OZG_PAYMENTS_PROVIDERS includes 'sandbox'",
        "OZG_COMPLIANCE_SIGNING_KEY is not set",
        "OZG_COMPLIANCE_CONTROLLER_NAME is not set",
        "OZG_COMPLIANCE_CONTROLLER_CONTACT is not set",
        "OZG_COMPLIANCE_DPO_CONTACT is not set",
        "OZG_VAULT_TRUST_ANCHORS is not set",
        "OZG_PAYMENTS_AUTHORITIES_FILE is not set",
    ):
        assert expected in message
    assert (
        "OZG_RECEIPT_SIGNING_KEY is not set; create one with `ozg-commons receipt keygen`"
        in message
    )


def test_complete_production_configuration_starts() -> None:
    Settings(**GOOD_PRODUCTION).check_startup()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"database_url": "sqlite:///x.db"}, "SQLite"),
        ({"identity_provider": "dev"}, "development identity provider"),
        (
            {"sections": {**GOOD_PRODUCTION["sections"], "payments": {"providers": ["sandbox"]}}},
            "sandbox",
        ),
        ({"secret_key": SecretStr(DEV_SECRET_KEY)}, "OZG_SECRET_KEY is left at its development"),
        ({"secret_key": SecretStr("short")}, "shorter than 32"),
        ({"keycloak_realm": None}, "OZG_KEYCLOAK_REALM is not set"),
        ({"public_base_url": "http://ozg.example"}, "https"),
        ({"object_store": "s3"}, "OZG_S3_ENDPOINT is not set"),
        (
            {"object_store": "s3", "s3_endpoint": "https://s3", "s3_access_key": "k"},
            "OZG_S3_SECRET_KEY is left at its development default",
        ),
        ({"keycloak_client_secret": SecretStr("dev-only-client-secret")}, "KEYCLOAK_CLIENT_SECRET"),
        (
            {"sections": {**GOOD_PRODUCTION["sections"], "compliance": {}}},
            "OZG_COMPLIANCE_SIGNING_KEY is not set",
        ),
        (
            {
                "sections": {
                    **GOOD_PRODUCTION["sections"],
                    "compliance": {
                        **GOOD_PRODUCTION["sections"]["compliance"],
                        "dpo_contact": "  ",
                    },
                }
            },
            "OZG_COMPLIANCE_DPO_CONTACT is not set",
        ),
        ({"receipt_signing_key": None}, "OZG_RECEIPT_SIGNING_KEY is not set"),
        ({"keycloak_client_secret": SecretStr("")}, "OZG_KEYCLOAK_CLIENT_SECRET is empty"),
        ({"keycloak_client_secret": SecretStr("  ")}, "OZG_KEYCLOAK_CLIENT_SECRET is empty"),
        ({"secret_key": SecretStr(" " * 48)}, "OZG_SECRET_KEY is blank"),
        ({"secret_key": SecretStr("\t\n" * 24)}, "OZG_SECRET_KEY is blank"),
        (
            {
                "object_store": "s3",
                "s3_endpoint": "http://minio.internal:9000",
                "s3_access_key": "k",
                "s3_secret_key": SecretStr("a-real-s3-secret"),
            },
            "OZG_S3_ENDPOINT must use https outside loopback",
        ),
        ({"oidc_acr_map": {"1": "hoch"}}, "lifts the acr value '1' to 'hoch'"),
        ({"oidc_acr_map": {"basis": "hoch"}}, "lifts the acr value 'basis' to 'hoch'"),
        (
            {"oidc_acr_map": {"STORK-QAA-Level-2": "substantiell"}},
            "lifts the acr value 'STORK-QAA-Level-2'",
        ),
        (
            {"sections": {**GOOD_PRODUCTION["sections"], "account": {"recent_auth_minutes": 61}}},
            "OZG_ACCOUNT_RECENT_AUTH_MINUTES is 61",
        ),
    ],
)
def test_each_unsafe_production_setting_is_refused(override: dict[str, Any], expected: str) -> None:
    settings = Settings(**{**GOOD_PRODUCTION, **override})
    with pytest.raises(ConfigurationError, match=expected):
        check_startup(settings)


def test_safe_variants_of_the_new_checks_start() -> None:
    fine: dict[str, Any] = {
        "object_store": "s3",
        "s3_endpoint": "http://127.0.0.1:9000",  # loopback: plain http is fine
        "s3_access_key": "k",
        "s3_secret_key": SecretStr("a-real-s3-secret"),
        "oidc_acr_map": {"1": "basis", "urn:eid:hoch": "hoch", "hoch": "substantiell"},
        "sections": {
            **GOOD_PRODUCTION["sections"],
            "account": {**GOOD_PRODUCTION["sections"]["account"], "recent_auth_minutes": 60},
        },
    }
    settings = Settings(**{**GOOD_PRODUCTION, **fine})
    assert settings.production_problems() == []
    assert account_config_problems(settings) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ozg@db/ozg?password=hunter2&sslmode=require",
        "postgresql+psycopg://ozg@db/ozg?sslmode=verify-full&sslpassword=hunter2",
        "postgresql+psycopg://ozg:hunter2@db/ozg?PASSWORD=hunter2",
        "postgresql+psycopg://ozg:hunter2@db/ozg?sslpassword=hunter2&password=hunter2",
        "postgresql+psycopg://ozg:hun%40ter2@db/ozg",
    ],
)
def test_config_show_masks_passwords_in_the_database_url_query(url: str) -> None:
    shown = Settings(database_url=url).masked()
    for key in ("database_url", "effective_database_url"):
        assert "hunter2" not in shown[key]
        assert "hun%40ter2" not in shown[key]
        assert "**********" in shown[key]
        assert "db/ozg" in shown[key]
    if "sslmode=require" in url:
        assert "sslmode=require" in shown["database_url"]


def test_masked_settings_never_show_secrets() -> None:
    settings = Settings(
        **{**GOOD_PRODUCTION, "database_url": "postgresql+psycopg://ozg:hunter2@db/ozg"}
    )
    shown = repr(settings.masked())
    assert "hunter2" not in shown
    assert "a-real-client-secret" not in shown
    assert "x" * 48 not in shown
    assert settings.masked()["secret_key"] == "**********"
    assert Settings().masked()["secret_key"] == "<development default>"


def test_malformed_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="env"):
        Settings(env="staging")
