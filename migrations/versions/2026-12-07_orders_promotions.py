"""orders: how every line was discounted (promotions and coupons), the order's coupon and gifts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The JSON columns are added with the server default '[]' (the orders placed before read no
    # discounts), which is then dropped: the models write them, and PostgreSQL cannot compare
    # JSON defaults (json has no = operator).
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adjustments", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("coupon_id", _ID, nullable=True))
        batch_op.add_column(
            sa.Column("gift_unavailable", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("orders_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discounts", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("is_gift", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.alter_column("adjustments", server_default=None)
    with op.batch_alter_table("orders_line", schema=None) as batch_op:
        batch_op.alter_column("discounts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("orders_line", schema=None) as batch_op:
        batch_op.drop_column("is_gift")
        batch_op.drop_column("discounts")
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.drop_column("gift_unavailable")
        batch_op.drop_column("coupon_id")
        batch_op.drop_column("adjustments")
