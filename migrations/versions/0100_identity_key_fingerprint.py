"""identity key: the fingerprint of KUULO_IDENTITY_HASH_KEY, so that a process refuses to start with another key

Revision ID: 0100_identity_key_fingerprint
Revises: 0090_jobs_heartbeat
Create Date: 2026-12-04 10:00:00

The table starts empty; the upgrade command then stores the fingerprint of the key it runs with (in
production; see app/platform/identity_key.py). Run the upgrade with the key the existing hashes were made with.
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0100_identity_key_fingerprint'
down_revision = '0090_jobs_heartbeat'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity_key_fingerprint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('stored_at', app.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_identity_key_fingerprint_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_key_fingerprint')),
    )


def downgrade() -> None:
    op.drop_table('identity_key_fingerprint')
