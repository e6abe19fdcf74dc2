"""orders: a paid order held back from shipping until its group (拼团) is complete

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 10:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ship_hold", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.alter_column("ship_hold", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.drop_column("ship_hold")
