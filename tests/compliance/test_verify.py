"""``audit verify`` against a served log: it passes, and any stored change is detected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from account.principal import Principal
from commons.db import Database
from compliance import merkle, record_access, service
from compliance.errors import VerificationFailed
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, Checkpoint, Leaf, LogNode, Pending
from compliance.sequencer import sequence_all
from compliance.verify import HttpLog, verify_server
from tests.compliance.conftest import event
from tests.factories import dpo

ActAs = Callable[[Principal | None], None]


@pytest.fixture
def served(app: FastAPI, client: TestClient, database: Database, act_as: ActAs) -> HttpLog:
    with database.transaction() as session:
        for i in range(23):
            record_access(session, event(f"subject-{i % 4}"))
    sequence_all(database, app.state.audit.identity, batch=10)
    act_as(dpo())
    return HttpLog(client)


def _verify(log: HttpLog, state: Path, key: str | None = None) -> int:
    return verify_server(log, verifier_key=key, state_file=state).size


def test_a_correct_log_verifies_and_later_checkpoints_must_be_consistent(
    served: HttpLog, app: FastAPI, database: Database, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    key = app.state.audit.identity.signer.verifier_key
    assert _verify(served, state, key) == 23
    with database.transaction() as session:
        record_access(session, event())
    sequence_all(database, app.state.audit.identity)
    report = verify_server(served, verifier_key=None, state_file=state, sample=5)
    assert report.consistent_with == 23
    assert report.size == 24
    assert report.proofs_checked == 5


def _tamper_leaf(database: Database, _identity: LogIdentity) -> None:
    with database.transaction() as session:
        session.execute(
            update(AccessEntry).where(AccessEntry.leaf_index == 7).values(purpose="changed")
        )


def _tamper_node(database: Database, _identity: LogIdentity) -> None:
    with database.transaction() as session:
        session.execute(
            update(LogNode).where(LogNode.level == 1, LogNode.idx == 2).values(hash=bytes(32))
        )


def _tamper_leaf_node(database: Database, _identity: LogIdentity) -> None:
    with database.transaction() as session:
        session.execute(
            update(LogNode).where(LogNode.level == 0, LogNode.idx == 22).values(hash=bytes(32))
        )


def _tamper_checkpoint(database: Database, _identity: LogIdentity) -> None:
    with database.transaction() as session:
        cp = session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc())).first()
        assert cp is not None
        cp.note = cp.note.replace("\n23\n", "\n22\n")


def _drop_leaf(database: Database, _identity: LogIdentity) -> None:
    with database.transaction() as session:
        session.execute(delete(Leaf).where(Leaf.leaf_index == 22))


def _remap_leaf(database: Database, _identity: LogIdentity) -> None:
    # compliance_leaf says which entry sits at an index: point index 5 at another entry.
    with database.transaction() as session:
        other = record_access(session, event("someone-else"))
    with database.transaction() as session:
        session.execute(update(Leaf).where(Leaf.leaf_index == 5).values(entry_id=other))


def _tamper_queued_hash(database: Database, identity: LogIdentity) -> None:
    # A wrong leaf hash in the sequencer's queue (a faulty or malicious writer) is sequenced
    # as given, and the leaf served for that index does not hash to it.
    with database.transaction() as session:
        record_access(session, event("late"))
    with database.transaction() as session:
        session.execute(update(Pending).values(leaf_hash=bytes(32)))
    sequence_all(database, identity)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_leaf, "recomputed from all 23 leaves differs"),
        (_tamper_node, "inclusion proof of leaf"),
        (_tamper_leaf_node, "inclusion proof of leaf 23"[:-3]),
        (_tamper_checkpoint, "signature does not verify"),
        (_drop_leaf, "leaves"),
        (_remap_leaf, "recomputed from all 23 leaves differs"),
        (_tamper_queued_hash, "recomputed from all 24 leaves differs"),
    ],
)
def test_any_stored_change_is_detected(
    served: HttpLog,
    app: FastAPI,
    database: Database,
    tmp_path: Path,
    tamper: Callable[[Database, LogIdentity], None],
    message: str,
) -> None:
    tamper(database, app.state.audit.identity)
    with pytest.raises(VerificationFailed, match=message):
        _verify(served, tmp_path / "state.json")


def test_a_rewritten_history_fails_consistency_with_the_remembered_checkpoint(
    served: HttpLog, app: FastAPI, database: Database, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    _verify(served, state)
    # The operator (who holds the key) rewrites leaf 3 and re-signs a consistent-looking tree.
    with database.transaction() as session:
        from compliance.models import LogHead

        session.execute(delete(Leaf))
        session.execute(delete(LogNode))
        session.execute(delete(Checkpoint))
        session.execute(update(LogHead).values(size=0))
        entries = list(session.scalars(select(AccessEntry).order_by(AccessEntry.at)))
        entries[0].purpose = "rewritten"
        session.flush()
        session.add_all(
            Pending(entry_id=e.id, leaf_hash=merkle.leaf_hash(service.leaf_data(e).encode()))
            for e in entries
        )
    sequence_all(database, app.state.audit.identity)
    with pytest.raises(VerificationFailed, match="not consistent with the previously seen"):
        _verify(served, state)


def test_served_cosignatures_of_trusted_witnesses_must_verify(
    served: HttpLog, database: Database, tmp_path: Path
) -> None:
    from compliance.models import Cosignature
    from compliance.note import Checkpoint as CheckpointText
    from compliance.note import Signer

    witness = Signer.generate("witness.example")
    with database.transaction() as session:
        cp = session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc())).first()
        assert cp is not None
        text = CheckpointText.parse(cp.note.split("\n\n")[0] + "\n").text()
        session.add(
            Cosignature(
                checkpoint_size=cp.size,
                key_name=witness.name,
                verifier_key=witness.verifier_key,
                line=witness.sign_line(text),
                submitted_by="witness",
                created_at=cp.created_at,
            )
        )
    report = verify_server(
        served, verifier_key=None, state_file=None, witnesses=(witness.verifier_key,)
    )
    assert report.cosignatures == ["witness.example"]
    with database.transaction() as session:
        session.execute(update(Cosignature).values(line=witness.sign_line("other\n")))
    with pytest.raises(VerificationFailed, match=r"cosignature of witness\.example"):
        verify_server(served, verifier_key=None, state_file=None, witnesses=(witness.verifier_key,))
