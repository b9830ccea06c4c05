"""account_gaps: My account and desk gaps (saved search edits, letters per library, card expiry) (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0300_account_gaps
Revises: 0290_national_indexes
Create Date: 2026-12-03 20:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0300_account_gaps'
down_revision = '0290_national_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
