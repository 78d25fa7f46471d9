"""cases: case, timeline, sealed draft, document requests and linked documents

Revision ID: k0001
Revises:
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "k0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("cases",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases_case",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("flow_version", sa.String(length=32), nullable=False),
        sa.Column("flow_client", sa.String(length=255), nullable=True),
        sa.Column("authority", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("fit_connect_case_id", sa.String(length=36), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.Column("quote_id", sa.String(length=36), nullable=True),
        sa.Column("payment_id", sa.String(length=36), nullable=True),
        sa.Column("refund_id", sa.String(length=36), nullable=True),
        sa.Column("waiver_requested", sa.Boolean(), nullable=False),
        sa.Column("waiver_decision", sa.String(length=16), nullable=True),
        sa.Column("fee_facts", sa.JSON(), nullable=True),
        sa.Column("fee_input", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_case")),
    )
    for column in (
        "subject",
        "flow_client",
        "authority",
        "state",
        "fit_connect_case_id",
        "draft_expires_at",
    ):
        op.create_index(op.f(f"ix_cases_case_{column}"), "cases_case", [column], unique=False)
    op.create_table(
        "cases_timeline",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_timeline_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_timeline")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_cases_timeline_case_id")),
    )
    op.create_index(op.f("ix_cases_timeline_case_id"), "cases_timeline", ["case_id"], unique=False)
    op.create_table(
        "cases_draft",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_draft_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases_draft")),
    )
    op.create_table(
        "cases_document_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("document_types", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_document_request_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_document_request")),
    )
    op.create_index(
        op.f("ix_cases_document_request_case_id"),
        "cases_document_request",
        ["case_id"],
        unique=False,
    )
    op.create_table(
        "cases_document",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("provided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_document_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_document")),
        sa.UniqueConstraint("case_id", "document_id", name=op.f("uq_cases_document_case_id")),
    )
    op.create_index(op.f("ix_cases_document_case_id"), "cases_document", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("cases_document")
    op.drop_table("cases_document_request")
    op.drop_table("cases_draft")
    op.drop_table("cases_timeline")
    op.drop_table("cases_case")
