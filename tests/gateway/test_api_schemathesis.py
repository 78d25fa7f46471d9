"""Schemathesis against the whole API, in-process, once per role (applicant, caseworker, DPO,
admin, flow client), with every check: no server error, every status and media type the
OpenAPI document promises, responses that match their schemas and headers, negative data
refused, auth not ignored, ``Allow`` on 405 (tests/gateway/api_fuzz.py says how).

Bounded for CI: a fixed seed, deterministic generation and few examples per operation; the
long run is ``benchmarks/fuzz_api.py`` (``make fuzz-api``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests.gateway import api_fuzz


@pytest.fixture(scope="module")
def fuzzed_app(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine, database_url: str, demo_data_dir: Path
) -> Iterator[FastAPI]:
    """One started app for the module, on the run's database, rolled back at the end."""
    data_dir = tmp_path_factory.mktemp("schemathesis") / "var"
    shutil.copytree(demo_data_dir, data_dir)
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            app = create_app(
                Settings(data_dir=data_dir, database_url=database_url), Database(engine, bind=conn)
            )
            with TestClient(app):
                yield app
        finally:
            outer.rollback()


@pytest.mark.parametrize("role", sorted(api_fuzz.ROLES))
def test_schemathesis_finds_nothing(fuzzed_app: FastAPI, role: str) -> None:
    result = api_fuzz.run(fuzzed_app, role, max_examples=1, phases=("examples", "fuzzing"))
    print(result.summary())
    assert result.operations > 90, result.summary()
    assert not result.errors, "\n".join(result.errors)
    assert not result.findings, result.report()
    assert 500 not in result.statuses
