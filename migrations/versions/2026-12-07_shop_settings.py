"""shop: the shop's settings and legal pages

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=60), nullable=False),
        sa.Column("logo_key", sa.String(length=200), nullable=True),
        sa.Column("favicon_key", sa.String(length=200), nullable=True),
        sa.Column("brand_color", sa.String(length=7), nullable=False),
        sa.Column("service_phone", sa.String(length=30), nullable=False),
        sa.Column("service_hours", sa.String(length=60), nullable=False),
        sa.Column("service_hours_en", sa.String(length=60), nullable=False),
        sa.Column("icp_number", sa.String(length=40), nullable=False),
        sa.Column("sms_signature", sa.String(length=12), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("default_locale", sa.String(length=10), nullable=False),
        sa.Column("enabled_locales", sa.JSON(), nullable=False),
        sa.Column("order_pay_minutes", sa.Integer(), nullable=False),
        sa.Column("order_auto_complete_days", sa.Integer(), nullable=False),
        sa.Column("aftersales_window_days", sa.Integer(), nullable=False),
        sa.Column("payment_methods_off", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_shop_settings_single_row")),
        sa.CheckConstraint("order_pay_minutes >= 1", name=op.f("ck_shop_settings_pay_minutes")),
        sa.CheckConstraint("order_auto_complete_days >= 1", name=op.f("ck_shop_settings_auto_complete_days")),
        sa.CheckConstraint(
            "aftersales_window_days >= 1", name=op.f("ck_shop_settings_aftersales_window_days")
        ),
        sa.CheckConstraint("version >= 0", name=op.f("ck_shop_settings_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_settings")),
    )
    op.create_table(
        "shop_legal_page",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_shop_legal_page_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_legal_page")),
        sa.UniqueConstraint("kind", "version", name=op.f("uq_shop_legal_page_kind_version")),
    )


def downgrade() -> None:
    op.drop_table("shop_legal_page")
    op.drop_table("shop_settings")
