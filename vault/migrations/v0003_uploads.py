"""vault_upload: resumable (chunked) uploads in progress

Revision ID: v0003
Revises: v0002
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v0003"
down_revision: str | None = "v0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_upload",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_subject", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("header_checked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_upload")),
    )
    with op.batch_alter_table("vault_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vault_upload_owner_subject"), ["owner_subject"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vault_upload_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("vault_upload")
