"""The delivery service's export and erasure hooks, and the expiry of the delivery records
that erasure keeps (docs/delivery.md, "Export and erasure")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.clock import FixedClock
from commons.components import ShredReport
from commons.db import Database
from compliance.register import register_json
from gateway.delivery.declarations import RECORD_RETENTION, RECORD_TYPE, RETENTION_EXECUTORS
from gateway.delivery.models import Attachment, Event, Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.fitconnect import encrypt, issue_event
from tests.factories import applicant, caseworker
from tests.gateway.delivery.conftest import TF_DESTINATION, ActAs, Keys, new_attachment_id
from tests.gateway.delivery.test_lifecycle import BASE, announce, submit_body, upload


def _handler(app: FastAPI) -> Any:
    return next(h for h in app.state.personal_data if h.component == "delivery")


def _send(client: TestClient, keys: Keys, *, submit: bool = True) -> tuple[dict[str, str], Any]:
    """One submission with one uploaded attachment, submitted unless ``submit`` is false."""
    attachment_id = new_attachment_id()
    created = announce(client, [attachment_id])
    document = encrypt(b"%PDF-1.7 passport", keys.encryption_jwk, "application/pdf")
    assert (
        upload(client, created["submissionId"], attachment_id, document.compact).status_code == 204
    )
    if not submit:
        return created, None
    body, metadata, data = submit_body(keys)
    assert client.put(f"{BASE}/submissions/{created['submissionId']}", json=body).status_code == 202
    return created, (attachment_id, document, metadata, data)


def _accept(client: TestClient, keys: Keys, runtime: DeliveryRuntime, created: dict[str, str],
            sent: Any) -> None:  # fmt: skip
    attachment_id, document, metadata, data = sent
    token = issue_event(
        "accept-submission", submission_id=created["submissionId"], case_id=created["caseId"],
        issuer=TF_DESTINATION,
        signing_key=keys.signing, kid=keys.signing_jwk["kid"], now=runtime.clock.now(),
        payload={"authenticationTags": {"metadata": metadata.tag, "data": data.tag,
                                        "attachments": {attachment_id: document.tag}}},
    )  # fmt: skip
    posted = client.post(f"{BASE}/cases/{created['caseId']}/events", content=token,
                         headers={"Content-Type": "application/jose"})  # fmt: skip
    assert posted.status_code == 204, posted.text


def _blobs(runtime: DeliveryRuntime) -> list[str]:
    return [b.key for b in runtime.store.list() if not b.key.startswith(".")]


def test_erasure_keeps_a_delivery_record_without_content_or_sender(
    app: FastAPI, client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime,
    database: Database, clock: FixedClock,
) -> None:  # fmt: skip
    sender, other = applicant(), applicant()
    act_as(sender)
    incomplete, _ = _send(client, keys, submit=False)
    pending, _ = _send(client, keys)
    accepted, sent = _send(client, keys)
    act_as(caseworker("tf"))
    _accept(client, keys, runtime, accepted, sent)
    act_as(other)
    theirs, _ = _send(client, keys)
    assert len(_blobs(runtime)) == 4

    with database.transaction() as session:
        exported = _handler(app).export(session, sender.subject)
        by_id = {s["submission_id"]: s for s in exported["submissions"]}
        assert set(by_id) == {c["submissionId"] for c in (incomplete, pending, accepted)}
        assert by_id[accepted["submissionId"]]["events"][-1]["event"] == "accept-submission"
        assert by_id[accepted["submissionId"]]["receipt"]
        clock.advance(timedelta(hours=1))
        report: ShredReport = _handler(app).shred(session, sender.subject)

    assert report.component == "delivery"
    assert report.shredded == 2  # the two that reached the authority
    assert {(r.record_type, r.record_id) for r in report.retained} == {
        (RECORD_TYPE, pending["submissionId"]), (RECORD_TYPE, accepted["submissionId"]),
    }  # fmt: skip
    assert {r.legal_basis for r in report.retained} == {report.retained[0].legal_basis}
    with database.transaction() as session:
        assert session.get(Submission, incomplete["submissionId"]) is None
        assert (
            session.scalars(select(Event).where(Event.case_id == incomplete["caseId"])).all() == []
        )
        for created, state in ((pending, "deleted"), (accepted, "accepted")):
            row = session.get(Submission, created["submissionId"])
            assert row is not None
            assert (row.state, row.sender, row.sender_client) == (state, "erased", None)
            assert row.encrypted_metadata is None
            assert row.encrypted_data is None
            assert row.manifest is None
            assert row.receipt is row.region is None
            assert row.submitted_at is not None
            retained = next(r for r in report.retained if r.record_id == row.id)
            assert retained.delete_after == row.submitted_at + RECORD_RETENTION
        events = session.scalars(
            select(Event.event).where(Event.case_id == pending["caseId"]).order_by(Event.seq)
        ).all()
        assert events[-1] == "delete-submission"  # the subscriber reads that it is gone
        assert session.scalars(
            select(Attachment.submission_id)
        ).all() == [theirs["submissionId"]]  # fmt: skip
        assert session.get(Submission, theirs["submissionId"]).sender == other.subject  # type: ignore[union-attr]
    assert len(_blobs(runtime)) == 1  # only the other applicant's attachment is left
    # The authority can no longer fetch or acknowledge what was erased.
    act_as(caseworker("tf"))
    listed = client.get(f"{BASE}/submissions", params={"destinationId": TF_DESTINATION})
    assert [s["submissionId"] for s in listed.json()["submissions"]] == [theirs["submissionId"]]
    with database.transaction() as session:
        assert _handler(app).export(session, sender.subject) == {"submissions": []}


def test_delivery_records_expire_after_their_retention(
    app: FastAPI, client: TestClient, act_as: ActAs, keys: Keys, database: Database,
    clock: FixedClock,
) -> None:  # fmt: skip
    sender, other = applicant(), applicant()
    act_as(sender)
    erased, _ = _send(client, keys)
    act_as(other)
    kept, _ = _send(client, keys)
    with database.transaction() as session:
        _handler(app).shred(session, sender.subject)
    expire = RETENTION_EXECUTORS[RECORD_TYPE]
    submitted = clock.now()
    with database.transaction() as session:
        assert expire(session, submitted) == []  # not yet due
        assert expire(session, submitted + timedelta(seconds=1)) == [erased["submissionId"]]
    with database.transaction() as session:
        assert session.get(Submission, erased["submissionId"]) is None
        assert session.scalars(select(Event).where(Event.case_id == erased["caseId"])).all() == []
        assert session.get(Submission, kept["submissionId"]) is not None  # not erased


def test_the_delivery_record_is_in_the_art30_register(app: FastAPI) -> None:
    register = register_json(app.state.declarations)
    policy = next(p for p in register["retention_policies"] if p["record_type"] == RECORD_TYPE)
    assert policy["keep_for_days"] == RECORD_RETENTION.days
    assert "Art. 17(3)" in policy["legal_basis"]
    activity = next(
        a for a in register["processing_activities"] if a["id"] == "delivery.submission"
    )
    assert "erasure" in activity["retention"]
