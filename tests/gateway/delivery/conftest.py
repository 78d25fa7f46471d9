"""Fixtures of the delivery tests: destination keys (made once per run: RSA-4096 is slow),
an app whose delivery service knows two destinations (``tf`` and ``ee``) and a fixed clock."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.principal import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from gateway.delivery.destinations import Destination, InMemoryDestinations, Service
from gateway.delivery.runtime import DeliveryRuntime, pem_of
from gateway.fitconnect.demo import make_self_signed_key

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TF_DESTINATION = "6b7a1f0e-2d8c-4c53-9a7e-0f1e2d3c4b5a"
EE_DESTINATION = "0c8f7e6d-5b4a-4392-8a1b-2c3d4e5f6a7b"
LEIKA = "urn:de:fim:leika:leistung:99010003001000"
CALLBACK_SECRET = "x" * 40


@dataclass(frozen=True)
class Keys:
    encryption: rsa.RSAPrivateKey
    encryption_jwk: dict[str, Any]
    signing: rsa.RSAPrivateKey
    signing_jwk: dict[str, Any]
    delivery_pem: str


@pytest.fixture(scope="session")
def keys() -> Keys:
    enc = rsa.generate_private_key(65537, 4096)
    sig = rsa.generate_private_key(65537, 4096)
    delivery = rsa.generate_private_key(65537, 4096)
    return Keys(
        enc,
        make_self_signed_key(enc, "tf", NOW),
        sig,
        make_self_signed_key(sig, "tf", NOW, purpose="verify"),
        pem_of(delivery),
    )


def destination(
    keys: Keys, destination_id: str = TF_DESTINATION, authority: str = "tf", **extra: Any
) -> Destination:
    return Destination(
        destination_id=destination_id,
        authority=authority,
        encryption_jwk=keys.encryption_jwk,
        signature_jwk=keys.signing_jwk,
        metadata_versions=("1.0.0",),
        reply_channels=("eMail",),
        services=(Service(LEIKA, "Aufenthaltserlaubnis zur Beschäftigung"),),
        **extra,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def delivery_settings(
    tmp_path: Path, database_url: str, keys: Keys, demo_data_dir: Path
) -> Settings:
    # the demo authorities' keys made once per run (tests/conftest.py), not six RSA-4096
    # keys per test
    shutil.copytree(demo_data_dir, tmp_path / "var")
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        sections={"delivery": {"signing_key": keys.delivery_pem}},
    )


@pytest.fixture
def directory(keys: Keys) -> InMemoryDestinations:
    return InMemoryDestinations([destination(keys), destination(keys, EE_DESTINATION, "ee")])


@pytest.fixture
def app(
    delivery_settings: Settings,
    database: Database,
    directory: InMemoryDestinations,
    clock: FixedClock,
) -> FastAPI:
    application = create_app(delivery_settings, database)
    runtime: DeliveryRuntime = application.state.delivery
    runtime.directory = directory
    runtime.clock = clock
    return application


@pytest.fixture
def runtime(app: FastAPI) -> DeliveryRuntime:
    result: DeliveryRuntime = app.state.delivery
    return result


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def new_attachment_id() -> str:
    return str(uuid.uuid4())


ActAs = Callable[[Principal | None], None]
