"""operations: TOTP second factor of staff users (encrypted secret, enabled time, last used step)

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
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
