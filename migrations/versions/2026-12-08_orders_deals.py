"""orders: the social play (秒杀, 拼团, 砍价) an order was placed through, if any

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deal", sa.String(length=40), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_orders_order_deal"), ["deal"], unique=False)
    with op.batch_alter_table("orders_order", schema=None) as batch_op:  # orders placed before: ""
        batch_op.alter_column("deal", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_order_deal"))
        batch_op.drop_column("deal")
