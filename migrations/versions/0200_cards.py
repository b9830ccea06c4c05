"""cards: library cards: several cards per account, lost cards (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0200_cards
Revises: 0190_review_replies
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0200_cards'
down_revision = '0190_review_replies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
