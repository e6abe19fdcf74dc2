"""content: home-page banners (content_banner)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 09:30:29.055660
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_banner",
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("title_en", sa.String(length=80), nullable=False),
        sa.Column("subtitle", sa.String(length=160), nullable=False),
        sa.Column("subtitle_en", sa.String(length=160), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("image_key", sa.String(length=200), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=False),
        sa.Column("image_height", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint(
            "active_until IS NULL OR active_from IS NULL OR active_until > active_from",
            name=op.f("ck_content_banner_window"),
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_content_banner_position")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_banner")),
    )
    with op.batch_alter_table("content_banner", schema=None) as batch_op:
        batch_op.create_index(
            "ix_content_banner_is_enabled_position", ["is_enabled", "position"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("content_banner", schema=None) as batch_op:
        batch_op.drop_index("ix_content_banner_is_enabled_position")

    op.drop_table("content_banner")
