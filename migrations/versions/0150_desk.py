"""desk: placeholder, filled by the work on this capability (empty until then)

Revision ID: 0150_desk
Revises: 0140_my_account
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0150_desk'
down_revision = '0140_my_account'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
