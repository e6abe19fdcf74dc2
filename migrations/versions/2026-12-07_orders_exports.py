"""fulfillment: order export jobs and batch-shipping files

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "fulfillment_order_export",
        sa.Column("staff_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("file_format", sa.String(length=4), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_order_export")),
    )
    with op.batch_alter_table("fulfillment_order_export", schema=None) as batch_op:
        batch_op.create_index("ix_fulfillment_order_export_staff", ["staff_id", "id"], unique=False)
        batch_op.create_index("ix_fulfillment_order_export_status", ["status", "created_at"], unique=False)

    op.create_table(
        "fulfillment_ship_batch",
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_ship_batch")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_fulfillment_ship_batch_file_sha256")),
    )


def downgrade() -> None:
    op.drop_table("fulfillment_ship_batch")
    with op.batch_alter_table("fulfillment_order_export", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfillment_order_export_status")
        batch_op.drop_index("ix_fulfillment_order_export_staff")
    op.drop_table("fulfillment_order_export")
