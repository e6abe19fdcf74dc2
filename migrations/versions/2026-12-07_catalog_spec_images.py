"""catalog: pictures tied to a spec value

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
