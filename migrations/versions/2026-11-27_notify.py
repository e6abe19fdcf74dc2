"""notify: in-app messages, the email outbox and its status history

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-27 07:51:46.425878
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_message",
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_message")),
        sa.UniqueConstraint(
            "customer_id", "kind", "dedupe_key", name=op.f("uq_notify_message_customer_id_kind_dedupe_key")
        ),
    )
    with op.batch_alter_table("notify_message", schema=None) as batch_op:
        batch_op.create_index("ix_notify_message_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index(
            "ix_notify_message_customer_id_read_at", ["customer_id", "read_at"], unique=False
        )

    op.create_table(
        "notify_delivery",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("email_message_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name=op.f("ck_notify_delivery_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notify_delivery_attempts")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notify_message.id"],
            name=op.f("fk_notify_delivery_message_id_notify_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_delivery")),
        sa.UniqueConstraint("message_id", "channel", name=op.f("uq_notify_delivery_message_id_channel")),
    )
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notify_delivery_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_notify_delivery_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "notify_delivery_status_change",
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notify_delivery.id"],
            name=op.f("fk_notify_delivery_status_change_delivery_id_notify_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_delivery_status_change")),
    )
    with op.batch_alter_table("notify_delivery_status_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notify_delivery_status_change_delivery_id"), ["delivery_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notify_delivery_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_delivery_status_change_delivery_id"))
    op.drop_table("notify_delivery_status_change")
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_delivery_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_notify_delivery_customer_id"))
    op.drop_table("notify_delivery")
    with op.batch_alter_table("notify_message", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_message_customer_id_read_at")
        batch_op.drop_index("ix_notify_message_customer_id_id")
    op.drop_table("notify_message")
