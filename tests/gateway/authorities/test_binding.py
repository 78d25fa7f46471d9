"""The authority binding rule: a caseworker never sees another authority's data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commons.db import Database
from compliance.models import AccessEntry
from gateway.authorities import AuthorityMismatch, require_authority
from gateway.authorities.service import DENIED_ACTION
from tests import factories


def test_a_caseworker_reaches_only_their_own_authority() -> None:
    require_authority(factories.caseworker("tf"), "tf")
    for principal in (
        factories.caseworker("ee"),
        factories.applicant(),
        factories.admin(),
    ):
        with pytest.raises(AuthorityMismatch) as raised:
            require_authority(principal, "tf")
        # the same opaque 404 as for something that does not exist
        assert (raised.value.status, raised.value.detail) == (404, "not found")


def test_a_refused_attempt_is_recorded(database: Database) -> None:
    intruder = factories.caseworker("ee")
    with database.transaction() as session, pytest.raises(AuthorityMismatch):
        require_authority(
            intruder, "tf", session=session, resource="case:42", data_subject="subject-1"
        )
    # the refusal was recorded in the caller's unit of work, which committed
    with database.transaction() as session:
        (entry,) = session.scalars(select(AccessEntry).where(AccessEntry.action == DENIED_ACTION))
        assert (entry.outcome, entry.actor_authority, entry.actor_role) == (
            "denied",
            "ee",
            "caseworker",
        )
