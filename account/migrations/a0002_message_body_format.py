"""mailbox messages name their body format (text | ozg-envelope)

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0002"
down_revision: str | None = "a0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_message") as batch:
        batch.add_column(
            sa.Column("body_format", sa.String(length=16), nullable=False, server_default="text")
        )


def downgrade() -> None:
    with op.batch_alter_table("account_message") as batch:
        batch.drop_column("body_format")
