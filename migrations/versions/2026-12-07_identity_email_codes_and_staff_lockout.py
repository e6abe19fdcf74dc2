"""identity: staff sign-in lockout epoch; notify: account emails without a message or customer

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:59:44.863573
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("identity_staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lockout_epoch", sa.Integer(), server_default="0", nullable=False))

    # An account email (a verification code) has no in-app message, and a sign-up code no
    # customer yet.
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=BIG_ID, nullable=True)
        batch_op.alter_column("customer_id", existing_type=BIG_ID, nullable=True)


def downgrade() -> None:
    # Account emails cannot satisfy the old NOT NULL columns: they go first.
    op.execute(
        "DELETE FROM notify_delivery_status_change WHERE delivery_id IN "
        "(SELECT id FROM notify_delivery WHERE message_id IS NULL OR customer_id IS NULL)"
    )
    op.execute("DELETE FROM notify_delivery WHERE message_id IS NULL OR customer_id IS NULL")
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.alter_column("customer_id", existing_type=BIG_ID, nullable=False)
        batch_op.alter_column("message_id", existing_type=BIG_ID, nullable=False)

    with op.batch_alter_table("identity_staff", schema=None) as batch_op:
        batch_op.drop_column("lockout_epoch")
