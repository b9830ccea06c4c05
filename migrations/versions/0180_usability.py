"""usability: placeholder, filled by the work on this capability (empty until then)

Revision ID: 0180_usability
Revises: 0170_dodp
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0180_usability'
down_revision = '0170_dodp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
