"""the fake component's notes

Revision ID: f0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f0001"
down_revision = None
branch_labels = ("fakecomp",)
depends_on = ("a0001",)


def upgrade() -> None:
    op.create_table(
        "fakecomp_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False, index=True),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fakecomp_note")
