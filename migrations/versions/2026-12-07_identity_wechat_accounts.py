"""identity: WeChat accounts linked to customers

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "identity_wechat_account",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("app_kind", sa.String(length=10), nullable=False),
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("nickname", sa.String(length=100), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["identity_customer.id"],
            name=op.f("fk_identity_wechat_account_customer_id_identity_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_wechat_account")),
        sa.UniqueConstraint("appid", "openid", name=op.f("uq_identity_wechat_account_appid_openid")),
        sa.UniqueConstraint(
            "customer_id", "appid", name=op.f("uq_identity_wechat_account_customer_id_appid")
        ),
    )
    with op.batch_alter_table("identity_wechat_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_wechat_account_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_identity_wechat_account_unionid"), ["unionid"], unique=False)

    op.create_table(
        "identity_wechat_authorization",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("app_kind", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=True),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_hash", sa.String(length=64), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("nickname", sa.String(length=100), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["identity_customer.id"],
            name=op.f("fk_identity_wechat_authorization_customer_id_identity_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_wechat_authorization")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_identity_wechat_authorization_state_hash")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_identity_wechat_authorization_ticket_hash")),
    )
    with op.batch_alter_table("identity_wechat_authorization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_wechat_authorization_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_wechat_authorization_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_wechat_authorization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_wechat_authorization_expires_at"))
        batch_op.drop_index(batch_op.f("ix_identity_wechat_authorization_customer_id"))
    op.drop_table("identity_wechat_authorization")
    with op.batch_alter_table("identity_wechat_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_wechat_account_unionid"))
        batch_op.drop_index(batch_op.f("ix_identity_wechat_account_customer_id"))
    op.drop_table("identity_wechat_account")
