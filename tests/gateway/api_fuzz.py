"""Schemathesis against the ASGI app, in-process, as each role: what the suite's bounded run
(tests/gateway/test_api_schemathesis.py) and the long run (benchmarks/fuzz_api.py) share.

Every run loads the app's own OpenAPI document and runs schemathesis' engine (the one its
command line runs) with every check enabled, the phases ``examples``, ``coverage`` and
``fuzzing`` (positive and negative data), a fixed seed and deterministic generation, so a
run is reproducible. Requests carry a real bearer token of the development identity
provider for the role (refreshed before it expires), so the token path, the role and scope
guards and schemathesis' ``ignored_auth`` check all see what production sees.

``positive_data_acceptance`` also accepts a 422: a body can match its schema and still be
refused for what JSON Schema cannot say (a vault envelope's or a JWE's bytes, a signature,
a case in another state). A 400, 405, 406 or 415 to a schema-valid request still fails it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

# A JWE or JWS in compact serialization is text on the wire.
schemathesis.serializer.alias("application/jose", "text/plain")

TOKEN_URL = "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"
# How each role signs in at the development IdP (account/devidp.py's demo users and client).
ROLES: dict[str, dict[str, str]] = {
    "applicant": {"grant_type": "password", "client_id": "ozg-cli", "username": "demo-applicant"},
    "caseworker": {
        "grant_type": "password",
        "client_id": "ozg-cli",
        "username": "demo-caseworker-tf",
    },
    "dpo": {"grant_type": "password", "client_id": "ozg-cli", "username": "demo-dpo"},
    "admin": {"grant_type": "password", "client_id": "ozg-cli", "username": "demo-admin"},
    "flow": {
        "grant_type": "client_credentials",
        "client_id": "demo-flow",
        "client_secret": "demo-flow-secret",
    },
}
# Refused for what its schema cannot express (see the module docstring), never for its shape.
SEMANTIC_REFUSALS = ("2xx", "3xx", "401", "403", "404", "409", "422", "429")
# The FIT-Connect Routing API's rule "exactly one of ars, ags and areaId" is no JSON Schema of
# query parameters: a schema-valid query may get its 400, as from the Routing API itself.
ONE_OF_QUERIES = ("GET /v1/routes",)
# Not fuzzed: it erases the demo person the rest of the run signs in as (tests/account
# covers erasure end to end).
NOT_FUZZED = ("DELETE /v1/me",)


def token_for(client: TestClient, role: str) -> str:
    form = dict(ROLES[role])
    if form["grant_type"] == "password":
        form["password"] = form["username"]
    response = client.post(TOKEN_URL, data=form)
    if response.status_code != 200:
        raise RuntimeError(f"no token for {role}: {response.status_code}")
    token: str = response.json()["access_token"]
    return token


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    title: str
    message: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.check}] {self.title}\n{self.message}\n{self.curl}"


@dataclass
class FuzzResult:
    role: str
    cases: int = 0
    operations: int = 0
    seconds: float = 0.0
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    failing_cases: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    labels: set[str] = field(default_factory=set)

    def report(self) -> str:
        """The summary, one line per distinct finding, then each with its request."""
        lines = [self.summary()]
        lines += [f"{n} x {' | '.join(key)}" for key, n in sorted(self.failing_cases.items())]
        return "\n".join([*lines, "", *map(str, self.findings.values())])

    def summary(self) -> str:
        return (
            f"{self.role}: {self.cases} cases over {self.operations} operations in "
            f"{self.seconds:.1f} s, {len(self.findings)} distinct findings, "
            f"{len(self.errors)} errors, statuses {dict(sorted(self.statuses.items()))}"
        )


def config(*, max_examples: int, seed: int, phases: tuple[str, ...]) -> SchemathesisConfig:
    every = ("examples", "coverage", "fuzzing", "stateful")
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "max-failures": 100_000,
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": list(SEMANTIC_REFUSALS)},
            },
            "phases": {name: {"enabled": name in phases} for name in every},
            "request-timeout": 120,  # a loaded CI machine is slow, not broken
            "operations": [
                *({"include-name": name, "enabled": False} for name in NOT_FUZZED),
                *(
                    {
                        "include-name": name,
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": [*SEMANTIC_REFUSALS, "400"]
                            }
                        },
                    }
                    for name in ONE_OF_QUERIES
                ),
            ],
        }
    )


def run(
    app: FastAPI,
    role: str,
    *,
    max_examples: int = 3,
    seed: int = 14,
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing"),
    token_seconds: int = 120,
) -> FuzzResult:
    """One engine run as ``role``; ``app`` must be started (its lifespan entered)."""
    result = FuzzResult(role=role)
    started = time.perf_counter()
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json",
        app,
        config=config(max_examples=max_examples, seed=seed, phases=phases),
    )
    client = TestClient(app)

    @schema.auth(refresh_interval=token_seconds)
    class _Bearer:
        def get(self, case: Any, ctx: Any) -> str:
            return token_for(client, role)

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations: set[str] = set()
    result.labels = operations
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            operations.add(recorder.label)
            result.cases += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    result.statuses[interaction.response.status_code] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (recorder.label, check.name, failure.title)
                    result.failing_cases[key] += 1
                    result.findings.setdefault(
                        key,
                        Finding(
                            recorder.label,
                            check.name,
                            failure.title,
                            failure.message,
                            check.failure_info.code_sample,
                        ),
                    )
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"fatal: {event.exception!r}")
    result.operations = len(operations)
    result.seconds = time.perf_counter() - started
    return result
