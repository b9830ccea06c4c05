"""dodp_speed: DAISY Online: speed and session revocation (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0260_dodp_speed
Revises: 0250_selfservice_admin
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0260_dodp_speed'
down_revision = '0250_selfservice_admin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
