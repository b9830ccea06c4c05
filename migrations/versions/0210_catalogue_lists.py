"""catalogue_lists: catalogue favourites lists, saved searches and alerts (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0210_catalogue_lists
Revises: 0200_cards
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0210_catalogue_lists'
down_revision = '0200_cards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
