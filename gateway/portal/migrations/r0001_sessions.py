"""portal: server-side browser sessions

Revision ID: r0001
Revises:
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("portal",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("sealed_tokens", sa.LargeBinary(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("trust_level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_portal_session_subject", "portal_session", ["subject"])
    op.create_index("ix_portal_session_expires_at", "portal_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_portal_session_expires_at", table_name="portal_session")
    op.drop_index("ix_portal_session_subject", table_name="portal_session")
    op.drop_table("portal_session")
