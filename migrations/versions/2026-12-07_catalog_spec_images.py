"""catalog: pictures tied to a spec value

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_spec_image",
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attribute_code", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("image_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["catalog_product_image.id"],
            name=op.f("fk_catalog_spec_image_image_id_catalog_product_image"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_product.id"],
            name=op.f("fk_catalog_spec_image_product_id_catalog_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_spec_image")),
        sa.UniqueConstraint(
            "product_id",
            "attribute_code",
            "value",
            name=op.f("uq_catalog_spec_image_product_id_attribute_code_value"),
        ),
    )
    with op.batch_alter_table("catalog_spec_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_spec_image_image_id"), ["image_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_spec_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_spec_image_image_id"))
    op.drop_table("catalog_spec_image")
