"""my_account: a hold can be suspended until a day (Koha's suspend) — circ_holds.suspended_until

Revision ID: 0140_my_account
Revises: 0130_catalogue
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db  # noqa: F401

revision = '0140_my_account'
down_revision = '0130_catalogue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('circ_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('circ_holds', schema=None) as batch_op:
        batch_op.drop_column('suspended_until')
