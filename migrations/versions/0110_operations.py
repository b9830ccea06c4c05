"""operations: placeholder, filled by the work on this capability (empty until then)

Revision ID: 0110_operations
Revises: 0100_identity_key_fingerprint
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0110_operations'
down_revision = '0100_identity_key_fingerprint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
