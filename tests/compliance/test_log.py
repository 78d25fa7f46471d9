"""The stored log: appending, sequencing, proofs from the database, leaves, commitments."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select

from commons.db import Database
from compliance import leaf as leaf_format
from compliance import merkle, note, service
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, AccessPersonal, Checkpoint, LogNode, Pending
from compliance.sequencer import sequence_pass
from tests.compliance.conftest import T0, Record


def _tree(database: Database) -> tuple[merkle.MemoryTree, list[AccessEntry]]:
    with database.transaction() as session:
        entries = list(
            session.scalars(
                select(AccessEntry)
                .where(AccessEntry.leaf_index.is_not(None))
                .order_by(AccessEntry.leaf_index)
            )
        )
    return merkle.MemoryTree(service.leaf_data(e).encode() for e in entries), entries


def test_entries_are_appended_unsequenced_and_sequenced_in_batches(
    database: Database, record: Record, sequence: Callable[[], int], identity: LogIdentity
) -> None:
    record(20)
    with database.transaction() as session:
        pending = session.scalar(
            select(func.count()).select_from(AccessEntry).where(AccessEntry.leaf_index.is_(None))
        )
        queued = session.scalar(select(func.count()).select_from(Pending))
    assert pending == queued == 20
    assert sequence() == 20
    tree, entries = _tree(database)
    assert [e.leaf_index for e in entries] == list(range(20))
    with database.transaction() as session:
        checkpoints = list(session.scalars(select(Checkpoint).order_by(Checkpoint.size)))
        assert [c.size for c in checkpoints][-1] == 20
        # batches of 7: 7, 14, 20
        assert {7, 14, 20} <= {c.size for c in checkpoints}
        for cp in checkpoints:
            parsed = note.verify_checkpoint(cp.note, identity.verifier, identity.origin)
            assert parsed.root == tree.root(cp.size) == cp.root
        for size in (1, 7, 14, 20):
            for index in range(size):
                assert service.inclusion_proof(session, index, size) == tree.inclusion_proof(
                    index, size
                )
            for old in range(size + 1):
                assert service.consistency_proof(session, old, size) == tree.consistency_proof(
                    old, size
                )


def test_leaves_hold_no_personal_data_only_a_salted_commitment(
    database: Database, record: Record, sequence: Callable[[], int]
) -> None:
    record(1, subject="canary-subject-4711", actor="canary-officer-0815")
    sequence()
    _, entries = _tree(database)
    raw = service.leaf_data(entries[0]).encode()
    assert b"canary" not in raw
    fields = leaf_format.decode(raw)
    assert fields["action"] == "vault.document.read"
    with database.transaction() as session:
        personal = session.get(AccessPersonal, entries[0].id)
        assert personal is not None
        assert personal.data_subject == "canary-subject-4711"
        expected = leaf_format.commitment(
            personal.salt, personal.data_subject, personal.actor_subject, personal.resource
        )
    assert fields["commitment"] == expected.hex()


def test_leaf_encoding_is_canonical_and_rejects_garbage() -> None:
    data = leaf_format.LeafData(
        entry_id="e1",
        at=datetime_utc(),
        request_id=None,
        actor_role="dpo",
        actor_authority=None,
        actor_client_id=None,
        action="a.b.c",
        purpose="p",
        legal_basis="l",
        outcome="success",
        disclosed_after=None,
        commitment=bytes(32),
    )
    raw = data.encode()
    assert raw.startswith(b"ozg-audit-leaf/v1\n")
    assert leaf_format.decode(raw)["at"] == "2026-11-28T12:00:00.000000Z"
    for bad in (raw[:-1], raw + b"\x00", b"x" + raw, raw.replace(b"\x01", b"\x02", 1)):
        with pytest.raises(ValueError):  # noqa: PT011
            leaf_format.decode(bad)


def datetime_utc() -> datetime:
    return T0


def test_node_storage_serves_every_proof_in_one_query(
    database: Database, record: Record, sequence: Callable[[], int]
) -> None:
    record(33)
    sequence()
    with database.transaction() as session:
        stored = session.scalar(select(func.count()).select_from(LogNode))
        assert stored == 33 + 16 + 8 + 4 + 2 + 1  # every complete subtree, nothing else
        source = service.DbNodeSource(session)
        calls: list[int] = []
        original = source.get_nodes

        def counting(nodes):  # type: ignore[no-untyped-def]
            calls.append(len(nodes))
            return original(nodes)

        source.get_nodes = counting  # type: ignore[method-assign]
        merkle.inclusion_proof(32, 33, source)
        assert len(calls) == 1


def test_an_idle_pass_publishes_the_empty_checkpoint_once(
    database: Database, identity: LogIdentity
) -> None:
    with database.transaction() as session:
        first = sequence_pass(session, identity)
        second = sequence_pass(session, identity)
        assert first.sequenced == second.sequenced == 0
        cp = service.latest_checkpoint(session)
        assert cp is not None
        parsed = note.verify_checkpoint(cp.note, identity.verifier)
    assert parsed.root == merkle.EMPTY_ROOT
    assert cp.note.startswith("test.example/audit\n" + str(parsed.size) + "\n")
    assert base64.b64decode(cp.note.split("\n")[2]) == parsed.root


def test_leaf_and_commitment_match_the_documented_vector() -> None:
    import json
    from pathlib import Path

    v = json.loads((Path(__file__).parents[1] / "vectors" / "audit-leaf-v1.json").read_text())
    c = leaf_format.commitment(
        bytes.fromhex(v["salt"]), v["data_subject"], v["actor_subject"], v["resource"]
    )
    assert c.hex() == v["commitment"]
    f = v["leaf_fields"]
    data = leaf_format.LeafData(
        entry_id=f["entry_id"],
        at=datetime.fromisoformat(f["at"]),
        request_id=f["request_id"],
        actor_role=f["actor_role"],
        actor_authority=f["actor_authority"],
        actor_client_id=f["actor_client_id"],
        action=f["action"],
        purpose=f["purpose"],
        legal_basis=f["legal_basis"],
        outcome=f["outcome"],
        disclosed_after=None,
        commitment=c,
    )
    assert data.encode().hex() == v["leaf"]
    assert merkle.leaf_hash(data.encode()).hex() == v["leaf_hash"]
    assert leaf_format.decode(bytes.fromhex(v["leaf"])) == {**f, "commitment": v["commitment"]}
