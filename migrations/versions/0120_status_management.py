"""status_management: incidents keep every component they affected; updates keep the components' states

Revision ID: 0120_status_management
Revises: 0110_operations
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db  # noqa: F401

revision = '0120_status_management'
down_revision = '0110_operations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('status_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('affected_components', sa.JSON(), nullable=True))
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('component_states', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_column('component_states')
    with op.batch_alter_table('status_incidents', schema=None) as batch_op:
        batch_op.drop_column('affected_components')
