"""desk_items: desk: copies, item statuses, branch calendars, letters, reports (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0230_desk_items
Revises: 0220_desk_records
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0230_desk_items'
down_revision = '0220_desk_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
