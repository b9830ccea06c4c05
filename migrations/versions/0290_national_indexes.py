"""national_indexes: national scale: indexes justified by measured plans (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0290_national_indexes
Revises: 0280_search_speed
Create Date: 2026-12-03 20:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0290_national_indexes'
down_revision = '0280_search_speed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
