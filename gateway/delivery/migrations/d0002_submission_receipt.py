"""delivery: the submission receipt and each attachment's SHA-512

Revision ID: d0002
Revises: d0001
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0002"
down_revision: str | None = "d0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_submission") as batch:
        batch.add_column(sa.Column("receipt", sa.Text(), nullable=True))
    with op.batch_alter_table("delivery_attachment") as batch:
        batch.add_column(sa.Column("sha512", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attachment") as batch:
        batch.drop_column("sha512")
    with op.batch_alter_table("delivery_submission") as batch:
        batch.drop_column("receipt")
