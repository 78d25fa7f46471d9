"""Someone else's case: the 404 is audited with outcome ``denied`` (issue 14)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from compliance.models import AccessEntry, AccessPersonal
from tests import factories
from tests.gateway.cases.conftest import ActAs, Applicant


def test_another_applicants_case_is_refused_and_the_refusal_audited(
    client: TestClient, act_as: ActAs, alice: Applicant, database: Database
) -> None:
    response = client.post("/v1/cases", json={"flow_id": "employment"})
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    act_as(factories.applicant("case-intruder"))
    assert client.get(f"/v1/cases/{case_id}").status_code == 404
    with database.transaction() as session:
        rows = session.execute(
            select(AccessEntry.action, AccessPersonal.data_subject, AccessPersonal.actor_subject)
            .join(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
            .where(AccessEntry.outcome == "denied")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("cases.case.access_denied", alice.principal.subject, "case-intruder")
    ]
