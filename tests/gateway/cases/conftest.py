"""Fixtures of the cases tests: fake flows and authorities, applicants with vault keys,
sealed envelopes, and a stand-in for the delivery service's calls."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal, TrustLevel
from commons.db import Database
from commons.encoding import b64url_encode
from commons.errors import NotFound
from gateway.cases import DocumentType, FlowRequirements, StaticFlows
from gateway.cases.runtime import CasesRuntime
from tests import factories
from vault import envelope
from vault.client import keys

ActAs = Callable[[Principal | None], None]

EMPLOYMENT = FlowRequirements(
    id="employment",
    version="1.0.0",
    trust_to_start=TrustLevel.BASIS,
    trust_to_submit=TrustLevel.BASIS,
    documents=(
        DocumentType("passport", True, "Reisepass", "Passport"),
        DocumentType("biometric_photo", True, "Biometrisches Foto", "Biometric photo"),
        DocumentType("employment_contract", False, "Arbeitsvertrag", "Employment contract"),
    ),
    fee_rule={"procedure": "issue", "express_available": True},
    fee_facts=frozenset(
        {"applicant_age", "nationality", "association_rights", "benefits", "duration_months"}
    ),
    fee_fixed={"permit_type": "residence_permit"},
    draft_retention_days=14,
)
SETTLEMENT = FlowRequirements(
    id="settlement",
    version="1.0.0",
    documents=(DocumentType("passport", True, "Reisepass", "Passport"),),
    fee_rule={"procedure": "settlement_permit", "express_available": False},
    fee_facts=frozenset({"applicant_age", "benefits"}),
    fee_fixed={"settlement_category": "other"},
)
STRICT = FlowRequirements(id="strict", version="2", trust_to_start=TrustLevel.HOCH)


@dataclass(frozen=True)
class FakeText:
    de: str
    en: str


@dataclass(frozen=True)
class FakeAuthority:
    id: str
    name: FakeText
    flows: tuple[str, ...] = ("employment", "settlement", "strict")


class UnknownAuthority(NotFound):
    code = "unknown-authority"


@dataclass
class FakeRegistry:
    """The shape of ``gateway.authorities``' registry that the cases component uses."""

    authorities: dict[str, FakeAuthority] = field(
        default_factory=lambda: {
            "tf": FakeAuthority(
                "tf", FakeText("Landkreis Teltow-Fläming", "Landkreis Teltow-Fläming")
            ),
            "ee": FakeAuthority("ee", FakeText("Landkreis Elbe-Elster", "Landkreis Elbe-Elster")),
            "p": FakeAuthority(
                "p", FakeText("Landeshauptstadt Potsdam", "State capital Potsdam"), ("strict",)
            ),
        }
    )

    def get(self, authority_id: str) -> FakeAuthority:
        if authority_id not in self.authorities:
            raise UnknownAuthority(f"unknown authority; known: {', '.join(self.authorities)}")
        return self.authorities[authority_id]


@pytest.fixture
def runtime(app: FastAPI) -> CasesRuntime:
    runtime: CasesRuntime = app.state.cases
    runtime.flows = StaticFlows([EMPLOYMENT, SETTLEMENT, STRICT])
    app.state.authorities = FakeRegistry()
    return runtime


@dataclass
class Applicant:
    principal: Principal
    key: ec.EllipticCurvePrivateKey


@pytest.fixture
def make_applicant(
    client: TestClient, act_as: ActAs, runtime: CasesRuntime
) -> Callable[[], Applicant]:
    """An applicant with an account and a registered vault key (the caller is left acting
    as that applicant)."""

    def make() -> Applicant:
        principal = factories.applicant()
        act_as(principal)
        assert client.get("/v1/me").status_code == 200
        kp = keys.generate("correct horse battery", keys.ARGON2_MINIMUM)
        response = client.put(
            "/v1/vault/keys/me",
            json={
                "public_jwk": kp.public_jwk,
                "wrapped_by_passphrase": kp.wrapped_by_passphrase,
                "wrapped_by_recovery": kp.wrapped_by_recovery,
            },
        )
        assert response.status_code == 201, response.text
        return Applicant(principal, kp.private_key)

    return make


@pytest.fixture
def alice(make_applicant: Callable[[], Applicant]) -> Applicant:
    return make_applicant()


def seal(data: bytes, *recipients: ec.EllipticCurvePrivateKey, name: str = "draft.json") -> bytes:
    out = io.BytesIO()
    envelope.seal(
        data,
        out,
        [r.public_key() for r in recipients],
        filename=name,
        media_type="application/json",
    )
    return out.getvalue()


def sealed_text(data: bytes, key: ec.EllipticCurvePrivateKey, name: str = "letter.pdf") -> str:
    return b64url_encode(seal(data, key, name=name))


def open_sealed(data: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    return envelope.open_bytes(data, key)[1]


@dataclass
class FakeSubmission:
    """The delivery service's submission row, as far as the cases component reads it."""

    manifest: dict[str, Any] | None
    sender: str
    sender_role: str = "applicant"
    sender_client: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def manifest(
    case_id: str,
    *,
    flow: str = "employment",
    authority: str = "tf",
    payment: str | None = None,
    types: tuple[str, ...] = ("passport", "biometric_photo"),
) -> dict[str, Any]:
    return {
        "format": "ozg-manifest/1",
        "caseId": case_id,
        "flow": flow,
        "authority": authority,
        "paymentId": payment,
        "parts": [
            {"part": "data", "documentType": "form", "size": 1000},
            {"part": "metadata", "documentType": "fit-connect-metadata", "size": 900},
            *(
                {"attachmentId": str(uuid.uuid4()), "documentType": t, "size": 1001 + i}
                for i, t in enumerate(("summary", *types))
            ),
        ],
    }


@pytest.fixture
def deliver(
    database: Database, runtime: CasesRuntime
) -> Callable[[FakeSubmission, str], list[Any]]:
    """What the delivery service does: run the submit checks, then report the event."""

    def run(submission: FakeSubmission, event: str) -> list[Any]:
        with database.transaction() as session:
            if event == "submit-submission":
                problems = [
                    p
                    for check in runtime.app.state.delivery.submit_checks
                    for p in check(session, submission)
                ]
                if problems:
                    return problems
            runtime.submission_event(session, submission, event)
            return []

    return run
