"""The DPO summary's unusual patterns and the checkpoint list (compliance/patterns.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.principal import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.errors import InvalidInput
from compliance import record_access
from compliance.patterns import OfficeHours
from compliance.sequencer import sequence_all
from tests.compliance.conftest import event
from tests.factories import dpo

ActAs = Callable[[Principal | None], None]
TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 CET
SATURDAY_03_BERLIN = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _record_at(database: Database, at: datetime, *events: object) -> None:
    with database.transaction() as session:
        for e in events:
            record_access(session, e, clock=FixedClock(at))  # type: ignore[arg-type]


def test_office_hours_are_local_time_and_validated() -> None:
    hours = OfficeHours.parse("Mon-Fri 07-19", "Europe/Berlin")
    assert hours.contains(TUESDAY_10_BERLIN)
    assert not hours.contains(SATURDAY_03_BERLIN)
    assert not hours.contains(datetime(2026, 11, 24, 18, 30, tzinfo=UTC))  # 19:30 in Berlin
    assert hours.contains(datetime(2026, 7, 7, 5, 0, tzinfo=UTC))  # 07:00 CEST
    assert not hours.contains(datetime(2026, 7, 7, 4, 59, tzinfo=UTC))
    wrapped = OfficeHours.parse("Sat-Mon 00-24", "UTC")
    assert wrapped.contains(SATURDAY_03_BERLIN)
    assert not wrapped.contains(TUESDAY_10_BERLIN)
    for text, zone in (("weekdays", "UTC"), ("Mon-Fri 19-07", "UTC"), ("Mon-Fri 07-19", "Mars")):
        with pytest.raises(InvalidInput):
            OfficeHours.parse(text, zone)


def test_the_summary_flags_many_document_opens_and_night_work(
    client: TestClient, database: Database, act_as: ActAs
) -> None:
    _record_at(
        database,
        TUESDAY_10_BERLIN,
        *[event(f"s{i}", actor="busy", authority="tf") for i in range(10)],
        *[event(f"t{i}", actor="calm-1", authority="ee") for i in range(3)],
        *[event(f"u{i}", actor="calm-2", authority="p") for i in range(2)],
        event("v", actor="calm-3", authority="p"),
    )
    _record_at(database, SATURDAY_03_BERLIN, event("w", actor="calm-3", authority="p"))
    act_as(dpo("operator"))
    body = client.get("/v1/audit/summary").json()
    unusual = body["unusual"]
    assert unusual["rules"]["factor"] == 3
    assert unusual["rules"]["office_hours"] == "Mon-Fri 07-19"
    assert unusual["rules"]["timezone"] == "Europe/Berlin"
    # busy: 10 opens, peers 3, 2, 2 -> median 2; 10 > 3 x 2
    assert unusual["many_document_opens"] == [
        {
            "actor": "busy",
            "role": "caseworker",
            "authority": "tf",
            "count": 10,
            "peer_median": 2,
            "peers": 3,
        }
    ]
    assert [(x["actor"], x["count"]) for x in unusual["outside_office_hours"]] == [("calm-3", 1)]
    assert unusual["outside_office_hours"][0]["first"] == "2026-11-28T02:00:00.000000Z"
    # configurable: a higher factor flags nobody, round-the-clock hours flag no night work
    relaxed = client.get(
        "/v1/audit/summary",
        params={"factor": 6, "office_hours": "Mon-Sun 00-24", "timezone": "UTC"},
    ).json()["unusual"]
    assert relaxed["many_document_opens"] == []
    assert relaxed["outside_office_hours"] == []
    # the filter narrows the window: only the Saturday
    night = client.get("/v1/audit/summary", params={"since": "2026-11-28T00:00:00Z"}).json()[
        "unusual"
    ]
    assert night["many_document_opens"] == []  # too few peers to know what is usual
    # a DPO bound to tf compares only tf's actors
    act_as(dpo("tf"))
    assert client.get("/v1/audit/summary").json()["unusual"]["many_document_opens"] == []


@pytest.mark.parametrize(
    "params",
    [{"office_hours": "all day"}, {"timezone": "Nowhere/City"}, {"factor": 1}, {"factor": "x"}],
)
def test_bad_rules_are_a_problem_document(
    client: TestClient, act_as: ActAs, params: dict[str, str | int]
) -> None:
    act_as(dpo())
    response = client.get("/v1/audit/summary", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_checkpoints_are_listed_newest_first_in_pages(
    app: FastAPI, client: TestClient, database: Database
) -> None:
    for i in range(3):
        _record_at(database, TUESDAY_10_BERLIN + timedelta(minutes=i), event(f"s{i}"))
        sequence_all(database, app.state.audit.identity)
    listed = client.get("/v1/audit/checkpoints", params={"limit": 2}).json()
    assert [c["size"] for c in listed["checkpoints"]] == [3, 2]
    assert listed["next_before"] == 2
    rest = client.get("/v1/audit/checkpoints", params={"before": 2}).json()
    assert [c["size"] for c in rest["checkpoints"]] == [1]
    assert rest["next_before"] is None
    latest = client.get("/v1/audit/checkpoint").json()
    assert listed["checkpoints"][0]["root"] == latest["root"]
    assert client.get("/v1/audit/checkpoints", params={"limit": 0}).status_code == 422
