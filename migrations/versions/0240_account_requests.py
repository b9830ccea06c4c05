"""account_requests: My account: stack retrieval requests, loan history (placeholder, filled by the work on this capability; empty until then)

Revision ID: 0240_account_requests
Revises: 0230_desk_items
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0240_account_requests'
down_revision = '0230_desk_items'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
