"""Sealed drafts, fee facts, the manifest check, flow clients, export, erasure and the
expiry of abandoned drafts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from account import TrustLevel
from commons.db import Database
from commons.encoding import b64url_decode
from gateway.cases.declarations import RETENTION_EXECUTORS
from gateway.cases.manifest import CaseView, FeeView, Manifest, ManifestPart, Problem, evaluate
from gateway.cases.models import Case, Draft, TimelineEntry
from gateway.cases.runtime import CasesRuntime
from tests import factories
from tests.gateway.cases.conftest import (
    EMPLOYMENT,
    ActAs,
    Applicant,
    FakeSubmission,
    open_sealed,
    seal,
)
from tests.gateway.cases.helpers import FACTS, pay, start_case, submission

OCTET = {"Content-Type": "application/octet-stream"}
Deliver = Callable[[FakeSubmission, str], list[Any]]


def _new_case(client: TestClient, flow: str = "employment") -> str:
    response = client.post("/v1/cases", json={"flow_id": flow})
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


# --------------------------------------------------------------------------- drafts
def test_a_sealed_draft_round_trips_and_resumes_on_any_device(
    client: TestClient, act_as: ActAs, alice: Applicant
) -> None:
    case_id = _new_case(client)
    form = b'{"given_name": "Ada", "employer": "ACME"}'
    sealed = seal(form, alice.key)
    assert (
        client.put(f"/v1/cases/{case_id}/draft", content=sealed, headers=OCTET).status_code == 204
    )
    response = client.get(f"/v1/cases/{case_id}/draft")  # another device: same account
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == sealed
    assert open_sealed(response.content, alice.key) == form
    newer = seal(b'{"given_name": "Ada", "employer": "ACME", "salary": 1}', alice.key)
    client.put(f"/v1/cases/{case_id}/draft", content=newer, headers=OCTET)
    assert client.get(f"/v1/cases/{case_id}/draft").content == newer
    case = client.get(f"/v1/cases/{case_id}").json()
    assert case["has_draft"] is True
    assert case["draft_expires_at"] > case["created_at"]


@pytest.mark.parametrize(
    "make",
    [
        lambda key: b'{"given_name": "Ada"}',  # plaintext JSON
        lambda key: b"OZGV" + bytes(200),  # a magic, then nonsense
        lambda key: seal(b"{}", key)[:60],  # cut inside the header
        lambda key: seal(b"{}", key)[:-4100],  # cut into the metadata record
        lambda key: seal(b"{}", ec.generate_private_key(ec.SECP256R1())),  # someone else's key
        lambda key: seal(b"{}", key, ec.generate_private_key(ec.SECP256R1())),  # a 2nd reader
        lambda key: b"",
    ],
    ids=[
        "plaintext",
        "bad-header",
        "cut-header",
        "cut-trailer",
        "wrong-key",
        "extra-recipient",
        "empty",
    ],
)
def test_a_draft_that_is_not_an_envelope_sealed_to_the_applicant_is_422(
    client: TestClient,
    act_as: ActAs,
    alice: Applicant,
    make: Callable[[ec.EllipticCurvePrivateKey], bytes],
) -> None:
    case_id = _new_case(client)
    response = client.put(f"/v1/cases/{case_id}/draft", content=make(alice.key), headers=OCTET)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("invalid-sealed-content")
    assert client.get(f"/v1/cases/{case_id}/draft").status_code == 404


def test_a_draft_above_the_limit_is_413(
    client: TestClient, act_as: ActAs, alice: Applicant, runtime: CasesRuntime
) -> None:
    case_id = _new_case(client)
    big = seal(bytes(runtime.settings.max_sealed_bytes), alice.key)
    response = client.put(f"/v1/cases/{case_id}/draft", content=big, headers=OCTET)
    assert response.status_code == 413


def test_drafts_are_the_applicants_alone(
    client: TestClient,
    act_as: ActAs,
    alice: Applicant,
    make_applicant: Callable[[], Applicant],
) -> None:
    act_as(alice.principal)
    case_id = _new_case(client)
    client.put(f"/v1/cases/{case_id}/draft", content=seal(b"{}", alice.key), headers=OCTET)
    bob = make_applicant()
    act_as(bob.principal)
    assert client.get(f"/v1/cases/{case_id}/draft").status_code == 404
    assert (
        client.put(
            f"/v1/cases/{case_id}/draft", content=seal(b"{}", bob.key), headers=OCTET
        ).status_code
        == 404
    )
    assert client.get("/v1/cases").json() == []


def test_an_applicant_without_a_vault_key_cannot_save_a_draft(
    client: TestClient, act_as: ActAs, runtime: CasesRuntime
) -> None:
    act_as(factories.applicant())
    case_id = _new_case(client)
    key = ec.generate_private_key(ec.SECP256R1())
    response = client.put(f"/v1/cases/{case_id}/draft", content=seal(b"{}", key), headers=OCTET)
    assert response.status_code == 409
    assert "vault key" in response.json()["detail"]


def test_an_abandoned_draft_is_deleted(client: TestClient, act_as: ActAs, alice: Applicant) -> None:
    case_id = _new_case(client)
    assert client.delete(f"/v1/cases/{case_id}").status_code == 204
    assert client.get(f"/v1/cases/{case_id}").status_code == 404


# --------------------------------------------------------------------------- starting
def test_a_flow_above_the_applicants_trust_level_asks_for_step_up(
    client: TestClient, act_as: ActAs, runtime: CasesRuntime
) -> None:
    act_as(factories.applicant())
    response = client.post("/v1/cases", json={"flow_id": "strict"})
    assert response.status_code == 401
    assert 'acr_values="hoch"' in response.headers["www-authenticate"]
    act_as(factories.applicant(trust_level=TrustLevel.HOCH))
    assert client.post("/v1/cases", json={"flow_id": "strict"}).status_code == 201


def test_an_unknown_flow_is_404_naming_the_known_ones(
    client: TestClient, act_as: ActAs, runtime: CasesRuntime
) -> None:
    act_as(factories.applicant())
    response = client.post("/v1/cases", json={"flow_id": "nonsense"})
    assert response.status_code == 404
    assert response.json()["known_flows"] == ["employment", "settlement", "strict"]


def test_the_authority_must_exist_and_accept_the_flow(
    client: TestClient, act_as: ActAs, alice: Applicant
) -> None:
    case_id = _new_case(client)
    response = client.put(f"/v1/cases/{case_id}/authority", json={"authority": "zz"})
    assert response.status_code == 404
    assert "tf" in response.json()["detail"]
    response = client.put(f"/v1/cases/{case_id}/authority", json={"authority": "p"})
    assert response.status_code == 409  # Potsdam does not take the employment flow here


# --------------------------------------------------------------------------- fee facts
def test_only_the_declared_fee_facts_are_accepted(
    client: TestClient, act_as: ActAs, alice: Applicant
) -> None:
    case_id = _new_case(client)
    response = client.put(f"/v1/cases/{case_id}/fee-facts", json={"facts": FACTS})
    assert response.status_code == 409  # no authority chosen yet: a quote is per authority
    client.put(f"/v1/cases/{case_id}/authority", json={"authority": "tf"})
    response = client.put(
        f"/v1/cases/{case_id}/fee-facts",
        json={"facts": {**FACTS, "given_name": "Ada", "recognised_refugee": True}},
    )
    assert response.status_code == 422
    assert response.json()["undeclared"] == ["given_name", "recognised_refugee"]
    assert "Ada" not in response.text
    response = client.put(f"/v1/cases/{case_id}/fee-facts", json={"facts": {"nationality": "IND"}})
    assert response.status_code == 422
    assert "facts.applicant_age" in response.json()["fields"]
    response = client.put(
        f"/v1/cases/{case_id}/fee-facts", json={"facts": {**FACTS, "benefits": "sgb2"}}
    )
    assert response.status_code == 200
    quote = response.json()["quote"]
    assert (quote["quoted_cents"], "benefits" in quote["applied"]) == (0, True)
    stored = client.get(f"/v1/cases/{case_id}").json()
    assert stored["fee_facts"] == {**FACTS, "benefits": "sgb2"}


# --------------------------------------------------------------------------- the manifest
def _case_view(**changes: Any) -> CaseView:
    base: dict[str, Any] = {
        "id": "c",
        "state": "draft",
        "flow_id": "employment",
        "authority": "tf",
        "quote_id": "q",
        "waiver_requested": False,
    }
    return CaseView(**{**base, **changes})


def _manifest(types: tuple[str, ...] = ("passport", "biometric_photo"), **changes: Any) -> Manifest:
    base: dict[str, Any] = {
        "case_id": "c",
        "flow_id": "employment",
        "authority_id": "tf",
        "payment_id": "pay",
        "parts": tuple(ManifestPart(t, 10) for t in types),
    }
    return Manifest(**{**base, **changes})


PAID = FeeView(10000, "booked", True)


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def test_the_pure_check_passes_a_complete_paid_submission() -> None:
    assert evaluate(_manifest(), _case_view(), EMPLOYMENT, PAID) == []
    # exempt (0 EUR) or a waiver requested: no payment needed
    assert (
        evaluate(_manifest(payment_id=None), _case_view(), EMPLOYMENT, FeeView(0, None, False))
        == []
    )
    waiver = _case_view(waiver_requested=True)
    assert (
        evaluate(_manifest(payment_id=None), waiver, EMPLOYMENT, FeeView(10000, None, False)) == []
    )


def test_the_pure_check_names_every_missing_thing_in_german_and_english() -> None:
    problems = evaluate(
        _manifest(types=("employment_contract",), authority_id="ee", payment_id=None),
        _case_view(),
        EMPLOYMENT,
        FeeView(10000, None, False),
    )
    assert _codes(problems) == [
        "authority-mismatch",
        "document-missing",
        "document-missing",
        "fee-unpaid",
    ]
    missing = [p for p in problems if p.code == "document-missing"]
    assert "„Reisepass“ (passport)" in missing[0].de
    assert "“Passport” (passport)" in missing[0].en
    assert "Biometrisches Foto" in missing[1].de
    assert "Biometric photo" in missing[1].en
    assert "ee" in problems[0].de
    assert "tf" in problems[0].en
    assert "nicht bezahlt" in problems[-1].de
    assert "not paid" in problems[-1].en
    for problem in problems:
        assert problem.de != problem.en


@pytest.mark.parametrize(
    ("manifest_", "case", "fee", "code"),
    [
        (_manifest(), None, None, "case-unknown"),
        (_manifest(), _case_view(state="submitted"), PAID, "case-not-draft"),
        (_manifest(flow_id="settlement"), _case_view(), PAID, "flow-mismatch"),
        (_manifest(), _case_view(authority=None), PAID, "authority-missing"),
        (_manifest(), _case_view(quote_id=None), None, "fee-not-quoted"),
        (_manifest(), _case_view(), FeeView(10000, "pending", True), "fee-unpaid"),
        (_manifest(), _case_view(), FeeView(10000, "booked", False), "payment-mismatch"),
        (
            _manifest(),
            _case_view(waiver_requested=True),
            FeeView(10000, "booked", False),
            "payment-mismatch",
        ),
    ],
)
def test_each_refusal_has_its_code(
    manifest_: Manifest, case: CaseView | None, fee: FeeView | None, code: str
) -> None:
    problems = evaluate(manifest_, case, EMPLOYMENT, fee)
    assert code in _codes(problems)
    found = next(p for p in problems if p.code == code)
    assert found.de
    assert found.en
    assert found.de != found.en


def test_the_submit_check_over_the_database(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    make_applicant: Callable[[], Applicant],
    deliver: Deliver,
) -> None:
    started = start_case(client, act_as, alice)
    case_id = started["case_id"]
    malformed = FakeSubmission({"format": "ozg-manifest/1"}, sender=alice.principal.subject)
    assert _codes(deliver(malformed, "submit-submission")) == ["manifest-malformed"]
    unpaid = deliver(submission(alice.principal, case_id, types=("passport",)), "submit-submission")
    assert _codes(unpaid) == ["document-missing", "fee-unpaid"]
    assert all(p.de and p.en for p in unpaid)
    bob = make_applicant()
    stolen = deliver(submission(bob.principal, case_id), "submit-submission")
    assert _codes(stolen) == ["case-unknown"]
    act_as(alice.principal)
    assert client.get(f"/v1/cases/{case_id}").json()["state"] == "draft"
    # a plain FIT-Connect sender sends no manifest: nothing for the cases component to check
    with database.transaction() as session:
        assert app.state.cases.submit_check(session, FakeSubmission(None, sender="x")) == []
    payment_id = pay(client, app, database, alice, started["quote"]["id"])
    assert (
        deliver(submission(alice.principal, case_id, payment=payment_id), "submit-submission") == []
    )
    again = deliver(submission(alice.principal, case_id, payment=payment_id), "submit-submission")
    assert _codes(again) == ["case-not-draft"]


def test_a_delivery_rejection_closes_the_case(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    started = start_case(client, act_as, alice)
    payment_id = pay(client, app, database, alice, started["quote"]["id"])
    sent = submission(alice.principal, started["case_id"], payment=payment_id)
    assert deliver(sent, "submit-submission") == []
    assert deliver(sent, "reject-submission") == []
    act_as(alice.principal)
    case = client.get(f"/v1/cases/{started['case_id']}").json()
    assert (case["state"], case["outcome"], case["status"]) == ("decided", "rejected", "COMPLETED")
    assert case["timeline"][-1]["reason"] == "delivery-rejected"
    assert case["timeline"][-1]["actor_kind"] == "delivery"


# --------------------------------------------------------------------------- flow clients
def test_a_flow_client_acts_only_within_cases_the_applicant_allowed(
    client: TestClient, act_as: ActAs, alice: Applicant
) -> None:
    allowed = client.post(
        "/v1/cases", json={"flow_id": "employment", "allow_client": "employment-flow"}
    ).json()["id"]
    other = _new_case(client)
    act_as(factories.flow_client("employment-flow"))
    assert [c["id"] for c in client.get("/v1/cases").json()] == [allowed]
    assert client.get(f"/v1/cases/{other}").status_code == 404
    response = client.put(
        f"/v1/cases/{allowed}/draft", content=seal(b"{}", alice.key), headers=OCTET
    )
    assert response.status_code == 204
    assert client.put(f"/v1/cases/{allowed}/authority", json={"authority": "tf"}).status_code == 200
    assert client.post("/v1/cases", json={"flow_id": "employment"}).status_code == 403
    assert client.post(f"/v1/cases/{allowed}/withdraw").status_code == 403
    act_as(factories.flow_client("employment-flow", scopes=frozenset({"cases:read"})))
    assert client.get(f"/v1/cases/{allowed}").status_code == 200
    response = client.put(f"/v1/cases/{allowed}/authority", json={"authority": "tf"})
    assert (response.status_code, response.json()["reason"]) == (403, "insufficient-scope")
    act_as(factories.flow_client("another-flow"))
    assert client.get(f"/v1/cases/{allowed}").status_code == 404


def test_the_applicant_allows_a_flow_into_a_case_later_and_takes_it_back(
    client: TestClient, act_as: ActAs, alice: Applicant, make_applicant: Callable[[], Applicant]
) -> None:
    case_id = _new_case(client)
    flow = factories.flow_client("later-flow")
    act_as(flow)
    assert client.get(f"/v1/cases/{case_id}").status_code == 404  # not allowed yet
    act_as(alice.principal)
    bad = client.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": "a b"})
    assert bad.status_code == 422
    allowed = client.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": "later-flow"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["flow_client"] == "later-flow"
    act_as(flow)
    assert client.get(f"/v1/cases/{case_id}").json()["flow_client"] == "later-flow"
    # only the applicant decides: the flow cannot hand the case on, nor another applicant
    assert (
        client.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": "x"}).status_code == 403
    )
    assert client.delete(f"/v1/cases/{case_id}/flow-client").status_code == 403
    act_as(make_applicant().principal)
    other = client.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": "mine"})
    assert other.status_code == 404
    act_as(alice.principal)
    assert client.delete(f"/v1/cases/{case_id}/flow-client").status_code == 204
    assert client.get(f"/v1/cases/{case_id}").json()["flow_client"] is None
    act_as(flow)
    assert client.get(f"/v1/cases/{case_id}").status_code == 404
    assert client.get("/v1/cases").json() == []
    act_as(alice.principal)
    log = client.get("/v1/me/access-log").json()["entries"]
    assert {"cases.flow_client.allow", "cases.flow_client.revoke"} <= {e["action"] for e in log}


def test_no_flow_is_allowed_into_a_closed_case(
    client: TestClient, act_as: ActAs, alice: Applicant, runtime: CasesRuntime, database: Database
) -> None:
    case_id = _new_case(client)
    with database.transaction() as session:
        session.get_one(Case, case_id).state = "withdrawn"
    response = client.put(f"/v1/cases/{case_id}/flow-client", json={"client_id": "late-flow"})
    assert response.status_code == 409, response.text
    assert client.delete(f"/v1/cases/{case_id}/flow-client").status_code == 204  # always


# --------------------------------------------------------------------------- GDPR, retention
def test_export_and_erasure_of_cases(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    started = start_case(client, act_as, alice)
    draft_only = _new_case(client)
    client.put(f"/v1/cases/{draft_only}/draft", content=seal(b"{}", alice.key), headers=OCTET)
    handler = next(h for h in app.state.personal_data if h.component == "cases")
    with database.transaction() as session:
        exported = handler.export(session, alice.principal.subject)
    by_id = {c["id"]: c for c in exported["cases"]}
    assert set(by_id) == {started["case_id"], draft_only}
    sealed = by_id[started["case_id"]]["draft_envelope"]
    assert open_sealed(b64url_decode(sealed), alice.key) == b'{"given_name": "canary"}'
    assert by_id[started["case_id"]]["fee_facts"] == FACTS
    assert by_id[started["case_id"]]["timeline"][0]["reason"] == "created"
    act_as(alice.principal)
    bundle = client.get("/v1/me/export")
    assert bundle.status_code == 200, bundle.text
    assert started["case_id"] in bundle.text
    with database.transaction() as session:
        report = handler.shred(session, alice.principal.subject)
        assert report.component == "cases"
        assert report.deleted >= 5
        for model in (Case, Draft, TimelineEntry):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    assert client.get(f"/v1/cases/{started['case_id']}").status_code == 404


def test_abandoned_drafts_expire_under_the_flows_retention(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
    runtime: CasesRuntime,
) -> None:
    employment = _new_case(client)  # the flow keeps drafts 14 days
    settlement = _new_case(client, "settlement")  # no period of its own: the default, 30
    client.put(f"/v1/cases/{employment}/draft", content=seal(b"{}", alice.key), headers=OCTET)
    submitted = start_case(client, act_as, alice)
    payment_id = pay(client, app, database, alice, submitted["quote"]["id"])
    sent = submission(alice.principal, submitted["case_id"], payment=payment_id)
    assert deliver(sent, "submit-submission") == []
    expire = RETENTION_EXECUTORS["cases.draft"]
    policy = next(p for p in app.state.declarations.retention if p.record_type == "cases.draft")
    now = runtime.clock.now()
    with database.transaction() as session:
        assert expire(session, now + timedelta(days=13) - policy.keep_for) == []
        assert expire(session, now + timedelta(days=15) - policy.keep_for) == [employment]
        assert expire(session, now + timedelta(days=31) - policy.keep_for) == [settlement]
        assert expire(session, now + timedelta(days=400) - policy.keep_for) == []
    act_as(alice.principal)
    assert {c["id"] for c in client.get("/v1/cases").json()} == {submitted["case_id"]}


def test_the_default_draft_retention_is_a_setting(
    client: TestClient, act_as: ActAs, alice: Applicant, runtime: CasesRuntime
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"draft_retention_days": 3})
    case = client.post("/v1/cases", json={"flow_id": "settlement"}).json()
    expires = datetime.fromisoformat(case["draft_expires_at"])
    assert expires - datetime.fromisoformat(case["created_at"]) == timedelta(days=3)
    # a flow's own period wins over the setting
    case = client.post("/v1/cases", json={"flow_id": "employment"}).json()
    expires = datetime.fromisoformat(case["draft_expires_at"])
    assert expires - datetime.fromisoformat(case["created_at"]) == timedelta(days=14)
