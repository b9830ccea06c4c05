"""desk_records: desk: patron record changes, refunds, blocks, premises bans (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0220_desk_records
Revises: 0210_catalogue_lists
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0220_desk_records'
down_revision = '0210_catalogue_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
