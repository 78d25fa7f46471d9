"""SQLite: an entry's three rows in one statement (a view with an INSTEAD OF INSERT trigger)

On SQLite, writers insert into the view ``compliance_access_append`` (the entry's columns,
its personal part and its leaf hash); the trigger inserts the entry, its personal part and
its queue row, in that order, in the inserting statement's transaction. One executemany
writes a whole batch of entries. The view reads no table; its trigger holds no data of its
own: the three tables stay what they are (append-only entries, a shreddable personal part,
the sequencer's queue ordered by ``seq``).

PostgreSQL keeps its one statement of chained inserts (nothing is created there).

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0003"
down_revision: str | None = "c0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# The entry's columns (the leaf's fields, in the leaf's order), its personal part's, and the
# leaf hash the writer computed: frozen here (migrations do not import application code).
_VIEW = """
CREATE VIEW compliance_access_append AS SELECT
    NULL AS id, NULL AS at, NULL AS request_id, NULL AS actor_role, NULL AS actor_authority,
    NULL AS actor_client_id, NULL AS action, NULL AS purpose, NULL AS legal_basis,
    NULL AS outcome, NULL AS disclosed_after, NULL AS commitment,
    NULL AS salt, NULL AS data_subject, NULL AS actor_subject, NULL AS resource,
    NULL AS leaf_hash
WHERE 0
"""

_TRIGGER = """
CREATE TRIGGER compliance_access_append_insert
INSTEAD OF INSERT ON compliance_access_append
BEGIN
    INSERT INTO compliance_access_entry (
        id, at, request_id, actor_role, actor_authority, actor_client_id, action, purpose,
        legal_basis, outcome, disclosed_after, commitment
    ) VALUES (
        NEW.id, NEW.at, NEW.request_id, NEW.actor_role, NEW.actor_authority,
        NEW.actor_client_id, NEW.action, NEW.purpose, NEW.legal_basis, NEW.outcome,
        NEW.disclosed_after, NEW.commitment
    );
    INSERT INTO compliance_access_personal (entry_id, salt, data_subject, actor_subject, resource)
    VALUES (NEW.id, NEW.salt, NEW.data_subject, NEW.actor_subject, NEW.resource);
    INSERT INTO compliance_pending (entry_id, leaf_hash) VALUES (NEW.id, NEW.leaf_hash);
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(_VIEW)
    op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER compliance_access_append_insert")
    op.execute("DROP VIEW compliance_access_append")
