"""Portal sessions: the retention policy ``portal.session`` (in the Art. 30 register) deletes
sessions past their absolute end, and erasure ends every session of the subject."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from commons.db import Database
from compliance.register import register_json
from gateway.portal.declarations import RETENTION_EXECUTORS, SESSION_RETENTION
from gateway.portal.models import PortalSession

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _session(subject: str, expires_at: datetime) -> PortalSession:
    return PortalSession(
        id=uuid.uuid4().hex * 2, subject=subject, sealed_tokens=b"sealed", csrf_token="c",
        trust_level=1, created_at=expires_at - SESSION_RETENTION, last_seen_at=expires_at,
        expires_at=expires_at, access_expires_at=expires_at,
    )  # fmt: skip


def test_sessions_past_their_end_are_deleted_by_the_retention_run(database: Database) -> None:
    ended, live = _session("a", NOW - timedelta(seconds=1)), _session("b", NOW + timedelta(hours=1))
    with database.transaction() as session:
        session.add_all([ended, live])
    expire = RETENTION_EXECUTORS["portal.session"]
    with database.transaction() as session:
        assert expire(session, NOW - SESSION_RETENTION) == [ended.id]
        assert expire(session, NOW - SESSION_RETENTION) == []
    with database.transaction() as session:
        assert session.scalars(select(PortalSession.subject)).all() == ["b"]


def test_erasure_ends_every_session_and_the_policy_is_registered(
    app: FastAPI, database: Database
) -> None:
    with database.transaction() as session:
        session.add_all([_session("gone", NOW), _session("gone", NOW), _session("stays", NOW)])
    handler = next(h for h in app.state.personal_data if h.component == "portal")
    with database.transaction() as session:
        assert len(handler.export(session, "gone")["sessions"]) == 2
        assert handler.shred(session, "gone").deleted == 2
    with database.transaction() as session:
        assert session.scalars(select(PortalSession.subject)).all() == ["stays"]
    register = register_json(app.state.declarations)
    assert "portal.session" in {p["record_type"] for p in register["retention_policies"]}
    assert "portal.session" in {a["id"] for a in register["processing_activities"]}
