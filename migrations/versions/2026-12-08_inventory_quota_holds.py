"""inventory: quota holds (a flash sale's units carved out of stock) hand units to orders

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_reservation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=80), nullable=True))
        batch_op.drop_constraint(op.f("ck_inventory_reservation_quantity"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inventory_reservation_quantity"), "quantity >= 0")


def downgrade() -> None:
    with op.batch_alter_table("inventory_reservation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_inventory_reservation_quantity"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inventory_reservation_quantity"), "quantity > 0")
        batch_op.drop_column("source")
