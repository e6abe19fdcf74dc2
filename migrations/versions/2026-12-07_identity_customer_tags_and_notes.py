"""identity: customer tags and operator notes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("identity_customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag_count", sa.Integer(), server_default="0", nullable=False))

    op.create_table(
        "identity_customer_tag",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_customer_tag")),
        sa.UniqueConstraint("key", name=op.f("uq_identity_customer_tag_key")),
    )
    op.create_table(
        "identity_customer_tagging",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("tag_id", BIG_ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["identity_customer.id"],
            name=op.f("fk_identity_customer_tagging_customer_id_identity_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["identity_customer_tag.id"],
            name=op.f("fk_identity_customer_tagging_tag_id_identity_customer_tag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_customer_tagging")),
        sa.UniqueConstraint(
            "customer_id", "tag_id", name=op.f("uq_identity_customer_tagging_customer_id_tag_id")
        ),
    )
    with op.batch_alter_table("identity_customer_tagging", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_customer_tagging_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "identity_customer_note",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("author_id", BIG_ID, nullable=True),
        sa.Column("author_label", sa.String(length=254), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["identity_staff.id"],
            name=op.f("fk_identity_customer_note_author_id_identity_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["identity_customer.id"],
            name=op.f("fk_identity_customer_note_customer_id_identity_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_customer_note")),
    )
    with op.batch_alter_table("identity_customer_note", schema=None) as batch_op:
        batch_op.create_index("ix_identity_customer_note_customer", ["customer_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_customer_note", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_customer_note_customer")
    op.drop_table("identity_customer_note")
    with op.batch_alter_table("identity_customer_tagging", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_customer_tagging_tag_id"))
    op.drop_table("identity_customer_tagging")
    op.drop_table("identity_customer_tag")
    with op.batch_alter_table("identity_customer", schema=None) as batch_op:
        batch_op.drop_column("tag_count")
