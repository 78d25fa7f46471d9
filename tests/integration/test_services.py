"""Smoke tests: each real server is reachable through the project's own configuration."""

from __future__ import annotations

import io
import secrets

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from account.keycloak import keycloak_openid
from commons.db import Database, make_engine
from commons.s3 import minio_client
from commons.settings import Settings
from tests import services


@pytest.mark.postgres
def test_postgres_table_round_trip(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url)
    database = Database(make_engine(settings.effective_database_url))
    table = Table(
        f"smoke_{secrets.token_hex(4)}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("value", String(20)),
    )
    try:
        with database.transaction() as session:
            table.create(session.connection())
            session.execute(insert(table).values(id=1, value="round-trip"))
        with database.transaction() as session:
            assert session.execute(select(table.c.value)).scalar_one() == "round-trip"
            assert session.get_bind().dialect.name == "postgresql"
    finally:
        with database.transaction() as session:
            table.drop(session.connection())
        database.dispose()


@pytest.fixture
def s3_settings() -> Settings:
    return services.s3_settings("ozg-smoke")


@pytest.mark.s3
def test_s3_bucket_round_trip(s3_settings: Settings) -> None:
    client = minio_client(s3_settings)
    bucket = s3_settings.s3_bucket
    client.make_bucket(bucket)
    try:
        payload = secrets.token_bytes(1024)
        client.put_object(bucket, "smoke/object", io.BytesIO(payload), len(payload))
        response = client.get_object(bucket, "smoke/object")
        try:
            assert response.read() == payload
        finally:
            response.close()
            response.release_conn()
        client.remove_object(bucket, "smoke/object")
    finally:
        client.remove_bucket(bucket)


@pytest.mark.oidc
def test_oidc_discovery(oidc_settings: Settings) -> None:
    discovery = keycloak_openid(oidc_settings).well_known()
    assert discovery["issuer"] == (
        f"{oidc_settings.keycloak_server_url.rstrip('/')}/realms/{oidc_settings.keycloak_realm}"
        if oidc_settings.keycloak_server_url
        else None
    )
    assert discovery["jwks_uri"].endswith("/protocol/openid-connect/certs")
