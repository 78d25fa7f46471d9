"""delivery tables

Revision ID: d0001
Revises:
Create Date: 2026-12-15 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("delivery",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_submission",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("destination_id", sa.String(length=36), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("sender_role", sa.String(length=16), nullable=False),
        sa.Column("sender_client", sa.String(length=255), nullable=True),
        sa.Column("announced_attachments", sa.JSON(), nullable=False),
        sa.Column("service_identifier", sa.String(length=255), nullable=False),
        sa.Column("service_name", sa.String(length=500), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("bidirectional", sa.Boolean(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("encrypted_metadata", sa.Text(), nullable=True),
        sa.Column("encrypted_data", sa.Text(), nullable=True),
        sa.Column("attachment_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_pending", sa.Boolean(), nullable=False),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("callback_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_submission")),
    )
    for column in ("case_id", "destination_id", "authority", "state", "sender", "callback_pending"):
        op.create_index(op.f(f"ix_delivery_submission_{column}"), "delivery_submission", [column])
    op.create_table(
        "delivery_attachment",
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("attachment_id", sa.String(length=36), nullable=False),
        sa.Column("blob_key", sa.String(length=36), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["delivery_submission.id"],
            name=op.f("fk_delivery_attachment_submission_id_delivery_submission"),
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "attachment_id", name=op.f("pk_delivery_attachment")
        ),
        sa.UniqueConstraint("blob_key", name=op.f("uq_delivery_attachment_blob_key")),
    )
    op.create_table(
        "delivery_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_event")),
    )
    for column in ("seq", "case_id", "submission_id"):
        op.create_index(op.f(f"ix_delivery_event_{column}"), "delivery_event", [column])


def downgrade() -> None:
    op.drop_table("delivery_event")
    op.drop_table("delivery_attachment")
    op.drop_table("delivery_submission")
