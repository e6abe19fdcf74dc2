"""issue 5 domains

Revision ID: 0013
Revises: 0010, 0011, 0012
Create Date: 2026-11-27 08:20:49.696504
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | Sequence[str] | None = ("0010", "0011", "0012")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
