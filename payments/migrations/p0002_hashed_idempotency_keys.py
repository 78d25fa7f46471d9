"""payments_idempotency_key.key -> key_hash: idempotency keys are stored as keyed hashes

Existing rows are hashed in place with the key derived from ``OZG_SECRET_KEY`` (read from the
environment, as ``ozg-commons migrate`` does; the development default outside production), the
same digest :func:`payments.idempotency.key_digest` computes:

    HMAC-SHA256(HMAC-SHA256(OZG_SECRET_KEY, "payments.idempotency-key"), key), lowercase hex.

Sandbox refunds, whose provider reference embedded the raw key (``<tx id>:<key>``), get the
digest in its place. If the settings cannot be read, existing keys are deleted rather than
kept in the clear (they are a 30-day replay cache); a retry of a request sent before the
upgrade then runs again.

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-14 10:00:00
"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p0002"
down_revision: str | None = "p0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_LABEL = b"payments.idempotency-key"


def _secret() -> bytes | None:
    try:
        from commons.settings import Settings

        secret_key = Settings().secret_key.get_secret_value().encode()
    except Exception:  # unreadable settings: no key material, the rows are dropped
        return None
    return hmac.new(secret_key, _LABEL, hashlib.sha256).digest()


def upgrade() -> None:
    bind = op.get_bind()
    keys = sa.table(
        "payments_idempotency_key",
        sa.column("id", sa.String),
        sa.column("key", sa.String),
        sa.column("key_hash", sa.String),
    )
    refunds = sa.table(
        "payments_refund",
        sa.column("id", sa.String),
        sa.column("payment_id", sa.String),
        sa.column("origin", sa.String),
        sa.column("provider_reference", sa.String),
    )
    payments = sa.table(
        "payments_payment", sa.column("id", sa.String), sa.column("provider", sa.String)
    )
    with op.batch_alter_table("payments_idempotency_key") as batch:
        batch.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
    secret = _secret()
    rows = bind.execute(sa.select(keys.c.id, keys.c.key)).all()
    if secret is None:
        bind.execute(sa.delete(keys))
    else:
        for row_id, key in rows:
            digest = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
            bind.execute(sa.update(keys).where(keys.c.id == row_id).values(key_hash=digest))
    sandbox = bind.execute(
        sa.select(refunds.c.id, refunds.c.provider_reference)
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(
            payments.c.provider == "sandbox",
            refunds.c.origin == "caseworker",
            refunds.c.provider_reference.is_not(None),
        )
    ).all()
    for refund_id, reference in sandbox:
        tx_id, sep, key = reference.partition(":")
        if not sep:
            continue
        hidden = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest() if secret else "erased"
        bind.execute(
            sa.update(refunds)
            .where(refunds.c.id == refund_id)
            .values(provider_reference=f"{tx_id}:{hidden}")
        )
    with op.batch_alter_table("payments_idempotency_key") as batch:
        batch.drop_constraint("uq_payments_idempotency_key_scope", type_="unique")
        batch.drop_column("key")
        batch.alter_column("key_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_payments_idempotency_key_scope", ["scope", "key_hash"])


def downgrade() -> None:
    # The raw keys cannot be recovered: the replay cache is emptied.
    op.execute("DELETE FROM payments_idempotency_key")
    with op.batch_alter_table("payments_idempotency_key") as batch:
        batch.drop_constraint("uq_payments_idempotency_key_scope", type_="unique")
        batch.drop_column("key_hash")
        batch.add_column(sa.Column("key", sa.String(length=255), nullable=False))
        batch.create_unique_constraint("uq_payments_idempotency_key_scope", ["scope", "key"])
