"""catalogue_speed: catalogue: bulk import and search speed (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0270_catalogue_speed
Revises: 0260_dodp_speed
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0270_catalogue_speed'
down_revision = '0260_dodp_speed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
