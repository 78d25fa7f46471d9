"""FIT-Connect's timers with a fixed clock, and the new-submission callback verified by a
loopback HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commons.clock import FixedClock
from commons.db import Database
from gateway.delivery import timers
from gateway.delivery.destinations import InMemoryDestinations
from gateway.delivery.models import Submission
from gateway.delivery.runtime import DeliveryRuntime
from gateway.fitconnect import InvalidCallback, encrypt, verify_callback, verify_event
from gateway.fitconnect.callbacks import NEW_SUBMISSIONS
from tests.factories import applicant, caseworker
from tests.gateway.delivery.conftest import (
    CALLBACK_SECRET,
    ActAs,
    Keys,
    destination,
    new_attachment_id,
)
from tests.gateway.delivery.test_lifecycle import BASE, announce, submit_body, upload


def _events(client: TestClient, case_id: str) -> list[str]:
    log: list[str] = client.get(f"{BASE}/cases/{case_id}/events").json()["eventLog"]
    return log


def _names(runtime: DeliveryRuntime, log: list[str]) -> list[str]:
    keys = {runtime.signing().kid: runtime.signing().key.public_key()}
    return [verify_event(t, keys).name for t in log if _kid(t) in keys]


def _kid(token: str) -> str:
    import base64
    import json

    head = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


def test_incomplete_submissions_are_deleted_after_a_day(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime, database: Database,
    clock: FixedClock,
) -> None:  # fmt: skip
    act_as(applicant())
    attachment_id = new_attachment_id()
    created = announce(client, [attachment_id, new_attachment_id()])
    document = encrypt(b"doc", keys.encryption_jwk, "application/pdf")
    assert (
        upload(client, created["submissionId"], attachment_id, document.compact).status_code == 204
    )
    blobs = [b.key for b in runtime.store.list()]
    assert len(blobs) == 1
    clock.advance(timedelta(hours=23))
    assert timers.tick(database, runtime).deleted == []
    clock.advance(timedelta(hours=2))
    assert timers.tick(database, runtime).deleted == [created["submissionId"]]
    assert timers.tick(database, runtime).deleted == []  # idempotent
    assert [b for b in runtime.store.list() if not b.key.startswith(".")] == []
    assert client.get(f"{BASE}/submissions/{created['submissionId']}").status_code == 404
    with database.transaction() as session:
        row = session.get(Submission, created["submissionId"])
        assert row is not None
        assert row.state == "deleted"
        from gateway.delivery.service import events_of

        assert _names(runtime, events_of(session, created["caseId"]))[-1] == "delete-submission"


def test_unfetched_warns_after_3_days_and_is_rejected_after_14(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime, database: Database,
    clock: FixedClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    told: list[str] = []
    runtime.rejection_hooks.append(lambda session, submission: told.append(submission.id))
    sender = applicant()
    act_as(sender)
    fetched, unfetched = announce(client, []), announce(client, [])
    body, _m, _d = submit_body(keys)
    for created in (fetched, unfetched):
        assert (
            client.put(f"{BASE}/submissions/{created['submissionId']}", json=body).status_code
            == 202
        )
    act_as(caseworker("tf"))
    assert client.get(f"{BASE}/submissions/{fetched['submissionId']}").status_code == 200
    clock.advance(timedelta(days=3, minutes=1))
    with caplog.at_level("WARNING", logger="ozg.delivery"):
        assert timers.tick(database, runtime).warned == [unfetched["submissionId"]]
    assert "not fetched" in caplog.text
    assert timers.tick(database, runtime).warned == []  # once
    clock.advance(timedelta(days=11))
    report = timers.tick(database, runtime)
    assert report.rejected == [unfetched["submissionId"]]
    assert told == [unfetched["submissionId"]]
    act_as(sender)
    assert _names(runtime, _events(client, unfetched["caseId"]))[-1] == "reject-submission"
    last = verify_event(
        _events(client, unfetched["caseId"])[-1],
        {runtime.signing().kid: runtime.signing().key.public_key()},
        issuer=runtime.issuer,
    )
    assert "14 days" in last.problems[0]["detail"]
    assert _names(runtime, _events(client, fetched["caseId"]))[-1] == "notify-submission"


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    status = 200
    clock: FixedClock

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            verify_callback(dict(self.headers), body, CALLBACK_SECRET, self.clock.now())
        except InvalidCallback:
            self.send_response(401)
            self.end_headers()
            return
        import json

        self.received.append(json.loads(body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(clock: FixedClock) -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "clock": clock, "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback", handler
    server.shutdown()
    server.server_close()
    thread.join()


def test_callback_is_signed_and_failures_are_retried_by_the_tick(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime, database: Database,
    clock: FixedClock, directory: InMemoryDestinations,
    receiver: tuple[str, type[_Receiver]],
) -> None:  # fmt: skip
    url, handler = receiver
    directory.add(destination(keys, callback_url=url, callback_secret=CALLBACK_SECRET))
    handler.status = 503  # the authority is down: the submit still succeeds
    act_as(applicant())
    created = announce(client, [])
    body, _m, _d = submit_body(keys)
    assert client.put(f"{BASE}/submissions/{created['submissionId']}", json=body).status_code == 202
    assert len(handler.received) == 1  # tried at once (after the response), refused
    assert timers.tick(database, runtime).callbacks_sent == []  # not due yet
    handler.status = 200
    clock.advance(timedelta(minutes=6))
    assert timers.tick(database, runtime).callbacks_sent == [created["submissionId"]]
    assert handler.received[-1] == {
        "type": NEW_SUBMISSIONS,
        "submissions": [created],
    }
    clock.advance(timedelta(hours=1))
    assert timers.tick(database, runtime).callbacks_sent == []  # delivered once


def test_callback_urls_must_be_https_outside_loopback() -> None:
    assert timers.callback_url_allowed("https://abh.example/cb")
    assert timers.callback_url_allowed("http://127.0.0.1:9/cb")
    assert timers.callback_url_allowed("http://[::1]:9/cb")
    assert not timers.callback_url_allowed("http://abh.example/cb")
    assert not timers.callback_url_allowed("ftp://abh.example/cb")
    assert not timers.callback_url_allowed("http:///cb")


def test_a_bad_hmac_is_refused_by_the_receiver(receiver: tuple[str, type[_Receiver]]) -> None:
    import httpx

    url, handler = receiver
    headers = {"callback-timestamp": "1", "callback-authentication": "00" * 64}
    assert httpx.post(url, content=b"{}", headers=headers).status_code == 401
    assert handler.received == []
