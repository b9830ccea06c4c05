"""desk_speed: desk and self-service speed (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0310_desk_speed
Revises: 0300_account_gaps
Create Date: 2026-12-03 20:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0310_desk_speed'
down_revision = '0300_account_gaps'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
