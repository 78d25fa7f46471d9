"""No access without its entry; erasure keeps the log verifiable; retention; the register."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from account.principal import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.web import DbSession
from compliance import AccessEvent, Actor, record_access
from compliance.models import AccessEntry, AccessPersonal, Checkpoint, LogNode
from compliance.retention import run_retention
from compliance.sequencer import sequence_all
from compliance.verify import HttpLog, verify_server
from gateway.cli import app as cli_app
from gateway.declarations import all_declarations
from tests.compliance.conftest import T0, event
from tests.factories import applicant, dpo

ActAs = Callable[[Principal | None], None]
MARKER_LEVEL = 63  # a row no real tree has: stands for "the data that was accessed"


def _accessed(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LogNode).where(LogNode.level == MARKER_LEVEL)
        )
        or 0
    )


def test_a_failing_recorder_fails_the_request_and_rolls_back_the_access(
    app: FastAPI, client: TestClient, database: Database
) -> None:
    @app.post("/test/access/{good}")
    def access(session: DbSession, good: bool) -> dict[str, bool]:
        session.add(LogNode(level=MARKER_LEVEL, idx=1 if good else 2, hash=bytes(32)))
        session.flush()  # the access itself happened in this transaction...
        actor = Actor(subject="officer", role="caseworker") if good else Actor(None, "x")  # type: ignore[arg-type]
        # ...and the database refuses the entry (actor_subject is NOT NULL) when not good.
        record_access(
            session,
            event(actor=actor.subject or "x")
            if good
            else AccessEvent(
                actor=actor,
                data_subject="s",
                action="a.b.c",
                resource="r",
                purpose="p",
                legal_basis="l",
            ),
        )
        return {"ok": True}

    assert client.post("/test/access/false").status_code == 500
    with database.transaction() as session:
        assert _accessed(session) == 0
        assert session.scalar(select(func.count()).select_from(AccessEntry)) == 0
    assert client.post("/test/access/true").status_code == 200
    with database.transaction() as session:
        assert _accessed(session) == 1
        assert session.scalar(select(func.count()).select_from(AccessEntry)) == 1


def test_erasure_shreds_personal_fields_and_the_whole_log_still_verifies(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs, tmp_path: Path
) -> None:
    canary = "canary-subject-93a1f"
    with database.transaction() as session:
        for i in range(9):
            record_access(session, event(canary if i % 2 else "other"))
    sequence_all(database, app.state.audit.identity)
    act_as(dpo())
    state = tmp_path / "state.json"
    verify_server(HttpLog(client), verifier_key=None, state_file=state)

    handler = next(h for h in app.state.personal_data if h.component == "compliance")
    with database.transaction() as session:
        exported = handler.export(session, canary)
        assert len(exported["access_log"]) == 4
        report = handler.shred(session, canary)
    assert report.shredded == 4

    with database.transaction() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AccessPersonal)
                .where(AccessPersonal.data_subject == canary)
            )
            == 0
        )
        for table in (
            "compliance_access_entry",
            "compliance_access_personal",
            "compliance_checkpoint",
            "compliance_log_node",
        ):
            dump = repr(session.execute(text(f"SELECT * FROM {table}")).all())  # noqa: S608
            assert canary not in dump
    # Every leaf, node and checkpoint still verifies, consistently with before the erasure.
    again = verify_server(HttpLog(client), verifier_key=None, state_file=state)
    assert again.leaves_checked == 9
    assert again.consistent_with == 9
    shown = client.get("/v1/audit/entries", params={"limit": 50}).json()["entries"]
    assert sum(e["shredded"] for e in shown) == 4


def test_retention_shreds_what_is_due_and_records_each_deletion(database: Database) -> None:
    clock = FixedClock(T0 - timedelta(days=800))
    with database.transaction() as session:
        record_access(session, event("old"), clock=clock)
        record_access(session, event("new"), clock=FixedClock(T0))
    with database.transaction() as session:
        done = run_retention(session, all_declarations(), clock=FixedClock(T0))
    assert done["compliance.access_entry"] == 1
    with database.transaction() as session:
        subjects = set(session.scalars(select(AccessPersonal.data_subject)))
        assert "old" not in subjects
        assert "new" in subjects
        deletions = list(
            session.scalars(
                select(AccessEntry).where(AccessEntry.action == "compliance.retention.delete")
            )
        )
        assert len(deletions) == 1
        assert deletions[0].actor_role == "system"


def test_register_prints_markdown_and_json() -> None:
    runner = CliRunner()
    md = runner.invoke(cli_app, ["compliance", "register"])
    assert md.exit_code == 0, md.output
    assert "# Record of processing activities (GDPR Art. 30(1))" in md.output
    assert "Data-protection audit trail" in md.output
    assert "| `compliance.access_entry` | 730 |" in md.output
    js = runner.invoke(cli_app, ["compliance", "register", "--json"])
    body = json.loads(js.output)
    assert body["processing_activities"][0]["id"] == "compliance.audit-trail"
    assert body["retention_policies"][0]["keep_for_days"] == 730
    assert body["controller"]["dpo_contact"] == "(not set: development placeholder)"


def test_register_names_the_controller_and_the_dpo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_COMPLIANCE_CONTROLLER_NAME", "Landkreis Teltow-Fläming")
    monkeypatch.setenv("OZG_COMPLIANCE_CONTROLLER_CONTACT", "Am Nuthefließ 2, 14943 Luckenwalde")
    monkeypatch.setenv("OZG_COMPLIANCE_DPO_CONTACT", "DSB, dsb@example.org")
    runner = CliRunner()
    md = runner.invoke(cli_app, ["compliance", "register"])
    assert "- **Controller:** Landkreis Teltow-Fläming, Am Nuthefließ 2, 14943 Luckenwalde" in (
        md.output
    )
    assert "- **Data-protection officer:** DSB, dsb@example.org" in md.output
    body = json.loads(runner.invoke(cli_app, ["compliance", "register", "--json"]).output)
    assert body["controller"] == {
        "name": "Landkreis Teltow-Fläming",
        "contact": "Am Nuthefließ 2, 14943 Luckenwalde",
        "dpo_contact": "DSB, dsb@example.org",
    }


def test_audit_cli_keygen_and_export_verification(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = runner.invoke(cli_app, ["audit", "keygen", "--name", "ozg.example/audit"])
    assert out.exit_code == 0
    assert "OZG_COMPLIANCE_SIGNING_KEY=PRIVATE+KEY+ozg.example/audit+" in out.output
    with database.transaction() as session:
        record_access(session, event("dora"))
    sequence_all(database, app.state.audit.identity)
    act_as(dpo())
    export = tmp_path / "export.json"
    export.write_text(client.get("/v1/audit/export").text)
    ok = runner.invoke(cli_app, ["audit", "verify", "--export", str(export)])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(export.read_text())
    doc["entries"][0]["leaf_index"] = 5
    export.write_text(json.dumps(doc))
    bad = runner.invoke(cli_app, ["audit", "verify", "--export", str(export)])
    assert bad.exit_code == 1
    assert "verification failed" in bad.output
    with database.transaction() as session:
        assert (session.scalar(select(func.count()).select_from(Checkpoint)) or 0) >= 1


def test_no_personal_data_reaches_the_logs(
    app: FastAPI,
    client: TestClient,
    database: Database,
    act_as: ActAs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = "canary-log-subject-55e1"
    caplog.set_level(logging.DEBUG)
    with database.transaction() as session:
        record_access(session, event(canary, actor="canary-log-officer"))
    sequence_all(database, app.state.audit.identity)
    act_as(dpo())
    assert client.get("/v1/audit/entries", params={"data_subject": canary}).status_code == 200
    assert client.get("/v1/audit/export", params={"data_subject": canary}).status_code == 200
    act_as(applicant(canary))
    assert client.get("/v1/me/access-log").status_code == 200
    sequence_all(database, app.state.audit.identity)
    # (the test client's own httpx logger prints request URLs; it is not the service)
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert server_side
    assert not [r for r in server_side if "canary" in r.getMessage() + repr(r.__dict__)]
